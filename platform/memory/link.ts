/**
 * Link models: how a simulated datagram fares between two addresses.
 *
 * A link is directed (a -> b may differ from b -> a, like a real asymmetric path). The
 * table holds a network-wide default plus sparse per-link overrides, so 1,000 nodes cost
 * nothing until a test singles a link out.
 */
import type { Address } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError, checkInt } from "../../lib/errors.ts";
import type { Random } from "../../lib/rng.ts";

export const DEFAULT_LATENCY_MS = 10;
export const DEFAULT_JITTER_MS = 0;
export const DEFAULT_LOSS_PERCENT = 0;
export const DEFAULT_DUPLICATE_PERCENT = 0;
export const DEFAULT_REORDER_PERCENT = 0;
export const DEFAULT_REORDER_DELAY_MS = 25;

/** Upper bound for every *Ms option: an hour of virtual time is already absurd for a datagram. */
const MAX_DELAY_MS = 3_600_000;

export interface LinkOptions {
  /**
   * One-way base delay of every datagram, in ms; a fraction is allowed, as on a real path
   * (a real driver's clock, performance.now(), is fractional too, and a whole-ms simulator
   * once hid a lobby bug that only fractional times reach: issue 11, bug 1). Defaults to 10
   * (DEFAULT_LATENCY_MS).
   */
  readonly latencyMs: number;
  /** Extra delay drawn uniformly from 0..jitterMs (whole ms) per datagram. Defaults to 0. */
  readonly jitterMs: number;
  /** Chance a datagram is silently dropped. Defaults to 0. */
  readonly lossPercent: number;
  /** Chance a delivered datagram arrives twice (the copy gets its own delay). Defaults to 0. */
  readonly duplicatePercent: number;
  /**
   * Chance a datagram is held back by reorderDelayMs, so datagrams sent after it overtake
   * it. Defaults to 0.
   */
  readonly reorderPercent: number;
  /** Extra delay of a reordered datagram. Defaults to 25 (DEFAULT_REORDER_DELAY_MS). */
  readonly reorderDelayMs: number;
}

export const DEFAULT_LINK: LinkOptions = Object.freeze({
  latencyMs: DEFAULT_LATENCY_MS,
  jitterMs: DEFAULT_JITTER_MS,
  lossPercent: DEFAULT_LOSS_PERCENT,
  duplicatePercent: DEFAULT_DUPLICATE_PERCENT,
  reorderPercent: DEFAULT_REORDER_PERCENT,
  reorderDelayMs: DEFAULT_REORDER_DELAY_MS,
});

/** `partial` laid over `base`, validated. Throws RelayGridError(InvalidConfig) naming the bad field. */
export function resolveLink(base: LinkOptions, partial: Partial<LinkOptions> | undefined): LinkOptions {
  const link: LinkOptions = Object.freeze({ ...base, ...definedOnly(partial) });
  checkDelay("latencyMs", link.latencyMs);
  checkInt("jitterMs", link.jitterMs, 0, MAX_DELAY_MS);
  checkInt("reorderDelayMs", link.reorderDelayMs, 0, MAX_DELAY_MS);
  checkPercent("lossPercent", link.lossPercent);
  checkPercent("duplicatePercent", link.duplicatePercent);
  checkPercent("reorderPercent", link.reorderPercent);
  return link;
}

/** True with probability percent/100. Draws nothing at 0, so a clean link leaves the stream alone. */
export function rollPercent(rng: Random, percent: number): boolean {
  return percent > 0 && rng.next() * 100 < percent;
}

/** A whole number of ms in 0..jitterMs; draws nothing when jitterMs is 0. */
export function sampleJitterMs(rng: Random, jitterMs: number): number {
  return jitterMs > 0 ? Math.floor(rng.next() * (jitterMs + 1)) : 0;
}

/**
 * A link model: the options of the link from -> to (only the fields it sets; the rest follow
 * the default), or undefined for the default. Asked once per directed pair that carries a
 * datagram, then cached until the default or the model changes. An Internet-like grid gives
 * every pair its own latency this way without one override per pair.
 */
export type LinkModel = (from: Address, to: Address) => Partial<LinkOptions> | undefined;

interface Override {
  readonly partial: Partial<LinkOptions>;
  resolved: LinkOptions;
}

/** The network-wide default link and per-directed-link overrides. */
export class LinkTable {
  private base: LinkOptions;
  // Nested maps rather than a "from|to" string key: no string built per datagram.
  private readonly overrides = new Map<Address, Map<Address, Override>>();
  private model: LinkModel | undefined;
  private readonly modeled = new Map<Address, Map<Address, LinkOptions>>();

  constructor(defaults: Partial<LinkOptions> | undefined) {
    this.base = resolveLink(DEFAULT_LINK, defaults);
  }

  /** Replaces the default; overrides keep their own fields and take the new default's other fields. */
  setDefault(partial: Partial<LinkOptions>): void {
    const base = resolveLink(DEFAULT_LINK, partial);
    // Resolve every override first so a bad combination throws before anything changes.
    const next: Array<[Override, LinkOptions]> = [];
    for (const row of this.overrides.values()) {
      for (const o of row.values()) next.push([o, resolveLink(base, o.partial)]);
    }
    this.base = base;
    for (const [o, resolved] of next) o.resolved = resolved;
    this.modeled.clear();
  }

  /** Sets (or, with undefined, removes) the link model; overrides still win over it. */
  setModel(model: LinkModel | undefined): void {
    this.model = model;
    this.modeled.clear();
  }

  /** Overrides from -> to only. Fields left out follow the default. */
  setDirected(from: Address, to: Address, partial: Partial<LinkOptions>): void {
    const resolved = resolveLink(this.base, partial);
    let row = this.overrides.get(from);
    if (row === undefined) this.overrides.set(from, (row = new Map()));
    row.set(to, { partial: { ...partial }, resolved });
  }

  /** The options in force from -> to: its override, else the model's, else the default. */
  get(from: Address, to: Address): LinkOptions {
    const o = this.overrides.get(from)?.get(to);
    if (o !== undefined) return o.resolved;
    if (this.model === undefined) return this.base;
    let row = this.modeled.get(from);
    if (row === undefined) this.modeled.set(from, (row = new Map()));
    let m = row.get(to);
    if (m === undefined) row.set(to, (m = resolveLink(this.base, this.model(from, to))));
    return m;
  }
}

function checkDelay(name: string, value: number): void {
  if (typeof value !== "number" || !(value >= 0 && value <= MAX_DELAY_MS)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `${name} must be a number of ms from 0 to ${MAX_DELAY_MS}, got ${String(value)}`);
  }
}

function checkPercent(name: string, value: number): void {
  if (typeof value !== "number" || !(value >= 0 && value <= 100)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `${name} must be a number from 0 to 100, got ${String(value)}`);
  }
}

// `{ latencyMs: undefined }` must mean "use the default", not "latency is undefined";
// an unknown key is a typo ("latency") that would otherwise be ignored silently.
function definedOnly(partial: Partial<LinkOptions> | undefined): Partial<LinkOptions> {
  const out: Record<string, number> = {};
  if (partial === undefined) return out;
  for (const [key, value] of Object.entries(partial)) {
    if (!Object.hasOwn(DEFAULT_LINK, key)) {
      const known = Object.keys(DEFAULT_LINK).join(", ");
      throw new RelayGridError(ErrorCode.InvalidConfig, `unknown link option "${key}"; expected one of ${known}`);
    }
    if (value !== undefined) out[key] = value as number;
  }
  return out;
}
