// @ts-check
/**
 * The relaygrid lobby dashboard: reads the server-sent events of /events and draws the
 * selected grid (members as nodes, links as edges, islands coloured) with a small force
 * layout, the grid list, the members table and the lobby's event log. Plain browser JS,
 * no dependency: served as it is by platform/http/lobby-http.ts. Every text from the
 * lobby (grid names, addresses) goes in through textContent or setAttribute, never as HTML.
 * Type-checked by tsconfig.dashboard.json (npm run typecheck). The layout is in layout.js.
 */
import { Layout } from "./layout.js";

/**
 * @typedef {[number, string, number, number, number, number, number]} MemberRow peer, addr, limit, links, reported, heardAgoSeconds, component
 * @typedef {[number, number, 0 | 1]} EdgeRow a, b, confirmed (0: a reports it, b does not)
 * @typedef {{ grid: number, name: string, members: number, capacity: number, links: number, components: number }} GridRow
 * @typedef {{ grid: number, name: string, capacity: number, limit: number, members: number, links: number, oneSidedLinks: number,
 *   components: number, componentSizes: number[], splitForSeconds: number | null, truncated: boolean, rows: MemberRow[], edges: EdgeRow[] }} Selected
 * @typedef {{ lobby: { address: string, grids: number, members: number, sessions: number, links: number, oneSidedLinks: number,
 *   islands: number, components: number, datagramsIn: number, datagramsOut: number, bytesIn: number, bytesOut: number,
 *   dropped: number, handshakes: number, repairHints: number }, grids: GridRow[], gridsOmitted: number, selected: Selected | null }} State
 * @typedef {{ seq: number, t: number, type: string, grid: number, peer?: number, name?: string, addr?: string, reason?: string,
 *   restored?: boolean, silentMs?: number, count?: number, force?: boolean, targets?: number[], epoch?: number }} LogEntry
 * @typedef {import("./layout.js").Point} Point
 * @typedef {import("./layout.js").Spring} Spring
 */

const SVG_NS = "http://www.w3.org/2000/svg";
const ISLAND_CLASSES = 6;
const FLASH_MS = 2500;
const MAX_LOG_ITEMS = 120;

/** @param {string} id */
function el(id) {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`missing #${id}`);
  return e;
}

/** @param {string} tag @param {string} [cls] @param {string} [text] */
function make(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls !== undefined) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** @param {string} tag @param {Record<string, string | number>} attrs */
function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** @param {number} n */
function islandClass(n) {
  return `island-${n % ISLAND_CLASSES}`;
}

/** @param {number} n */
function fmt(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

// ---- state ------------------------------------------------------------------------------

/** @type {number | undefined} */
let wantedGrid = parseGridFromHash();
/** @type {EventSource | undefined} */
let source;
/** @type {State | undefined} */
let state;
/** @type {{ t: number, in: number, out: number } | undefined} */
let lastRate;
const layout = new Layout();
/** The links being drawn, as springs for the layout. @type {Spring[]} */
let springs = [];
/** @type {Map<number, { g: SVGGElement, circle: SVGCircleElement, label: SVGTextElement, sub: SVGTextElement }>} */
const nodeEls = new Map();
/** @type {Map<string, SVGLineElement>} */
const edgeEls = new Map();
/** Recent joins (peer -> until). @type {Map<number, number>} */
const joinedUntil = new Map();
/** Recent hints. @type {{ peer: number, targets: number[], until: number, lines: SVGLineElement[] }[]} */
let hints = [];
/** Members that just left or expired, drawn as ghosts. @type {{ peer: number, at: Point, until: number, g: SVGGElement }[]} */
let ghosts = [];
let animating = false;

const graph = /** @type {SVGSVGElement} */ (/** @type {unknown} */ (el("graph")));
const edgeLayer = svg("g", {});
const hintLayer = svg("g", {});
const ghostLayer = svg("g", {});
const nodeLayer = svg("g", {});
graph.append(edgeLayer, hintLayer, ghostLayer, nodeLayer);

function parseGridFromHash() {
  const m = /grid=(\d{1,10})/.exec(location.hash);
  return m === null ? undefined : Number(m[1]);
}

function connect() {
  source?.close();
  const url = wantedGrid === undefined ? "events" : `events?grid=${wantedGrid}`;
  const es = new EventSource(url);
  source = es;
  es.addEventListener("open", () => {
    // A (re)connected stream starts with the recent log again.
    el("log").replaceChildren();
    setLive(true);
  });
  es.addEventListener("error", () => setLive(false));
  es.addEventListener("state", (ev) => onState(JSON.parse(/** @type {MessageEvent<string>} */ (ev).data)));
  es.addEventListener("log", (ev) => onLog(JSON.parse(/** @type {MessageEvent<string>} */ (ev).data)));
}

/** @param {boolean} on */
function setLive(on) {
  const e = el("live");
  e.textContent = on ? "live" : "reconnecting";
  e.className = on ? "live on" : "live off";
}

/** @param {number} grid */
function select(grid) {
  if (grid === wantedGrid) return;
  wantedGrid = grid;
  history.replaceState(null, "", `#grid=${grid}`);
  forgetDrawing();
  connect();
}

function forgetDrawing() {
  layout.clear();
  springs = [];
  for (const n of nodeEls.values()) n.g.remove();
  nodeEls.clear();
  for (const e of edgeEls.values()) e.remove();
  edgeEls.clear();
  for (const h of hints) for (const l of h.lines) l.remove();
  hints = [];
  for (const g of ghosts) g.g.remove();
  ghosts = [];
  joinedUntil.clear();
  el("log").replaceChildren();
}

// ---- updates ----------------------------------------------------------------------------

/** @param {State} s */
function onState(s) {
  state = s;
  renderTotals(s);
  renderGridList(s);
  renderSelected(s.selected);
  document.body.dataset.ready = "true";
}

/** @param {State} s */
function renderTotals(s) {
  const l = s.lobby;
  el("lobby-address").textContent = l.address === "" ? "" : `udp ${l.address}`;
  el("total-grids").textContent = String(l.grids);
  el("total-members").textContent = String(l.members);
  el("total-links").textContent = String(l.links);
  el("total-islands").textContent = String(l.islands);
  el("total-dropped").textContent = fmt(l.dropped);
  el("total-hints").textContent = fmt(l.repairHints);
  const now = performance.now();
  if (lastRate !== undefined && now - lastRate.t >= 900) {
    const secs = (now - lastRate.t) / 1000;
    el("rate-in").textContent = fmt((l.datagramsIn - lastRate.in) / secs);
    el("rate-out").textContent = fmt((l.datagramsOut - lastRate.out) / secs);
    lastRate = { t: now, in: l.datagramsIn, out: l.datagramsOut };
  } else if (lastRate === undefined) {
    lastRate = { t: now, in: l.datagramsIn, out: l.datagramsOut };
  }
}

/** @param {State} s */
function renderGridList(s) {
  const body = /** @type {HTMLTableSectionElement} */ (el("grids").querySelector("tbody"));
  const rows = [...s.grids].sort((a, b) => b.members - a.members || a.grid - b.grid);
  body.replaceChildren(
    ...rows.map((g) => {
      const tr = make("tr");
      tr.dataset.grid = String(g.grid);
      if (s.selected !== null && s.selected.grid === g.grid) tr.className = "selected";
      tr.append(make("td", undefined, g.name), make("td", undefined, `${g.members}/${g.capacity}`), make("td", undefined, String(g.links)));
      const parts = make("td", undefined, String(g.components));
      if (g.components > 1) parts.style.color = "var(--island-1)";
      tr.append(parts);
      tr.title = `${g.name} (grid id ${g.grid})`;
      tr.addEventListener("click", () => select(g.grid));
      return tr;
    }),
  );
  el("no-grids").hidden = s.grids.length > 0;
  const omitted = el("grids-omitted");
  omitted.hidden = s.gridsOmitted === 0;
  omitted.textContent = `and ${s.gridsOmitted} more grids`;
}

/** @param {Selected | null} sel */
function renderSelected(sel) {
  el("grid-name").textContent = sel === null ? "no grid" : sel.name;
  el("grid-members").textContent = sel === null ? "0" : String(sel.members);
  el("grid-links").textContent = sel === null ? "0" : String(sel.links);
  el("grid-one-sided").textContent = sel === null ? "0" : String(sel.oneSidedLinks);
  el("grid-components").textContent = sel === null ? "0" : String(sel.components);
  const status = el("grid-status");
  if (sel === null || sel.members === 0) {
    status.textContent = "empty";
    status.className = "badge";
  } else if (sel.components <= 1) {
    status.textContent = "whole";
    status.className = "badge whole";
  } else {
    const islands = sel.components - 1;
    const since = sel.splitForSeconds === null ? "" : ` for ${sel.splitForSeconds} s`;
    status.textContent = `split: ${islands} island${islands === 1 ? "" : "s"} (${sel.componentSizes.join(" + ")})${since}`;
    status.className = "badge split";
  }
  renderMembers(sel);
  updateGraph(sel);
}

/** @param {Selected | null} sel */
function renderMembers(sel) {
  const body = /** @type {HTMLTableSectionElement} */ (el("members").querySelector("tbody"));
  if (sel === null) return body.replaceChildren();
  body.replaceChildren(
    ...sel.rows.map(([peer, addr, limit, links, reported, heard, component]) => {
      const tr = make("tr");
      const id = make("td");
      id.append(make("span", `dot ${islandClass(component)}`), document.createTextNode(String(peer)));
      const linkText = reported > links ? `${links}/${limit} (+${reported - links})` : `${links}/${limit}`;
      tr.append(id, make("td", undefined, addr), make("td", undefined, linkText), make("td", undefined, `${heard} s`));
      tr.append(make("td", "muted", "unknown"));
      tr.title = reported > links ? `${reported - links} reported link(s) not confirmed by the other end` : "";
      return tr;
    }),
  );
}

/** @param {LogEntry[]} entries */
function onLog(entries) {
  const list = el("log");
  const now = performance.now();
  for (const e of entries) {
    const mine = (state?.selected?.grid ?? wantedGrid ?? e.grid) === e.grid;
    if (mine && e.peer !== undefined) {
      if (e.type === "peerJoined") joinedUntil.set(e.peer, now + FLASH_MS);
      if (e.type === "repairHintSent") addHint(e.peer, e.targets ?? [], now);
      if (e.type === "peerLeft" || e.type === "peerExpired") addGhost(e.peer, now);
    }
    const li = make("li", e.type);
    const time = make("time", undefined, new Date(e.t).toLocaleTimeString());
    li.append(time, document.createTextNode(describe(e)));
    list.prepend(li);
  }
  while (list.childElementCount > MAX_LOG_ITEMS) list.lastElementChild?.remove();
  kick(0.05);
}

/** @param {LogEntry} e */
function describe(e) {
  const name = gridName(e.grid);
  switch (e.type) {
    case "gridCreated":
      return `grid "${e.name}" ${e.restored ? "restored" : "created"}`;
    case "gridRemoved":
      return `grid "${e.name}" removed (empty)`;
    case "peerJoined":
      return `${name}peer ${e.peer} ${e.restored ? "rejoined" : "joined"} (${e.addr})`;
    case "peerLeft":
      return `${name}peer ${e.peer} ${e.reason === "replaced" ? "replaced by a newer join from its address" : "left"}`;
    case "peerExpired":
      return `${name}peer ${e.peer} expired (silent ${((e.silentMs ?? 0) / 1000).toFixed(1)} s)`;
    case "islandsDetected":
      return `${name}split into ${e.count} components`;
    case "repairHintSent":
      return `${name}repair hint to ${e.peer}: link to ${(e.targets ?? []).join(", ")}${e.force ? " (force)" : ""}`;
    case "gridKeyRotated":
      return `${name}grid key rotated to epoch ${e.epoch}`;
    default:
      return `${name}${e.type}`;
  }
}

/** "name: " before an entry, or nothing while the lobby has one grid. @param {number} grid */
function gridName(grid) {
  if (state !== undefined && state.grids.length <= 1) return "";
  const g = state?.grids.find((x) => x.grid === grid);
  return g === undefined ? `grid ${grid}: ` : `${g.name}: `;
}

// ---- drawing ----------------------------------------------------------------------------

/** @param {Selected | null} sel */
function updateGraph(sel) {
  const rows = sel === null ? [] : sel.rows;
  const edges = sel === null ? [] : sel.edges;
  const ids = new Set(rows.map((r) => r[0]));
  let changed = false;
  for (const [peer, n] of nodeEls) {
    if (ids.has(peer)) continue;
    n.g.remove();
    nodeEls.delete(peer);
    layout.remove(peer);
    changed = true;
  }
  /** @type {Map<number, number[]>} */
  const neighbours = new Map();
  for (const [a, b] of edges) {
    neighbours.set(a, [...(neighbours.get(a) ?? []), b]);
    neighbours.set(b, [...(neighbours.get(b) ?? []), a]);
  }
  for (const [peer, , limit, links, reported, , component] of rows) {
    let n = nodeEls.get(peer);
    if (n === undefined) {
      layout.add(peer, neighbours.get(peer) ?? []);
      const g = /** @type {SVGGElement} */ (svg("g", { class: "node" }));
      const circle = /** @type {SVGCircleElement} */ (svg("circle", { r: 13 }));
      const label = /** @type {SVGTextElement} */ (svg("text", {}));
      const sub = /** @type {SVGTextElement} */ (svg("text", { class: "sub", dy: 24 }));
      const title = svg("title", {});
      g.append(circle, label, sub, title);
      nodeLayer.append(g);
      n = { g, circle, label, sub };
      nodeEls.set(peer, n);
      changed = true;
    }
    n.circle.setAttribute("class", islandClass(component));
    n.label.textContent = String(peer);
    n.sub.textContent = `${links}/${limit}`;
    const title = n.g.querySelector("title");
    if (title !== null) title.textContent = `peer ${peer}: ${links} confirmed link(s), ${reported} reported, limit ${limit}`;
    n.g.dataset.links = String(links);
    n.g.dataset.limit = String(limit);
    n.g.dataset.component = String(component);
  }
  const keys = new Set();
  for (const [a, b, confirmed] of edges) {
    const key = `${a}-${b}-${confirmed}`;
    keys.add(key);
    if (edgeEls.has(key)) continue;
    const line = /** @type {SVGLineElement} */ (svg("line", { class: confirmed === 1 ? "edge confirmed" : "edge one-sided" }));
    line.dataset.a = String(a);
    line.dataset.b = String(b);
    edgeLayer.append(line);
    edgeEls.set(key, line);
    changed = true;
  }
  for (const [key, line] of edgeEls) {
    if (keys.has(key)) continue;
    line.remove();
    edgeEls.delete(key);
    changed = true;
  }
  springs = edges.map(([a, b, confirmed]) => ({ a, b, confirmed: confirmed === 1 }));
  kick(changed ? 0.6 : 0);
}

/** @param {number} peer @param {number[]} targets @param {number} now */
function addHint(peer, targets, now) {
  const lines = targets.map(() => /** @type {SVGLineElement} */ (svg("line", { class: "hint" })));
  hintLayer.append(...lines);
  hints.push({ peer, targets, until: now + FLASH_MS, lines });
}

/** @param {number} peer @param {number} now */
function addGhost(peer, now) {
  const p = layout.get(peer);
  if (p === undefined) return;
  const g = /** @type {SVGGElement} */ (svg("g", { class: "ghost" }));
  g.append(svg("circle", { r: 13 }));
  const t = svg("text", {});
  t.textContent = String(peer);
  g.append(t);
  ghostLayer.append(g);
  ghosts.push({ peer, at: { ...p }, until: now + FLASH_MS * 2, g });
}

/** Warms the layout up to at least `a` and makes sure frames are being drawn. @param {number} a */
function kick(a) {
  layout.heat(a);
  if (!animating) {
    animating = true;
    document.body.dataset.settled = "false";
    requestAnimationFrame(frame);
  }
}

function frame() {
  const now = performance.now();
  layout.step(springs);
  draw(now);
  const flashing = hints.length > 0 || ghosts.length > 0 || joinedUntil.size > 0;
  if (layout.moving || flashing) requestAnimationFrame(frame);
  else {
    animating = false;
    // Tests and screenshots wait for this: the picture has stopped moving.
    document.body.dataset.settled = "true";
  }
}

/** @param {number} now */
function draw(now) {
  layout.fit(graph.clientWidth || 600, graph.clientHeight || 400);
  graph.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
  for (const [peer, n] of nodeEls) {
    const p = layout.get(peer);
    if (p === undefined) continue;
    const at = layout.screen(p);
    n.g.setAttribute("transform", `translate(${at.x},${at.y})`);
    const links = Number(n.g.dataset.links);
    const limit = Number(n.g.dataset.limit);
    const joined = (joinedUntil.get(peer) ?? 0) > now;
    const hinted = hints.some((h) => h.peer === peer && h.until > now);
    n.g.setAttribute("class", `node${joined ? " joined" : hinted ? " hinted" : links === 0 ? " lonely" : links >= limit ? " full" : ""}`);
  }
  for (const [peer, until] of joinedUntil) if (until <= now) joinedUntil.delete(peer);
  for (const line of edgeEls.values()) {
    const p = layout.get(Number(line.dataset.a));
    const q = layout.get(Number(line.dataset.b));
    if (p !== undefined && q !== undefined) placeLine(line, p, q);
  }
  hints = hints.filter((h) => {
    if (h.until > now) return true;
    for (const l of h.lines) l.remove();
    return false;
  });
  for (const h of hints) {
    const p = layout.get(h.peer);
    h.targets.forEach((t, i) => {
      const q = layout.get(t);
      const line = h.lines[i];
      if (p !== undefined && q !== undefined && line !== undefined) placeLine(line, p, q);
    });
  }
  ghosts = ghosts.filter((g) => {
    if (g.until > now && !nodeEls.has(g.peer)) {
      const at = layout.screen(g.at);
      g.g.setAttribute("transform", `translate(${at.x},${at.y})`);
      g.g.setAttribute("opacity", ((g.until - now) / (FLASH_MS * 2)).toFixed(2));
      return true;
    }
    g.g.remove();
    return false;
  });
}

/** @param {SVGLineElement} line @param {Point} p @param {Point} q */
function placeLine(line, p, q) {
  const a = layout.screen(p);
  const b = layout.screen(q);
  line.setAttribute("x1", a.x);
  line.setAttribute("y1", a.y);
  line.setAttribute("x2", b.x);
  line.setAttribute("y2", b.y);
}

window.addEventListener("hashchange", () => {
  const g = parseGridFromHash();
  if (g !== undefined) select(g);
});
connect();
