/**
 * What makes this peer a member to the others (PROTOCOL.md 6.3, 6.6): the grid's keys by
 * epoch (every peer <-> peer message and relay envelope carries a tag under one), its own
 * lobby-signed ticket, and the lobby identity that signs every ticket. Shared by the parts
 * that tag, check tags and check tickets; written only by the lobby client, from the sealed
 * grant (PROTOCOL.md 6.4) and the Welcome.
 */
import type { Address } from "../endpoint.ts";
import type { CryptoProvider } from "../security/crypto.ts";
import { GridKeyring } from "../security/grid-keys.ts";
import { sipKeyFrom } from "../security/siphash.ts";
import { TicketCache } from "../security/ticket-cache.ts";
import type { TicketVerdict } from "../security/ticket.ts";

export class GridCredentials {
  readonly keyring: GridKeyring;
  /** This peer's lobby-signed ticket, shown when it opens a link (empty until admitted). */
  ticket: Uint8Array = new Uint8Array(0);
  /** The lobby identity: pinned by config, or taken on first use from the first Welcome. */
  lobbyKey: Uint8Array | undefined;
  /** Tickets already verified (created with the first check, once the lobby key is known). */
  private tickets: TicketCache | undefined;

  constructor(private readonly crypto: CryptoProvider, lobbyKey: Uint8Array | undefined) {
    this.keyring = new GridKeyring(crypto);
    this.lobbyKey = lobbyKey;
  }

  /** Tickets cached (bounded by the cache; for footprint()). */
  get ticketsCached(): number {
    return this.tickets?.size ?? 0;
  }

  /** Checks the ticket a neighbour showed with a link-opening message (cached after the first check). */
  checkTicket(grid: number, peer: number, address: Address, ticket: Uint8Array): TicketVerdict | "no-lobby-key" {
    if (this.lobbyKey === undefined) return "no-lobby-key";
    this.tickets ??= new TicketCache({ lobbyPublicKey: this.lobbyKey, hashKey: sipKeyFrom(this.crypto.randomBytes(16)) });
    // A ticket of an epoch before the one this peer sends under opens no new link (issue 15,
    // point 3): the lobby issues tickets under the newest epoch from the moment a rotation
    // starts, and members fetch the new key (with such a ticket) before it is activated, so
    // only a member that left before the rotation is still holding an older one.
    const current = this.keyring.currentEpoch ?? 0;
    return this.tickets.verify(this.crypto, ticket, { grid, peer, address, minEpoch: current });
  }
}
