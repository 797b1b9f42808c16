/**
 * CI's short fuzz (issue 6, point 5: "CI runs a short fuzz on every run; a failing seed
 * becomes a regression test"). The same targets and properties as `npm run fuzz`
 * (test/support/fuzz/), for a fixed number of runs from a fixed seed, so every CI run
 * checks the same cases and a failure here replays locally with the printed command:
 *   - wire: every decoder (decode, readRelay, peekKind, checkTag, readTicket, decodeGrant);
 *   - peer: a Peer in a simulated grid, from links, members, the lobby's address, strangers;
 *   - lobby: the Lobby of a simulated grid, from members' and spoofed addresses.
 *
 * Regression seeds: test/vectors/fuzz-regressions.json is a list of
 *   { "target": "peer", "seed": 123, "path": "4:2:0", "hex": ["shot peer-3 9601..", ..], "note": "..." }
 * When `npm run fuzz` (or this test) fails, it prints exactly such an entry under
 * "regression entry:". To keep the case forever: fix the bug, paste the entry into the
 * file, and replace `note` with what broke and the fix. This test then replays `hex` (the
 * shrunk counterexample's lines, against a fresh world: exact even after the generators
 * change) and, while the generators still produce it, the seed and path through fast-check.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { lobbyTarget, peerTarget } from "./support/fuzz/grid-target.ts";
import { formatFailure, runTarget, type FuzzTarget } from "./support/fuzz/target.ts";
import { wireTarget } from "./support/fuzz/wire-target.ts";

const SEED = 0x6f757a7a;
const TARGETS: Record<string, FuzzTarget<never>> = {
  wire: wireTarget as FuzzTarget<never>,
  peer: peerTarget as FuzzTarget<never>,
  lobby: lobbyTarget as FuzzTarget<never>,
};

interface Regression {
  target: string;
  seed: number;
  path?: string;
  hex: string[];
  note: string;
}

function short(name: string, numRuns: number): void {
  test(`fuzz ${name}: ${numRuns} seeded runs, no exception escapes and every invariant holds`, () => {
    const o = runTarget(TARGETS[name] as FuzzTarget<never>, { seed: SEED, numRuns });
    if (o.failed) assert.unreachable(formatFailure(o));
    assert.is(o.runs, numRuns);
  });
}

short("wire", 5_000);
short("peer", 150);
short("lobby", 150);

test("fuzz regressions: every recorded counterexample replays clean", () => {
  const entries = JSON.parse(readFileSync(new URL("./vectors/fuzz-regressions.json", import.meta.url), "utf8")) as Regression[];
  assert.ok(Array.isArray(entries));
  for (const e of entries) {
    const target = TARGETS[e.target];
    assert.ok(target !== undefined, `unknown target ${e.target} (note: ${e.note})`);
    assert.ok(Array.isArray(e.hex) && e.hex.length > 0, `${e.target} seed ${e.seed}: no hex lines`);
    try {
      target.replay(e.hex);
    } catch (err) {
      assert.unreachable(`regression ${e.target} seed ${e.seed} (${e.note}) fails again: ${String(err)}`);
    }
    if (e.path !== undefined) {
      const o = runTarget(target, { seed: e.seed, path: e.path });
      if (o.failed) assert.unreachable(`regression ${e.target} seed ${e.seed} path ${e.path} (${e.note}):\n${formatFailure(o)}`);
    }
  }
});

test("fuzz replay: a counterexample's lines replay the same checks (the regression mechanism works)", () => {
  // A hand-made peer case: garbage and a bad-tag ping from a link, then a clean batch end.
  const lines = ["shot peer-2 c1c1c1", "shot peer-2 96011805ce0000000103c409ff0000000000000000", "advance 50", "batch"];
  peerTarget.replay(lines);
  wireTarget.replay(["datagram 960118", "ticket 01", "grant 00000001"]);
  assert.throws(() => wireTarget.replay(["bogus 00"]), /unknown wire replay line/);
});

test.run();
