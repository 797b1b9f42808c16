/**
 * The security layer seen from the bench: a fast, seeded CryptoProvider for simulator grids,
 * and a Peer's grid keyring for signing the datagrams the bench feeds it.
 *
 * The grid key is not part of the Peer's API, but a bench that plays a grid member must sign
 * as one: it reads it through lib/peer/insider.ts, as test/support/peer-scenarios.ts sealAs does.
 */
import { insiderOf } from "../../lib/peer/insider.ts";
import type { Peer } from "../../lib/peer/peer.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { randomBytesFrom } from "../../lib/security/crypto.ts";
import { type GridKeyring, writeTag } from "../../lib/security/grid-keys.ts";
import { RELAY_HOPS_OFFSET, TAG_FIELD_BYTES } from "../../wire/index.ts";
import { NodeCrypto } from "../../platform/node/node-crypto.ts";

/**
 * node:crypto where it is faster (a handshake ~0.4 ms against ~5 ms in pure JS) with seeded
 * randomness, so one seed still gives one grid. Bench and simulator only: the keys are as
 * predictable as the seed.
 */
export function seededCrypto(seed: number): NodeCrypto {
  return new NodeCrypto({ randomBytes: randomBytesFrom(new SeededRandom(seed >>> 0)) });
}

/** The grid keyring of a sans-IO Peer (throws before the peer was admitted). */
export function keyringOf(peer: Peer): GridKeyring {
  const ring = insiderOf(peer).keyring;
  if (ring.currentEpoch === undefined) throw new Error("bench: the Peer has no grid key yet (not admitted)");
  return ring;
}

/**
 * Signs a relay envelope in place as its origin would (lib/peer/relay-path.ts broadcast):
 * the tag in the last 11 bytes over everything before it, the hop byte read as 0.
 */
export function signRelay(ring: GridKeyring, bytes: Uint8Array): void {
  writeTag(ring, bytes, bytes.length - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
}


/**
 * Per-link budgets raised out of the way, for benches that push one link as hard as it goes
 * (the budgets are a policy, not a capacity; their take() still runs on every datagram).
 */
export const UNLIMITED_LINK_BUDGET = {
  linkDataPerSecond: 100_000_000,
  linkDataBurst: 100_000_000,
  linkControlPerSecond: 1_000_000,
  linkControlBurst: 1_000_000,
} as const;
