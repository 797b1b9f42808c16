import type { Millis } from "../../lib/endpoint.ts";

/**
 * A simulated run went wrong: a step or time limit was hit, an endpoint threw, an
 * oversized datagram was sent under strictMtu, or `inspect` rejected a transmit.
 *
 * This is not a caller mistake (those are RelayGridError): it reports a bug in the code
 * under test, so the message always carries the seed and the virtual time, which is all
 * it takes to replay the run to the failing moment.
 */
export class SimulationError extends Error {
  /** The SimNetwork seed that reproduces this run. */
  readonly seed: number;
  /** Virtual time of the failure, in ms. */
  readonly nowMs: Millis;

  constructor(message: string, seed: number, nowMs: Millis, cause?: unknown) {
    super(`${message} (seed ${seed}, t=${nowMs}ms)`, cause === undefined ? undefined : { cause });
    this.name = "SimulationError";
    this.seed = seed;
    this.nowMs = nowMs;
  }
}

/** A thrown value's message, for embedding it in a SimulationError message. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
