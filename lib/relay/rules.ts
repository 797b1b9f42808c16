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
 * One relay decision's inputs. Each Peer reuses a single object of its own and mutates it
 * (the selection sets `toPeer` for each candidate), so a rule must not keep a reference to it.
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
  /** Peer id of the link the message arrived on (the sending peer system of claim 14); the Peer's own id for its broadcast. */
  fromPeer: number;
  /** Peer id of the candidate link being decided. */
  toPeer: number;
}

/**
 * A relay rule: `allow` answers whether the data in `ctx` may go to `ctx.toPeer`. It runs per
 * message per link, so it should not allocate. `name` keys the rule's suppression count in stats.
 *
 * A rule may also say what it decides as data, so it is decided without a call per link (the
 * built-in rules do; excludeRule, messageRule and hopLimit build `allow` from the same data):
 *   - `excludes`: the context field naming the one peer it refuses (every other is allowed):
 *     the sender (claim 15), the origin (claim 17), the target;
 *   - `maxHops`: it allows the message on every link while ctx.hops < maxHops;
 *   - `perMessage: true`: `allow` ignores ctx.toPeer, so it is asked once per message;
 *   - `excludedPeers(ctx)`: asked once per message for the peers it refuses for that message
 *     (every other is allowed), an array the rule owns and leaves alone during the selection:
 *     the redundancy list (redundancy-list.ts, per origin and next hop) is one.
 *
 * A rule with state of its own per Peer (say, per origin and next hop) gives `forPeer`: each
 * Peer calls it once and uses the rule it returns (same name). Such a rule may also give
 * `linkOpened` / `linkClosed`, called with the neighbour's id whenever one of that Peer's
 * links opens or closes, to set up or clear what it keeps per link.
 */
export type RelayRule = {
  readonly name: string;
  allow(ctx: RelayContext): boolean;
  readonly excludes?: ExcludedField;
  readonly maxHops?: number;
  readonly perMessage?: boolean;
  readonly excludedPeers?: (ctx: RelayContext) => readonly number[];
  forPeer?(): RelayRule;
  linkOpened?(peer: number): void;
  linkClosed?(peer: number): void;
};

/** The RelayContext fields that name one peer. */
export type ExcludedField = "fromPeer" | "origin" | "target";

/** A rule that refuses the peer `ctx[field]` names (none when it is null) and allows every other. */
export function excludeRule(name: string, field: ExcludedField): RelayRule {
  return Object.freeze({ name, excludes: field, allow: (ctx: RelayContext): boolean => ctx.toPeer !== ctx[field] });
}

/** A rule decided once per message, whatever the link: `allow` must ignore ctx.toPeer. */
export function messageRule(name: string, allow: (ctx: RelayContext) => boolean): RelayRule {
  return Object.freeze({ name, allow, perMessage: true });
}

/**
 * Relays a message may take before it stops. Loops are already stopped by the duplicate
 * filter; the hop limit is a backstop for a filter that forgot an origin (eviction). It is
 * the wire's maximum, so even a grid of connectionLimit 2 (a ring or chain, diameter up to
 * N-1) delivers everywhere up to 128 members; lower it with hopLimit(n) to bound how far a
 * message travels. Defaults to 127 (MAX_HOPS).
 */
export const DEFAULT_MAX_HOPS = MAX_HOPS;

/** Claim 15: "the relaying peer system is not to relay to the sending peer system the same data received from the sending peer system". */
export const notBackToSender: RelayRule = excludeRule("not-back-to-sender", "fromPeer");

/** Claim 17: "the relaying peer system is not to relay the data to the peer system indicated as the origin of the data". */
export const notToOrigin: RelayRule = excludeRule("not-to-origin", "origin");

/**
 * The wire's own cap (hops <= MAX_HOPS, PROTOCOL.md 4.1): every Peer runs it, last, whatever
 * rules a game configures (withWireHopLimit), so no copy ever leaves with hops past 127.
 */
const WIRE_HOP_LIMIT: RelayRule = hopRule(MAX_HOPS);

function hopRule(max: number): RelayRule {
  return Object.freeze({ name: `hop-limit-${max}`, maxHops: max, allow: (ctx: RelayContext): boolean => ctx.hops < max });
}

/**
 * Forward only while `ctx.hops < maxHops`: a message received after `maxHops` relays goes no
 * further. The forwarded copy carries hops + 1 and the wire keeps hops <= MAX_HOPS (127), so
 * maxHops is at most 127. Rule name: "hop-limit-<maxHops>".
 * @param maxHops Defaults to DEFAULT_MAX_HOPS (127).
 */
export function hopLimit(maxHops: number = DEFAULT_MAX_HOPS): RelayRule {
  const max = checkInt("maxHops", maxHops, 1, MAX_HOPS);
  return max === MAX_HOPS ? WIRE_HOP_LIMIT : hopRule(max);
}

/** Claims 15 and 17 plus a hop limit of DEFAULT_MAX_HOPS (127). Claims 2 and 16 are the duplicate filter's (see above). */
export const defaultRelayRules: readonly RelayRule[] = Object.freeze([
  notBackToSender,
  notToOrigin,
  hopLimit(DEFAULT_MAX_HOPS),
]);

/** `rules` ending with the wire's hop cap ("hop-limit-127"), added when the list does not hold it. */
export function withWireHopLimit(rules: readonly RelayRule[]): readonly RelayRule[] {
  return rules.includes(WIRE_HOP_LIMIT) ? rules : Object.freeze([...rules, WIRE_HOP_LIMIT]);
}

/**
 * Checks a rule list from config once, so the hot path need not: each rule has a non-empty
 * name, unique in the list (names key stats), an `allow` function, and hooks that are
 * functions when given. Returns the list.
 */
export function checkRelayRules(rules: readonly RelayRule[]): readonly RelayRule[] {
  if (!Array.isArray(rules)) throw new RelayGridError(ErrorCode.InvalidConfig, "relayRules must be an array of { name, allow(ctx) }");
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
    for (const hook of ["forPeer", "linkOpened", "linkClosed", "excludedPeers"] as const) {
      if (rule[hook] !== undefined && typeof rule[hook] !== "function") {
        throw new RelayGridError(ErrorCode.InvalidConfig, `relay rule "${name}": ${hook} must be a function or left out`);
      }
    }
    if (rule.excludes !== undefined && rule.excludes !== "fromPeer" && rule.excludes !== "origin" && rule.excludes !== "target") {
      throw new RelayGridError(ErrorCode.InvalidConfig, `relay rule "${name}": excludes must be "fromPeer", "origin" or "target"`);
    }
    if (rule.excludes !== undefined && rule.excludedPeers !== undefined) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `relay rule "${name}": give excludes or excludedPeers, not both`);
    }
    if (rule.maxHops !== undefined) checkInt(`relay rule "${name}" maxHops`, rule.maxHops, 0, MAX_HOPS);
    if (seen.has(name)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `relay rule name "${name}" is used twice; names must be unique`);
    }
    seen.add(name);
  }
  return rules;
}

/** Names a selection's counts array for stats(): { [rule name]: links suppressed }. */
export function suppressedByName(rules: readonly RelayRule[], suppressed: ArrayLike<number>): Record<string, number> {
  const named: Record<string, number> = {};
  for (let i = 0; i < rules.length; i++) {
    named[(rules[i] as RelayRule).name] = suppressed[i] ?? 0;
  }
  return named;
}
