/**
 * Relay rules as data (claim 14; DESIGN.md, Policies are data).
 *
 * Claim 14: "applying a set of one or more relay rules to select zero or more peer systems
 * indicated by said set of one or more relay rules to which to relay said data". A rule is a
 * named predicate over one (message, candidate link) pair; a link is selected when every rule
 * allows it. A game adds its own rule (area of interest, say) by appending to the list.
 *
 * Two of the default rules are not in this list, because the duplicate filter
 * (origin-table.ts) enforces them before any rule runs: the relay forwards only an arrival that
 * the filter classifies Fresh, and each candidate link appears once per selection, so
 *   - claim 16, "not to relay the same data to the same peer system twice", and
 *   - claim 2, "does not send the data to any peer systems if the peer system has already
 *     sent the same data",
 * hold for every message: a repeat is Duplicate (or Stale) and reaches no rule at all.
 */
import { ErrorCode, RelayGridError, checkInt } from "../errors.ts";
import { MAX_HOPS } from "../../wire/limits.ts";

/**
 * One relay decision's inputs. The relay reuses a single object per peer and mutates it
 * (selectLinks sets `toPeer` for each candidate), so a rule must not keep a reference to it.
 */
export interface RelayContext {
  /** Grid id from the envelope; a message is relayed only inside its grid. */
  grid: number;
  /** Peer id of the member that first broadcast the data (claim 4's origin identifier). */
  origin: number;
  /** The origin's sequence value for this message (claim 4). */
  seq: number;
  /** Relays so far: 0 when the message came straight from its origin. */
  hops: number;
  /** Addressed member, or null for a broadcast to the whole grid. */
  target: number | null;
  /** Peer id of the link the message arrived on (the sending peer system of claim 14). */
  fromPeer: number;
  /** Peer id of the candidate link being decided. */
  toPeer: number;
}

/**
 * A relay rule: `allow` answers whether the data in `ctx` may go to `ctx.toPeer`. It runs per
 * message per link, so it should not allocate. `name` keys the rule's suppression count in stats.
 */
export type RelayRule = {
  readonly name: string;
  allow(ctx: RelayContext): boolean;
};

/**
 * Relays a message may take before it stops. Loops are already stopped by the duplicate
 * filter; the hop limit is a backstop for a filter that forgot an origin (eviction). It is
 * the wire's maximum, so even a grid of connectionLimit 2 (a ring or chain, diameter up to
 * N-1) delivers everywhere up to 128 members; lower it with hopLimit(n) to bound how far a
 * message travels. Defaults to 127 (MAX_HOPS).
 */
export const DEFAULT_MAX_HOPS = MAX_HOPS;

/** Claim 15: "the relaying peer system is not to relay to the sending peer system the same data received from the sending peer system". */
export const notBackToSender: RelayRule = Object.freeze({
  name: "not-back-to-sender",
  allow: (ctx: RelayContext): boolean => ctx.toPeer !== ctx.fromPeer,
});

/** Claim 17: "the relaying peer system is not to relay the data to the peer system indicated as the origin of the data". */
export const notToOrigin: RelayRule = Object.freeze({
  name: "not-to-origin",
  allow: (ctx: RelayContext): boolean => ctx.toPeer !== ctx.origin,
});

/**
 * Forward only while `ctx.hops < maxHops`: a message received after `maxHops` relays goes no
 * further. The forwarded copy carries hops + 1 and the wire keeps hops <= MAX_HOPS (127), so
 * maxHops is at most 127. Rule name: "hop-limit-<maxHops>".
 * @param maxHops Defaults to DEFAULT_MAX_HOPS (127).
 */
export function hopLimit(maxHops: number = DEFAULT_MAX_HOPS): RelayRule {
  const max = checkInt("maxHops", maxHops, 1, MAX_HOPS);
  return Object.freeze({
    name: `hop-limit-${max}`,
    allow: (ctx: RelayContext): boolean => ctx.hops < max,
  });
}

/** Claims 15 and 17 plus a hop limit of DEFAULT_MAX_HOPS (127). Claims 2 and 16 are the duplicate filter's (see above). */
export const defaultRelayRules: readonly RelayRule[] = Object.freeze([
  notBackToSender,
  notToOrigin,
  hopLimit(DEFAULT_MAX_HOPS),
]);

/**
 * Checks a rule list from config once, so the hot path need not: each rule has a non-empty
 * name, unique in the list (names key stats), and an `allow` function. Returns the list.
 */
export function checkRelayRules(rules: readonly RelayRule[]): readonly RelayRule[] {
  const seen = new Set<string>();
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const name: unknown = rule?.name;
    if (typeof name !== "string" || name === "" || typeof rule?.allow !== "function") {
      throw new RelayGridError(
        ErrorCode.InvalidConfig,
        `relay rule ${i} must be { name: non-empty string, allow(ctx): boolean }`,
      );
    }
    if (seen.has(name)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `relay rule name "${name}" is used twice; names must be unique`);
    }
    seen.add(name);
  }
  return rules;
}

/**
 * Claim 14: applies `rules` to each candidate link and writes the allowed peer ids to
 * `out[0..count)`, returning count. Nothing is allocated: `out` is the caller's reused array
 * (entries at count and beyond are left from earlier calls), and `ctx.toPeer` is set to each
 * candidate in turn (it holds the last one afterwards). Candidates must be distinct: each link
 * once (claim 16).
 *
 * `suppressed`, when given, is a counts array parallel to `rules` (length >= rules.length, all
 * numbers): `suppressed[i]` grows by one for each link that `rules[i]` was the first to refuse.
 * Counting by index keeps string keys off the hot path; `suppressedByName` names them for stats.
 */
export function selectLinks(
  rules: readonly RelayRule[],
  ctx: RelayContext,
  candidatePeerIds: ArrayLike<number>,
  out: number[],
  suppressed?: number[],
): number {
  let count = 0;
  const ruleCount = rules.length;
  candidates: for (let c = 0; c < candidatePeerIds.length; c++) {
    ctx.toPeer = candidatePeerIds[c] as number;
    for (let r = 0; r < ruleCount; r++) {
      if (!(rules[r] as RelayRule).allow(ctx)) {
        if (suppressed !== undefined) suppressed[r] = (suppressed[r] as number) + 1;
        continue candidates;
      }
    }
    out[count++] = ctx.toPeer;
  }
  return count;
}

/** Names a `selectLinks` counts array for stats(): { [rule name]: links suppressed }. */
export function suppressedByName(rules: readonly RelayRule[], suppressed: ArrayLike<number>): Record<string, number> {
  const named: Record<string, number> = {};
  for (let i = 0; i < rules.length; i++) {
    named[(rules[i] as RelayRule).name] = suppressed[i] ?? 0;
  }
  return named;
}
