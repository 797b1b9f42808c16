/**
 * The peer's side of the lobby protocol (claims 24, 25, 34, 35, 44, 50, 51): open a
 * session, find or create the grid, get admitted with the members' addresses, heartbeat,
 * and register again when a restarted lobby no longer knows the session.
 */
import { ErrorCode } from "../errors.ts";
import { encode, Kind, LobbyErrorCode, MIN_HELLO_BYTES, type MessageOf } from "../../wire/index.ts";
import { type AdmissionGrant, decodeGrant, encodeGrant } from "../security/admission.ts";
import { beginHandshake, Direction, finishHandshake, openFrom, sealFor } from "../security/handshake.ts";
import type { PeerCore } from "./core.ts";
import type { PendingRequest } from "./requests.ts";
import { hasCandidates, startRound } from "./seeker.ts";

/**
 * Opens (or re-opens) the lobby session: a Hello with a fresh X25519 key, the cookie of the
 * lobby's last Retry (none at first), padded to MIN_HELLO_BYTES so the lobby may answer
 * within its 3x anti-amplification budget (PROTOCOL.md 6.2).
 */
export function sendHello(core: PeerCore, keepKey = false): void {
  if (!keepKey || core.ephemeral === undefined) core.ephemeral = beginHandshake(core.crypto);
  const req = core.nextReq();
  const base = { kind: Kind.Hello, req, name: core.cfg.name, cookie: core.cookie, eph: core.ephemeral.publicKey } as const;
  const unpadded = encode({ ...base, pad: new Uint8Array(0) }).length;
  const pad = new Uint8Array(Math.max(0, MIN_HELLO_BYTES - unpadded));
  core.request(core.cfg.lobby, { ...base, pad }, { t: "hello" });
}

/** Address validation: echo the lobby's cookie in a new Hello (same handshake key). */
export function onRetry(core: PeerCore, msg: MessageOf<typeof Kind.Retry>): void {
  core.cookie = msg.cookie.slice();
  sendHello(core, true);
}

function sendSelect(core: PeerCore, part: number): void {
  const req = core.nextReq();
  core.request(
    core.cfg.lobby,
    { kind: Kind.SelectGrid, req, session: core.session, grid: core.grid, limit: core.limit, part },
    { t: "select", part },
  );
}

function sendList(core: PeerCore, offset: number): void {
  const t = core.target;
  const filter = t !== undefined && typeof t.grid === "string" ? t.grid : "";
  const req = core.nextReq();
  core.request(core.cfg.lobby, { kind: Kind.ListGrids, req, session: core.session, filter, offset }, { t: "list" });
}

/** Asks the lobby for the current member list again (idempotent SelectGrid), to find new link candidates. */
export function refreshMembers(core: PeerCore): void {
  if (core.session !== 0 && core.grid !== 0) sendSelect(core, 0);
}

export function sendHeartbeat(core: PeerCore): void {
  if (core.session === 0 || core.self === 0) return;
  const req = core.nextReq();
  core.request(
    core.cfg.lobby,
    { kind: Kind.Heartbeat, req, session: core.session, grid: core.grid, peer: core.self, links: core.links.ids.slice(0, 64) },
    { t: "heartbeat" },
  );
}

/** Claim 50: ask the lobby about a connection whose pings went unanswered. */
export function sendConnStatus(core: PeerCore, other: number): void {
  if (core.session === 0) return;
  const req = core.nextReq();
  core.request(
    core.cfg.lobby,
    { kind: Kind.ConnStatus, req, session: core.session, grid: core.grid, peer: core.self, other },
    { t: "status" },
  );
}

/** The signed handshake reply: verify the lobby's identity, derive the session key, go on. */
/**
 * Returns false (and changes nothing but a counter) when the Welcome does not verify: it
 * may be forged at the lobby's address, so the Hello stays outstanding and the real
 * Welcome can still arrive; if none does, the give-up error names the failure.
 */
export function onWelcome(core: PeerCore, msg: MessageOf<typeof Kind.Welcome>): boolean {
  const eph = core.ephemeral;
  if (eph === undefined) return false;
  const r = finishHandshake(core.crypto, eph, { lobbyEph: msg.eph, signature: msg.signature, session: msg.session }, core.lobbyKey, msg.identity);
  if (!r.ok) {
    core.counters.drop(`handshake-${r.reason}`);
    core.handshakeFailure =
      r.reason === "bad-signature" && core.lobbyKey !== undefined
        ? "its Welcome did not verify under the pinned lobbyKey (wrong key, or not the lobby)"
        : `its Welcome did not verify (${r.reason})`;
    return false;
  }
  core.ephemeral = undefined;
  core.lobbyKey = r.lobbyPublicKey; // trust on first use when none was pinned; pinned from now on
  core.sessionKey = r.sessionKey;
  core.grantNonce = 0; // nonces count per session key
  core.session = msg.session;
  core.heartbeatMs = Math.max(100, msg.heartbeatMs);
  core.handshakeFailure = undefined;
  afterSession(core);
  return true;
}

/**
 * The grid key this peer sends under, sealed for the lobby (Direction.PeerToLobby, nonce =
 * the Rejoin's req; its retransmits are the same bytes): a restarted lobby restores it.
 */
function sealHeldKey(core: PeerCore, req: number): Uint8Array {
  const epoch = core.keyring.currentEpoch;
  const key = epoch === undefined ? undefined : core.keyring.keyFor(epoch);
  if (epoch === undefined || key === undefined || core.sessionKey === undefined) return new Uint8Array(0);
  const plain = encodeGrant({ activeEpoch: epoch, keys: [{ epoch, key }], ticket: new Uint8Array(0) });
  return sealFor(core.crypto, core.sessionKey, Direction.PeerToLobby, req, plain);
}

/** With a session open: re-register, or find/create the grid and select it. */
function afterSession(core: PeerCore): void {
  if (core.rejoining) {
    const req = core.nextReq();
    core.request(
      core.cfg.lobby,
      {
        kind: Kind.Rejoin,
        req,
        session: core.session,
        grid: core.grid,
        name: core.gridName,
        peer: core.self,
        limit: core.limit,
        links: core.links.ids.slice(0, 64),
        epoch: core.keyring.currentEpoch ?? 0,
        sealed: sealHeldKey(core, req),
      },
      { t: "rejoin" },
    );
    return;
  }
  const t = core.target;
  if (t === undefined) return;
  if (typeof t.grid === "number") {
    core.grid = t.grid;
    sendSelect(core, 0);
  } else if (t.create) {
    const req = core.nextReq();
    core.request(
      core.cfg.lobby,
      { kind: Kind.CreateGrid, req, session: core.session, name: t.grid, capacity: t.capacity, limit: core.limit, meta: t.meta },
      { t: "create" },
    );
  } else sendList(core, 0);
}

export function onGridCreated(core: PeerCore, msg: MessageOf<typeof Kind.GridCreated>): void {
  core.grid = msg.grid;
  core.gridName = msg.name;
  sendSelect(core, 0);
}

export function onGridList(core: PeerCore, msg: MessageOf<typeof Kind.GridList>): void {
  const t = core.target;
  const name = t !== undefined && typeof t.grid === "string" ? t.grid : "";
  const hit = msg.grids.find((g) => g.name === name);
  if (hit !== undefined) {
    core.grid = hit.grid;
    core.gridName = hit.name;
    sendSelect(core, 0);
  } else if (msg.offset + msg.grids.length < msg.total && msg.grids.length > 0) {
    sendList(core, msg.offset + msg.grids.length);
  } else if (t?.create === true) {
    // Created by someone else and removed again before we listed it: create it ourselves.
    afterSession(core);
  } else {
    fail(core, ErrorCode.UnknownGrid, `no grid named "${name}" in the lobby; pass create: true to create it`);
  }
}

/** A Members reply whose grant opened (peer.ts checks it before taking the request). */
export function onMembers(core: PeerCore, msg: MessageOf<typeof Kind.Members>, part: number, grant: AdmissionGrant): void {
  if (msg.grid !== core.grid || msg.part !== part) {
    core.counters.drop("unexpected-reply");
    return;
  }
  if (!applyGrant(core, msg, grant)) return;
  core.self = msg.peer;
  for (const m of msg.members) core.rememberMember(m.peer, m.addr);
  if (part === 0) {
    core.partsWanted = msg.parts;
    core.partsSeen = new Set([0]);
    for (let p = 1; p < msg.parts; p++) sendSelect(core, p);
  } else core.partsSeen.add(part);
  if (core.partsSeen.size < core.partsWanted) return;

  if (core.phase === "lobby") {
    core.phase = "joining";
    core.emit({ type: "admitted", grid: core.grid, gridName: core.gridName, peer: core.self, members: core.members.size });
    core.timers.heartbeat = core.now + core.heartbeatMs;
    core.timers.pingTick = core.now + core.cfg.pingIntervalMs;
    startRound(core, "join");
  } else if (core.phase === "member" && core.hasRoom() && core.round === undefined && hasCandidates(core)) {
    // Only with someone new to ask: a round with nobody to ask refreshes the member list
    // again, and Members -> round -> SelectGrid -> Members would spin at network speed.
    startRound(core, "available");
  }
}

/** An Error reply from the lobby to one of our requests. */
export function onLobbyError(core: PeerCore, msg: MessageOf<typeof Kind.Error>, p: PendingRequest): void {
  if (p.tag.t === "create" && msg.code === LobbyErrorCode.NameTaken) {
    sendList(core, 0); // create: true joins the grid when it already exists
    return;
  }
  if (core.phase === "member" && (msg.code === LobbyErrorCode.BadRequest || msg.code === LobbyErrorCode.UnknownGrid)) {
    // The lobby expired us (say, while it could not hear us): register again, same ids and links.
    if (!core.rejoining) {
      core.rejoining = true;
      afterSession(core);
    }
    return;
  }
  if (core.phase !== "lobby") return; // a refresh or update failing later is not fatal
  const code =
    msg.code === LobbyErrorCode.UnknownGrid
      ? ErrorCode.UnknownGrid
      : msg.code === LobbyErrorCode.GridFull
        ? ErrorCode.GridFull
        : ErrorCode.Rejected;
  fail(core, code, `lobby refused ${p.tag.t}: ${msg.detail}`);
}

/** A restarted lobby does not know our session: open a new one and re-register. */
export function onUnknownSession(core: PeerCore): void {
  core.session = 0;
  core.requests.cancel((p) => p.to === core.cfg.lobby);
  if (core.self !== 0 && (core.phase === "member" || core.phase === "joining")) core.rejoining = true;
  sendHello(core);
}

/**
 * Opens the sealed grant in a Members reply (PROTOCOL.md 6.4): the grid's keys by epoch
 * and this peer's ticket. Null when it does not open or does not follow the layout.
 */
export function openGrant(core: PeerCore, msg: MessageOf<typeof Kind.Members>): AdmissionGrant | null {
  const key = core.sessionKey;
  const plain = key === undefined ? null : openFrom(core.crypto, key, Direction.LobbyToPeer, msg.nonce, msg.sealed);
  return plain === null ? null : decodeGrant(plain);
}

/** Takes the keys and ticket of an opened grant. False (and a counted drop) when the keyring cannot hold them. */
function applyGrant(core: PeerCore, msg: MessageOf<typeof Kind.Members>, grant: AdmissionGrant): boolean {
  // Parts asked for together can arrive out of order: an older grant's member list is
  // still good, but its keys would roll the keyring back (a replayed one too).
  if (msg.nonce <= core.grantNonce) return true;
  try {
    for (const k of grant.keys) core.keyring.add(k.epoch, k.key);
    core.keyring.activate(grant.activeEpoch);
  } catch {
    core.counters.drop("bad-grant"); // epochs the keyring cannot hold together
    return false;
  }
  core.ticket = grant.ticket;
  core.grantNonce = msg.nonce;
  return true;
}

/** The lobby's heartbeat answer names the epoch to send under and the newest one issued. */
export function onHeartbeatAck(core: PeerCore, msg: MessageOf<typeof Kind.HeartbeatAck>): void {
  if (core.keyring.keyFor(msg.latest) === undefined) {
    refreshMembers(core); // a rotation started: fetch the new key (and a ticket under it)
    return;
  }
  if (core.keyring.currentEpoch !== msg.epoch && core.keyring.keyFor(msg.epoch) !== undefined) {
    core.keyring.activate(msg.epoch);
    refreshMembers(core); // a ticket under the new epoch, before the old one ages out
  }
}

export function onRejoined(core: PeerCore): void {
  core.rejoining = false;
  refreshMembers(core); // the restored grid has a new key: get it with a fresh grant
  core.emit({ type: "reregistered", grid: core.grid, peer: core.self });
}

function fail(core: PeerCore, code: ErrorCode, message: string): void {
  core.phase = "idle";
  core.target = undefined;
  core.emit({ type: "error", code, message });
}
