/**
 * Issue 14 item 5 (US 7,610,402): the lobby's admission policy can grant the spectator role.
 * The policy sees the role a SelectGrid asks for (request.role) and may answer
 * { ok: true, role: "spectator" }: the member's id is then allocated in the spectator range, so
 * every member treats it as one (it relays, and what it originates reaches nobody). A verdict
 * with a role that is no role is refused (fail closed) and reported as an admissionError.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { AdmissionRequest } from "../lib/lobby/admission.ts";
import { ErrorCode, RelayGridError } from "../lib/errors.ts";
import { isSpectator } from "../lib/relay/spectators.ts";
import { Kind, LobbyErrorCode } from "../wire/kinds.ts";
import { Client, expectKind, Harness } from "./lobby-harness.ts";
import { broadcastFrom, notExactlyOnce } from "./support/peer-scenarios.ts";
import { SimGrid } from "./support/sim-grid.ts";

const selectAs = (c: Client, grid: number, role: 0 | 1) => c.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role });

test("issue 14 item 5: the admission policy sees the asked role and can grant spectator: the id is in the spectator range; without a role in the verdict the asked one is granted", () => {
  const seen: AdmissionRequest[] = [];
  // A match of two players: later comers watch.
  let players = 0;
  const h = new Harness({
    admission: (req) => {
      seen.push(req);
      if (req.action !== "select" || req.role === "spectator") return { ok: true };
      return players++ < 2 ? { ok: true, player: req.name } : { ok: true, role: "spectator" };
    },
  });
  const host = new Client(h, "10.2.0.1:4000");
  host.hello("host");
  const grid = expectKind(host.call(Kind.CreateGrid, { name: "final", capacity: 0, limit: 4, meta: "" }), Kind.GridCreated).grid;
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    const c = new Client(h, `10.2.0.${i + 2}:4000`);
    c.hello(`p${i}`);
    ids.push(expectKind(selectAs(c, grid, 0), Kind.Members).peer);
  }
  const watcher = new Client(h, "10.2.0.9:4000");
  watcher.hello("watcher");
  ids.push(expectKind(selectAs(watcher, grid, 1), Kind.Members).peer);
  assert.equal(ids.map(isSpectator), [false, false, true, true, true], `ids ${ids.join(", ")}`);
  assert.equal(seen.map((r) => `${r.action}:${r.role}`), ["create:player", "select:player", "select:player", "select:player", "select:player", "select:spectator"]);
});

test("issue 14 item 5: a verdict granting a role that is no role is refused (fail closed) and told to the application", () => {
  const h = new Harness({ admission: () => ({ ok: true, role: "referee" as "player" }) });
  const errors: string[] = [];
  const c = new Client(h, "10.3.0.1:4000");
  c.hello("x");
  // CreateGrid asks the policy too; with this one it is refused the same way.
  const e = expectKind(c.call(Kind.CreateGrid, { name: "g", capacity: 0, limit: 4, meta: "" }), Kind.Error);
  assert.is(e.code, LobbyErrorCode.NotAdmitted);
  for (const ev of h.takeEvents()) if (ev.type === "admissionError") errors.push(ev.message);
  assert.is(errors.length, 1);
  assert.match(errors[0] ?? "", /role must be "player" or "spectator", got referee/);
});

test("issue 14 item 5, end to end: a peer that asked to play but was granted spectator by the policy is one: role spectator, send() throws, its neighbours relay everyone's broadcasts to it", () => {
  const g = new SimGrid({
    seed: 0x5ec8,
    link: { latencyMs: 10, jitterMs: 4 },
    peer: { connectionLimit: 3 },
    lobby: { admission: (req) => (req.name.startsWith("late") ? { ok: true, role: "spectator" } : { ok: true }) },
  });
  g.keepEvents = false;
  const players = [g.addPeer()];
  g.sim.runFor(500);
  for (let i = 0; i < 5; i++) players.push(g.addPeer({}, "arena", false));
  const late = g.addPeerAt("late-1", { localAddresses: ["late-1"], name: "late-1" }, "arena", false);
  g.settle(2);
  g.sim.runFor(3_000);
  assert.is(late.endpoint.role, "spectator");
  assert.ok(isSpectator(late.endpoint.id));
  for (const p of players) assert.is(p.endpoint.role, "player");
  assert.throws(() => late.endpoint.send(g.sim.now, new Uint8Array([1])), (e: unknown) => e instanceof RelayGridError && e.code === ErrorCode.Spectator);
  const sent = players.map((p) => broadcastFrom(p));
  g.sim.runFor(2_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test.run();
