/**
 * Inputs for the security group's origin-authentication rows: a Peer with exactly `limit`
 * links in a settled simulator grid where every member runs `originAuth: "ed25519"` on the
 * given crypto provider, and signed Data datagrams made by its members' own broadcast()
 * (their real signing path, PROTOCOL.md 4.1.4), taken from their outboxes before the
 * network sees them. Signing is the origins' work: the bench prepares datagrams untimed and
 * times only the relay's handling (in, tag, budget, origin signature, window, forwards).
 */
import type { Peer } from "../../lib/peer/peer.ts";
import type { CryptoProvider } from "../../lib/security/crypto.ts";
import { insiderOf } from "../../lib/peer/insider.ts";
import { buildGrid } from "./grid-builder.ts";
import { PAYLOAD_BYTES } from "./envelopes.ts";
import { UNLIMITED_LINK_BUDGET } from "./keys.ts";

export interface SignedRelaySubject {
  readonly peer: Peer;
  readonly now: number;
  /** Addresses of the measured Peer's links (what it accepts relay data from). */
  readonly senders: readonly string[];
  /** Members not linked to it, each able to sign as itself. */
  readonly origins: readonly Peer[];
  /** `count` datagrams, one broadcast each from the origins in turn, signed by their origins. */
  make(count: number): Uint8Array[];
}

export function signedRelaySubject(limit: number, seed: number, crypto?: CryptoProvider): SignedRelaySubject {
  for (let attempt = 0; attempt < 4; attempt++) {
    const n = limit * 6 + 8 * (attempt + 1);
    const peer = { ...UNLIMITED_LINK_BUDGET, originAuth: "ed25519" as const, ...(crypto === undefined ? {} : { crypto }) };
    const g = buildGrid({ seed: seed + attempt, peers: n, connectionLimit: limit, batchSize: 8, peer });
    g.sim.runFor(1_000); // every member's key-bound ticket (Registered) is in
    for (const node of g.peers) {
      const p = node.endpoint;
      if (p.linkPeers.length !== limit || p.phase !== "member") continue;
      const linked = new Set(p.linkPeers);
      const origins = g.peers.map((q) => q.endpoint).filter((q) => q !== p && q.id !== 0 && !linked.has(q.id) && insiderOf(q).ticket2 !== undefined);
      if (origins.length < 16) continue;
      const senders = p.stats().links.map((l) => l.address);
      const now = g.sim.now;
      const payload = new Uint8Array(PAYLOAD_BYTES).map((_, i) => i);
      const chosen = origins.slice(0, 16);
      let next = 0;
      const make = (count: number): Uint8Array[] => {
        const out: Uint8Array[] = [];
        for (let i = 0; i < count; i++) {
          const o = chosen[next++ % chosen.length] as Peer;
          o.broadcast(now, payload);
          let first: Uint8Array | undefined;
          for (let t = o.pollTransmit(); t !== undefined; t = o.pollTransmit()) first ??= t.bytes.slice();
          if (first === undefined) throw new Error("signed-relay: the origin sent nothing");
          first[3] = 0;
          out.push(first);
        }
        return out;
      };
      return { peer: p, now, senders, origins: chosen, make };
    }
  }
  throw new Error(`signed-relay: no peer with ${limit} links in four grids`);
}
