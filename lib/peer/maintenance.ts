/**
 * Maintenance (claims 45-51): ping every link each pingIntervalMs; a pong that is not back
 * within pongTimeoutMs is unacceptable (claims 47, 48); maxMissedPings of those in a row
 * (claim 49) close the link, ask the lobby for the connection's status (claim 50) and
 * report the close (claim 51, in closeLink).
 */
import { Kind, type MessageOf } from "../../wire/index.ts";
import { NO_TAG } from "./core.ts";
import type { PeerCore } from "./core.ts";
import { sendConnStatus } from "./lobby-client.ts";

export function onPingTick(core: PeerCore): void {
  core.timers.pingTick = core.now + core.cfg.pingIntervalMs;
  if (core.links.size === 0) return;
  for (const link of core.links.all()) {
    link.invalid = 0;
    const req = core.nextReq();
    link.pingReq = req;
    link.pingSentAt = core.now;
    core.send(link.address, { kind: Kind.Ping, req, grid: core.grid, from: core.self, tag: NO_TAG });
  }
  core.timers.pongDeadline = core.now + core.cfg.pongTimeoutMs;
}

export function onPongDeadline(core: PeerCore): void {
  core.timers.pongDeadline = undefined;
  const dead: number[] = [];
  for (const link of core.links.all()) {
    if (link.pingReq === -1) continue;
    link.pingReq = -1;
    link.missed++;
    if (link.missed >= core.cfg.maxMissedPings) dead.push(link.peer);
  }
  for (const peer of dead) {
    core.closeLink(peer, "unresponsive");
    sendConnStatus(core, peer);
  }
}

export function onPong(core: PeerCore, from: string, msg: MessageOf<typeof Kind.Pong>): void {
  const link = core.links.get(msg.from);
  if (link === undefined || link.address !== from || link.pingReq !== msg.req) {
    core.counters.drop(link === undefined ? "not-linked" : "late-pong");
    return;
  }
  const rtt = core.now - link.pingSentAt;
  link.pingReq = -1;
  link.missed = 0;
  link.neighbourLinks = msg.links;
  link.srttMs = link.srttMs === 0 ? rtt : link.srttMs + (rtt - link.srttMs) / 8;
}
