/**
 * The relay rules of one Peer, ready to decide (claim 14): its own instance of each
 * configured rule (a rule with per-Peer state gives forPeer()), its own decision context,
 * the suppression counts, and the link open/close notices a stateful rule needs. select() is
 * the one selection loop every relay decision runs, a Peer's own broadcasts included; the
 * rules themselves are defined in rules.ts.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { checkRelayRules, suppressedByName, type RelayContext, type RelayRule } from "./rules.ts";

/** How select() decides each rule: a call per link, or from its data once per message. */
const GENERAL = 0;
const EXCLUDE_SENDER = 1;
const EXCLUDE_ORIGIN = 2;
const EXCLUDE_TARGET = 3;
const HOPS = 4;
const PER_MESSAGE = 5;

function formOf(rule: RelayRule): number {
  if (rule.excludes === "fromPeer") return EXCLUDE_SENDER;
  if (rule.excludes === "origin") return EXCLUDE_ORIGIN;
  if (rule.excludes === "target") return EXCLUDE_TARGET;
  if (rule.maxHops !== undefined) return HOPS;
  return rule.perMessage === true ? PER_MESSAGE : GENERAL;
}

export class RelayRuleSet {
  /** This Peer's rules, in the configured order. */
  readonly rules: readonly RelayRule[];
  /** The decision context, filled by the caller before select() (one per Peer, never shared). */
  readonly ctx: RelayContext = { grid: 0, origin: 0, seq: 0, hops: 0, target: null, fromPeer: 0, toPeer: 0 };
  /** Positions of the candidates the last select() allowed, in [0, count). */
  readonly chosen: number[] = [];
  /** Per rule: (message, link) pairs it was the first to refuse. */
  readonly suppressed: number[];
  private readonly form: Uint8Array;
  /** Per active rule (see select), for this message: the peer it refuses, or -1 (none: ask allow()). */
  private readonly excludedPeer: number[];
  /** For this message: the rules still to decide per link, in order. */
  private readonly active: Uint16Array;
  private readonly linkHooks: RelayRule[];
  /**
   * Set when the list is up to two excluding rules followed by hop limits only (the
   * defaults): select() then decides each message from three numbers. -1 in `simpleHops`: none.
   */
  private readonly simple: boolean;
  /** The first hop limit's position, and every hop limit's maxHops from there, in order. */
  private readonly simpleHops: number;
  private readonly simpleBounds: number[];
  /** The forms of rules 0 and 1 when they exclude a peer (GENERAL, naming none, otherwise). */
  private readonly simpleForm0: number;
  private readonly simpleForm1: number;

  /**
   * `configured` is a checked list (resolvePeerConfig ran checkRelayRules on it). With
   * `perPeer` (a Peer's own set) each rule's forPeer() gives this set its own instance.
   */
  constructor(configured: readonly RelayRule[], perPeer = true) {
    this.rules = checkRelayRules(perPeer ? configured.map((rule) => instanceFor(rule)) : [...configured]);
    this.suppressed = this.rules.map(() => 0);
    this.form = Uint8Array.from(this.rules, formOf);
    this.excludedPeer = this.rules.map(() => -1);
    this.active = new Uint16Array(this.rules.length);
    this.linkHooks = this.rules.filter((r) => r.linkOpened !== undefined || r.linkClosed !== undefined);
    const forms = [...this.form];
    const excluding = forms.findIndex((f) => f < EXCLUDE_SENDER || f > EXCLUDE_TARGET);
    const lead = excluding < 0 ? forms.length : excluding;
    this.simple = lead <= 2 && forms.slice(lead).every((f) => f === HOPS);
    this.simpleHops = lead;
    this.simpleBounds = this.simple ? this.rules.slice(lead).map((r) => r.maxHops as number) : [];
    this.simpleForm0 = lead > 0 ? (forms[0] as number) : GENERAL;
    this.simpleForm1 = lead > 1 ? (forms[1] as number) : GENERAL;
  }

  /**
   * Claim 14 for the message in `ctx`: a candidate link is chosen when every rule allows it.
   * Writes the positions (in `candidatePeerIds`) of the chosen ones to `chosen[0..count)`
   * and returns count, allocating nothing; `ctx.toPeer` is set to each candidate in turn.
   * Candidates must be distinct: each link once (claim 16). Each refused (message, link)
   * pair is counted once, under the first rule that refused it.
   *
   * A rule that says what it decides as data (rules.ts) is decided once per message: one
   * deciding for every link that refuses (`stop`) refuses whatever the rules before it let
   * through, and one that allows drops out; an excluding rule names its peer, compared per
   * link. Only the rest are asked per link.
   */
  select(candidatePeerIds: ArrayLike<number>): number {
    const n = candidatePeerIds.length;
    if (n === 0) return 0;
    if (!this.simple) return this.selectGeneral(candidatePeerIds, n);
    // Up to two excluding rules, then hop limits (the defaults): the same decisions and
    // counts as selectGeneral, from two peer ids and the first hop limit that refuses.
    const ctx = this.ctx;
    const chosen = this.chosen;
    const suppressed = this.suppressed;
    let stop = -1;
    const bounds = this.simpleBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (ctx.hops >= (bounds[i] as number)) {
        stop = this.simpleHops + i;
        break;
      }
    }
    const x0 = excludedBy(this.simpleForm0, ctx);
    const x1 = excludedBy(this.simpleForm1, ctx);
    let count = 0;
    for (let c = 0; c < n; c++) {
      const peer = candidatePeerIds[c] as number;
      const by = peer === x0 ? 0 : peer === x1 ? 1 : stop;
      if (by < 0) chosen[count++] = c;
      else suppressed[by] = (suppressed[by] as number) + 1;
    }
    return count;
  }

  /** select() for any other list: the rules that decide once per message first, then per link. */
  private selectGeneral(candidatePeerIds: ArrayLike<number>, n: number): number {
    const { ctx, rules, form, excludedPeer, active, chosen, suppressed } = this;
    // Once per message.
    let actives = 0;
    let general = false;
    let stop = -1;
    for (let r = 0; r < rules.length; r++) {
      const f = form[r] as number;
      if (f === HOPS || f === PER_MESSAGE) {
        if (f === HOPS ? ctx.hops < ((rules[r] as RelayRule).maxHops as number) : (rules[r] as RelayRule).allow(ctx)) continue;
        stop = r;
        break;
      }
      excludedPeer[actives] =
        f === EXCLUDE_SENDER ? ctx.fromPeer : f === EXCLUDE_ORIGIN ? ctx.origin : f === EXCLUDE_TARGET ? (ctx.target ?? -1) : -1;
      if (f === GENERAL) general = true;
      active[actives++] = r;
    }
    let count = 0;
    if (!general && actives <= 2) {
      // At most two rules left and each names its peer (the defaults: sender, origin): two
      // compares per link, no call. The same decisions and counts as the loop below.
      const x0 = actives > 0 ? (excludedPeer[0] as number) : -1;
      const x1 = actives > 1 ? (excludedPeer[1] as number) : -1;
      const r0 = active[0] as number;
      const r1 = active[1] as number;
      for (let c = 0; c < n; c++) {
        const peer = candidatePeerIds[c] as number;
        const by = peer === x0 ? r0 : peer === x1 ? r1 : stop;
        if (by < 0) chosen[count++] = c;
        else suppressed[by] = (suppressed[by] as number) + 1;
      }
      return count;
    }
    for (let c = 0; c < n; c++) {
      const peer = candidatePeerIds[c] as number;
      ctx.toPeer = peer;
      let refusedBy = stop;
      for (let a = 0; a < actives; a++) {
        const r = active[a] as number;
        if (excludedPeer[a] === peer || (form[r] === GENERAL && !(rules[r] as RelayRule).allow(ctx))) {
          refusedBy = r;
          break;
        }
      }
      if (refusedBy < 0) chosen[count++] = c;
      else suppressed[refusedBy] = (suppressed[refusedBy] as number) + 1;
    }
    return count;
  }

  linkOpened(peer: number): void {
    for (const r of this.linkHooks) r.linkOpened?.(peer);
  }

  linkClosed(peer: number): void {
    for (const r of this.linkHooks) r.linkClosed?.(peer);
  }

  /** { rule name: (message, link) pairs it was the first to refuse } for stats(). */
  suppressedByName(): Record<string, number> {
    return suppressedByName(this.rules, this.suppressed);
  }
}

/** selectLinks' compiled lists, one per rules array (a list is compiled once, then only read). */
const compiled = new WeakMap<readonly RelayRule[], RelayRuleSet>();

/**
 * Claim 14 for one message, as a function (tests, tools, one-off decisions): applies `rules`
 * to the candidates as a Peer's RelayRuleSet does and writes the allowed peer ids to
 * `out[0..count)`; entries past count are left alone. `ctx.toPeer` holds the last candidate
 * afterwards. `suppressed`, when given, is a counts array parallel to `rules`:
 * `suppressed[i]` grows by one for each candidate rules[i] was the first to refuse. The
 * list is compiled on its first use and reused, so a call allocates nothing after that.
 */
export function selectLinks(
  rules: readonly RelayRule[],
  ctx: RelayContext,
  candidatePeerIds: ArrayLike<number>,
  out: number[],
  suppressed?: number[],
): number {
  let set = compiled.get(rules);
  if (set === undefined || !sameRules(set.rules, rules)) compiled.set(rules, (set = new RelayRuleSet(rules, false)));
  const own = set.ctx;
  own.grid = ctx.grid;
  own.origin = ctx.origin;
  own.seq = ctx.seq;
  own.hops = ctx.hops;
  own.target = ctx.target;
  own.fromPeer = ctx.fromPeer;
  set.suppressed.fill(0);
  const count = set.select(candidatePeerIds);
  for (let i = 0; i < count; i++) out[i] = candidatePeerIds[set.chosen[i] as number] as number;
  if (candidatePeerIds.length > 0) ctx.toPeer = candidatePeerIds[candidatePeerIds.length - 1] as number;
  if (suppressed !== undefined) for (let r = 0; r < rules.length; r++) suppressed[r] = (suppressed[r] as number) + (set.suppressed[r] as number);
  return count;
}

/** Whether a compiled list still holds exactly `rules` (an array changed since is compiled again). */
function sameRules(a: readonly RelayRule[], b: readonly RelayRule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The peer an excluding rule of form `f` refuses for the message in ctx (-1: none, or not an excluding form). */
function excludedBy(f: number, ctx: RelayContext): number {
  return f === EXCLUDE_SENDER ? ctx.fromPeer : f === EXCLUDE_ORIGIN ? ctx.origin : f === EXCLUDE_TARGET ? (ctx.target ?? -1) : -1;
}

function instanceFor(rule: RelayRule): RelayRule {
  if (rule.forPeer === undefined) return rule;
  const own = rule.forPeer();
  if (own?.name !== rule.name || typeof own.allow !== "function") {
    throw new RelayGridError(ErrorCode.InvalidConfig, `relay rule "${rule.name}": forPeer() must return a rule with the same name`);
  }
  return own;
}
