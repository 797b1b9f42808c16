/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written from the format's
 * description (prometheus.io "Exposition formats": text format details), for the /metrics
 * tests. Strict where scrapers are strict and where our conventions promise more:
 *
 * - lines end in LF (the last one too); `# HELP name text` and `# TYPE name type` at most once
 *   per family, TYPE before the family's first sample; other `#` lines are comments;
 * - a sample is `name{label="value",...} value [timestamp]`: names [a-zA-Z_:][a-zA-Z0-9_:]*,
 *   label names [a-zA-Z_][a-zA-Z0-9_]* not starting "__", values quoted with only \\ \" \n
 *   escapes, each label name once; a value is a Go float (digits, exponent, +Inf, -Inf, NaN);
 * - a family's samples are contiguous, and no series (name + label set) appears twice;
 * - histograms: only _bucket (with le), _sum and _count series; per label set the buckets
 *   are cumulative (never decreasing as le grows), end with le="+Inf", and that bucket equals
 *   _count; counters and every histogram series are non-negative.
 *
 * Throws PromParseError naming the line. The well-kept npm parsers we looked at either do not
 * validate (they accept interleaved families, bad escapes) or merge labelled histogram series.
 */

export class PromParseError extends Error {
  override readonly name = "PromParseError";
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|inf)$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parseFloatStrict(text: string, where: string): number {
  if (text === "NaN") return Number.NaN;
  if (!FLOAT.test(text)) throw new PromParseError(`${where}: "${text}" is not a float`);
  if (/Inf$/i.test(text)) return text.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return Number(text);
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, declared: Map<string, Family>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const f = declared.get(base);
    if (f !== undefined && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return base;
  }
  return name;
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // past "{"
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (m === null) throw new PromParseError(`${where}: bad label name at "${text.slice(i, i + 20)}"`);
    const label = m[0];
    if (label.startsWith("__")) throw new PromParseError(`${where}: label ${label} is reserved`);
    if (label in labels) throw new PromParseError(`${where}: label ${label} twice`);
    i += label.length;
    if (text[i] !== "=" || text[i + 1] !== '"') throw new PromParseError(`${where}: expected ="..." after ${label}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PromParseError(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === "\n") throw new PromParseError(`${where}: raw line feed in a label value`);
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new PromParseError(`${where}: bad escape \\${e ?? ""} in a label value`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[label] = value;
    i++;
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new PromParseError(`${where}: expected , or } after label ${label}`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new PromParseError("the last line does not end in a line feed");
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text === "" ? [] : text.slice(0, -1).split("\n");
  const enter = (name: string, where: string): Family => {
    if (current !== name) {
      if (closed.has(name) || (families.get(name)?.samples.length ?? 0) > 0) throw new PromParseError(`${where}: family ${name} is not contiguous`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { name, type: "untyped", help: "", samples: [] }));
    return f;
  };
  const meta = new Map<string, Set<string>>();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.includes("\r")) throw new PromParseError(`${where}: carriage return`);
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) return; // a comment
      const [, kind, name, rest = ""] = m as unknown as [string, "HELP" | "TYPE", string, string | undefined];
      if (!NAME.test(name)) throw new PromParseError(`${where}: bad metric name ${name}`);
      const seen = meta.get(name) ?? new Set<string>();
      if (seen.has(kind)) throw new PromParseError(`${where}: second ${kind} for ${name}`);
      seen.add(kind);
      meta.set(name, seen);
      const f = enter(name, where);
      if (kind === "TYPE") {
        if (f.samples.length > 0) throw new PromParseError(`${where}: TYPE for ${name} after its samples`);
        if (!TYPES.has(rest)) throw new PromParseError(`${where}: unknown type "${rest}"`);
        f.type = rest as Family["type"];
      } else {
        f.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (nm === null) throw new PromParseError(`${where}: no metric name`);
    const name = nm[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, where));
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(" ") || parts.length < 1 || parts.length > 2) throw new PromParseError(`${where}: expected " value [timestamp]"`);
    const value = parseFloatStrict(parts[0] as string, where);
    if (parts[1] !== undefined && !/^-?[0-9]+$/.test(parts[1])) throw new PromParseError(`${where}: bad timestamp ${parts[1]}`);
    const family = enter(familyOf(name, families), where);
    const key = `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
    if (seriesSeen.has(key)) throw new PromParseError(`${where}: series ${key} twice`);
    seriesSeen.add(key);
    if (family.type === "counter" && !(value >= 0)) throw new PromParseError(`${where}: counter ${name} is ${value}`);
    if (family.type === "histogram") {
      if (name === `${family.name}_bucket` ? labels.le === undefined : name !== `${family.name}_sum` && name !== `${family.name}_count`) {
        throw new PromParseError(`${where}: ${name} in histogram ${family.name}`);
      }
      if (!(value >= 0)) throw new PromParseError(`${where}: ${name} is ${value}`);
    }
    family.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith("_bucket")) entry.buckets.push([parseFloatStrict(le as string, `${f.name} le`), s.value]);
    else if (s.name.endsWith("_sum")) entry.sum = s.value;
    else entry.count = s.value;
  }
  for (const [key, e] of series) {
    const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i]?.[1] as number) < (sorted[i - 1]?.[1] as number)) throw new PromParseError(`${f.name}${key}: buckets not cumulative`);
    }
    const last = sorted[sorted.length - 1];
    if (last === undefined || last[0] !== Number.POSITIVE_INFINITY) throw new PromParseError(`${f.name}${key}: no le="+Inf" bucket`);
    if (e.count === undefined || e.sum === undefined) throw new PromParseError(`${f.name}${key}: missing _count or _sum`);
    if (last[1] !== e.count) throw new PromParseError(`${f.name}${key}: +Inf bucket ${last[1]} != _count ${e.count}`);
  }
}

/** The value of the one sample of `family` whose labels include `labels`; throws if none or several match. */
export function valueOf(families: Map<string, Family>, family: string, labels: Record<string, string> = {}, sample = family): number {
  const f = families.get(family);
  if (f === undefined) throw new Error(`no family ${family}`);
  const hits = f.samples.filter((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${sample}${JSON.stringify(labels)}: ${hits.length} samples`);
  return (hits[0] as Sample).value;
}
