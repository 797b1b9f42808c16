/**
 * The link key's life at both ends of a link-opening request (PROTOCOL.md 6.13): the
 * responder derives it from the request's nonce and its own, the initiator from its nonce
 * and the reply's, both under the grid key of the epoch the request was tagged with.
 */
import type { Address } from "../endpoint.ts";
import { Kind } from "../../wire/index.ts";
import { NO_AUTH, NO_TAG, type PeerCore } from "./core.ts";
import { newLinkAuth, type LinkAuth } from "./links.ts";
import type { PendingRequest } from "./request-table.ts";

/** The epoch byte of a tagged datagram's grid-key tag (the link key is derived under that epoch's key). */
export function tagEpochByte(bytes: Uint8Array): number {
  return bytes[bytes.length - 9] as number;
}

/** Whether two nonces are the same bytes (no early exit). */
export function sameNonce(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

/** The initiator's link auth from its request and the accepting reply's nonce; undefined without a usable nonce or key. */
export function initiatorAuth(core: PeerCore, request: PendingRequest, peer: number, theirNonce: Uint8Array): LinkAuth | undefined {
  const tag = request.tag;
  if (tag.t !== "connect" && tag.t !== "force") return undefined;
  const key = core.linkKey(tagEpochByte(request.bytes), tag.nonce, theirNonce, core.self, peer);
  return key === undefined ? undefined : newLinkAuth(key, tag.nonce, theirNonce);
}

/** The responder's link auth for a request's bytes and nonce: a fresh nonce of ours and the key from both. */
export function responderAuth(core: PeerCore, bytes: Uint8Array, peer: number, theirNonce: Uint8Array): LinkAuth | undefined {
  const mine = core.newNonce();
  const key = core.linkKey(tagEpochByte(bytes), theirNonce, mine, peer, core.self);
  return key === undefined ? undefined : newLinkAuth(key, theirNonce, mine);
}

/** The neighbour opened its side of a link this peer will not hold: a Disconnect under that link's key, so it believes it. */
export function closeTheirSide(core: PeerCore, to: Address, peer: number, auth: LinkAuth, reason: number): void {
  const bytes = core.sealUnder(auth, { kind: Kind.Disconnect, req: core.nextReq(), grid: core.grid, from: core.self, to: peer, reason, ctr: 0, auth: NO_AUTH, tag: NO_TAG });
  if (bytes !== undefined) core.transmit(to, bytes);
}
