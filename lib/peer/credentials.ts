/**
 * What makes this peer a member to the others (PROTOCOL.md 6.3, 6.6, 6.9): the grid's keys
 * by epoch (every peer <-> peer message and relay envelope carries a tag under one), its own
 * lobby-signed tickets (version 1, bound to the address the lobby saw; version 2, bound to
 * its link key, from Registered), its Ed25519 link key, the paths where other members proved
 * theirs, and the lobby identity that signs every ticket. Shared by the parts that tag, check
 * tags and check tickets; written by the lobby client (the grant, the Welcome) and the NAT
 * client (the key-bound ticket, proven paths).
 */
import type { Address } from "../endpoint.ts";
import type { CryptoProvider, KeyPair } from "../security/crypto.ts";
import { GridKeyring } from "../security/grid-keys.ts";
import { sipKeyFrom } from "../security/siphash.ts";
import { TicketCache } from "../security/ticket-cache.ts";
import { ticketVersion, type TicketV2Fields, type TicketV2Verdict, type TicketVerdict } from "../security/ticket.ts";
import { ProvenPaths } from "./proven-paths.ts";

export class GridCredentials {
  readonly keyring: GridKeyring;
  /** This peer's lobby-signed ticket, shown when it opens a link (empty until admitted). */
  ticket: Uint8Array = new Uint8Array(0);
  /** This peer's key-bound ticket (version 2, from Registered), shown only where the other member proved its key. */
  ticket2: Uint8Array | undefined;
  private key: KeyPair | undefined;
  /** Where other members proved their link keys (PunchReply). */
  readonly paths = new ProvenPaths();
  /** The lobby identity: pinned by config, or taken on first use from the first Welcome. */
  lobbyKey: Uint8Array | undefined;
  /** Tickets already verified (created with the first check, once the lobby key is known). */
  private tickets: TicketCache | undefined;

  constructor(private readonly crypto: CryptoProvider, lobbyKey: Uint8Array | undefined) {
    this.keyring = new GridKeyring(crypto);
    this.lobbyKey = lobbyKey;
  }

  /** This peer's Ed25519 link key (PROTOCOL.md 6.9): made on first use, registered once per membership. */
  get linkKey(): KeyPair {
    this.key ??= this.crypto.ed25519KeyPair();
    return this.key;
  }

  /** Tickets cached (bounded by the cache; for footprint()). */
  get ticketsCached(): number {
    return this.tickets?.size ?? 0;
  }

  /** The ticket to show `address`: the key-bound one where a member proved its own key (6.3), else version 1. */
  ticketFor(address: Address): Uint8Array {
    return this.ticket2 !== undefined && this.paths.provenAt(address) ? this.ticket2 : this.ticket;
  }

  /**
   * Checks the ticket a neighbour showed with a link-opening message (cached after the first
   * check): version 1 against the datagram's source address, version 2 against the key that
   * source proved for `peer` (PROTOCOL.md 6.3).
   */
  checkTicket(grid: number, peer: number, address: Address, ticket: Uint8Array): TicketVerdict | TicketV2Verdict | "no-lobby-key" {
    const cache = this.cache();
    if (cache === undefined) return "no-lobby-key";
    // A ticket of an epoch before the one this peer sends under opens no new link (issue 15,
    // point 3): the lobby issues tickets under the newest epoch from the moment a rotation
    // starts, and members fetch the new key (with such a ticket) before it is activated, so
    // only a member that left before the rotation is still holding an older one.
    const minEpoch = this.keyring.currentEpoch ?? 0;
    if (ticketVersion(ticket) === 2) {
      return cache.verifyV2(this.crypto, ticket, { grid, peer, minEpoch, provenKey: this.paths.keyAt(address, peer) });
    }
    return cache.verify(this.crypto, ticket, { grid, peer, address, minEpoch });
  }

  /**
   * The fields of the key-bound ticket of a Punch or PunchReply from `peer`, when its layout,
   * grid, peer, epoch and lobby signature hold (PROTOCOL.md 6.9, step 4); else null.
   */
  punchTicket(grid: number, peer: number, ticket: Uint8Array): TicketV2Fields | null {
    const fields = this.cache()?.signedV2(this.crypto, ticket) ?? null;
    const minEpoch = this.keyring.currentEpoch ?? 0;
    return fields !== null && fields.grid === grid && fields.peer === peer && fields.epoch >= minEpoch ? fields : null;
  }

  /**
   * The Ed25519 key the lobby bound to `origin` in `ticket` (a key-bound ticket whose layout,
   * grid, peer, epoch and lobby signature hold; the signature checked once per ticket), or
   * undefined: what origin authentication (origin-auth.ts) verifies a signature under. The
   * epoch before the current one still counts: an origin fetches its ticket under a new epoch
   * a moment after the switch, and a departed member lost the grid key anyway.
   */
  originKey(grid: number, origin: number, ticket: Uint8Array): Uint8Array | undefined {
    const fields = this.cache()?.signedV2(this.crypto, ticket) ?? null;
    const minEpoch = Math.max(0, (this.keyring.currentEpoch ?? 0) - 1);
    return fields !== null && fields.grid === grid && fields.peer === origin && fields.epoch >= minEpoch ? fields.key : undefined;
  }

  private cache(): TicketCache | undefined {
    if (this.lobbyKey === undefined) return undefined;
    this.tickets ??= new TicketCache({ lobbyPublicKey: this.lobbyKey, hashKey: sipKeyFrom(this.crypto.randomBytes(16)) });
    return this.tickets;
  }
}
