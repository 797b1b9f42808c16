/**
 * Grid keys and their rotation (issue 6, point 2: "keys rotate when a grid's membership
 * changes by a configurable amount, without a gap in delivery").
 *
 * Each grid has an active key, the epoch members send under, and during a rotation a next
 * one. Members that left, expired or were replaced count as departures; at
 * rotateAfterDepartures the lobby draws epoch + 1 and lists it as "next" in every grant
 * (members accept it from then on, HeartbeatAck.latest names it so members without it
 * select the grid again), and after rotationDelayMs (the key-rotation timer) it becomes
 * active (HeartbeatAck.epoch: send under it now). Only the active key is kept afterwards,
 * so a grant lists one epoch, or two consecutive ones during a rotation: always within 255
 * of each other, as a member's keyring needs (lib/security/grid-keys.ts).
 *
 * Departures keep counting while a rotation is pending (a member that left during it may
 * have been granted the next key), and a rotation that completes with enough of them
 * starts the next one at once.
 */
import { GRID_KEY_BYTES } from "../security/grid-keys.ts";
import type { CryptoProvider } from "../security/crypto.ts";
import type { LobbyCore } from "./core.ts";
import type { Grid } from "./registry.ts";
import type { Deadline } from "./timers.ts";

const MAX_EPOCH = 0xffffffff;

export interface EpochKey {
  readonly epoch: number;
  /** GRID_KEY_BYTES random bytes. */
  readonly key: Uint8Array;
}

/** A key handed out as "next", armed in the key-rotation timer heap until it becomes active. */
export interface NextKey extends EpochKey, Deadline {
  readonly grid: number;
}

export interface GridKeys {
  active: EpochKey;
  next: NextKey | undefined;
  /** Departures since the last rotation started. */
  departures: number;
}

/** A grid's first key, at `epoch` (1 for a new grid; a restored grid's is its members' key, see onRejoin). */
export function newGridKeys(crypto: CryptoProvider, epoch: number, key?: Uint8Array): GridKeys {
  return { active: { epoch, key: key?.slice() ?? crypto.randomBytes(GRID_KEY_BYTES) }, next: undefined, departures: 0 };
}

/** The keys a grant lists: [active], or [active, next] during a rotation. */
export function grantKeys(keys: GridKeys): EpochKey[] {
  return keys.next === undefined ? [keys.active] : [keys.active, keys.next];
}

/** The newest epoch issued: next during a rotation, else active (HeartbeatAck.latest). */
export function latestEpoch(keys: GridKeys): number {
  return (keys.next ?? keys.active).epoch;
}

/** A member left, expired or was replaced: starts a rotation when enough have. */
export function noteDeparture(core: LobbyCore, nowMs: number, grid: Grid): void {
  grid.keys.departures++;
  if (grid.keys.next === undefined) maybeRotate(core, nowMs, grid);
}

function maybeRotate(core: LobbyCore, nowMs: number, grid: Grid): void {
  const keys = grid.keys;
  const after = core.config.rotateAfterDepartures;
  if (after === 0 || keys.departures < after || keys.active.epoch >= MAX_EPOCH) return;
  const next: NextKey = {
    grid: grid.id,
    epoch: keys.active.epoch + 1,
    key: core.crypto.randomBytes(GRID_KEY_BYTES),
    deadlineMs: 0,
    heapIndex: -1,
  };
  keys.next = next;
  keys.departures = 0;
  core.rotations.set(next, nowMs + core.config.rotationDelayMs);
}

/** The key-rotation timer: every next key whose delay is over becomes its grid's active key. */
export function activateDueKeys(core: LobbyCore, nowMs: number): void {
  for (let next = core.rotations.popDue(nowMs); next !== undefined; next = core.rotations.popDue(nowMs)) {
    const grid = core.registry.get(next.grid);
    if (grid === undefined || grid.keys.next !== next) continue;
    grid.keys.active = { epoch: next.epoch, key: next.key };
    grid.keys.next = undefined;
    core.counters.keyRotations++;
    core.emit({ type: "gridKeyRotated", grid: grid.id, epoch: next.epoch });
    maybeRotate(core, nowMs, grid);
  }
}

/** Cancels a pending rotation (the grid is being removed). */
export function cancelRotation(core: LobbyCore, grid: Grid): void {
  if (grid.keys.next !== undefined) core.rotations.delete(grid.keys.next);
  grid.keys.next = undefined;
}
