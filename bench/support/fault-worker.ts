/**
 * The fault matrix's cells are independent simulations, so the faults group spreads them over a
 * few worker processes (one per core, at most 2 by default). A worker is this file started with
 * an IPC channel: it takes { row, seed, quick } jobs and answers each with its FaultRunResult.
 * The figures are virtual-time figures of a seeded simulation, so which worker ran a cell, and
 * how busy the machine was, does not change them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runFaultRow, type FaultRunResult } from "./fault-run.ts";
import { rows, settings } from "./fault-rows.ts";
import { scriptCommand } from "./runtime.ts";

export interface FaultJob {
  readonly row: string;
  readonly seed: number;
  readonly quick: boolean;
}

type Reply = { ok: true; result: FaultRunResult } | { ok: false; error: string };

/** Runs one job in this process. */
export function runJob(job: FaultJob): FaultRunResult {
  const s = settings(job.quick);
  const row = rows(s.timing).find((r) => r.id === job.row);
  if (row === undefined) throw new Error(`no fault row ${job.row}`);
  return runFaultRow(row, job.seed, s);
}

/**
 * Runs every job on `workers` child processes (in-process when workers is 1) and returns the
 * results in the jobs' order. `progress` hears about each finished job.
 */
export async function runJobs(
  jobs: readonly FaultJob[],
  workers: number,
  progress: (job: FaultJob, r: FaultRunResult) => void,
): Promise<FaultRunResult[]> {
  const out: FaultRunResult[] = new Array(jobs.length);
  if (workers <= 1) {
    jobs.forEach((j, i) => {
      out[i] = runJob(j);
      progress(j, out[i] as FaultRunResult);
    });
    return out;
  }
  let next = 0;
  const script = fileURLToPath(import.meta.url);
  const [cmd, args] = scriptCommand("node", script);
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
      let current = -1;
      const feed = (): void => {
        if (next >= jobs.length) {
          child.disconnect();
          return;
        }
        current = next++;
        child.send(jobs[current] as FaultJob);
      };
      child.on("message", (m) => {
        const reply = m as Reply;
        if (!reply.ok) {
          child.kill();
          reject(new Error(`fault cell ${JSON.stringify(jobs[current])} failed: ${reply.error}`));
          return;
        }
        out[current] = reply.result;
        progress(jobs[current] as FaultJob, reply.result);
        feed();
      });
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        if (next >= jobs.length && out[current] !== undefined) resolve();
        else reject(new Error(`a fault worker exited with ${signal ?? String(code)} during ${JSON.stringify(jobs[current])}`));
      });
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, one));
  return out;
}

// Started as a worker: answer jobs until the parent disconnects.
if (process.send !== undefined && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.on("message", (job: FaultJob) => {
    let reply: Reply;
    try {
      reply = { ok: true, result: runJob(job) };
    } catch (e) {
      reply = { ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    process.send?.(reply);
  });
  process.on("disconnect", () => process.exit(0));
}
