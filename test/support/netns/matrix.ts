/**
 * The NAT matrix: what relaygrid peers manage on the standard bench (standard.ts), as
 * they are, with nothing staged. Two measurements:
 *
 * - pairs: for every (joiner kind, member kind), a two-member grid: the member creates it,
 *   the joiner joins with joinGrid()'s 10 s limit. Did a direct link form, how long did it
 *   take, how many retransmissions, and what did a joiner that failed see.
 * - grid: one peer on every member host of the bench (12), the open host first, the others
 *   at once; after they settle, every joined peer broadcasts and every arrival is counted:
 *   who joined, which pairs linked, how many components the lobby sees, whether every
 *   broadcast reached every joined member exactly once.
 *
 * - punches: for every pair of kinds, what hole punching as PROTOCOL.md 4.7 does it can do
 *   on these NATs, without relaygrid: both hosts learn their mapping from a reflector on the
 *   lobby's address (what Registered.observed says), then punch each other's mapping (and
 *   LAN address behind one NAT) at once. It tells which pairs plain punching opens, and
 *   which need more (port prediction, or a relay): what NAT traversal can reach at best.
 *
 * The results are data (PairResult, GridResult, PunchResult) and markdown (pairTable,
 * gridReport, punchTable); the CLI is scripts/nat-matrix.ts.
 */
import { startAgents, type Agent } from "./agent-client.ts";
import type { NatBench } from "./bench.ts";
import { HOST_KINDS, kindOf, LOBBY_ADDR, LOBBY_HOST, LOBBY_PORT, MEMBER_HOSTS, type HostKind } from "./standard.ts";

/** How long after its join a pair must still hold its link to count as linked. */
export const PAIR_SETTLE_MS = 3000;

const SHORT: Record<HostKind, string> = {
  open: "op",
  "full-cone": "fc",
  "port-restricted": "pr",
  symmetric: "sy",
  "same-nat": "sn",
  "double-nat": "dn",
};

export interface JoinError {
  readonly code: string;
  readonly message: string;
  readonly afterMs: number;
}

interface JoinAnswer {
  handle?: number;
  id?: number;
  address?: string;
  joinedMs?: number;
  error?: JoinError;
  /** The events up to a failed join (PeerReport.events when it joined). */
  events?: PeerReport["events"];
}

export interface PeerReport {
  id: number;
  links: { peer: number; address: string }[];
  received: { origin: number; seq: number; hops: number; text: string; atMs: number }[];
  events: { type: string; atMs: number; [k: string]: unknown }[];
  drops: Record<string, number>;
  retransmits: number;
  duplicates: number;
  datagramsOut: number;
}

export interface PairResult {
  readonly joinerKind: HostKind;
  readonly memberKind: HostKind;
  readonly joiner: string;
  readonly member: string;
  /** Both ends hold the link PAIR_SETTLE_MS after the join resolved (a link that flapped does not count). */
  readonly linked: boolean;
  /** linkOpen / linkClosed events on the joiner's side up to then (a flapping pair shows both). */
  readonly joinerLinkEvents: { readonly opened: number; readonly closed: number };
  /** joinGrid() until it resolved (its first link); undefined when it failed. */
  readonly timeToLinkMs: number | undefined;
  /** Control requests the joiner retransmitted (Hello to Connect). */
  readonly joinerRetransmits: number | undefined;
  /** What joinGrid() rejected with, when it did. */
  readonly error: JoinError | undefined;
  /** The member's drops by reason (a refused ticket shows here). */
  readonly memberDrops: Record<string, number>;
  /** The joiner's punch towards the member (PROTOCOL.md 4.7): its first "punched" event, if any. */
  readonly punch: PunchOutcome | undefined;
  /** The address the joiner's link to the member uses (its LAN address behind one NAT). */
  readonly linkAddress: string | undefined;
}

export interface PunchOutcome {
  readonly ok: boolean;
  /** Punches the joiner sent until the proof (or in all, when it failed). */
  readonly attempts: number;
  /** From the Introduction to the proof, or to giving up. */
  readonly elapsedMs: number;
  /** The proven path is one of the member's LAN addresses. */
  readonly local: boolean;
  /** Birthday probing (lib/peer/birthday.ts): Punches the joiner sent to guessed ports, and whether it sprayed from extra sockets. */
  readonly probes: number;
  readonly sprayed: boolean;
}

export interface MatrixContext {
  /** An agent on every member host and on the lobby host. */
  readonly agents: ReadonlyMap<string, Agent>;
  readonly lobby: string;
  readonly lobbyKey: string;
  /** joinGrid()'s limit. Defaults to 10000 (its own default). */
  readonly joinTimeoutMs?: number;
}

function agentOn(ctx: MatrixContext, host: string): Agent {
  const a = ctx.agents.get(host);
  if (a === undefined) throw new Error(`no agent on ${host}`);
  return a;
}

async function joinOn(ctx: MatrixContext, host: string, grid: string, create: boolean, limit = 4): Promise<JoinAnswer> {
  const timeout = ctx.joinTimeoutMs ?? 10_000;
  return agentOn(ctx, host).call<JoinAnswer>(
    "peer.join",
    { lobby: ctx.lobby, lobbyKey: ctx.lobbyKey, grid, create, name: host, joinTimeoutMs: timeout, limit },
    timeout + 10_000,
  );
}

const report = (ctx: MatrixContext, host: string, handle: number): Promise<PeerReport> => agentOn(ctx, host).call<PeerReport>("peer.report", { handle });
const close = (ctx: MatrixContext, host: string, handle: number): Promise<unknown> => agentOn(ctx, host).call("peer.close", { handle });

/**
 * Agents on the lobby host and on every member host (each exits after `lifetimeMs`), and a
 * lobby started on the lobby host: what runGrid, runPair(s) and runPunches need.
 */
export async function startMatrix(bench: NatBench, lifetimeMs: number): Promise<{ ctx: MatrixContext; lobbyAgent: Agent }> {
  const agents = await startAgents(bench, [LOBBY_HOST, ...HOST_KINDS.flatMap((k) => [...MEMBER_HOSTS[k]])], lifetimeMs);
  const lobbyAgent = agents.get(LOBBY_HOST);
  if (lobbyAgent === undefined) throw new Error("no lobby agent");
  const lobby = await startLobby(lobbyAgent);
  return { ctx: { agents, lobby: lobby.address, lobbyKey: lobby.key }, lobbyAgent };
}

/** Stops every agent of a matrix. */
export async function stopMatrix(ctx: MatrixContext): Promise<void> {
  await Promise.all([...ctx.agents.values()].map((a) => a.stop()));
}

/** Starts the lobby on the lobby host; returns its address and key. */
export async function startLobby(lobbyAgent: Agent): Promise<{ address: string; key: string }> {
  return lobbyAgent.call<{ address: string; key: string }>("lobby.start", { host: LOBBY_ADDR, port: LOBBY_PORT });
}

/** One pair: a member behind `memberKind` creates a grid, a joiner behind `joinerKind` joins it. */
export async function runPair(ctx: MatrixContext, joinerKind: HostKind, memberKind: HostKind): Promise<PairResult> {
  const member = MEMBER_HOSTS[memberKind][0];
  const joiner = MEMBER_HOSTS[joinerKind][1];
  const grid = `pair-${SHORT[joinerKind]}-${SHORT[memberKind]}`;
  const m = await joinOn(ctx, member, grid, true);
  if (m.handle === undefined) throw new Error(`${member} could not create ${grid}: ${JSON.stringify(m.error)}`);
  try {
    const j = await joinOn(ctx, joiner, grid, false);
    let linked = false;
    let retransmits: number | undefined;
    let punch: PunchOutcome | undefined;
    let linkAddress: string | undefined;
    const events = { opened: 0, closed: 0 };
    let joinerEvents = j.events ?? [];
    if (j.handle !== undefined) await new Promise((r) => setTimeout(r, PAIR_SETTLE_MS));
    const mr = await report(ctx, member, m.handle);
    if (j.handle !== undefined) {
      const jr = await report(ctx, joiner, j.handle);
      linked = jr.links.some((l) => l.peer === m.id) && mr.links.some((l) => l.peer === j.id);
      retransmits = jr.retransmits;
      events.opened = jr.events.filter((e) => e.type === "linkOpen").length;
      events.closed = jr.events.filter((e) => e.type === "linkClosed").length;
      linkAddress = jr.links.find((l) => l.peer === m.id)?.address;
      joinerEvents = jr.events;
      await close(ctx, joiner, j.handle);
    }
    const p = joinerEvents.find((e) => e.type === "punched" && e["peer"] === m.id);
    if (p !== undefined) {
      punch = { ok: p["ok"] === true, attempts: Number(p["attempts"]), elapsedMs: Number(p["elapsedMs"]), local: p["local"] === true, probes: Number(p["probes"] ?? 0), sprayed: p["sprayed"] === true };
    }
    return {
      joinerKind,
      memberKind,
      joiner,
      member,
      linked,
      joinerLinkEvents: events,
      timeToLinkMs: j.joinedMs,
      joinerRetransmits: retransmits,
      error: j.error,
      memberDrops: mr.drops,
      punch,
      linkAddress,
    };
  } finally {
    await close(ctx, member, m.handle);
  }
}

/** Every (joiner kind, member kind) pair, `parallel` trials at a time. */
export async function runPairs(ctx: MatrixContext, parallel = 6): Promise<PairResult[]> {
  const todo: [HostKind, HostKind][] = [];
  for (const j of HOST_KINDS) for (const m of HOST_KINDS) todo.push([j, m]);
  const out: PairResult[] = [];
  for (let i = 0; i < todo.length; i += parallel) {
    out.push(...(await Promise.all(todo.slice(i, i + parallel).map(([j, m]) => runPair(ctx, j, m)))));
  }
  return out;
}

export interface GridMember {
  readonly host: string;
  readonly kind: HostKind;
  readonly id: number | undefined;
  readonly error: JoinError | undefined;
  readonly joinedMs: number | undefined;
  readonly links: readonly number[];
  /** Broadcasts from other joined members it received, and how many of them more than once. */
  readonly received: number;
  readonly receivedTwice: number;
}

export interface GridResult {
  readonly members: readonly GridMember[];
  /** Linked pairs by host name, each once. */
  readonly pairs: readonly [string, string][];
  /** Components of the lobby's confirmed graph, as host names. */
  readonly components: readonly string[][];
  /** Members the lobby still listed when the result was taken (failed joiners until they expire). */
  readonly lobbyMembers: number;
  readonly broadcastsSent: number;
  /** Every joined member received every other joined member's broadcasts, each once. */
  readonly everyBroadcastEverywhere: boolean;
}

interface LobbyView {
  grids: { name: string; members: { peer: number }[]; componentsOf: number[][] }[];
}

/**
 * One grid over every member host: `first` creates it, everyone else joins at once, each
 * with joinGrid()'s limit `joinTimeoutMs` (30 s by default: on a loaded machine a join in a
 * grid of 12 can take longer than joinGrid()'s own 10 s; a peer that reaches nobody is still
 * told within 10 s by its `unreachable` error). Bounded by events, not by fixed sleeps: the
 * broadcasts start once the lobby sees every joined member in one component (or after
 * `settleMs` at most), and arrivals are collected once every member has all of them (or
 * after `drainMs` at most, then a short linger that would catch a duplicate).
 */
export async function runGrid(
  ctx: MatrixContext,
  lobbyAgent: Agent,
  options: { first?: string; settleMs?: number; perMember?: number; drainMs?: number; joinTimeoutMs?: number; grid?: string } = {},
): Promise<GridResult> {
  const { first = "open1", settleMs = 20_000, perMember = 3, drainMs = 10_000, joinTimeoutMs = 30_000, grid = "nat-grid" } = options;
  const hosts = HOST_KINDS.flatMap((k) => [...MEMBER_HOSTS[k]]);
  const jctx = { ...ctx, joinTimeoutMs };
  const answers = new Map<string, JoinAnswer>();
  answers.set(first, await joinOn(jctx, first, grid, true));
  const rest = hosts.filter((h) => h !== first);
  const joined = await Promise.all(rest.map((h) => joinOn(jctx, h, grid, false)));
  rest.forEach((h, i) => answers.set(h, joined[i] as JoinAnswer));
  const live = hosts.filter((h) => answers.get(h)?.handle !== undefined);
  const whole = async (): Promise<boolean> => {
    const v = await lobbyAgent.call<LobbyView>("lobby.view");
    const c = v.grids.find((x) => x.name === grid)?.componentsOf ?? [];
    return c.length === 1 && (c[0]?.length ?? 0) >= live.length;
  };
  await until(whole, settleMs);

  const expectedEach = (live.length - 1) * perMember;
  let sent = 0;
  for (let i = 0; i < perMember; i++) {
    for (const h of live) {
      await agentOn(ctx, h).call("peer.broadcast", { handle: answers.get(h)?.handle, text: `${h}#${i}` });
      sent++;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const allArrived = async (): Promise<boolean> => {
    for (const h of live) if ((await report(ctx, h, answers.get(h)?.handle as number)).received.length < expectedEach) return false;
    return true;
  };
  if (await until(allArrived, drainMs)) await new Promise((r) => setTimeout(r, 500)); // a duplicate would come right behind

  const reports = new Map<string, PeerReport>();
  for (const h of live) reports.set(h, await report(ctx, h, answers.get(h)?.handle as number));
  const view = await lobbyAgent.call<LobbyView>("lobby.view");
  const g = view.grids.find((x) => x.name === grid);
  const byId = new Map<number, string>();
  for (const h of live) byId.set(reports.get(h)?.id as number, h);

  const members: GridMember[] = hosts.map((h) => {
    const a = answers.get(h) as JoinAnswer;
    const r = reports.get(h);
    const seen = new Map<string, number>();
    for (const d of r?.received ?? []) seen.set(d.text, (seen.get(d.text) ?? 0) + 1);
    const expected = live.filter((o) => o !== h).flatMap((o) => Array.from({ length: perMember }, (_, i) => `${o}#${i}`));
    return {
      host: h,
      kind: kindOf(h),
      id: a.id,
      error: a.error,
      joinedMs: a.joinedMs,
      links: (r?.links ?? []).map((l) => l.peer),
      received: expected.filter((t) => (seen.get(t) ?? 0) >= 1).length,
      receivedTwice: expected.filter((t) => (seen.get(t) ?? 0) > 1).length,
    };
  });
  const pairs: [string, string][] = [];
  for (const m of members) {
    for (const other of m.links) {
      const o = byId.get(other);
      if (o !== undefined && m.host < o) pairs.push([m.host, o]);
    }
  }
  for (const h of live) await close(ctx, h, answers.get(h)?.handle as number);
  return {
    members,
    pairs,
    components: (g?.componentsOf ?? []).map((c) => c.map((id) => byId.get(id) ?? `#${id}`)),
    lobbyMembers: g?.members.length ?? 0,
    broadcastsSent: sent,
    everyBroadcastEverywhere: members.every((m) => m.error !== undefined || (m.received === expectedEach && m.receivedTwice === 0)),
  };
}

/** Polls `done` every 250 ms until it holds or `maxMs` passed; returns whether it held. */
async function until(done: () => Promise<boolean>, maxMs: number): Promise<boolean> {
  const end = Date.now() + maxMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface RelayedResult {
  /** The two symmetric peers' joins (sy1h, sy2h). */
  readonly joined: readonly (JoinError | undefined)[];
  /** Whether the two symmetric peers hold a link to each other (they cannot: probing fails). */
  readonly direct: boolean;
  /** Each symmetric peer's links (peer ids), and the relay's id. */
  readonly links: readonly (readonly number[])[];
  readonly relay: number | undefined;
  /** Broadcasts each symmetric peer got from the other, and how many of them more than once. */
  readonly received: readonly number[];
  readonly receivedTwice: readonly number[];
  readonly perMember: number;
}

/**
 * The relay of last resort in its simplest form (docs/NAT.md): a member on a public address
 * (open1, a high connection limit) serves two peers behind symmetric NATs, which reach no
 * one else. The relay creates the grid, the two join at once; once the lobby sees one
 * component, each sends `perMember` broadcasts, counted at the other.
 */
export async function runRelayed(ctx: MatrixContext, lobbyAgent: Agent, perMember = 3, maxMs = 20_000): Promise<RelayedResult> {
  const grid = "relayed";
  const relay = await joinOn(ctx, "open1", grid, true, 16);
  if (relay.handle === undefined) throw new Error(`open1 could not create ${grid}: ${JSON.stringify(relay.error)}`);
  const hosts = ["sy1h", "sy2h"];
  const answers = await Promise.all(hosts.map((h) => joinOn({ ...ctx, joinTimeoutMs: 30_000 }, h, grid, false)));
  try {
    const live = answers.filter((a) => a.handle !== undefined).length;
    await until(async () => {
      const v = await lobbyAgent.call<LobbyView>("lobby.view");
      const c = v.grids.find((x) => x.name === grid)?.componentsOf ?? [];
      return c.length === 1 && (c[0]?.length ?? 0) >= live + 1;
    }, maxMs);
    for (let i = 0; i < perMember; i++) {
      for (const [k, h] of hosts.entries()) {
        const a = answers[k] as JoinAnswer;
        if (a.handle !== undefined) await agentOn(ctx, h).call("peer.broadcast", { handle: a.handle, text: `${h}#${i}` });
      }
    }
    const reports = async (): Promise<(PeerReport | undefined)[]> =>
      Promise.all(hosts.map((h, k) => (answers[k]?.handle === undefined ? Promise.resolve(undefined) : report(ctx, h, answers[k]?.handle as number))));
    if (await until(async () => (await reports()).every((r) => r !== undefined && r.received.length >= perMember), maxMs)) await new Promise((r) => setTimeout(r, 500));
    const rs = await reports();
    const counts = rs.map((r, k) => {
      const other = hosts[1 - k] as string;
      const seen = new Map<string, number>();
      for (const d of r?.received ?? []) seen.set(d.text, (seen.get(d.text) ?? 0) + 1);
      const texts = Array.from({ length: perMember }, (_, i) => `${other}#${i}`);
      return { got: texts.filter((t) => (seen.get(t) ?? 0) >= 1).length, twice: texts.filter((t) => (seen.get(t) ?? 0) > 1).length };
    });
    const ids = answers.map((a) => a.id);
    return {
      joined: answers.map((a) => a.error),
      direct: rs[0]?.links.some((l) => l.peer === ids[1]) === true || rs[1]?.links.some((l) => l.peer === ids[0]) === true,
      links: rs.map((r) => (r?.links ?? []).map((l) => l.peer)),
      relay: relay.id,
      received: counts.map((c) => c.got),
      receivedTwice: counts.map((c) => c.twice),
      perMember,
    };
  } finally {
    for (const [k, h] of hosts.entries()) if (answers[k]?.handle !== undefined) await close(ctx, h, answers[k]?.handle as number);
    await close(ctx, "open1", relay.handle);
  }
}

export interface PunchResult {
  readonly a: HostKind;
  readonly b: HostKind;
  readonly hostA: string;
  readonly hostB: string;
  /** The mappings the reflector saw (the addresses an Introduction would name). */
  readonly mappedA: string;
  readonly mappedB: string;
  /** Both sides received the other's datagrams. */
  readonly opened: boolean;
  /** Punch datagrams both sides sent in all, and the time until the later side first heard the other. */
  readonly sent: number;
  readonly openMs: number | undefined;
  /** The source each side heard the other from (a symmetric NAT shows another port than its mapping). */
  readonly heardA: string | undefined;
  readonly heardB: string | undefined;
}

interface PunchRun {
  sent: number;
  received: { from: string; text: string; atMs: number }[];
}

/** Every unordered pair of kinds: punch between host [1] of the first and host [0] of the second. */
export async function runPunches(
  ctx: MatrixContext,
  reflector: { agent: Agent; endpoint: string },
  lanAddrOf: (host: string) => string,
  options: { intervalMs?: number; durationMs?: number } = {},
): Promise<PunchResult[]> {
  const { intervalMs = 50, durationMs = 3000 } = options;
  await reflector.agent.call("udp.open", { bind: reflector.endpoint, echo: true });
  const out: PunchResult[] = [];
  for (let i = 0; i < HOST_KINDS.length; i++) {
    for (let j = i; j < HOST_KINDS.length; j++) {
      const [a, b] = [HOST_KINDS[i] as HostKind, HOST_KINDS[j] as HostKind];
      const [hostA, hostB] = [MEMBER_HOSTS[a][1], MEMBER_HOSTS[b][0]];
      const sockets = await Promise.all([hostA, hostB].map((h) => agentOn(ctx, h).call<{ id: number; address: string }>("udp.open", {})));
      const mapped: string[] = [];
      for (const [k, h] of [hostA, hostB].entries()) {
        const id = (sockets[k] as { id: number }).id;
        await agentOn(ctx, h).call("udp.send", { id, to: reflector.endpoint, text: "who" });
        const got = await agentOn(ctx, h).call<{ text: string }[]>("udp.take", { id, waitMs: 2000, min: 1 });
        mapped.push((got[0]?.text ?? "").slice(5));
      }
      const port = (addr: string): string => addr.slice(addr.lastIndexOf(":") + 1);
      const sameNat = mapped[0]?.split(":")[0] === mapped[1]?.split(":")[0];
      const candidates = (other: number): string[] => {
        const list = [mapped[other] as string];
        const h = other === 0 ? hostA : hostB;
        if (sameNat) list.push(`${lanAddrOf(h)}:${port((sockets[other] as { address: string }).address)}`);
        return list;
      };
      const runs = await Promise.all(
        [hostA, hostB].map((h, k) =>
          agentOn(ctx, h).call<PunchRun>("punch.run", { id: (sockets[k] as { id: number }).id, to: candidates(1 - k), intervalMs, durationMs }, durationMs + 10_000),
        ),
      );
      for (const [k, h] of [hostA, hostB].entries()) await agentOn(ctx, h).call("udp.close", { id: (sockets[k] as { id: number }).id });
      const [ra, rb] = runs as [PunchRun, PunchRun];
      const firstA = ra.received[0];
      const firstB = rb.received[0];
      out.push({
        a,
        b,
        hostA,
        hostB,
        mappedA: mapped[0] as string,
        mappedB: mapped[1] as string,
        opened: firstA !== undefined && firstB !== undefined,
        sent: ra.sent + rb.sent,
        openMs: firstA !== undefined && firstB !== undefined ? Math.max(firstA.atMs, firstB.atMs) : undefined,
        heardA: firstA?.from,
        heardB: firstB?.from,
      });
    }
  }
  return out;
}

/** Markdown: one row per pair of kinds. */
export function punchTable(results: readonly PunchResult[]): string {
  return [
    "| kind | kind | mappings | opened | datagrams sent | heard from |",
    "|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.a} | ${r.b} | ${r.mappedA}, ${r.mappedB} | ${r.opened ? `yes, ${String(r.openMs)} ms` : "no"} | ${r.sent} | ${r.heardA ?? "-"}, ${r.heardB ?? "-"} |`,
    ),
  ].join("\n");
}

const cell = (r: PairResult | undefined): string => {
  if (r === undefined) return "?";
  const p = r.punch;
  const how = p === undefined ? "" : p.ok ? `, ${p.attempts} punch${p.attempts === 1 ? "" : "es"}${p.local ? ", LAN" : ""}` : `, punch failed after ${p.attempts}`;
  if (r.linked) return `yes, ${String(r.timeToLinkMs)} ms${how}`;
  if (r.error !== undefined && p !== undefined) return `no (${r.error.code}${how})`;
  if (r.error !== undefined) return `no (${r.error.code})`;
  return `no (joined at ${String(r.timeToLinkMs)} ms, link ${r.joinerLinkEvents.opened} opened ${r.joinerLinkEvents.closed} closed; member drops: ${Object.entries(r.memberDrops).map(([k, v]) => `${k} ${v}`).join(", ")})`;
};

/** Markdown: rows are the joiner's kind, columns the member's. */
export function pairTable(results: readonly PairResult[]): string {
  const head = `| joiner \\ member | ${HOST_KINDS.join(" | ")} |`;
  const rule = `|---|${HOST_KINDS.map(() => "---").join("|")}|`;
  const rows = HOST_KINDS.map(
    (j) => `| ${j} | ${HOST_KINDS.map((m) => cell(results.find((r) => r.joinerKind === j && r.memberKind === m))).join(" | ")} |`,
  );
  return [head, rule, ...rows].join("\n");
}

/** Markdown: who joined, the components, the pairs, the broadcasts. */
export function gridReport(g: GridResult): string {
  const lines = [
    "| host | kind | joined | links | broadcasts received |",
    "|---|---|---|---|---|",
    ...g.members.map((m) =>
      `| ${m.host} | ${m.kind} | ${m.error === undefined ? `yes, ${String(m.joinedMs)} ms` : `no: ${m.error.code} after ${m.error.afterMs} ms`} | ${m.error === undefined ? m.links.length : "-"} | ${m.error === undefined ? m.received : "-"} |`,
    ),
    "",
    `Joined: ${g.members.filter((m) => m.error === undefined).length} of ${g.members.length}. ` +
      `Components (lobby, confirmed links): ${g.components.length}: ${g.components.map((c) => `{${c.join(", ")}}`).join(" ")}. ` +
      `Members the lobby listed: ${g.lobbyMembers}.`,
    `Linked pairs: ${g.pairs.map(([a, b]) => `${a}-${b}`).join(", ") || "none"}.`,
    `Broadcasts sent: ${g.broadcastsSent}; every joined member got every other joined member's broadcasts exactly once: ${g.everyBroadcastEverywhere ? "yes" : "no"}.`,
  ];
  const failed = g.members.find((m) => m.error !== undefined);
  if (failed?.error !== undefined) lines.push(`A peer that links to nobody sees: \`${failed.error.code}: ${failed.error.message}\` after ${failed.error.afterMs} ms.`);
  return lines.join("\n");
}
