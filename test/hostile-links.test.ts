/**
 * Hostile members, links (issue 15, point 2). What broke: as many colluding members as a
 * victim's limit Forced it one after another; each Force dropped one of the victim's honest
 * links (the drop policy trusted the link counts the colluders reported), until every link
 * was theirs, and they relayed nothing: the victim received none of the grid's broadcasts
 * and reached no one. Measured against the code before the fix: 4 of 4 links held by the
 * colluders, 0 of 14 honest broadcasts received.
 *
 * Now: forced links hold at most half the slots (lib/peer/links.ts forcedLinkCap); past it a
 * Force takes another forced link's slot, whatever the counts reported, and the victim keeps
 * the links it chose or accepted.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kind } from "../wire/index.ts";
import { figure } from "./support/figures.ts";
import { broadcastFrom, notExactlyOnce } from "./support/peer-scenarios.ts";
import { act, scriptedJoin } from "./support/scripted-member.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

const NO_TAG = new Uint8Array(9);

test("eclipse by successive Force: colluders forcing a victim one after another hold at most half its links; it still gets every honest broadcast", () => {
  const limit = 4;
  const g = new SimGrid({ seed: 0x15b2, peer: { connectionLimit: limit } });
  for (let i = 0; i < 8; i++) g.addPeer();
  g.settle(2);
  const victim = g.at("peer-1") as PeerNode;
  const gridId = g.gridId;
  // Colluders: members with tickets that answer pings (so their links stay up), report
  // few links (so a count-trusting drop policy spares them), and relay nothing.
  const evil = Array.from({ length: limit }, (_, i) => scriptedJoin(g, `evil-${i}`, gridId, limit, 0xec1 + i, { answerPings: true }));
  const evilIds = new Set(evil.map((e) => e.id));
  // Each forces the victim, twice over, one after another.
  for (let round = 0; round < 2; round++) {
    for (const e of evil) {
      act(g, e, (x) => x.sendBytes(victim.address, x.linkRequest(Kind.Force, victim.endpoint.id)));
      g.sim.runFor(300);
    }
  }
  g.sim.runFor(3_000); // the victim's pings and its seeker settle
  const links = victim.endpoint.linkPeers;
  const held = links.filter((p) => evilIds.has(p)).length;
  const honest = g.live();
  const sent = honest.filter((p) => p !== victim).flatMap((p) => [broadcastFrom(p), broadcastFrom(p)]);
  const own = broadcastFrom(victim);
  g.sim.runFor(1_500);
  const missed = notExactlyOnce(g, sent, [victim]).length;
  figure("eclipse: the victim's links held by colluders after 8 Forces", `${held} of ${links.length} (was 4 of 4)`);
  figure("eclipse: honest broadcasts the victim received", `${sent.length - missed} of ${sent.length} (was 0)`);
  assert.ok(held <= limit / 2, `colluders hold ${held} of ${links.length} links`);
  assert.ok(links.length - held >= 1, "the victim keeps honest links");
  assert.is(missed, 0, "every honest broadcast reached the victim exactly once");
  assert.equal(notExactlyOnce(g, [own], honest), [], "and the victim reaches every honest member");
});

test.run();
