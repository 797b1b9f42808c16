/**
 * Where an embedded endpoint's randomness comes from. The core never calls Math.random()
 * (DESIGN.md), and an embedded runtime may have no good entropy source of its own, so the
 * host passes either a seed (the engine's RNG, a hash of the player id and the time) or a
 * Random of its own; there is deliberately no default.
 */
import { checkInt, ErrorCode, RelayGridError } from "../../lib/errors.ts";
import { SeededRandom, type Random } from "../../lib/rng.ts";

/** Exactly one of `seed` (a uint32) or `random`. */
export type RandomSource = { seed: number; random?: undefined } | { random: Random; seed?: undefined };

export function resolveRandom(source: { seed?: number | undefined; random?: Random | undefined }): Random {
  const { seed, random } = source;
  if (random !== undefined && seed !== undefined) {
    throw new RelayGridError(ErrorCode.InvalidConfig, "pass either seed or random, not both");
  }
  if (random !== undefined) {
    if (typeof random.next !== "function" || typeof random.nextU32 !== "function") {
      throw new RelayGridError(ErrorCode.InvalidConfig, "random must have next() and nextU32() (see Random)");
    }
    return random;
  }
  if (seed === undefined) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      "seed or random is required: an embedded runtime has no default randomness; pass e.g. seed: hash(playerId, startTime)",
    );
  }
  return new SeededRandom(checkInt("seed", seed, 0, 0xffffffff));
}
