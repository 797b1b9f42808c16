/**
 * What the fuzzer feeds the endpoints (issue 6, point 5): datagrams mutated from real ones
 * (test/vectors/messages.json and traffic captured from a simulated grid: bit flips, byte
 * inserts and deletes, truncation, splicing two datagrams) and datagrams generated field by
 * field from wire/messages.ts SCHEMAS with values in and out of range. Every input is a
 * fast-check arbitrary, so a failure shrinks to a small case and replays from seed and path.
 *
 * Generated fields may be tokens ("the grid's id", "member 2's ticket", "an outstanding
 * request id"): a target resolves them against its world, so generated messages get past
 * the cheap checks (grid, from, req, ticket layout) and reach the handlers behind them.
 */
import fc from "fast-check";
import { encode as msgpackEncode } from "@msgpack/msgpack";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Kind, PROTOCOL_VERSION, SCHEMAS, type FieldDef, type KindValue, type Spec } from "../../../wire/index.ts";

// ---- bytes and hex --------------------------------------------------------------------

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new Error(`not hex: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const VECTORS = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../vectors");

/** The valid datagram of every vector in test/vectors/messages.json (the seed corpus). */
export function vectorCorpus(): Uint8Array[] {
  const vectors = JSON.parse(readFileSync(resolve(VECTORS, "messages.json"), "utf8")) as { hex: string }[];
  return vectors.map((v) => fromHex(v.hex));
}

// ---- mutations ------------------------------------------------------------------------

export type Mutation =
  | { readonly op: "flip"; readonly at: number; readonly bit: number }
  | { readonly op: "set"; readonly at: number; readonly value: number }
  | { readonly op: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: "delete"; readonly at: number; readonly count: number }
  | { readonly op: "truncate"; readonly at: number }
  /** bytes[0, at) of this datagram followed by other[from, end) of another corpus entry. */
  | { readonly op: "splice"; readonly other: number; readonly at: number; readonly from: number };

/** Byte values that send a MessagePack decoder down another path (types, lengths, limits). */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd9, 0xda, 0xdc, 0xdd, 0xde, 0xe0, 0xff];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(2048), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("set" as const), at: fc.nat(2048), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("insert" as const), at: fc.nat(2048), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), at: fc.nat(2048), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fc.nat(2048) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("splice" as const), other: fc.nat(), at: fc.nat(2048), from: fc.nat(2048) }) },
);

/** Applies `muts` to a copy of `base`; positions wrap around the current length. */
export function mutate(base: Uint8Array, muts: readonly Mutation[], corpus: readonly Uint8Array[]): Uint8Array {
  let b = base.slice();
  for (const m of muts) {
    const n = b.length;
    switch (m.op) {
      case "flip":
        if (n > 0) b[m.at % n] = (b[m.at % n] as number) ^ (1 << m.bit);
        break;
      case "set":
        if (n > 0) b[m.at % n] = m.value;
        break;
      case "insert": {
        const at = m.at % (n + 1);
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case "delete": {
        if (n === 0) break;
        const at = m.at % n;
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(n, at + m.count))]);
        break;
      }
      case "truncate":
        b = b.slice(0, m.at % (n + 1));
        break;
      case "splice": {
        const other = corpus.length === 0 ? b : (corpus[m.other % corpus.length] as Uint8Array);
        const at = m.at % (n + 1);
        const from = m.from % (other.length + 1);
        const out = new Uint8Array(at + other.length - from);
        out.set(b.subarray(0, at), 0);
        out.set(other.subarray(from), at);
        b = out;
        break;
      }
    }
  }
  return b;
}

// ---- field-aware generation -----------------------------------------------------------

/** A value the target fills in from its world: which one `i` names is up to it (modulo). */
export type Token =
  | { readonly $: "grid" }
  | { readonly $: "member"; readonly i: number }
  | { readonly $: "self" }
  | { readonly $: "ticket"; readonly i: number }
  | { readonly $: "session"; readonly i: number }
  | { readonly $: "addr"; readonly i: number }
  | { readonly $: "req"; readonly i: number };

export interface Generated {
  readonly kind: number;
  readonly fields: readonly unknown[];
  /** Elements added (> 0) or removed (< 0) at the end: a wrong arity. Usually 0. */
  readonly arity: number;
  /** A wrong protocol version now and then. */
  readonly version: number;
}

/** What a token stands for in one world. */
export interface Resolver {
  grid(): number;
  member(i: number): number;
  self(): number;
  ticket(i: number): Uint8Array;
  session(i: number): number;
  addr(i: number): string;
  req(i: number): number;
}

const isToken = (v: unknown): v is Token => typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v) && "$" in v;

function resolveValue(v: unknown, r: Resolver): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, r));
  if (!isToken(v)) return v;
  switch (v.$) {
    case "grid":
      return r.grid();
    case "member":
      return r.member(v.i);
    case "self":
      return r.self();
    case "ticket":
      return r.ticket(v.i);
    case "session":
      return r.session(v.i);
    case "addr":
      return r.addr(v.i);
    case "req":
      return r.req(v.i);
  }
}

/** The datagram for a generated message: MessagePack of [version, kind, ...fields], tokens resolved. */
export function encodeGenerated(g: Generated, r: Resolver): Uint8Array {
  const fields = g.fields.map((f) => resolveValue(f, r));
  if (g.arity < 0) fields.length = Math.max(0, fields.length + g.arity);
  for (let i = 0; i < g.arity; i++) fields.push(i);
  // The reference encoder writes what it is given, out-of-range values included (the codec's
  // own encode() refuses them, which is the point of generating them here).
  return msgpackEncode([g.version, g.kind, ...fields]);
}

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(-1, -129, 0.5, -0.5, 2 ** 53, 1e300),
  fc.uint8Array({ maxLength: 4 }),
  fc.constant([] as unknown[]),
);

function tokenFor(name: string, spec: Spec): fc.Arbitrary<unknown> | undefined {
  const i = fc.nat(7);
  if (spec.t === "uint" || spec.t === "optUint") {
    if (name === "grid") return fc.constant({ $: "grid" });
    if (name === "from" || name === "peer" || name === "other" || name === "origin" || name === "target") {
      return fc.oneof(i.map((n) => ({ $: "member", i: n })), fc.constant({ $: "self" }));
    }
    if (name === "session") return i.map((n) => ({ $: "session", i: n }));
    if (name === "req") return i.map((n) => ({ $: "req", i: n }));
  }
  if (spec.t === "bin" && name === "ticket") return i.map((n) => ({ $: "ticket", i: n }));
  if (spec.t === "bin" && name === "tag") return fc.constant(new Uint8Array(9));
  if (spec.t === "str" && name === "addr") return i.map((n) => ({ $: "addr", i: n }));
  if (spec.t === "uints") return fc.array(fc.oneof(i.map((n) => ({ $: "member", i: n })), fc.constant({ $: "self" })), { maxLength: 5 });
  return undefined;
}

function uintArb(max: number): fc.Arbitrary<number> {
  return max <= 0xff ? fc.integer({ min: 0, max }) : fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max }));
}

/** One field: usually in range (or a token), sometimes just past its limit, sometimes the wrong type. */
export function fieldArb(name: string, spec: Spec): fc.Arbitrary<unknown> {
  let inRange: fc.Arbitrary<unknown>;
  let outOfRange: fc.Arbitrary<unknown>;
  switch (spec.t) {
    case "uint":
      inRange = uintArb(spec.max);
      outOfRange = fc.constantFrom(spec.max + 1, 2 ** 32, 2 ** 53 - 1, -1);
      break;
    case "optUint":
      inRange = fc.option(uintArb(spec.max), { nil: null });
      outOfRange = fc.constantFrom(spec.max + 1, -1);
      break;
    case "bool":
      inRange = fc.boolean();
      outOfRange = fc.constantFrom(0, 1);
      break;
    case "str":
      inRange = fc.string({ maxLength: Math.min(spec.maxBytes, 12) });
      outOfRange = fc.string({ minLength: spec.maxBytes + 1, maxLength: spec.maxBytes + 3 });
      break;
    case "bin":
      inRange = fc.uint8Array({ maxLength: Math.min(spec.maxBytes, 40) });
      outOfRange = fc.uint8Array({ minLength: spec.maxBytes + 1, maxLength: spec.maxBytes + 3 });
      break;
    case "uints":
      inRange = fc.array(uintArb(spec.max), { maxLength: Math.min(spec.maxItems, 6) });
      outOfRange = fc.oneof(
        fc.array(fc.nat(9), { minLength: spec.maxItems + 1, maxLength: spec.maxItems + 2 }),
        fc.array(wrongType, { minLength: 1, maxLength: 2 }),
      );
      break;
    case "list":
      inRange = fc.array(fc.tuple(...spec.of.map(([n, s]: FieldDef) => fieldArb(n, s))), { maxLength: Math.min(spec.maxItems, 3) });
      // Rows of the wrong arity, or one row too many.
      outOfRange = fc.oneof(
        fc.array(fc.array(fc.nat(9), { maxLength: spec.of.length + 1 }), { minLength: 1, maxLength: 2 }),
        fc.array(fc.constant(spec.of.map(() => 0)), { minLength: spec.maxItems + 1, maxLength: spec.maxItems + 1 }),
      );
      break;
  }
  const token = tokenFor(name, spec);
  const options: { weight: number; arbitrary: fc.Arbitrary<unknown> }[] = [
    { weight: 6, arbitrary: inRange },
    { weight: 1, arbitrary: outOfRange },
    { weight: 1, arbitrary: wrongType },
  ];
  if (token !== undefined) options.push({ weight: 12, arbitrary: token });
  return fc.oneof(...options);
}

const ALL_KINDS = Object.values(Kind) as KindValue[];

/** A generated message of one of `kinds` (every kind by default). */
export function generatedArb(kinds: readonly KindValue[] = ALL_KINDS): fc.Arbitrary<Generated> {
  return fc.constantFrom(...kinds).chain((kind) =>
    fc.record({
      kind: fc.constant(kind as number),
      fields: fc.tuple(...(SCHEMAS[kind] as readonly FieldDef[]).map(([name, spec]) => fieldArb(name, spec))),
      arity: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
      version: fc.oneof({ weight: 30, arbitrary: fc.constant(PROTOCOL_VERSION as number) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    }),
  );
}

// ---- one datagram ---------------------------------------------------------------------

/** How the bytes of one datagram are made. */
export type Payload =
  | { readonly t: "mutated"; readonly base: number; readonly muts: readonly Mutation[] }
  | { readonly t: "replayed"; readonly base: number }
  | { readonly t: "generated"; readonly gen: Generated }
  | { readonly t: "random"; readonly bytes: Uint8Array };

export const payloadArb = (kinds?: readonly KindValue[]): fc.Arbitrary<Payload> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant("mutated" as const), base: fc.nat(), muts: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("replayed" as const), base: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant("generated" as const), gen: generatedArb(kinds) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("random" as const),
        bytes: fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ maxLength: 48 }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1300 }) }),
      }),
    },
  );

/** The bytes of a payload (a fresh array: the endpoint owns what it is given). */
export function payloadBytes(p: Payload, corpus: readonly Uint8Array[], r: Resolver): Uint8Array {
  const pick = (i: number): Uint8Array => (corpus.length === 0 ? new Uint8Array(0) : (corpus[i % corpus.length] as Uint8Array));
  switch (p.t) {
    case "mutated":
      return mutate(pick(p.base), p.muts, corpus);
    case "replayed":
      return pick(p.base).slice();
    case "generated":
      return encodeGenerated(p.gen, r);
    case "random":
      return p.bytes.slice();
  }
}
