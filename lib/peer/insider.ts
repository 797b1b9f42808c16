/**
 * White-box access for tests and benches that play an admitted member (an insider, as
 * docs/SECURITY.md calls it): the grid key, the ticket, the lobby session and the
 * outstanding request ids are not part of the Peer's API, but a test of what an insider can
 * and cannot do must sign as one. Not exported from the package (lib/index.ts): import this
 * file directly. Table sizes need no insider: Peer.footprint() has them.
 */
import type { Message } from "../../wire/index.ts";
import type { GridKeyring } from "../security/grid-keys.ts";
import type { LinkMessage } from "./core.ts";
import type { PeerParts } from "./parts.ts";

export interface PeerInsider {
  /** The grid keyring the peer tags with (empty until admitted). */
  readonly keyring: GridKeyring;
  /** The lobby-signed ticket the peer shows when it opens a link. */
  readonly ticket: Uint8Array;
  /** Its key-bound ticket (version 2, from Registered), as every signed broadcast shows it; undefined before. */
  readonly ticket2: Uint8Array | undefined;
  /** Its Ed25519 link key's secret half: what a test member signs its own origin with (PROTOCOL.md 4.1.4). */
  readonly linkSecret: Uint8Array;
  /** The lobby session id (0 when none is open). */
  readonly session: number;
  /** `msg` encoded and tagged as this peer sends it; undefined before it holds a grid key. */
  seal(msg: Message): Uint8Array | undefined;
  /**
   * `msg` sent on this peer's link to `peer`, as the peer would send it: the link's next
   * counter, stamped under the link key, then tagged (PROTOCOL.md 6.13). Undefined without
   * such a link.
   */
  sealOnLink(peer: number, msg: LinkMessage): Uint8Array | undefined;
  /** Ids of the peer's outstanding requests, oldest first. */
  outstandingRequests(): number[];
  /** Inbound datagrams accepted so far (stats().accepted, without the snapshot). */
  readonly accepted: number;
}

const registry = new WeakMap<object, PeerParts>();

/** Called by the PeerView constructor: the one link from a Peer to its parts outside it. */
export function registerParts(peer: object, parts: PeerParts): void {
  registry.set(peer, parts);
}

export function insiderOf(peer: object): PeerInsider {
  const parts = registry.get(peer);
  if (parts === undefined) throw new Error("insiderOf: not a relaygrid Peer");
  const { core, lobby } = parts;
  return {
    get keyring() {
      return core.credentials.keyring;
    },
    get ticket() {
      return core.credentials.ticket;
    },
    get ticket2() {
      return core.credentials.ticket2;
    },
    get linkSecret() {
      return core.credentials.linkKey.secretKey;
    },
    get session() {
      return lobby.session;
    },
    seal: (msg) => core.seal(msg),
    sealOnLink: (peer, msg) => {
      const link = core.links.get(peer);
      return link === undefined ? undefined : core.sealOnLink(link, msg);
    },
    outstandingRequests: () => core.requests.ids(),
    get accepted() {
      return core.counters.accepted;
    },
  };
}
