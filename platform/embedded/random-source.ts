/**
 * Where an embedded endpoint's randomness comes from. The core never calls Math.random()
 * (DESIGN.md) and an embedded runtime may have no entropy source of its own, so the host
 * passes two things:
 *
 * - `randomBytes(n)`, required: its cryptographically secure generator (a console SDK's
 *   CSPRNG, BCryptGenRandom, getrandom(2), crypto.getRandomValues). Every secret comes from
 *   it: X25519 handshake keys, the lobby's identity, cookie secret and grid keys, and by
 *   default the Random too.
 * - `seed` (a uint32) or `random`, optional: the generator for the protocol's non-secret
 *   choices only (request ids, retry jitter, which responders to keep), so a host can
 *   replay those from a seed. Without either, they are drawn from `randomBytes` as well.
 *
 * A 32-bit seed must never reach a key: a captured handshake could then be brute-forced
 * over 2^32 seeds (issue 18, item 1).
 */
import { checkInt, ErrorCode, RelayGridError } from "../../lib/errors.ts";
import { SeededRandom, type Random } from "../../lib/rng.ts";
import type { RandomBytes } from "../../lib/security/crypto.ts";

/** What the host passes: `randomBytes`, plus at most one of `seed` or `random`. */
export type RandomSource = {
  /**
   * `n` bytes from the host's cryptographically secure generator, a fresh array per call.
   * Required: keys are drawn from it, never from `seed`.
   */
  randomBytes: RandomBytes;
} & ({ seed?: number; random?: undefined } | { random: Random; seed?: undefined });

/** Bytes drawn per refill of a BytesRandom. */
const POOL_BYTES = 256;
/** Bytes drawn twice at startup to catch a constant source (all zeros, a fixed buffer). */
const PROBE_BYTES = 32;

/** A Random over the host's byte source, drawn POOL_BYTES at a time. */
export class BytesRandom implements Random {
  private pool: Uint8Array = new Uint8Array(0);
  private index = 0;

  constructor(private readonly randomBytes: RandomBytes) {}

  nextU32(): number {
    if (this.index + 4 > this.pool.length) {
      this.pool = drawChecked(this.randomBytes, POOL_BYTES);
      this.index = 0;
    }
    const p = this.pool;
    const i = this.index;
    this.index += 4;
    return ((p[i] as number) | ((p[i + 1] as number) << 8) | ((p[i + 2] as number) << 16) | ((p[i + 3] as number) << 24)) >>> 0;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }
}

/**
 * Checks `source.randomBytes` (present, returns n fresh bytes, not constant) and returns it
 * with the Random for non-secret choices. Throws RelayGridError invalid-config.
 */
export function resolveRandom(source: { randomBytes?: RandomBytes | undefined; seed?: number | undefined; random?: Random | undefined }): {
  randomBytes: RandomBytes;
  random: Random;
} {
  const { randomBytes, seed, random } = source;
  if (typeof randomBytes !== "function") {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      "randomBytes(n) is required: pass the host's cryptographically secure generator (e.g. " +
        "n => crypto.getRandomValues(new Uint8Array(n)), or the console SDK's CSPRNG); keys are drawn " +
        "from it, and a seed alone is never used for keys",
    );
  }
  const a = drawChecked(randomBytes, PROBE_BYTES);
  const b = drawChecked(randomBytes, PROBE_BYTES);
  if (a.every((x, i) => x === b[i])) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `randomBytes(${PROBE_BYTES}) returned the same bytes twice: it must be a cryptographically secure generator`,
    );
  }
  if (random !== undefined && seed !== undefined) {
    throw new RelayGridError(ErrorCode.InvalidConfig, "pass either seed or random, not both");
  }
  if (random !== undefined) {
    if (typeof random.next !== "function" || typeof random.nextU32 !== "function") {
      throw new RelayGridError(ErrorCode.InvalidConfig, "random must have next() and nextU32() (see Random)");
    }
    return { randomBytes, random };
  }
  if (seed !== undefined) return { randomBytes, random: new SeededRandom(checkInt("seed", seed, 0, 0xffffffff)) };
  return { randomBytes, random: new BytesRandom(randomBytes) };
}

function drawChecked(randomBytes: RandomBytes, n: number): Uint8Array {
  const out = randomBytes(n);
  if (!(out instanceof Uint8Array) || out.length !== n) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `randomBytes(${n}) must return a Uint8Array of ${n} bytes, got ${out instanceof Uint8Array ? `${out.length} bytes` : typeof out}`,
    );
  }
  return out;
}
