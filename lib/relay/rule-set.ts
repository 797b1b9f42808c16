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
/** The rule names a list of peers per message (excludedPeers): the redundancy list. */
const EXCLUDE_LIST = 6;
const NONE: readonly number[] = Object.freeze([]);

function formOf(rule: RelayRule): number {
  if (rule.excludes === "fromPeer") return EXCLUDE_SENDER;
  if (rule.excludes === "origin") return EXCLUDE_ORIGIN;
  if (rule.excludes === "target") return EXCLUDE_TARGET;
  if (rule.excludedPeers !== undefined) return EXCLUDE_LIST;
  if (rule.maxHops !== undefined) return HOPS;
  return rule.perMessage === true ? PER_MESSAGE : GENERAL;
}

const excluding = (f: number): boolean => (f >= EXCLUDE_SENDER && f <= EXCLUDE_TARGET) || f === EXCLUDE_LIST;

/** Whether `peer` is in `list` (a few entries: at most the links). */
function listed(list: readonly number[], peer: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === peer) return true;
  return false;
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
  /** Per active rule of the list form, for this message: the peers it refuses. */
  private readonly excludedList: (readonly number[])[];
  /** For this message: the rules still to decide per link, in order. */
  private readonly active: Uint16Array;
  private readonly linkHooks: RelayRule[];
  /**
   * Set when the list is up to three excluding rules, at most one of them a list (the
   * redundancy list), followed by hop limits only (the defaults): select() then decides each
   * message from a few peer ids, with no call per link.
   */
  private readonly simple: boolean;
  /** The first hop limit's position, and every hop limit's maxHops from there, in order. */
  private readonly simpleHops: number;
  private readonly simpleBounds: number[];
  /** The forms of rules 0 and 1 when they exclude a peer (GENERAL, naming none, otherwise). */
  private readonly simpleForm0: number;
  private readonly simpleForm1: number;
  /** Position of the list rule among the leading ones (-1: none), and the single-peer form of rule 2. */
  private readonly simpleList: number;
  private readonly simpleForm2: number;

  /**
   * `configured` is a checked list (resolvePeerConfig ran checkRelayRules on it). With
   * `perPeer` (a Peer's own set) each rule's forPeer() gives this set its own instance.
   */
  constructor(configured: readonly RelayRule[], perPeer = true) {
    this.rules = checkRelayRules(perPeer ? configured.map((rule) => instanceFor(rule)) : [...configured]);
    this.suppressed = this.rules.map(() => 0);
    this.form = Uint8Array.from(this.rules, formOf);
    this.excludedPeer = this.rules.map(() => -1);
    this.excludedList = this.rules.map(() => NONE);
    this.active = new Uint16Array(this.rules.length);
    this.linkHooks = this.rules.filter((r) => r.linkOpened !== undefined || r.linkClosed !== undefined);
    const forms = [...this.form];
    const first = forms.findIndex((f) => !excluding(f));
    const lead = first < 0 ? forms.length : first;
    const lists = forms.slice(0, lead).filter((f) => f === EXCLUDE_LIST).length;
    this.simple = lead <= 3 && lists <= 1 && (lead <= 2 || lists === 1) && forms.slice(lead).every((f) => f === HOPS);
    this.simpleHops = lead;
    this.simpleBounds = this.simple ? this.rules.slice(lead).map((r) => r.maxHops as number) : [];
    const single = (i: number): number => (i < lead && forms[i] !== EXCLUDE_LIST ? (forms[i] as number) : GENERAL);
    this.simpleForm0 = single(0);
    this.simpleForm1 = single(1);
    this.simpleForm2 = single(2);
    this.simpleList = forms.slice(0, lead).indexOf(EXCLUDE_LIST);
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
    const at = this.simpleList;
    if (at < 0) {
      for (let c = 0; c < n; c++) {
        const peer = candidatePeerIds[c] as number;
        const by = peer === x0 ? 0 : peer === x1 ? 1 : stop;
        if (by < 0) chosen[count++] = c;
        else suppressed[by] = (suppressed[by] as number) + 1;
      }
      return count;
    }
    // With the redundancy list: its peers for this message, asked once, compared per link in
    // the rules' order (the single-peer rules around it keep their positions).
    const list = (this.rules[at] as RelayRule).excludedPeers?.(ctx) ?? NONE;
    const x2 = excludedBy(this.simpleForm2, ctx);
    for (let c = 0; c < n; c++) {
      const peer = candidatePeerIds[c] as number;
      let by = stop;
      if (at === 0 && listed(list, peer)) by = 0;
      else if (peer === x0) by = 0;
      else if (at === 1 && listed(list, peer)) by = 1;
      else if (peer === x1) by = 1;
      else if (at === 2 && listed(list, peer)) by = 2;
      else if (peer === x2) by = 2;
      if (by < 0) chosen[count++] = c;
      else suppressed[by] = (suppressed[by] as number) + 1;
    }
    return count;
  }

  /** select() for any other list: the rules that decide once per message first, then per link. */
  private selectGeneral(candidatePeerIds: ArrayLike<number>, n: number): number {
    const { ctx, rules, form, excludedPeer, excludedList, active, chosen, suppressed } = this;
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
      excludedList[actives] = f === EXCLUDE_LIST ? ((rules[r] as RelayRule).excludedPeers?.(ctx) ?? NONE) : NONE;
      if (f === GENERAL || f === EXCLUDE_LIST) general = true;
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
        const f = form[r] as number;
        if (excludedPeer[a] === peer || (f === EXCLUDE_LIST ? listed(excludedList[a] as readonly number[], peer) : f === GENERAL && !(rules[r] as RelayRule).allow(ctx))) {
          refusedBy = r;
          break;
        }
      }
      if (refusedBy < 0) chosen[count++] = c;
      else suppressed[refusedBy] = (suppressed[refusedBy] as number) + 1;
    }
    return count;
  }

  /**
   * Whether every rule but the one named `skip` allows the message in `ctx` (filled by the
   * caller) to `peer`, asking each rule's allow() and counting nothing: the check a repair
   * passes (lib/peer/repair-server.ts) before it sends a neighbour a message it missed.
   */
  admits(peer: number, skip: string): boolean {
    const ctx = this.ctx;
    ctx.toPeer = peer;
    for (const r of this.rules) if (r.name !== skip && !r.allow(ctx)) return false;
    return true;
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
