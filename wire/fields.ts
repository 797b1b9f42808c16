/**
 * Field specs: the vocabulary wire/messages.ts uses to describe each message kind as a
 * positional MessagePack array. One spec drives encoding, validation on decode, the
 * TypeScript type of the message, and PROTOCOL.md's tables (so they cannot disagree).
 */
import { utf8Length } from "./utf8.ts";

export { utf8Length };

export type Spec =
  | { readonly t: "uint"; readonly max: number }
  | { readonly t: "optUint"; readonly max: number }
  | { readonly t: "bool" }
  | { readonly t: "str"; readonly maxBytes: number }
  | { readonly t: "bin"; readonly maxBytes: number }
  | { readonly t: "uints"; readonly maxItems: number; readonly max: number }
  | { readonly t: "list"; readonly maxItems: number; readonly of: readonly FieldDef[] };

/** [field name, spec]. Position in the schema is position in the array (after version and kind). */
export type FieldDef = readonly [name: string, spec: Spec];

export const U8 = { t: "uint", max: 0xff } as const;
export const U16 = { t: "uint", max: 0xffff } as const;
export const U32 = { t: "uint", max: 0xffffffff } as const;
/** A u32 or nil (MessagePack 0xc0). */
export const OPT_U32 = { t: "optUint", max: 0xffffffff } as const;
export const BOOL = { t: "bool" } as const;
export const str = <N extends number>(maxBytes: N) => ({ t: "str", maxBytes }) as const;
export const bin = <N extends number>(maxBytes: N) => ({ t: "bin", maxBytes }) as const;
export const u32s = <N extends number>(maxItems: N) => ({ t: "uints", maxItems, max: 0xffffffff }) as const;
export const list = <const F extends readonly FieldDef[]>(maxItems: number, of: F) =>
  ({ t: "list", maxItems, of }) as const;

/** The TypeScript value a spec decodes to. */
export type ValueOf<S extends Spec> = S extends { t: "uint" }
  ? number
  : S extends { t: "optUint" }
    ? number | null
    : S extends { t: "bool" }
      ? boolean
      : S extends { t: "str" }
        ? string
        : S extends { t: "bin" }
          ? Uint8Array
          : S extends { t: "uints" }
            ? number[]
            : S extends { t: "list"; of: infer F extends readonly FieldDef[] }
              ? Fields<F>[]
              : never;

/** The object a list of field defs decodes to. */
export type Fields<F extends readonly FieldDef[]> = {
  -readonly [D in F[number] as D[0]]: ValueOf<D[1]>;
};

/**
 * Checks `value` against `spec`. Returns null when valid, or a short reason naming the
 * failing path ("members[3].addr: string 80 bytes > 64"). Never throws.
 */
export function checkValue(spec: Spec, value: unknown, path: string): string | null {
  switch (spec.t) {
    case "uint":
      return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= spec.max
        ? null
        : `${path}: expected uint <= ${spec.max}, got ${describe(value)}`;
    case "optUint":
      if (value === null) return null;
      return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= spec.max
        ? null
        : `${path}: expected nil or uint <= ${spec.max}, got ${describe(value)}`;
    case "bool":
      return typeof value === "boolean" ? null : `${path}: expected bool, got ${describe(value)}`;
    case "str": {
      if (typeof value !== "string") return `${path}: expected str, got ${describe(value)}`;
      const n = utf8Length(value);
      return n <= spec.maxBytes ? null : `${path}: str ${n} bytes > ${spec.maxBytes}`;
    }
    case "bin":
      if (!(value instanceof Uint8Array)) return `${path}: expected bin, got ${describe(value)}`;
      return value.length <= spec.maxBytes ? null : `${path}: bin ${value.length} bytes > ${spec.maxBytes}`;
    case "uints": {
      if (!Array.isArray(value)) return `${path}: expected array, got ${describe(value)}`;
      if (value.length > spec.maxItems) return `${path}: ${value.length} items > ${spec.maxItems}`;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > spec.max) {
          return `${path}[${i}]: expected uint <= ${spec.max}, got ${describe(v)}`;
        }
      }
      return null;
    }
    case "list": {
      if (!Array.isArray(value)) return `${path}: expected array, got ${describe(value)}`;
      if (value.length > spec.maxItems) return `${path}: ${value.length} items > ${spec.maxItems}`;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (!Array.isArray(item) || item.length !== spec.of.length) {
          return `${path}[${i}]: expected array of ${spec.of.length}, got ${describe(item)}`;
        }
        for (let j = 0; j < spec.of.length; j++) {
          const def = spec.of[j] as FieldDef;
          const err = checkValue(def[1], item[j], `${path}[${i}].${def[0]}`);
          if (err !== null) return err;
        }
      }
      return null;
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return "nil";
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v instanceof Uint8Array) return `bin(${v.length})`;
  if (typeof v === "number") return String(v);
  return typeof v;
}
