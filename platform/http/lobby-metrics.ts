/**
 * GET /metrics: the lobby's stats() in the Prometheus text format (exposition.ts). Names follow
 * the Prometheus conventions: a relaygrid_ prefix, _total on counters, base units (seconds,
 * bytes). Labels take a small fixed set of values (drop reasons, error codes, request kinds,
 * departure reasons): nothing per member, per grid or per address, so a scrape stays the same
 * size whatever the lobby serves. Every known label value is written from the start (as 0), so
 * rate() sees a series before its first increment.
 */
import { LobbyDrop } from "../../lib/lobby/stats.ts";
import { DecodeErrorCode } from "../../wire/decode-error.ts";
import { LobbyErrorCode } from "../../wire/kinds.ts";
import { REPLY_BUCKETS_SECONDS } from "../node/reply-timer.ts";
import { Exposition } from "./exposition.ts";
import type { EventCounts, LobbyHttpSource } from "./source.ts";

/** What the HTTP server adds about itself. */
export interface DashboardCounts {
  clients: number;
  /** Clients refused because maxClients were connected. */
  rejected: number;
  /** Clients disconnected because they did not read their stream. */
  slow: number;
}

const DROP_REASONS: readonly string[] = [...Object.values(LobbyDrop), ...Object.values(DecodeErrorCode)];
const ERROR_CODES: readonly string[] = Object.keys(LobbyErrorCode);

/** Every known key first (as 0), then any other key the record holds, each once. */
function withKnown(known: readonly string[], record: Record<string, number>): [string, number][] {
  const out = new Map<string, number>(known.map((k) => [k, 0]));
  for (const [k, v] of Object.entries(record)) out.set(k, v);
  return [...out];
}

export function renderLobbyMetrics(source: LobbyHttpSource, events: EventCounts, dashboard: DashboardCounts): string {
  const s = source.stats();
  const oneSided = source.lobby.footprint().pendingEdges;
  const x = new Exposition();
  const gauge = (name: string, help: string, v: number): void => void x.family(name, "gauge", help).sample(v);
  const counter = (name: string, help: string, v: number): void => void x.family(name, "counter", help).sample(v);

  gauge("relaygrid_lobby_grids", "Grids registered.", s.grids);
  gauge("relaygrid_lobby_members", "Members over all grids.", s.peers);
  gauge("relaygrid_lobby_sessions", "Peer sessions open.", s.sessions);
  gauge("relaygrid_lobby_links", "Confirmed links (both ends report them) over all grids.", s.links);
  gauge("relaygrid_lobby_one_sided_links", "Links only one end reports; the lobby probes the silent end.", oneSided);
  gauge("relaygrid_lobby_islands", "Grids whose confirmed graph is split into more than one component.", s.islands);
  gauge("relaygrid_lobby_components", "Components of the confirmed graphs over all grids with members.", s.components);

  counter("relaygrid_lobby_received_datagrams_total", "Datagrams received.", s.datagramsIn);
  counter("relaygrid_lobby_received_bytes_total", "Bytes received in datagrams.", s.bytesIn);
  counter("relaygrid_lobby_sent_datagrams_total", "Datagrams handed to the socket.", s.datagramsOut);
  counter("relaygrid_lobby_sent_bytes_total", "Bytes handed to the socket in datagrams.", s.bytesOut);
  counter("relaygrid_lobby_accepted_datagrams_total", "Received datagrams that reached a handler.", s.accepted);
  x.family("relaygrid_lobby_dropped_datagrams_total", "counter", "Received datagrams dropped, by reason.");
  for (const [reason, n] of withKnown(DROP_REASONS, s.drops)) x.sample(n, { reason });
  x.family("relaygrid_lobby_errors_sent_total", "counter", "Error replies sent, by LobbyErrorCode.");
  for (const [code, n] of withKnown(ERROR_CODES, s.errorsSent)) x.sample(n, { code });
  counter("relaygrid_lobby_handshakes_total", "Sessions opened by a completed handshake.", s.handshakes);
  counter("relaygrid_lobby_retries_sent_total", "Retry replies (address-validation cookies) sent.", s.retriesSent);
  counter("relaygrid_lobby_probes_sent_total", "Probes sent to the silent end of a link or a silent member.", s.probesSent);
  counter("relaygrid_lobby_repair_hints_total", "Repair hints sent to members of islands.", s.hintsSent);
  counter("relaygrid_lobby_key_rotations_total", "Grid keys that became active.", s.keyRotations);
  counter("relaygrid_lobby_transmits_dropped_total", "Outbound datagrams discarded: the transmit queue was full.", s.transmitsDropped);
  counter("relaygrid_lobby_events_dropped_total", "Events discarded: the event queue was full.", s.eventsDropped);
  counter("relaygrid_lobby_socket_send_errors_total", "Datagrams the socket failed to send.", s.driver?.sendErrors ?? 0);

  x.family("relaygrid_lobby_joins_total", "counter", "Members admitted: by SelectGrid, or restored by Rejoin after a lobby restart.");
  for (const [via, n] of Object.entries(events.joins)) x.sample(n, { via });
  x.family("relaygrid_lobby_leaves_total", "counter", "Members gone: left, replaced by a newer admission from their address, or expired.");
  for (const [reason, n] of Object.entries(events.leaves)) x.sample(n, { reason });
  counter("relaygrid_lobby_grids_created_total", "Grids created (restored ones included).", events.gridsCreated);
  counter("relaygrid_lobby_grids_removed_total", "Grids removed after staying empty.", events.gridsRemoved);
  counter("relaygrid_lobby_islands_detected_total", "Times a grid was found split past the grace period (again when the count changes).", events.islandsDetected);

  const times = source.replyTimes?.();
  if (times !== undefined) {
    x.family(
      "relaygrid_lobby_reply_duration_seconds",
      "histogram",
      "From a request's arrival at the driver until its replies were handed to the socket, by request kind.",
    );
    for (const [kind, h] of Object.entries(times)) x.histogram(REPLY_BUCKETS_SECONDS, h.counts, h.sumSeconds, { kind });
  }

  gauge("relaygrid_dashboard_clients", "Dashboard pages connected to the live stream.", dashboard.clients);
  x.family("relaygrid_dashboard_clients_dropped_total", "counter", "Dashboard streams refused (over the client cap) or cut (not reading).");
  x.sample(dashboard.rejected, { reason: "cap" }).sample(dashboard.slow, { reason: "slow" });
  return x.text();
}
