/**
 * The lobby's HTTP side (issue 17) against an exact, still lobby: the test Harness drives a
 * sans-IO Lobby in virtual time and serveLobbyHttp serves it on 127.0.0.1:0, so what /metrics
 * and /state.json say can be compared with stats() and the getters number for number.
 * Then the attacks: no secret in any response, read-only (only GET and HEAD), bounded
 * requests, a foreign Host refused, a hostile grid name served as data.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { LobbyCore } from "../lib/lobby/core.ts";
import { LobbyDrop } from "../lib/lobby/stats.ts";
import { serveLobbyHttp, type LobbyHttpServer } from "../platform/http/lobby-http.ts";
import type { DashboardState } from "../platform/http/dashboard-state.ts";
import { REPLY_BUCKETS_SECONDS, ReplyTimer } from "../platform/node/reply-timer.ts";
import { encode } from "../wire/codec.ts";
import { DecodeErrorCode } from "../wire/decode-error.ts";
import { Kind } from "../wire/kinds.ts";
import { Client, Harness, helloMessage, joinMany, linkBoth, type Joined } from "./lobby-harness.ts";
import { harnessSource, type HarnessSource } from "./support/harness-source.ts";
import { eventsOf, readEvents, request } from "./support/http-client.ts";
import { parsePrometheusText, valueOf } from "./support/prom-text.ts";

/** 30 bytes (names are at most 32): markup, a quote, a backslash, a line feed. */
const HOSTILE_NAME = `<img src=x onerror=pwned=1>"\\\n`;

interface World {
  h: Harness;
  source: HarnessSource;
  http: LobbyHttpServer;
  grid: number;
  peers: Joined[];
  timer: ReplyTimer<unknown>;
}

/** Two grids: "arena" with 6 members (two islands and a loner, a one-sided link), and a hostile name with 2. */
async function world(options: Partial<Parameters<typeof serveLobbyHttp>[1]> = {}): Promise<World> {
  const h = new Harness({}, 21);
  const timer = new ReplyTimer(h.lobby, () => h.nowMs);
  const source = harnessSource(h, () => timer.snapshot());
  const http = await serveLobbyHttp(source, { host: "127.0.0.1", port: 0, clock: () => h.nowMs, ...options });
  try {
    return { ...populate(h, timer, source), h, source, http, timer };
  } catch (e) {
    await http.close();
    throw e;
  }
}

function populate(h: Harness, timer: ReplyTimer<unknown>, source: HarnessSource): { grid: number; peers: Joined[] } {
  const owner = new Client(h, "10.8.0.1:4000");
  owner.hello();
  const grid = owner.create("arena", 0, 4);
  const peers = joinMany(h, grid, 6, 3);
  linkBoth(grid, peers[0] as Joined, peers[1] as Joined);
  linkBoth(grid, peers[1] as Joined, peers[2] as Joined);
  linkBoth(grid, peers[3] as Joined, peers[4] as Joined);
  peers[2]?.client.link(grid, 3, 4);
  const other = owner.create(HOSTILE_NAME, 8, 4);
  joinMany(h, other, 2, 4, "10.9");
  // Junk: counted drops by reason.
  h.deliverRaw("10.8.0.99:1", new Uint8Array([0xc1]));
  h.deliverRaw("10.8.0.99:1", encode(helloMessage(1, "short")).subarray(0, 10));
  // A few timed replies, on the virtual clock.
  timer.handleDatagram(h.nowMs, "10.8.0.98:1", encode(helloMessage(9, "t")));
  h.advance(2);
  while (timer.pollTransmit() !== undefined);
  h.advance(1000);
  source.pump();
  return { grid, peers };
}

test("metrics: strict text format, conventions, and every figure equal to stats()", async () => {
  const w = await world();
  try {
    const r = await request(`${w.http.url}metrics`);
    assert.is(r.status, 200);
    assert.is(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    const m = parsePrometheusText(r.body);
    for (const f of m.values()) {
      assert.ok(f.name.startsWith("relaygrid_"), `${f.name}: relaygrid_ prefix`);
      assert.ok(f.help.length > 0, `${f.name} has HELP`);
      if (f.type === "counter") assert.ok(f.name.endsWith("_total"), `counter ${f.name} ends in _total`);
      else assert.not.ok(f.name.endsWith("_total"), `${f.type} ${f.name} does not end in _total`);
      for (const s of f.samples) for (const label of Object.keys(s.labels)) assert.ok(["reason", "code", "kind", "via", "le"].includes(label), `${f.name}: low-cardinality label ${label}`);
    }
    const s = w.h.lobby.stats();
    const v = (name: string, labels?: Record<string, string>): number => valueOf(m, name, labels);
    assert.is(v("relaygrid_lobby_grids"), s.grids);
    assert.is(v("relaygrid_lobby_members"), s.peers);
    assert.is(v("relaygrid_lobby_members"), 8);
    assert.is(v("relaygrid_lobby_sessions"), s.sessions);
    assert.is(v("relaygrid_lobby_links"), s.links);
    assert.is(v("relaygrid_lobby_links"), 3);
    assert.is(v("relaygrid_lobby_one_sided_links"), 1);
    assert.is(v("relaygrid_lobby_islands"), s.islands);
    assert.is(v("relaygrid_lobby_islands"), 2, "arena is split, and so is the 2-member grid with no links");
    assert.is(v("relaygrid_lobby_components"), s.components);
    assert.is(v("relaygrid_lobby_received_datagrams_total"), s.datagramsIn);
    assert.is(v("relaygrid_lobby_received_bytes_total"), s.bytesIn);
    assert.is(v("relaygrid_lobby_sent_datagrams_total"), s.datagramsOut);
    assert.is(v("relaygrid_lobby_sent_bytes_total"), s.bytesOut);
    assert.is(v("relaygrid_lobby_accepted_datagrams_total"), s.accepted);
    assert.is(v("relaygrid_lobby_handshakes_total"), s.handshakes);
    assert.is(v("relaygrid_lobby_retries_sent_total"), s.retriesSent);
    assert.is(v("relaygrid_lobby_probes_sent_total"), s.probesSent);
    assert.is(v("relaygrid_lobby_repair_hints_total"), s.hintsSent);
    assert.is(v("relaygrid_lobby_key_rotations_total"), s.keyRotations);
    assert.is(v("relaygrid_lobby_transmits_dropped_total"), s.transmitsDropped);
    assert.is(v("relaygrid_lobby_events_dropped_total"), s.eventsDropped);
    // Drops: every reason stats() has, and every known reason from the start.
    assert.ok(Object.keys(s.drops).length >= 2);
    for (const [reason, n] of Object.entries(s.drops)) assert.is(v("relaygrid_lobby_dropped_datagrams_total", { reason }), n);
    for (const reason of [...Object.values(LobbyDrop), ...Object.values(DecodeErrorCode)]) v("relaygrid_lobby_dropped_datagrams_total", { reason });
    let dropped = 0;
    for (const x of m.get("relaygrid_lobby_dropped_datagrams_total")?.samples ?? []) dropped += x.value;
    assert.is(s.accepted + dropped, s.datagramsIn, "received = accepted + dropped");
    for (const [code, n] of Object.entries(s.errorsSent)) assert.is(v("relaygrid_lobby_errors_sent_total", { code }), n);
    // Joins and grids, counted from the events.
    assert.is(v("relaygrid_lobby_joins_total", { via: "select_grid" }), 8);
    assert.is(v("relaygrid_lobby_joins_total", { via: "rejoin" }), 0);
    assert.is(v("relaygrid_lobby_grids_created_total"), 2);
    // The histogram: one Hello, 2 ms on the virtual clock.
    const hist = m.get("relaygrid_lobby_reply_duration_seconds");
    assert.is(hist?.type, "histogram");
    assert.is(valueOf(m, "relaygrid_lobby_reply_duration_seconds", { kind: "hello" }, "relaygrid_lobby_reply_duration_seconds_count"), 1);
    assert.is(valueOf(m, "relaygrid_lobby_reply_duration_seconds", { kind: "hello" }, "relaygrid_lobby_reply_duration_seconds_sum"), 0.002);
    assert.is(valueOf(m, "relaygrid_lobby_reply_duration_seconds", { kind: "hello", le: "0.001" }, "relaygrid_lobby_reply_duration_seconds_bucket"), 0);
    assert.is(valueOf(m, "relaygrid_lobby_reply_duration_seconds", { kind: "hello", le: "0.0025" }, "relaygrid_lobby_reply_duration_seconds_bucket"), 1);
    assert.is(hist?.samples.filter((x) => x.name.endsWith("_bucket")).length, 11 * (REPLY_BUCKETS_SECONDS.length + 1), "11 kinds x every bucket");
    assert.is(v("relaygrid_dashboard_clients"), 0);
    // Departures show up as they happen.
    w.peers[5]?.client.call(Kind.Leave, { grid: w.grid, peer: 6 });
    w.source.pump();
    const after = parsePrometheusText((await request(`${w.http.url}metrics`)).body);
    assert.is(valueOf(after, "relaygrid_lobby_leaves_total", { reason: "leave" }), 1);
    assert.is(valueOf(after, "relaygrid_lobby_members"), 7);
    // HEAD: the headers, no body.
    const head = await request(`${w.http.url}metrics`, { method: "HEAD" });
    assert.equal([head.status, head.body], [200, ""]);
  } finally {
    await w.http.close();
  }
});

test("state.json: the grid list and the selected grid's picture match the lobby's getters", async () => {
  const w = await world();
  try {
    const r = await request(`${w.http.url}state.json?grid=${w.grid}`);
    assert.is(r.status, 200);
    const st = JSON.parse(r.body) as DashboardState;
    assert.is(st.lobby.members, 8);
    assert.is(st.lobby.address, "10.0.0.1:7777");
    assert.equal(st.grids.map((g) => [g.grid, g.name, g.members, g.links, g.components]), w.h.lobby.grids().map((g) => [g.grid, g.name, g.members, g.links, g.components]));
    const sel = st.selected;
    assert.ok(sel !== null);
    assert.equal([sel.grid, sel.name, sel.members, sel.links, sel.oneSidedLinks, sel.components, sel.componentSizes], [w.grid, "arena", 6, 3, 1, 3, [3, 2, 1]]);
    assert.equal(sel.edges, [[1, 2, 1], [2, 3, 1], [4, 5, 1], [3, 4, 0]]);
    assert.equal(sel.rows.map((x) => [x[0], x[2], x[3], x[4], x[6]]), [[1, 3, 1, 1, 0], [2, 3, 2, 2, 0], [3, 3, 1, 2, 0], [4, 3, 1, 1, 1], [5, 3, 1, 1, 1], [6, 3, 0, 0, 2]]);
    assert.ok(sel.rows.every((x) => x[5] === 1), "heard 1 s ago on the virtual clock");
    // No grid named: the one with most members; an unknown one: the same; a bad one: 400.
    const dflt = JSON.parse((await request(`${w.http.url}state.json`)).body) as DashboardState;
    assert.is(dflt.selected?.grid, w.grid);
    assert.is((JSON.parse((await request(`${w.http.url}state.json?grid=12345`)).body) as DashboardState).selected?.grid, w.grid);
    for (const bad of ["0", "-1", "x", "4294967296", "1.5", "99999999999"]) assert.is((await request(`${w.http.url}state.json?grid=${bad}`)).status, 400, bad);
    // The hostile grid name is data: JSON-escaped, byte for byte.
    assert.ok(st.grids.some((g) => g.name === HOSTILE_NAME));
  } finally {
    await w.http.close();
  }
});

test("events: a stream starts with the state and the recent log, and pushes changes", async () => {
  const w = await world({ pushIntervalMs: 20 });
  try {
    const first = await readEvents(`${w.http.url}events?grid=${w.grid}`, (t) => t.includes("event: log"));
    assert.is(first.status, 200);
    assert.is(first.headers["content-type"], "text/event-stream; charset=utf-8");
    assert.ok(first.text.startsWith("retry: 2000\n\n"));
    const [state] = eventsOf(first.text, "state") as DashboardState[];
    assert.is(state?.selected?.members, 6);
    const [log] = eventsOf(first.text, "log") as { type: string; peer?: number }[][];
    assert.ok(log !== undefined && log.filter((e) => e.type === "peerJoined").length === 8);
    assert.ok(log.some((e) => e.type === "gridCreated"));
    // A change reaches an open stream at the next push.
    const second = readEvents(`${w.http.url}events?grid=${w.grid}`, (t) => eventsOf(t, "state").some((s) => (s as DashboardState).selected?.members === 7));
    await new Promise((r) => setTimeout(r, 50));
    joinMany(w.h, w.grid, 1, 3, "10.30");
    w.source.pump();
    const got = await second;
    assert.ok(eventsOf(got.text, "log").flat().some((e) => (e as { type: string }).type === "peerJoined"));
  } finally {
    await w.http.close();
  }
});

test("safety: no key, ticket, session id or cookie secret in any page, event or metric", async () => {
  const w = await world();
  try {
    const core = (w.h.lobby as unknown as { core: LobbyCore }).core;
    const secrets: Uint8Array[] = [core.identity.secretKey, new Uint8Array(new Uint32Array([core.cookieSecret.k0lo, core.cookieSecret.k0hi, core.cookieSecret.k1lo, core.cookieSecret.k1hi]).buffer)];
    const sessionIds: number[] = [];
    for (const s of core.sessions.values()) {
      sessionIds.push(s.id);
      secrets.push(s.key, s.welcome.subarray(0, 64));
    }
    for (const g of core.registry.values()) {
      secrets.push(g.keys.active.key);
      if (g.keys.next !== undefined) secrets.push(g.keys.next.key);
      for (const m of g.members.values()) if (m.ticket !== undefined) secrets.push(m.ticket.bytes);
    }
    assert.ok(sessionIds.length >= 9 && secrets.length >= 20, "the world holds secrets to look for");
    const texts: string[] = [];
    for (const path of ["", "dashboard.js", "dashboard.css", "metrics", "state.json", `state.json?grid=${w.grid}`]) texts.push((await request(`${w.http.url}${path}`)).body);
    texts.push((await readEvents(`${w.http.url}events`, (t) => t.includes("event: log"))).text);
    texts.push((await request(`${w.http.url}layout.js`)).body);
    const all = texts.join("\n");
    for (const secret of secrets) {
      const hex = Buffer.from(secret).toString("hex");
      for (const form of [hex, hex.toUpperCase(), Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url")]) {
        assert.not.ok(all.includes(form.slice(0, 16)), `a secret's ${form.slice(0, 8)}... appears`);
      }
      assert.not.ok(all.includes(Array.from(secret.subarray(0, 8)).join(",")), "a secret as a byte list appears");
    }
    // Session ids are numbers: none may be any number in the JSON or any metric value.
    const numbers: number[] = [];
    const walk = (x: unknown): void => {
      if (typeof x === "number") numbers.push(x);
      else if (Array.isArray(x)) x.forEach(walk);
      else if (x !== null && typeof x === "object") Object.values(x).forEach(walk);
    };
    walk(JSON.parse(texts[4] as string));
    walk(JSON.parse(texts[5] as string));
    for (const t of eventsOf(texts[6] as string, "log")) walk(t);
    for (const f of parsePrometheusText(texts[3] as string).values()) for (const s of f.samples) numbers.push(s.value);
    for (const id of sessionIds) assert.not.ok(numbers.includes(id), `session id ${id} appears`);
    for (const id of sessionIds) assert.not.ok(all.includes(String(id)), `session id ${id} appears as text`);
  } finally {
    await w.http.close();
  }
});

test("safety: read-only and bounded requests", async () => {
  const w = await world();
  try {
    const url = w.http.url;
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await request(url, { method });
      assert.is(r.status, 405, method);
      assert.is(r.headers.allow, "GET, HEAD");
    }
    assert.is((await request(url, { method: "GET", body: "x".repeat(100), headers: { "Content-Length": "100" } })).status, 413);
    assert.is((await request(`${url}nope`)).status, 404);
    assert.is((await request(`${url}../../etc/passwd`)).status, 404);
    // A Host naming another site (DNS rebinding) is refused on a loopback bind; localhost is fine.
    const port = new URL(url).port;
    assert.is((await request(url, { headers: { Host: "evil.example:80" } })).status, 421);
    assert.is((await request(url, { headers: { Host: `localhost:${port}` } })).status, 200);
    // 8 KiB of headers at most.
    assert.is((await request(url, { headers: { "X-Big": "y".repeat(20_000) } })).status, 431);
    const page = await request(url);
    assert.is(page.status, 200);
    assert.match(String(page.headers["content-security-policy"]), "script-src 'self'");
    assert.is(page.headers["x-content-type-options"], "nosniff");
    assert.is(page.headers["access-control-allow-origin"], undefined, "no cross-origin reads");
    assert.match(page.body, '<script type="module" src="dashboard.js">');
    assert.not.match(page.body, /<script>|\son[a-z]+="/, "no inline script or handler");
    assert.is((await request(`${url}favicon.ico`)).status, 204);
  } finally {
    await w.http.close();
  }
});

test("safety: maxClients streams at once, the next one gets 503 and is counted", async () => {
  const w = await world({ maxClients: 1 });
  try {
    const open = readEvents(`${w.http.url}events`, () => false, 3000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const refused = await request(`${w.http.url}events`);
    assert.is(refused.status, 503);
    assert.is(refused.headers["retry-after"], "5");
    const m = parsePrometheusText((await request(`${w.http.url}metrics`)).body);
    assert.is(valueOf(m, "relaygrid_dashboard_clients"), 1);
    assert.is(valueOf(m, "relaygrid_dashboard_clients_dropped_total", { reason: "cap" }), 1);
    await w.http.close();
    await open;
  } finally {
    await w.http.close();
  }
});

test("listen errors: a port in use is a socket error that says so; bad options are invalid-config", async () => {
  const w = await world();
  try {
    const port = Number(new URL(w.http.url).port);
    const err = await serveLobbyHttp(w.source, { host: "127.0.0.1", port }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(err, Error);
    assert.is((err as { code?: string }).code, "socket");
    assert.match((err as Error).message, `cannot listen on http://127.0.0.1:${port}/: the port is in use (EADDRINUSE)`);
    for (const bad of [{ host: "", port: 0 }, { host: "127.0.0.1", port: 70000 }, { host: "127.0.0.1", port: 0, maxClients: 0 }]) {
      const e = await serveLobbyHttp(w.source, bad).then(() => undefined, (x: unknown) => x);
      assert.is((e as { code?: string }).code, "invalid-config", JSON.stringify(bad));
    }
  } finally {
    await w.http.close();
  }
});

test.run();
