/**
 * Registering the link key with the lobby (PROTOCOL.md 4.7 Register, 6.9): after admission,
 * and again under a new session (a restarted lobby) or a new active epoch (a key rotation),
 * for a key-bound ticket under it. Owned by the NAT client (nat-client.ts). A lobby that
 * does not answer or refuses makes the state "unsupported": the peer then links as in 4.2.
 */
import type { Address } from "../endpoint.ts";
import { constantTimeEqual } from "../security/bytes.ts";
import { readTicketV2, verifyTicketV2Signature } from "../security/ticket.ts";
import { isLocalCandidate, splitSocketAddress } from "../../wire/address.ts";
import { MAX_LOCAL_ADDRESSES, NatKind, type AnyMessage, type NatMessageOf } from "../../wire/index.ts";
import type { RequestTag } from "./request-table.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";

/** The lobby session the NAT client registers under (the lobby client). */
export interface NatLobby {
  readonly session: number;
  readonly handshake: { sealLinkKey(req: number, grid: number, peer: number, key: Uint8Array): Uint8Array | undefined };
  /** A session request to the lobby, in a session frame (PROTOCOL.md 6.10). */
  ask(now: number, msg: AnyMessage & { req: number; session: number }, tag: RequestTag): void;
}

export type RegistrationState = "off" | "unregistered" | "registering" | "registered" | "unsupported";

export class NatRegistration {
  state: RegistrationState;
  /** This peer's address as the lobby sees it (Registered.observed). */
  observed: Address | undefined;
  private session = 0;
  private epoch = -1;

  constructor(
    private readonly core: PeerCore,
    private readonly lobby: NatLobby,
  ) {
    this.state = core.cfg.natTraversal ? "unregistered" : "off";
  }

  /**
   * Whether every member sees this peer at `observed` (it is not behind a NAT, or behind one
   * that keeps its socket's port for every destination), so its address-bound ticket holds.
   */
  /**
   * Its side in a birthday probe (birthday.ts): "hard" when the lobby sees it at a port none
   * of its sockets has (a NAT that may map each destination anew), "easy" when it keeps its
   * port (its one mapping is where the other side's sockets aim), "none" when unknown.
   */
  probeRole(): "hard" | "easy" | "none" {
    if (this.state !== "registered" || this.observed === undefined || this.core.cfg.localAddresses.length === 0) return "none";
    if (this.core.cfg.localAddresses.includes(this.observed)) return "none"; // not behind a NAT: plain punching reaches it
    return this.keepsPort() ? "easy" : "hard";
  }

  keepsPort(): boolean {
    const o = this.observed;
    if (o === undefined) return false;
    const port = splitSocketAddress(o)?.port;
    return this.core.cfg.localAddresses.some((l) => l === o || (port !== undefined && splitSocketAddress(l)?.port === port));
  }

  onMembersUpdated(now: number): void {
    if (this.state !== "registered") return;
    if (this.lobby.session !== this.session || (this.core.credentials.keyring.currentEpoch ?? 0) > this.epoch) this.register(now);
  }

  /** Register{locals, sealed key}: only site-private local addresses (the lobby refuses others), at most 4. */
  register(now: number): void {
    const core = this.core;
    if (this.state === "off" || this.state === "unsupported") return;
    const req = core.nextReq();
    const sealed = this.lobby.handshake.sealLinkKey(req, core.grid, core.self, core.credentials.linkKey.publicKey);
    if (sealed === undefined) return;
    const locals = core.cfg.localAddresses.filter(isLocalCandidate).slice(0, MAX_LOCAL_ADDRESSES).map((addr) => ({ addr }));
    if (this.state !== "registered") this.state = "registering";
    this.lobby.ask(now, { kind: NatKind.Register, req, session: this.lobby.session, grid: core.grid, peer: core.self, locals, sealed }, { t: "register" });
  }

  /**
   * Registered: its key-bound ticket must be the lobby's signature over this membership and
   * our own key; else it is dropped (and the Register stays outstanding).
   */
  onRegistered(msg: NatMessageOf<typeof NatKind.Registered>): DropReason | undefined {
    const core = this.core;
    const creds = core.credentials;
    const t = readTicketV2(msg.ticket);
    const key = creds.linkKey.publicKey;
    const ours = t !== null && t.grid === core.grid && t.peer === core.self && constantTimeEqual(t.key, 0, key, 0, key.length);
    if (!ours || msg.grid !== core.grid || msg.peer !== core.self || creds.lobbyKey === undefined || !verifyTicketV2Signature(core.cfg.crypto, creds.lobbyKey, msg.ticket)) {
      return PeerDrop.RegisteredBadTicket;
    }
    creds.ticket2 = msg.ticket.slice();
    this.session = this.lobby.session;
    this.epoch = t.epoch;
    const first = this.state !== "registered";
    this.state = "registered";
    this.observed = msg.observed;
    if (first) {
      const locals = core.cfg.localAddresses;
      core.emit({ type: "registered", observed: msg.observed, behindNat: locals.length === 0 ? undefined : !locals.includes(msg.observed) });
    }
    return undefined;
  }
}
