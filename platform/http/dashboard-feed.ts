/**
 * GET /events: the dashboard's live stream, as server-sent events (EventSource in the page,
 * text/event-stream on the wire). Two kinds of message: `state` (dashboard-state.ts, the whole
 * picture of the client's grid, only when it changed) and `log` (lobby events since the last
 * one the client got).
 *
 * Bounded per client and in all: at most one push per pushIntervalMs for everyone (one timer,
 * one state built per grid shown, however many clients show it), at most maxClients streams
 * (more get 503), and a client whose unsent bytes exceed maxClientBufferBytes is skipped: it
 * gets the newest state once it has caught up (coalesced, never queued), and is cut after
 * slowClientMs of not catching up. The event log is a ring of DEFAULT_LOG_ENTRIES.
 */
import type { ServerResponse } from "node:http";
import type { LobbyEvent } from "../../lib/lobby/index.ts";
import { buildState, logEntry, type LogEntry, type StateOptions } from "./dashboard-state.ts";
import type { DashboardCounts } from "./lobby-metrics.ts";
import type { LobbyHttpSource } from "./source.ts";

/** Pushes at most this often. Defaults to 250 ms (4 a second). */
export const DEFAULT_PUSH_INTERVAL_MS = 250;
/** Live streams at once. Defaults to 16. */
export const DEFAULT_MAX_CLIENTS = 16;
/** A client with more unsent bytes than this is skipped until it catches up. Defaults to 512 KiB. */
export const DEFAULT_MAX_CLIENT_BUFFER_BYTES = 512 * 1024;
/** A client that stays behind this long is disconnected. Defaults to 10000 ms. */
export const DEFAULT_SLOW_CLIENT_MS = 10_000;
/** Lobby events kept for the log. Defaults to 200. */
export const DEFAULT_LOG_ENTRIES = 200;
/** Log entries a new client starts with. */
const INITIAL_LOG_ENTRIES = 50;
/** An SSE comment after this long without a write, so proxies keep the stream open. */
const KEEPALIVE_MS = 15_000;
/** EventSource reconnects after this long (the `retry:` field). */
const RETRY_MS = 2000;

export interface FeedOptions extends StateOptions {
  pushIntervalMs: number;
  maxClients: number;
  maxClientBufferBytes: number;
  slowClientMs: number;
}

interface Client {
  readonly res: ServerResponse;
  readonly grid: number | undefined;
  lastState: string;
  lastSeq: number;
  lastWriteMs: number;
  behindSinceMs: number | undefined;
}

export class DashboardFeed {
  readonly counts: DashboardCounts = { clients: 0, rejected: 0, slow: 0 };
  private readonly clients = new Set<Client>();
  private readonly log: { entry: LogEntry; json: string }[] = [];
  private seq = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: LobbyHttpSource,
    private readonly o: FeedOptions,
  ) {
    this.unsubscribe = source.on("event", (e) => this.record(e));
  }

  /** Starts a stream on `res` for grid `grid` (undefined: the largest); false when maxClients are connected. */
  attach(res: ServerResponse, grid: number | undefined): boolean {
    if (this.clients.size >= this.o.maxClients) {
      this.counts.rejected++;
      return false;
    }
    const client: Client = { res, grid, lastState: "", lastSeq: 0, lastWriteMs: 0, behindSinceMs: undefined };
    this.clients.add(client);
    this.counts.clients = this.clients.size;
    res.on("close", () => this.detach(client));
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    });
    client.lastSeq = Math.max(0, this.seq - INITIAL_LOG_ENTRIES);
    this.push(client, this.o.clock(), new Map(), `retry: ${RETRY_MS}\n\n`);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.o.pushIntervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
    return true;
  }

  /** Ends every stream and stops listening to the lobby. */
  close(): void {
    this.unsubscribe();
    for (const c of [...this.clients]) c.res.end();
    this.clients.clear();
    this.counts.clients = 0;
    this.stopTimer();
  }

  private record(e: LobbyEvent): void {
    const entry = logEntry(++this.seq, Date.now(), e);
    this.log.push({ entry, json: JSON.stringify(entry) });
    if (this.log.length > DEFAULT_LOG_ENTRIES) this.log.shift();
  }

  private tick(): void {
    const now = this.o.clock();
    const states = new Map<number | undefined, string>();
    for (const c of [...this.clients]) {
      if (c.res.writableLength > this.o.maxClientBufferBytes) {
        c.behindSinceMs ??= now;
        if (now - c.behindSinceMs > this.o.slowClientMs) {
          this.counts.slow++;
          this.detach(c);
          c.res.destroy();
        }
        continue;
      }
      c.behindSinceMs = undefined;
      this.push(c, now, states, "");
    }
  }

  /** Writes what `c` has not seen: new log entries, the state if it changed, or a keepalive. */
  private push(c: Client, now: number, states: Map<number | undefined, string>, prefix: string): void {
    let out = prefix;
    // The state first: the page names grids in log lines from it.
    let state = states.get(c.grid);
    if (state === undefined) {
      state = JSON.stringify(buildState(this.source, c.grid, this.o));
      states.set(c.grid, state);
    }
    if (state !== c.lastState) {
      out += `event: state\ndata: ${state}\n\n`;
      c.lastState = state;
    }
    const fresh = this.log.filter((l) => l.entry.seq > c.lastSeq);
    if (fresh.length > 0) {
      out += `event: log\ndata: [${fresh.map((l) => l.json).join(",")}]\n\n`;
      c.lastSeq = (fresh[fresh.length - 1] as { entry: LogEntry }).entry.seq;
    }
    if (out === "" && now - c.lastWriteMs >= KEEPALIVE_MS) out = ": keepalive\n\n";
    if (out === "") return;
    c.lastWriteMs = now;
    c.res.write(out);
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c)) return;
    this.counts.clients = this.clients.size;
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
