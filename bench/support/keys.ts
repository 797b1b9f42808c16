/**
 * The security layer seen from the bench: a fast, seeded CryptoProvider for simulator grids,
 * and a Peer's grid keyring for signing the datagrams the bench feeds it.
 *
 * Reaching into the Peer is deliberate (test/support/peer-scenarios.ts sealAs does the same):
 * the grid key is not part of the API, but a bench that plays a grid member must sign as one.
 */
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

/** The grid keyring of a sans-IO Peer (its core's; throws before the peer was admitted). */
export function keyringOf(peer: Peer): GridKeyring {
  const core = (peer as unknown as { core?: { keyring?: GridKeyring } }).core;
  const ring = core?.keyring;
  if (ring === undefined) throw new Error("bench: this Peer has no core.keyring (lib/peer changed shape?)");
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

