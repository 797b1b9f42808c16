/**
 * Starts agent.ts inside a bench namespace and talks to it: one JSON request per line on its
 * stdin, one answer per line on its stdout. Every call has a deadline, every agent a
 * lifetime, and stop() (or the bench's destroy(), which kills what runs in its namespaces)
 * ends it by its pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { NatBench } from "./bench.ts";

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;
const AGENT = fileURLToPath(new URL("./agent.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * How long an agent may take to start: tsx compiles the sources on the way, about 1.5 s of
 * CPU each, so a dozen agents on two busy cores take a while.
 */
export const AGENT_START_MS = 60_000;
/** Agents started at once by startAgents(): more only makes each one slower. */
export const AGENT_START_CONCURRENCY = 4;
/** The default deadline of one call. */
export const CALL_TIMEOUT_MS = 20_000;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Agent {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderr = "";
  private exited = false;

  private constructor(
    readonly host: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts an agent in `host`'s namespace; resolves once it is ready. */
  static start(bench: NatBench, host: string, lifetimeMs = 120_000): Promise<Agent> {
    const child = spawn(
      "ip",
      ["netns", "exec", bench.nsOf(host), process.execPath, "--import", TSX_LOADER, AGENT, "--lifetime-ms", String(lifetimeMs)],
      { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] },
    );
    const agent = new Agent(host, child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        agent.kill();
        reject(new Error(`agent in ${host} not ready within ${AGENT_START_MS} ms: ${agent.stderr}`));
      }, AGENT_START_MS);
      let buffered = "";
      let ready = false;
      child.stderr?.on("data", (c: Buffer) => (agent.stderr += c.toString("utf8")));
      child.stdout?.on("data", (c: Buffer) => {
        buffered += c.toString("utf8");
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) {
          if (!ready) {
            ready = true;
            clearTimeout(timer);
            resolve(agent);
            continue;
          }
          agent.onLine(line);
        }
      });
      child.on("exit", (code) => {
        agent.exited = true;
        clearTimeout(timer);
        for (const [, p] of agent.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`agent in ${host} exited (${String(code)}): ${agent.stderr.slice(-2000)}`));
        }
        agent.pending.clear();
        if (!ready) reject(new Error(`agent in ${host} exited before it was ready (${String(code)}): ${agent.stderr}`));
      });
    });
  }

  /** Sends one request; resolves with its result, rejects with the agent's error or on timeout. */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`agent in ${this.host} has exited: ${this.stderr.slice(-2000)}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent in ${this.host}: ${op} not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.stdin?.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Asks the agent to exit, and kills it if it has not within a second. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin?.end();
    const guard = setTimeout(() => this.kill(), 1000);
    await gone;
    clearTimeout(guard);
  }

  private kill(): void {
    if (this.child.pid !== undefined && !this.exited) {
      try {
        process.kill(this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private onLine(line: string): void {
    let msg: { id: number; ok: boolean; result?: unknown; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`agent in ${this.host}: ${msg.error ?? "failed"}`));
  }
}

/** Starts one agent per host, AGENT_START_CONCURRENCY at a time. */
export async function startAgents(bench: NatBench, hosts: readonly string[], lifetimeMs?: number): Promise<Map<string, Agent>> {
  const agents = new Map<string, Agent>();
  for (let i = 0; i < hosts.length; i += AGENT_START_CONCURRENCY) {
    const batch = await Promise.all(hosts.slice(i, i + AGENT_START_CONCURRENCY).map((h) => Agent.start(bench, h, lifetimeMs)));
    for (const a of batch) agents.set(a.host, a);
  }
  return agents;
}
