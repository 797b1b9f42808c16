/**
 * `serveLobbyHttp()`: the lobby's read-only HTTP side (issue 17), on node:http (Node, Deno and
 * Bun all have it). Off unless asked for, on the address the caller names:
 *
 *   GET /             the dashboard page (dashboard/: index.html, dashboard.js, layout.js,
 *                     dashboard.css; no build step, no CDN)
 *   GET /events       its live stream (server-sent events; dashboard-feed.ts), ?grid=ID
 *   GET /state.json   the same state once, ?grid=ID (for curl and scripts)
 *   GET /metrics      Prometheus text format (lobby-metrics.ts)
 *
 * Safe to expose to a browser: nothing here changes the lobby (GET and HEAD only, 405 for the
 * rest), no secret is ever in a response (keys, tickets, session ids), requests are bounded
 * (8 KiB of headers, no body, a connection cap, timeouts), every page is served with a strict
 * Content-Security-Policy (no inline script, nothing from another origin), and on a loopback
 * address a Host header naming another host is refused (421), so a web page cannot read it
 * through DNS rebinding. Member addresses *are* shown: bind it where only operators can reach.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { formatAddress } from "../node/address.ts";
import {
  DashboardFeed,
  DEFAULT_MAX_CLIENT_BUFFER_BYTES,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_PUSH_INTERVAL_MS,
  DEFAULT_SLOW_CLIENT_MS,
  type FeedOptions,
} from "./dashboard-feed.ts";
import { buildState, DEFAULT_MAX_DRAWN_MEMBERS, DEFAULT_MAX_LISTED_GRIDS } from "./dashboard-state.ts";
import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";
import { renderLobbyMetrics } from "./lobby-metrics.ts";
import { EventCounts, type LobbyHttpSource } from "./source.ts";

/** TCP connections at once (page loads, streams and scrapes together). Defaults to 64. */
export const DEFAULT_MAX_HTTP_CONNECTIONS = 64;
/** Largest request head accepted. 8 KiB. */
export const MAX_REQUEST_HEADER_BYTES = 8192;

export interface LobbyHttpOptions {
  /** Address to bind: required, so exposing the page is always a decision ("127.0.0.1", "::1", "0.0.0.0"). */
  host: string;
  /** TCP port; 0 picks a free one (see url). */
  port: number;
  /** Defaults to DEFAULT_MAX_CLIENTS (16). */
  maxClients?: number;
  /** Defaults to DEFAULT_PUSH_INTERVAL_MS (250). */
  pushIntervalMs?: number;
  /** Defaults to DEFAULT_MAX_CLIENT_BUFFER_BYTES (512 KiB). */
  maxClientBufferBytes?: number;
  /** Defaults to DEFAULT_SLOW_CLIENT_MS (10000). */
  slowClientMs?: number;
  /** Defaults to DEFAULT_MAX_LISTED_GRIDS (200). */
  maxListedGrids?: number;
  /** Defaults to DEFAULT_MAX_DRAWN_MEMBERS (512). */
  maxDrawnMembers?: number;
  /** Defaults to DEFAULT_MAX_HTTP_CONNECTIONS (64). */
  maxConnections?: number;
  /** The lobby driver's clock, for "heard N s ago". Defaults to performance.now() (the Node driver's). */
  clock?: () => number;
}

export interface LobbyHttpServer {
  /** "http://HOST:PORT/" with the real port. */
  readonly url: string;
  /** Ends every stream and closes the listener; resolves when it is closed. Idempotent. */
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
  "/layout.js": { file: "layout.js", type: "text/javascript; charset=utf-8" },
};

const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The page's files, read once: next to this module in the sources (platform/http/dashboard/) and in dist/ (dist/dashboard/). */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const dir = new URL("./dashboard/", import.meta.url);
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [path, a] of Object.entries(ASSETS)) {
    const url = new URL(a.file, dir);
    try {
      out.set(path, { body: readFileSync(url), type: a.type });
    } catch (e) {
      const where = fileURLToPath(url);
      throw new RelayGridError(ErrorCode.InvalidConfig, `dashboard file missing: ${where} (${e instanceof Error ? e.message : String(e)}); reinstall relaygrid, or run npm run build in a checkout`);
    }
  }
  return out;
}

/** Binds the HTTP side for `source` (a LobbyServer, or any LobbyHttpSource). Rejects with a RelayGridError: socket (port in use, ...) or invalid-config. */
export async function serveLobbyHttp(source: LobbyHttpSource, options: LobbyHttpOptions): Promise<LobbyHttpServer> {
  const { host, port } = options;
  if (typeof host !== "string" || host === "") throw new RelayGridError(ErrorCode.InvalidConfig, `host must be a non-empty address such as "127.0.0.1", got ${String(host)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RelayGridError(ErrorCode.InvalidConfig, `port must be an integer from 0 to 65535, got ${String(port)}`);
  const assets = loadAssets();
  const feedOptions: FeedOptions = {
    pushIntervalMs: positive("pushIntervalMs", options.pushIntervalMs ?? DEFAULT_PUSH_INTERVAL_MS),
    maxClients: positive("maxClients", options.maxClients ?? DEFAULT_MAX_CLIENTS),
    maxClientBufferBytes: positive("maxClientBufferBytes", options.maxClientBufferBytes ?? DEFAULT_MAX_CLIENT_BUFFER_BYTES),
    slowClientMs: positive("slowClientMs", options.slowClientMs ?? DEFAULT_SLOW_CLIENT_MS),
    maxListedGrids: positive("maxListedGrids", options.maxListedGrids ?? DEFAULT_MAX_LISTED_GRIDS),
    maxDrawnMembers: positive("maxDrawnMembers", options.maxDrawnMembers ?? DEFAULT_MAX_DRAWN_MEMBERS),
    clock: options.clock ?? (() => performance.now()),
  };
  const events = new EventCounts();
  const stopCounting = source.on("event", (e) => events.count(e));
  const feed = new DashboardFeed(source, feedOptions);
  const server = createServer({ maxHeaderSize: MAX_REQUEST_HEADER_BYTES, requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 });
  server.maxConnections = positive("maxConnections", options.maxConnections ?? DEFAULT_MAX_HTTP_CONNECTIONS);
  server.maxHeadersCount = 64;
  let allowedHosts: Set<string> | undefined;

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? "";
    if (method !== "GET" && method !== "HEAD") return reply(res, 405, "read-only: GET or HEAD only\n", { Allow: "GET, HEAD" });
    if (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0") return reply(res, 413, "a GET carries no body\n", { Connection: "close" });
    if (req.headers["transfer-encoding"] !== undefined) return reply(res, 413, "a GET carries no body\n", { Connection: "close" });
    if (allowedHosts !== undefined && !allowedHosts.has((req.headers.host ?? "").toLowerCase())) return reply(res, 421, "unknown Host for this loopback server\n");
    const url = new URL(req.url ?? "/", "http://lobby.invalid");
    const head = method === "HEAD";
    const asset = assets.get(url.pathname);
    if (asset !== undefined) return send(res, 200, asset.type, asset.body, head);
    if (url.pathname === "/metrics") return send(res, 200, EXPOSITION_CONTENT_TYPE, renderLobbyMetrics(source, events, feed.counts), head);
    if (url.pathname === "/favicon.ico") return send(res, 204, "text/plain", "", true);
    if (url.pathname !== "/events" && url.pathname !== "/state.json") return reply(res, 404, "not found: try /, /metrics, /state.json or /events\n");
    const grid = gridParam(url);
    if (grid === null) return reply(res, 400, "grid must be a grid id (an integer from 1 to 4294967295)\n");
    if (url.pathname === "/state.json") return send(res, 200, "application/json; charset=utf-8", JSON.stringify(buildState(source, grid, feedOptions)), head);
    if (head) return send(res, 200, "text/event-stream; charset=utf-8", "", true);
    if (!feed.attach(res, grid)) reply(res, 503, `${feedOptions.maxClients} dashboards are connected already (maxClients)\n`, { "Retry-After": "5" });
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    try {
      route(req, res);
    } catch {
      if (!res.headersSent) reply(res, 500, "internal error\n");
      else res.destroy();
    }
  });
  // Malformed requests: a bare 400 (431 for a head over MAX_REQUEST_HEADER_BYTES) and close.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: { writable?: boolean; end(data: string): void; destroy(): void }) => {
    if (socket.writable === false) return socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  const bound = await listen(server, host, port).catch((e: unknown) => {
    stopCounting();
    feed.close();
    throw e;
  });
  const hostPort = formatAddress(host, bound);
  if (isLoopback(host)) allowedHosts = new Set([hostPort, `localhost:${bound}`, `127.0.0.1:${bound}`, `[::1]:${bound}`].map((h) => h.toLowerCase()));
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPort}/`,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        stopCounting();
        feed.close();
        server.close(() => resolve());
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = `http://${formatAddress(host, port)}/`;
      const why =
        err.code === "EADDRINUSE"
          ? "the port is in use (EADDRINUSE): another process listens there; pick another port"
          : err.code === "EADDRNOTAVAIL"
            ? "no such local address (EADDRNOTAVAIL)"
            : err.code === "EACCES"
              ? "permission denied (EACCES): ports below 1024 need privileges"
              : err.message;
      reject(new RelayGridError(ErrorCode.Socket, `cannot listen on ${where}: ${why}`));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const a = server.address();
      resolve(typeof a === "object" && a !== null ? a.port : port);
    });
  });
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  send(res, status, "text/plain; charset=utf-8", text, false);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  res.writeHead(status, { "Content-Type": type, "Content-Length": String(bytes.length), "Cache-Control": "no-store" });
  res.end(head ? undefined : bytes);
}

/** ?grid=ID: undefined when absent, null when not a grid id. */
function gridParam(url: URL): number | undefined | null {
  const v = url.searchParams.get("grid");
  if (v === null || v === "") return undefined;
  if (!/^[0-9]{1,10}$/.test(v)) return null;
  const n = Number(v);
  return n >= 1 && n <= 0xffffffff ? n : null;
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RelayGridError(ErrorCode.InvalidConfig, `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
