/**
 * Where each member stands in its grid's confirmed graph, and how fast islands of newcomers
 * are joined to the rest (issue 18, item 3: peers joining at once formed cliques that stayed
 * apart until the island grace ran out, ~4 s, while each of them had already said "joined").
 *
 * Why the cliques form: peers that join at once each get a member list that is mostly other
 * joiners, ask them all, and link with whoever answers first and last (claims 29-31). The
 * first few fill each other up (a complete graph of limit + 1 peers has no free link left),
 * and the next ones, told "no" there, link among themselves; with two links or more nobody
 * forces (claims 32, 42), so the grid stays split until the lobby steps in.
 *
 * What the lobby does, `componentCheckMs` after any change of a grid's members or confirmed
 * links (and at every island check):
 * - labels every member as in the main component (the one holding the longest-standing
 *   member, islands.ts) or not (the member sample of
 *   Members prefers main members with free links, member-sample.ts);
 * - tells a member that stands in the main component once that component holds more than
 *   half of the grid's members (so no other component can outgrow it while joins go on: the
 *   first five of eleven joiners linked together are the largest component for a moment, and
 *   an island a moment later), and one that has been cut off from it for islandGraceMs, with a
 *   GridStatus notice {main, component, members}, repeated at its next STANDING_REPEATS
 *   heartbeats (a notice may be lost);
 * - while the grid has newcomers (admitted less than islandGraceMs ago and never told they
 *   stand in the main component) the islands get RepairHints at once, without waiting for islandGraceMs: a
 *   group of newcomers is not a split that may heal by itself, it is a join that went wrong.
 *   A lone member younger than islandGraceMs is left to its join round (claims 26-33).
 * - a member stranded alone (no confirmed link for islandGraceMs: a NAT no member's punches
 *   get through, say) counts for neither side: it is left out of the majority's count and
 *   never anchors the main component (otherwise two peers behind symmetric NATs in a grid of
 *   four kept the linked two from ever hearing `main`, and a stranded first member made
 *   everyone else an island), and it is told `main` = false, so the app hears `island`
 *   and the member gets RepairHints like any island.
 * - otherwise a split grid gets RepairHints once it has been split for islandGraceMs, as
 *   before (SPEC: the lobby "notices a grid that has split into islands"), except the forced
 *   repair of a split whose main component is full: that one goes out at once (issue 12,
 *   partition heal), since no peer of a full main component will ever look for the islands;
 *   and so does the hint of a split whose islands are all full (nobody there takes a
 *   connect from the main component's free members, so they fill up among themselves).
 * Hints to one grid are at least HINT_SPACING_MS apart, so one repair is not asked for twice.
 */
import { Kind } from "../../wire/kinds.ts";
import type { HintEntry } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { FORCED_REPAIR_EVERY_CHECKS, mainComponent, mainIsFull, planRepair, type RepairView } from "./islands.ts";
import { hasFreeLink, type Grid, type Member } from "./registry.ts";

/** A GridStatus is sent again at this many of the member's next heartbeats. */
export const STANDING_REPEATS = 2;
/** Least time between two rounds of RepairHints to one grid (at most islandCheckMs). */
export const HINT_SPACING_MS = 250;

/** The due component check: reviews every grid whose members or confirmed links changed. */
export function runComponentCheck(core: LobbyCore, nowMs: number): void {
  const due = core.nextComponentCheckMs;
  if (due === undefined || nowMs < due) return;
  core.nextComponentCheckMs = undefined;
  const grids = [...core.changedGrids];
  core.changedGrids.clear();
  for (const grid of grids) if (core.registry.get(grid.id) === grid) reviewGrid(core, nowMs, grid, false);
}

/**
 * One grid's review. `periodic` (the island check): a split grid is reviewed even when its
 * graph did not change, since the grace may have run out; a whole, unchanged one is skipped.
 */
export function reviewGrid(core: LobbyCore, nowMs: number, grid: Grid, periodic: boolean): void {
  const unchanged = grid.graph.version === grid.reviewedVersion;
  if (unchanged && (!periodic || grid.splitSinceMs === undefined)) return;
  grid.reviewedVersion = grid.graph.version;
  const components = grid.members.size === 0 ? [] : [...grid.graph.components()];
  if (components.length <= 1) {
    grid.splitSinceMs = undefined;
    grid.islandsReported = 0;
    tellStanding(core, nowMs, grid, components, false, repairView(core, nowMs, grid));
    return;
  }
  // The main component is the one holding the longest-standing member (islands.ts), not the
  // largest: a Sybil clique of later joiners cannot become it. It goes first from here on.
  const view = repairView(core, nowMs, grid);
  const mainIndex = mainComponent(components, view);
  if (mainIndex > 0) components.unshift(...components.splice(mainIndex, 1));
  grid.splitSinceMs ??= nowMs;
  const graceOver = nowMs - grid.splitSinceMs >= core.config.islandGraceMs;
  const newcomers = tellStanding(core, nowMs, grid, components, graceOver, view);
  if (graceOver && components.length !== grid.islandsReported) {
    grid.islandsReported = components.length;
    core.emit({ type: "islandsDetected", grid: grid.id, count: components.length });
  }
  // A split whose main component is full cannot heal by itself: nobody there seeks, and an
  // island peer that asks is refused. Waiting out the grace then only delays the one forced
  // repair that can join it (64 peers, a 5 s partition: the lobby saw the split 3.5-4.5 s
  // into the cut, so the grace ran out 1-2.5 s after the lift). The forced repair goes out
  // at once instead, still to island members only, still capped (islands.ts): a Sybil clique
  // gets no more of them, and across a standing cut the Force is retransmitted until it lands.
  // Nor can a split whose islands are all full: the main component's free members ask them
  // and are refused, then link among themselves (the same partition, seed 13: whole 1.35 s
  // after the lift, at the forced repair once the main component had filled). The hint that
  // points one island member at the free members goes out at once too (no link of the main
  // component is torn down for it).
  const full = (c: readonly number[]): boolean => mainIsFull(c, view);
  if (!graceOver && !newcomers && !full(components[0] as readonly number[]) && !components.slice(1).every(full)) return;
  const spacing = Math.min(HINT_SPACING_MS, core.config.islandCheckMs);
  // Newcomers are still apart: look again after the spacing even if nothing changes (a
  // refused Force is retried on fresh counts), not only at the next island check.
  if (newcomers) reviewAt(core, grid, Math.max(nowMs, grid.lastHintMs) + spacing);
  if (nowMs - grid.lastHintMs < spacing) return;
  // A lone member still in its join round is not an island yet (claims 26-33 find its links).
  const young = (c: readonly number[]): boolean => {
    const m = c.length === 1 ? grid.members.get(c[0] as number) : undefined;
    return m !== undefined && nowMs - m.admittedMs < core.config.islandGraceMs;
  };
  sendHints(core, nowMs, grid, view, components.filter((c, i) => i === 0 || !young(c)));
}

/** What island repair knows of `grid`'s members: a stranded member anchors nothing. */
function repairView(core: LobbyCore, nowMs: number, grid: Grid): RepairView & { stranded(id: number): boolean } {
  // The two longest-standing members: a member had someone to link to from the later of its
  // own admission and the earliest other member's.
  let first: Member | undefined;
  let second: Member | undefined;
  for (const m of grid.members.values()) {
    if (first === undefined || m.admittedMs < first.admittedMs) [first, second] = [m, first];
    else if (second === undefined || m.admittedMs < second.admittedMs) second = m;
  }
  const stranded = (id: number): boolean => {
    const m = grid.members.get(id) as Member;
    const other = m === first ? second : first;
    return other !== undefined && isStranded(core, nowMs, grid, m, other.admittedMs);
  };
  return {
    hasFreeLink: (id: number): boolean => hasFreeLink(grid, grid.members.get(id) as Member),
    admittedMs: (id: number): number => (stranded(id) ? Infinity : (grid.members.get(id) as Member).admittedMs),
    stranded,
  };
}

/**
 * Alone for islandGraceMs while it had someone to link to: no confirmed link, and none at
 * the island checks since `nat.sinceMs` (admission, or the last island check that saw it
 * linked; so the time alone is known to within islandCheckMs, on the long side), nor since
 * `othersSinceMs`, when the first other member was admitted (a grid's creator is not
 * stranded for having waited alone for its first joiner).
 */
function isStranded(core: LobbyCore, nowMs: number, grid: Grid, m: Member, othersSinceMs: number): boolean {
  return grid.graph.degree(m.id) === 0 && nowMs - Math.max(m.admittedMs, m.nat.sinceMs, othersSinceMs) >= core.config.islandGraceMs;
}

/** Reviews `grid` at the component check due by `atMs`, changed or not. */
function reviewAt(core: LobbyCore, grid: Grid, atMs: number): void {
  grid.reviewedVersion = -1;
  core.changedGrids.add(grid);
  core.nextComponentCheckMs = Math.min(core.nextComponentCheckMs ?? Infinity, atMs);
}

/**
 * Labels every member main or not and sends GridStatus where what it was told no longer
 * holds: it entered the main component, or (after the grace) it left it. Returns whether a
 * newcomer stands outside the main component.
 */
function tellStanding(
  core: LobbyCore,
  nowMs: number,
  grid: Grid,
  components: readonly (readonly number[])[],
  graceOver: boolean,
  view: { stranded(id: number): boolean },
): boolean {
  let newcomers = false;
  let counted = grid.members.size;
  for (const c of components.slice(1)) if (c.length === 1 && view.stranded(c[0] as number)) counted--;
  // A stranded member is no main component either (every member alone: nobody hears `main`).
  const head = components[0] ?? [];
  const strandedHead = grid.members.size > 1 && head.length === 1 && view.stranded(head[0] as number);
  const majority = head.length * 2 > counted && !strandedHead;
  for (let index = 0; index < components.length; index++) {
    const ids = components[index] as readonly number[];
    const main = index === 0 && !strandedHead;
    for (const id of ids) {
      const m = grid.members.get(id);
      if (m === undefined) continue;
      m.main = main;
      const cutOff = m.standing === "main" ? graceOver : m.standing === "none" && ids.length === 1 && view.stranded(id);
      if (main ? m.standing !== "main" && majority : cutOff) {
        m.standing = main ? "main" : "island";
        m.standingComponent = ids.length;
        m.standingRepeats = STANDING_REPEATS;
        sendStanding(core, grid, m);
      } else if (m.standing === "none" && nowMs - m.admittedMs < core.config.islandGraceMs) {
        newcomers = true;
      }
    }
  }
  return newcomers;
}

/** A Heartbeat from `m`: the last GridStatus again while it has repeats left. */
export function repeatStanding(core: LobbyCore, grid: Grid, m: Member): void {
  if (m.standingRepeats <= 0 || m.standing === "none") return;
  m.standingRepeats--;
  sendStanding(core, grid, m);
}

function sendStanding(core: LobbyCore, grid: Grid, m: Member): void {
  const msg = {
    kind: Kind.GridStatus,
    grid: grid.id,
    peer: m.id,
    main: m.standing === "main",
    component: Math.min(0xffff, m.standingComponent),
    members: Math.min(0xffff, grid.members.size),
  } as const;
  if (core.tell(m, msg) > 0) core.counters.statusesSent++;
}

/** RepairHints to islands (islands.ts chooses recipients and targets). */
function sendHints(core: LobbyCore, nowMs: number, grid: Grid, view: RepairView, components: readonly (readonly number[])[]): void {
  const mayForce = nowMs >= grid.forcedRepairAtMs + FORCED_REPAIR_EVERY_CHECKS * core.config.islandCheckMs;
  const plans = planRepair(components, view, core.random, mayForce);
  if (plans.length > 0) grid.lastHintMs = nowMs;
  if (plans.some((p) => p.force)) grid.forcedRepairAtMs = nowMs;
  for (const plan of plans) {
    const to = grid.members.get(plan.recipient) as Member;
    const targets: HintEntry[] = plan.targets.map((id) => ({ peer: id, addr: (grid.members.get(id) as Member).addr }));
    const msg = { kind: Kind.RepairHint, grid: grid.id, peer: to.id, force: plan.force, targets } as const;
    if (core.tell(to, msg) === 0) continue;
    core.counters.hintsSent++;
    core.emit({ type: "repairHintSent", grid: grid.id, peer: to.id, force: plan.force, targets: plan.targets });
  }
}
