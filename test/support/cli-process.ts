/**
 * `relaygrid ...` as a child process for the dashboard tests: tsx's CLI run directly with
 * this node (npm exec in between would not pass signals on), stdout split into lines, every
 * wait bounded. kill() ends only the child this helper started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const TSX_CLI = createRequire(import.meta.url).resolve("tsx/cli");
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `re` (its match), within `ms`. */
  line(re: RegExp, ms: number): Promise<RegExpExecArray>;
  /** SIGKILL unless it has exited. */
  kill(): void;
}

export function runCli(args: readonly string[]): CliRun {
  const child = spawn(process.execPath, [TSX_CLI, "platform/cli/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    async line(re: RegExp, ms: number): Promise<RegExpExecArray> {
      const deadline = Date.now() + ms;
      for (;;) {
        for (const l of lines) {
          const m = re.exec(l);
          if (m !== null) return m;
        }
        if (done) throw new Error(`exited before printing ${re}; stdout: ${lines.join(" | ")}; stderr: ${err}`);
        if (Date.now() > deadline) throw new Error(`no line ${re} within ${ms} ms; stdout: ${lines.join(" | ")}; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    kill(): void {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** `p`, or a rejection after `ms`. */
export async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
