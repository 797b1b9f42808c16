/**
 * What the lobby does when its timers fire: expire silent members, probe one-sided links,
 * remove grids left empty, review components after changes and check for islands (SPEC:
 * "notices a grid that has split into islands and tells peers how to repair it").
 */
import type { LobbyCore } from "./core.ts";
import { activateDueKeys } from "./key-rotation.ts";
import { noteIsolation } from "./nat.ts";
import type { Member } from "./registry.ts";
import { reviewGrid, runComponentCheck } from "./standing.ts";
import { LobbyTimer } from "./timers.ts";

/** Fires every due timer. */
export function runTimers(core: LobbyCore, nowMs: number): void {
  expireMembers(core, nowMs);
  checkEdges(core, nowMs);
  removeEmptyGrids(core, nowMs);
  runComponentCheck(core, nowMs);
  checkIslands(core, nowMs);
  core.sessions.expireIdle(nowMs);
  activateDueKeys(core, nowMs);
}

/** The earliest deadline and its timer's name. */
export function nextTimer(core: LobbyCore): { name: LobbyTimer; atMs: number } | undefined {
  let best: { name: LobbyTimer; atMs: number } | undefined;
  const consider = (name: LobbyTimer, atMs: number | undefined): void => {
    if (atMs !== undefined && (best === undefined || atMs < best.atMs)) best = { name, atMs };
  };
  consider(LobbyTimer.PeerExpiry, core.expiry.peek()?.deadlineMs);
  consider(LobbyTimer.EdgeCheck, core.pending.heap.peek()?.deadlineMs);
  consider(LobbyTimer.EmptyGrid, core.emptyGrids.peek()?.deadlineMs);
  consider(LobbyTimer.IslandCheck, core.nextIslandCheckMs);
  consider(LobbyTimer.ComponentCheck, core.nextComponentCheckMs);
  consider(LobbyTimer.SessionIdle, core.sessions.nextDeadline());
  consider(LobbyTimer.KeyRotation, core.rotations.peek()?.deadlineMs);
  return best;
}

/**
 * A member's heap entry is armed at its admission + expireAfterMs and not moved on every
 * heartbeat; when it fires, a member heard from since is re-armed at its real deadline.
 */
function expireMembers(core: LobbyCore, nowMs: number): void {
  for (let m = core.expiry.popDue(nowMs); m !== undefined; m = core.expiry.popDue(nowMs)) {
    const dueMs = m.lastHeardMs + core.config.expireAfterMs;
    const grid = core.registry.get(m.grid);
    if (dueMs > nowMs) core.expiry.set(m, dueMs);
    else if (grid !== undefined) core.dropMember(nowMs, grid, m, "expired");
  }
}

function checkEdges(core: LobbyCore, nowMs: number): void {
  for (let e = core.pending.popDue(nowMs); e !== undefined; e = core.pending.popDue(nowMs)) {
    const grid = core.registry.get(e.grid);
    if (grid === undefined || !grid.graph.isOneSided(e.lo, e.hi)) continue;
    const loReports = grid.graph.reports(e.lo, e.hi);
    const silent = grid.members.get(loReports ? e.hi : e.lo) as Member;
    core.sendProbe(nowMs, grid, silent, loReports ? e.lo : e.hi);
    core.pending.rearm(e, nowMs + core.config.unconfirmedEdgeMs);
  }
}

function removeEmptyGrids(core: LobbyCore, nowMs: number): void {
  for (let g = core.emptyGrids.popDue(nowMs); g !== undefined; g = core.emptyGrids.popDue(nowMs)) {
    if (g.members.size === 0) core.removeGrid(g);
  }
}

/**
 * Every islandCheckMs: every grid's components are reviewed (standing.ts): a grid split for
 * longer than islandGraceMs gets RepairHints at every check until it is whole again (peers
 * may lose a hint, or fail to connect and need another).
 */
function checkIslands(core: LobbyCore, nowMs: number): void {
  if (core.nextIslandCheckMs === undefined || nowMs < core.nextIslandCheckMs) return;
  core.nextIslandCheckMs = core.registry.size > 0 ? nowMs + core.config.islandCheckMs : undefined;
  for (const grid of core.registry.values()) {
    noteIsolation(core, nowMs, grid);
    reviewGrid(core, nowMs, grid, true);
  }
}
