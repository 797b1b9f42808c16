/**
 * Helpers every vector file shares: hex, the positional array a message is on the wire,
 * and the {"$bin": hex} JSON convention for binary fields.
 */
import type { FieldDef } from "../../wire/fields.ts";
import { PROTOCOL_VERSION } from "../../wire/limits.ts";
import { type AnyMessage, schemaOf } from "../../wire/messages.ts";

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, "0");
  return s;
}

/** The positional array `[version, kind, ...fields]`: list entries become arrays too. */
export function positional(msg: AnyMessage): unknown[] {
  const schema = schemaOf(msg.kind, true);
  if (schema === undefined) throw new Error(`no schema for kind ${msg.kind}`);
  const fields = msg as unknown as Record<string, unknown>;
  return [
    PROTOCOL_VERSION,
    msg.kind,
    ...schema.map(([name, spec]: FieldDef) => {
      const v = fields[name];
      if (spec.t !== "list") return v;
      return (v as Record<string, unknown>[]).map((entry) => spec.of.map(([k]) => entry[k]));
    }),
  ];
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`bad hex: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** JSON.parse reviver: {"$bin": hex} back into a Uint8Array. */
export function binReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "$bin" && typeof o.$bin === "string") return fromHex(o.$bin);
  }
  return value;
}

/** JSON.stringify replacer: a Uint8Array becomes {"$bin": hex}. */
export const binReplacer = (_key: string, value: unknown): unknown => (value instanceof Uint8Array ? { $bin: toHex(value) } : value);

