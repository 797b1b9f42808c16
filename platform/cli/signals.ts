/**
 * Ctrl-C for the relaygrid commands: exit status 0 after a clean shutdown, however the
 * signal arrives (issue 11, bug 3).
 *
 * - The handlers are installed when the CLI starts, before any line is printed: a script
 *   that sends SIGINT as soon as it reads "relaygrid lobby key ..." used to hit the default
 *   action (death by signal) in about 4 of 12 runs, because the handler came after the line.
 * - They stay installed until the process exits. Under tsx, a process-group SIGINT reaches
 *   the command twice (directly, and relayed by tsx's parent process when the child's
 *   acknowledgement is late); repeats within REPEAT_GRACE_MS of the first are ignored.
 *   tsx's parent still exits 130 on its own when the acknowledgement takes over ~60 ms
 *   (it then SIGKILLs the child), so `npm run demo` runs `node --import tsx`, with no
 *   relaying parent.
 * - A signal later than that, while the shutdown is still running, means the user insists:
 *   the process exits at once with 128 + the signal number, saying so.
 */

/** Signals closer than this to the first are the same Ctrl-C delivered twice. */
export const REPEAT_GRACE_MS = 1000;

export type StopSignal = "SIGINT" | "SIGTERM";

export interface Interrupts {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly stopped: Promise<StopSignal>;
  /** The signal received so far, if any (a command that is still starting checks it). */
  readonly received: StopSignal | undefined;
}

const SIGNAL_NUMBERS: Record<StopSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/** Installs the handlers once for the process; later calls return the same Interrupts. */
export function installInterrupts(onForce: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): Interrupts {
  if (installed !== undefined) return installed;
  let first: { signal: StopSignal; at: number } | undefined;
  let resolve: (s: StopSignal) => void = () => {};
  const stopped = new Promise<StopSignal>((r) => (resolve = r));
  const handler = (signal: StopSignal): void => {
    const now = performance.now();
    if (first === undefined) {
      first = { signal, at: now };
      resolve(signal);
      return;
    }
    if (now - first.at < REPEAT_GRACE_MS) return;
    onForce(`relaygrid: ${signal} again during shutdown: exiting now`);
    process.exit(128 + SIGNAL_NUMBERS[signal]);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  installed = {
    stopped,
    get received() {
      return first?.signal;
    },
  };
  return installed;
}

let installed: Interrupts | undefined;
