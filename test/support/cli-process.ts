/**
 * `relaygrid` as a child process for the CLI tests: started from platform/cli/main.ts
 * either with node's tsx loader (`node --import tsx`, so signals reach the command itself,
 * as with `node dist/cli.js`) or under tsx's own CLI (a parent process that relays signals,
 * as `npx tsx` or `npm run demo` do). Output is split into lines as it arrives; every wait
 * is bounded, and kill() makes sure nothing outlives a failed test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";

const TSX_CLI = createRequire(import.meta.url).resolve("tsx/cli");
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  readonly out: string[];
  readonly err: string[];
  /** Resolves with the exit code, or with "SIGINT" etc. when a signal ended the process. */
  readonly exited: Promise<number | string>;
  /** Sends `signal` to the child, or to its whole process group when started with `group`. */
  signal(signal: NodeJS.Signals): void;
  kill(): void;
}

export interface CliOptions {
  /** "loader": node --import tsx (default); "tsx": tsx's CLI as the parent process. */
  via?: "loader" | "tsx";
  /** Starts the child in its own process group, so signal() reaches it as Ctrl-C does. */
  group?: boolean;
  /** Keeps stdin open as a pipe (default: /dev/null). */
  stdin?: boolean;
}

export function startCli(args: readonly string[], options: CliOptions = {}): CliRun {
  const prefix = options.via === "tsx" ? [TSX_CLI] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...prefix, "platform/cli/main.ts", ...args], {
    cwd: ROOT,
    stdio: [options.stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    detached: options.group === true,
  });
  const out: string[] = [];
  const err: string[] = [];
  const split = (into: string[]): ((chunk: Buffer) => void) => {
    let partial = "";
    return (chunk) => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      into.push(...parts);
    };
  };
  child.stdout?.on("data", split(out));
  child.stderr?.on("data", split(err));
  const exited = new Promise<number | string>((resolve) => child.on("close", (code, signal) => resolve(code ?? signal ?? "unknown")));
  return {
    child,
    out,
    err,
    exited,
    signal(signal) {
      if (options.group === true && child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    },
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (options.group === true && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

export async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to its end (bounded) and returns its exit code and output. */
export async function runCli(args: readonly string[], ms = 20_000): Promise<{ code: number | string; out: string[]; err: string[] }> {
  const run = startCli(args);
  try {
    const code = await within(`relaygrid ${args.join(" ")}`, ms, run.exited);
    return { code, out: run.out, err: run.err };
  } finally {
    run.kill();
  }
}

/** The first stdout line of `run` matching `re` (its match), within `ms`; fails early if the command exits first. */
export async function lineOf(run: CliRun, re: RegExp, ms: number): Promise<RegExpExecArray> {
  let done = false;
  void run.exited.then(() => (done = true));
  const deadline = Date.now() + ms;
  for (;;) {
    for (const l of run.out) {
      const m = re.exec(l);
      if (m !== null) return m;
    }
    const tail = `stdout: ${run.out.join(" | ")}; stderr: ${run.err.join(" | ")}`;
    if (done) throw new Error(`exited before printing ${re}; ${tail}`);
    if (Date.now() > deadline) throw new Error(`no line ${re} within ${ms} ms; ${tail}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
