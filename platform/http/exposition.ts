/**
 * A writer for the Prometheus text exposition format, version 0.0.4 (the format every
 * Prometheus server and agent scrapes): `# HELP`, `# TYPE`, then one `name{labels} value`
 * line per sample, LF line ends, the last line ended too.
 *
 * Hand-written rather than prom-client: the lobby exports ~25 families it already counts, and
 * this is all the format needs (escaping and number spelling); prom-client is a registry with
 * its own counters, Node-only cluster and GC collectors, and two runtime dependencies.
 */

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Readonly<Record<string, string>>;

/** The media type a scraper expects for this format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A sample value as the format spells it: Go's float syntax, "+Inf", "-Inf", "NaN". */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text: backslash and line feed escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export class Exposition {
  private readonly lines: string[] = [];
  private readonly families = new Set<string>();
  private current: { name: string; type: MetricType } | undefined;

  /** Starts a family; every sample until the next family belongs to it. Throws on a bad or repeated name (a bug here, not input). */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
    if (this.families.has(name)) throw new Error(`metric family ${name} written twice`);
    if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    this.families.add(name);
    this.current = { name, type };
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** A counter or gauge sample of the current family. */
  sample(value: number, labels?: Labels): this {
    const f = this.need("sample");
    if (f.type === "histogram") throw new Error(`${f.name} is a histogram: use histogram()`);
    this.lines.push(`${f.name}${labelText(labels)} ${formatValue(value)}`);
    return this;
  }

  /**
   * One histogram series of the current family: `counts[i]` observations fell in bucket i
   * (at most bounds[i]; the last entry, above every bound), written cumulatively with le="+Inf".
   */
  histogram(bounds: readonly number[], counts: readonly number[], sum: number, labels?: Labels): this {
    const f = this.need("histogram");
    if (f.type !== "histogram") throw new Error(`${f.name} is not a histogram`);
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i] ?? 0;
      this.lines.push(`${f.name}_bucket${labelText({ ...labels, le: formatValue(bounds[i] as number) })} ${cumulative}`);
    }
    cumulative += counts[bounds.length] ?? 0;
    this.lines.push(`${f.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${cumulative}`);
    this.lines.push(`${f.name}_sum${labelText(labels)} ${formatValue(sum)}`);
    this.lines.push(`${f.name}_count${labelText(labels)} ${cumulative}`);
    return this;
  }

  text(): string {
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }

  private need(what: string): { name: string; type: MetricType } {
    if (this.current === undefined) throw new Error(`${what} before any family`);
    return this.current;
  }
}

function labelText(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL.test(k) || k.startsWith("__")) throw new Error(`bad label name ${k}`);
    parts.push(`${k}="${escapeLabelValue(v)}"`);
  }
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}
