/**
 * A hand-written SVG chart of the scale group: last-delivery hops against N (with
 * log_(L-1) N for reference) and upload per peer per broadcast against N, both x axes log.
 */

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly title: string;
  readonly yLabel: string;
  readonly logY: boolean;
  readonly series: readonly Series[];
}

const W = 460;
const H = 320;
const M = { left: 64, right: 16, top: 36, bottom: 88 };

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (x: number): string => (Math.round(x * 10) / 10).toString();

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function tickLabel(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Math.round(v * 100) / 100);
}

function panel(p: Panel, dx: number, xs: readonly number[]): string {
  const all = p.series.flatMap((s) => s.points);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  let yMin = p.logY ? Math.min(...all.map((q) => q[1])) : 0;
  let yMax = Math.max(...all.map((q) => q[1]));
  if (p.logY) {
    yMin = 10 ** Math.floor(Math.log10(Math.max(yMin, 1e-9)));
    yMax = 10 ** Math.ceil(Math.log10(Math.max(yMax, 1e-9)));
  } else yMax = niceStep(yMax / 4) * Math.ceil((yMax * 1.1) / niceStep(yMax / 4)) || 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const lx = (x: number): number => (xMax === xMin ? 0.5 : (Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)));
  const X = (x: number): number => dx + M.left + lx(x) * pw;
  const Y = (y: number): number =>
    M.top + ph - (p.logY ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (y - yMin) / (yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(`<text x="${num(dx + W / 2)}" y="20" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${dx + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  const yTicks: number[] = [];
  if (p.logY) for (let v = yMin; v <= yMax * 1.0001; v *= 10) yTicks.push(v);
  else for (let v = yMin, step = niceStep(yMax / 4); v <= yMax + 1e-9; v += step) yTicks.push(v);
  for (const v of yTicks) {
    out.push(`<line x1="${dx + M.left}" x2="${dx + M.left + pw}" y1="${num(Y(v))}" y2="${num(Y(v))}" stroke="#eee"/>`);
    out.push(`<text x="${dx + M.left - 6}" y="${num(Y(v) + 4)}" text-anchor="end">${tickLabel(v)}</text>`);
  }
  for (const x of xs) out.push(`<text x="${num(X(x))}" y="${M.top + ph + 16}" text-anchor="middle">${tickLabel(x)}</text>`);
  out.push(`<text x="${num(dx + M.left + pw / 2)}" y="${M.top + ph + 32}" text-anchor="middle">peers N (log)</text>`);
  out.push(`<text transform="translate(${dx + 16},${num(M.top + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${num(X(x))},${num(Y(y))}`).join(" ");
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5 4"' : ""}/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${num(X(x))}" cy="${num(Y(y))}" r="3" fill="${s.color}"/>`);
    const ly = M.top + ph + 48 + Math.floor(i / 2) * 14;
    const lx0 = dx + M.left + (i % 2) * (pw / 2);
    out.push(`<line x1="${lx0}" x2="${lx0 + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5 4"' : ""}/>`);
    out.push(`<text x="${lx0 + 22}" y="${ly}">${esc(s.label)}</text>`);
  });
  return out.join("\n");
}

export function chart(title: string, panels: readonly Panel[], xs: readonly number[], footnote: string): string {
  const width = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 24}" viewBox="0 0 ${width} ${H + 24}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * W, xs)),
    `<text x="8" y="${H + 16}" fill="#555">${esc(footnote)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
