/**
 * The dashboard stream's bounds (dashboard-feed.ts), with a response whose unsent bytes the
 * test sets and a clock it moves: a client that does not read is skipped and then gets only
 * the newest state (coalesced, never a queue), is cut after slowClientMs, the client cap holds,
 * the event log is a bounded ring, and an idle stream gets a keepalive. No real timer fires:
 * pushIntervalMs is out of reach and the test calls the push itself.
 */
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DashboardFeed, DEFAULT_LOG_ENTRIES, type FeedOptions } from "../platform/http/dashboard-feed.ts";
import type { DashboardState } from "../platform/http/dashboard-state.ts";
import { Client, Harness, joinMany } from "./lobby-harness.ts";
import { harnessSource } from "./support/harness-source.ts";
import { eventsOf } from "./support/http-client.ts";

class FakeResponse extends EventEmitter {
  writableLength = 0;
  written = "";
  status = 0;
  ended = false;
  destroyed = false;
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit("close");
  }
  destroy(): void {
    this.destroyed = true;
    this.emit("close");
  }
  take(): string {
    const w = this.written;
    this.written = "";
    return w;
  }
}

function setup(overrides: Partial<FeedOptions> = {}) {
  const h = new Harness({}, 31);
  const source = harnessSource(h);
  let now = 0;
  const options: FeedOptions = {
    pushIntervalMs: 1e9,
    maxClients: 4,
    maxClientBufferBytes: 1000,
    slowClientMs: 500,
    maxListedGrids: 10,
    maxDrawnMembers: 100,
    clock: () => now,
    ...overrides,
  };
  const feed = new DashboardFeed(source, options);
  const owner = new Client(h, "10.5.0.1:4000");
  owner.hello();
  const grid = owner.create("feed");
  source.pump();
  const push = (): void => (feed as unknown as { tick(): void }).tick();
  return { h, source, feed, grid, push, advance: (ms: number) => (now += ms) };
}

const attach = (feed: DashboardFeed, grid?: number): FakeResponse => {
  const res = new FakeResponse();
  assert.ok(feed.attach(res as unknown as ServerResponse, grid));
  return res;
};

test("feed: a new stream gets retry, the state and the recent log; unchanged state is not sent again", () => {
  const { h, source, feed, grid, push } = setup();
  joinMany(h, grid, 3, 4);
  source.pump();
  const res = attach(feed, grid);
  assert.is(res.status, 200);
  const first = res.take();
  assert.ok(first.startsWith("retry: 2000\n\n"));
  assert.is((eventsOf(first, "state")[0] as DashboardState).selected?.members, 3);
  assert.is(eventsOf(first, "log").flat().length, 4, "gridCreated and 3 joins");
  push();
  assert.is(res.take(), "", "nothing new");
  joinMany(h, grid, 1, 4, "10.6");
  source.pump();
  push();
  const next = res.take();
  assert.is((eventsOf(next, "state")[0] as DashboardState).selected?.members, 4);
  assert.is(eventsOf(next, "log").flat().length, 1, "only the new entry");
  feed.close();
});

test("feed: a client that does not read is skipped, then gets only the newest state; cut when it stays behind", () => {
  const { h, source, feed, grid, push, advance } = setup();
  const res = attach(feed, grid);
  res.take();
  res.writableLength = 5000; // more than maxClientBufferBytes unsent
  for (let i = 0; i < 5; i++) {
    joinMany(h, grid, 1, 4, `10.1${i}`);
    source.pump();
    advance(100);
    push();
  }
  assert.is(res.take(), "", "nothing is queued for a client that is behind");
  res.writableLength = 0; // it caught up
  push();
  const caught = res.take();
  const states = eventsOf(caught, "state") as DashboardState[];
  assert.is(states.length, 1, "one state, not five");
  assert.is(states[0]?.selected?.members, 5, "the newest");
  assert.is(eventsOf(caught, "log").flat().length, 5, "the log entries it missed, from the ring");
  // Behind again, for longer than slowClientMs: cut.
  res.writableLength = 5000;
  push();
  advance(400);
  push();
  assert.not.ok(res.destroyed);
  advance(200);
  push();
  assert.ok(res.destroyed, "cut after slowClientMs");
  assert.equal(feed.counts, { clients: 0, rejected: 0, slow: 1 });
  feed.close();
});

test("feed: at most maxClients streams; close() ends them", () => {
  const { feed, grid } = setup({ maxClients: 2 });
  const a = attach(feed, grid);
  const b = attach(feed);
  const c = new FakeResponse();
  assert.not.ok(feed.attach(c as unknown as ServerResponse, grid));
  assert.is(c.status, 0, "the caller answers 503");
  assert.equal(feed.counts, { clients: 2, rejected: 1, slow: 0 });
  b.end(); // a client going away frees its place
  assert.is(feed.counts.clients, 1);
  attach(feed, grid);
  feed.close();
  assert.ok(a.ended);
  assert.is(feed.counts.clients, 0);
});

test("feed: the log is a ring of DEFAULT_LOG_ENTRIES, a new client starts with the last 50", () => {
  const { h, source, feed, grid } = setup({ maxDrawnMembers: 1 });
  joinMany(h, grid, 120, 4); // 120 joins, then 100 more who leave: 321 events in all
  const leavers = joinMany(h, grid, 100, 4, "10.2");
  for (const l of leavers) l.client.call(0x28, { grid, peer: l.peer });
  source.pump();
  const ring = (feed as unknown as { log: unknown[] }).log;
  assert.is(ring.length, DEFAULT_LOG_ENTRIES);
  const res = attach(feed, grid);
  const first = res.take();
  assert.is(eventsOf(first, "log").flat().length, 50);
  const state = eventsOf(first, "state")[0] as DashboardState;
  assert.equal([state.selected?.members, state.selected?.rows.length, state.selected?.truncated], [120, 1, true], "maxDrawnMembers bounds the rows");
  feed.close();
});

test("feed: an idle stream gets a keepalive comment every 15 s", () => {
  const { feed, grid, push, advance } = setup();
  const res = attach(feed, grid); // an empty grid: nothing in the state moves with the clock
  res.take();
  advance(14_000);
  push();
  assert.is(res.take(), "");
  advance(1_000);
  push();
  assert.is(res.take(), ": keepalive\n\n");
  push();
  assert.is(res.take(), "");
  feed.close();
});

test.run();
