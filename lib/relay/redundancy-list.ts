/**
 * Redundancy lists (US 7,685,301) as a relay rule (claim 14): a peer that gets the same
 * message again from a second neighbour tells that neighbour "your next messages of this
 * origin are not to be sent to me: I get them first by another path" (a Prune, PROTOCOL.md
 * 4.2.1). The neighbour keeps the list, per origin and next hop, and this rule skips the
 * peers on it. A Graft takes a peer off the list again.
 *
 * The list only ever stops traffic towards the peer that asked: a Prune names no one but
 * its sender (lib/peer/redundancy.ts accepts it from that link only), so a member can
 * silence nobody but itself. The peer that prunes keeps the other side of the bargain (who
 * its first copies come from, and whom to graft when they stop): lib/peer/redundancy.ts.
 *
 * Bounded: at most `maxOrigins` origins (the oldest listed is forgotten first, which only
 * means its messages go to those neighbours again until they prune again), each with at most
 * one entry per link; a link that opens or closes is taken off every list.
 */
import { DEFAULT_MAX_ORIGINS } from "./origin-table.ts";
import type { RelayContext, RelayRule } from "./rules.ts";

export const REDUNDANCY_LIST_RULE = "redundancy-list";

const NONE: readonly number[] = Object.freeze([]);

/** One Peer's redundancy lists: origin -> the neighbours that asked not to get its messages. */
export class RedundancyList implements RelayRule {
  readonly name = REDUNDANCY_LIST_RULE;
  private readonly lists = new Map<number, number[]>();
  /** Origins listed at most (a Peer sets it to its maxOrigins). */
  maxOrigins = DEFAULT_MAX_ORIGINS;
  /** Origins forgotten to make room. */
  evictions = 0;

  /** The peers refused for the message in ctx (decided once per message by RelayRuleSet.select). */
  readonly excludedPeers = (ctx: RelayContext): readonly number[] => this.lists.get(ctx.origin) ?? NONE;

  allow(ctx: RelayContext): boolean {
    return !this.has(ctx.origin, ctx.toPeer);
  }

  /** `peer` asked not to get `origin`'s messages. Returns false when it already had. */
  prune(origin: number, peer: number): boolean {
    let list = this.lists.get(origin);
    if (list === undefined) {
      if (this.lists.size >= this.maxOrigins) {
        const oldest = this.lists.keys().next();
        if (!oldest.done) this.lists.delete(oldest.value);
        this.evictions++;
      }
      this.lists.set(origin, (list = []));
    }
    if (list.includes(peer)) return false;
    list.push(peer);
    return true;
  }

  /** `peer` wants `origin`'s messages again. Returns whether it was listed. */
  graft(origin: number, peer: number): boolean {
    const list = this.lists.get(origin);
    if (list === undefined) return false;
    const i = list.indexOf(peer);
    if (i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.lists.delete(origin);
    return true;
  }

  has(origin: number, peer: number): boolean {
    return this.lists.get(origin)?.includes(peer) ?? false;
  }

  /** The neighbours listed for `origin` (a copy). */
  listed(origin: number): number[] {
    return [...(this.lists.get(origin) ?? NONE)];
  }

  /** Origins with a list. */
  get size(): number {
    return this.lists.size;
  }

  /** (origin, peer) entries over every list. */
  get entries(): number {
    let n = 0;
    for (const l of this.lists.values()) n += l.length;
    return n;
  }

  /** A new link starts unpruned: it prunes what it gets twice. */
  linkOpened(peer: number): void {
    this.forgetPeer(peer);
  }

  linkClosed(peer: number): void {
    this.forgetPeer(peer);
  }

  private forgetPeer(peer: number): void {
    for (const [origin, list] of this.lists) {
      const i = list.indexOf(peer);
      if (i < 0) continue;
      list.splice(i, 1);
      if (list.length === 0) this.lists.delete(origin);
    }
  }
}

/**
 * The rule to put in a rule list: each Peer gets its own RedundancyList (forPeer). The Peer
 * adds it itself with `redundancy: "prune"` (the default since issue 12; "flood" leaves it out), just before the wire's hop cap.
 */
export const redundancyList: RelayRule = Object.freeze({
  name: REDUNDANCY_LIST_RULE,
  allow: (): boolean => true,
  excludedPeers: (): readonly number[] => NONE,
  forPeer: (): RelayRule => new RedundancyList(),
});
