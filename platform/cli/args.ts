/**
 * A small flag parser for the relaygrid subcommands: `--name value`, `--name=value`, boolean
 * `--name`, `-h`/`--help`. Unknown flags and bad values are a UsageError (exit code 2).
 */

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type FlagSpec =
  | { readonly type: "string"; readonly default: string }
  | { readonly type: "int"; readonly default: number; readonly min: number; readonly max: number }
  | { readonly type: "boolean" };

export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K] extends { type: "string" } ? string : S[K] extends { type: "int" } ? number : boolean;
};

/** Parses `argv` against `spec`; "-h" is "--help". Throws UsageError. */
export function parseFlags<S extends Record<string, FlagSpec>>(argv: readonly string[], spec: S): FlagValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec)) out[name] = s.type === "boolean" ? false : s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h") {
      if ("help" in spec) out.help = true;
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    if (s.type === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = argv[++i];
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
