/** What a relaygrid subcommand gets from the dispatcher: its two output streams and Ctrl-C. */
import type { Interrupts } from "./signals.ts";

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  /** SIGINT/SIGTERM, installed before the first line is printed (signals.ts). */
  readonly interrupts: Interrupts;
}
