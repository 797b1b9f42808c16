/**
 * Issue 6, point 4: "A test sends one million random and mutated datagrams at a peer and
 * at the lobby (simulator) and shows memory flat and service to honest peers continuing."
 *
 * 500,000 datagrams at a Peer and 500,000 at the Lobby of a simulated grid (random bytes,
 * header-shaped bytes, captured real datagrams changed in a byte, truncated or spliced;
 * from 50,000 spoofed addresses, the lobby's address and unlinked members), handed to
 * handleDatagram directly while the grid keeps broadcasting every 20 ms of virtual time
 * (test/support/fuzz/flood.ts). `npm run fuzz -- --flood` runs the same and prints it all.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatFlood, heapGrowthBytes, runFlood } from "./support/fuzz/flood.ts";

const HEAP_GROWTH_BOUND_BYTES = 16 * 1048576;

test("one million random and mutated datagrams at a peer and at the lobby (simulator): memory stays flat and honest peers keep being served", () => {
  const r = runFlood({ seed: 0xf100d, atPeer: 500_000, atLobby: 500_000 });
  const report = `\n${formatFlood(r)}`;
  assert.is(r.datagrams, 1_000_000);
  // Memory: every table of the peer and the lobby's footprint stay under their caps at
  // every checkpoint, and (when a collection can be forced) the heap does not grow.
  assert.equal(r.overCap, [], `tables over their caps${report}`);
  const growth = heapGrowthBytes(r);
  if (growth !== undefined) assert.ok(growth < HEAP_GROWTH_BOUND_BYTES, `heap grew ${growth} bytes${report}`);
  const first = r.checkpoints[1];
  const last = r.checkpoints[r.checkpoints.length - 1];
  assert.ok(first !== undefined && last !== undefined);
  // Flat: nothing grows after the first checkpoint, a tenth of the way in (but for the
  // newcomer and requests in flight). The peer's strangers are the exception: only a sender
  // whose tag verified gets a bucket now (issue 15: a spoofer must not spend another's
  // tokens), so the few authenticated copies in the flood add entries slowly; the table stays
  // under its cap (overCap above).
  const grown = [
    ...last.peer.filter((t) => t.name !== "strangers").map((t) => ({ t, then: first.peer.find((x) => x.name === t.name)?.size ?? 0, who: "peer" })),
    ...last.lobby.map((t) => ({ t, then: first.lobby.find((x) => x.name === t.name)?.size ?? 0, who: "lobby" })),
  ].filter(({ t, then }) => t.size > then + 8);
  assert.equal(grown.map(({ t, then, who }) => `${who} ${t.name} ${then} -> ${t.size}`), [], `tables grew${report}`);
  // Every flood datagram is dropped and counted by reason; the lobby's books balance.
  assert.ok(r.peerDropped >= 0.99 * 500_000, `peer dropped ${r.peerDropped}${report}`);
  for (const reason of ["not-from-lobby", "tag-bad-tag", "tag-missing", "not-array", "wrong-arity", "not-linked"]) {
    assert.ok((r.peerDrops[reason] ?? 0) > 0, `peer drops ${reason}${report}`);
  }
  assert.ok(r.lobbyBooksBalance, `lobby datagramsIn = accepted + drops${report}`);
  assert.is(r.lobbyDrops["internal-error"], undefined, `no lobby handler threw${report}`);
  assert.ok(Object.keys(r.lobbyDrops).length >= 8, `lobby drops by reason${report}`);
  // Service: every honest broadcast, during and after the flood, reached every member once,
  // and a peer that joined halfway through got in.
  assert.ok(r.honestBroadcasts > 1_000);
  assert.equal(r.missed, [], `not exactly once${report}`);
  assert.ok(r.newcomerJoined, `the newcomer joined${report}`);
});

test.run();
