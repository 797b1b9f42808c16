/**
 * A small flag parser for the relaygrid subcommands: `--name value`, `--name=value`, boolean
 * `--name`, short aliases (`-p 7777`, `-p7777`, `-c`) where a flag declares one, and
 * `-h`/`--help`. Unknown flags and bad values are a UsageError (exit code 2) whose message
 * suggests the flag that was probably meant.
 */
import { closest } from "./suggest.ts";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** `short`: a one-letter alias, used as `-x`. */
export type FlagSpec = (
  | { readonly type: "string"; readonly default: string }
  | { readonly type: "int"; readonly default: number; readonly min: number; readonly max: number }
  | { readonly type: "boolean" }
) & { readonly short?: string };

export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K] extends { type: "string" } ? string : S[K] extends { type: "int" } ? number : boolean;
};

/** " (did you mean --port?)" for a mistyped long flag, or "". */
function hintLong(name: string, spec: Record<string, FlagSpec>): string {
  const guess = closest(name, Object.keys(spec));
  return guess === undefined ? "" : ` (did you mean --${guess}?)`;
}

/** What a short flag the command does not have could have meant. */
function hintShort(letter: string, spec: Record<string, FlagSpec>): string {
  const shorts = Object.entries(spec).filter(([, s]) => s.short !== undefined).map(([n, s]) => `-${s.short} (--${n})`);
  const starting = Object.keys(spec).filter((n) => n.startsWith(letter));
  const meant = starting.length > 0 ? `; did you mean ${starting.map((n) => `--${n}`).join(" or ")}?` : "";
  return ` (short options: ${shorts.length > 0 ? shorts.join(", ") : "none"}, -h${meant})`;
}

/** Parses `argv` against `spec`; "-h" is "--help". Throws UsageError. */
export function parseFlags<S extends Record<string, FlagSpec>>(argv: readonly string[], spec: S): FlagValues<S> {
  const out: Record<string, unknown> = {};
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) {
    out[name] = s.type === "boolean" ? false : s.default;
    if (s.short !== undefined) byShort.set(s.short, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h") {
      if ("help" in spec) out.help = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = arg.slice(2, eq < 0 ? undefined : eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (spec[name] === undefined) throw new UsageError(`unknown option --${name}${hintLong(name, spec)}`);
    } else if (arg.startsWith("-") && arg.length >= 2 && !/^-[0-9]/.test(arg)) {
      const letter = arg.slice(1, 2);
      const long = byShort.get(letter);
      if (long === undefined) throw new UsageError(`unknown option -${letter}${hintShort(letter, spec)}`);
      name = long;
      const rest = arg.slice(2);
      inline = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
    } else {
      throw new UsageError(`unexpected argument "${arg}" (options start with --; see --help)`);
    }
    const s = spec[name] as FlagSpec;
    if (s.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (s.type === "string") {
      if (value === "") throw new UsageError(`--${name} needs a value`);
      out[name] = value;
    } else {
      const n = /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n) || n < s.min || n > s.max) {
        throw new UsageError(`--${name} must be an integer from ${s.min} to ${s.max}, got "${value}"`);
      }
      out[name] = n;
    }
  }
  return out as FlagValues<S>;
}
