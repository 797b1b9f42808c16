/**
 * Building blocks for the peer simulator tests: capture decoded control traffic, spy on
 * what the connection rules are given, watch the connection limit on every linkOpen, and
 * build small grids whose shape the test knows in advance.
 */
import type { Address } from "../../lib/endpoint.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import type { ConnectionRules, NeighbourInfo, Response } from "../../lib/peer/connection-rules.ts";
import type { Random } from "../../lib/rng.ts";
import type { LinkOptions } from "../../platform/memory/index.ts";
import { Kind, peekKind, type KindValue, type Message, type MessageOf } from "../../wire/index.ts";
import { SimGrid, type PeerNode } from "./sim-grid.ts";
import { insiderOf } from "../../lib/peer/insider.ts";
import type { LinkMessage } from "../../lib/peer/core.ts";
import { carried } from "./frames.ts";

export { carried };

export interface Captured<M = Message> {
  readonly now: number;
  readonly from: Address;
  readonly to: Address;
  readonly msg: M;
  /** It travelled in a session frame (PROTOCOL.md 6.10): `msg` is what the frame carried. */
  readonly framed: boolean;
}

/**
 * Records every transmit of the given kinds from now on, decoded, session frames opened
 * (peekKind filters first, so other traffic costs little).
 */
export function capture(g: SimGrid, kinds: readonly KindValue[]): Captured[] {
  const want = new Set<number>(kinds);
  const log: Captured[] = [];
  g.taps.push((now, from, to, bytes) => {
    const k = peekKind(bytes);
    if (!want.has(k) && k !== Kind.SessionFrame) return;
    const c = carried(bytes);
    if (c !== undefined && want.has(c.msg.kind)) log.push({ now, from, to, msg: c.msg, framed: c.framed });
  });
  return log;
}

/** The captured messages of one kind, typed. */
export function ofKind<K extends KindValue>(log: readonly Captured[], kind: K): Captured<MessageOf<K>>[] {
  return log.filter((c) => c.msg.kind === kind) as unknown as Captured<MessageOf<K>>[];
}

/** Raw transmits (bytes copied) with their addresses, for replaying or corrupting them. */
export function captureRaw(g: SimGrid, keep: (from: Address, to: Address, bytes: Uint8Array) => boolean): { from: Address; to: Address; bytes: Uint8Array }[] {
  const out: { from: Address; to: Address; bytes: Uint8Array }[] = [];
  g.taps.push((_now, from, to, bytes) => {
    if (keep(from, to, bytes)) out.push({ from, to, bytes: bytes.slice() });
  });
  return out;
}

/**
 * Connection rules that delegate to `base` and record every call: what the Peer handed
 * the rules (the responses, with their response times, claims 28 and 39) and what they chose.
 */
export class SpyRules implements ConnectionRules {
  readonly name: string;
  readonly positiveCalls: { positives: Response[]; want: number; chosen: Response[] }[] = [];
  readonly availableCalls: { positives: Response[]; want: number; chosen: Response[] }[] = [];
  readonly forceCalls: { negatives: Response[]; chosen: Response | undefined }[] = [];
  readonly dropCalls: { neighbours: NeighbourInfo[]; chosen: NeighbourInfo | undefined }[] = [];

  constructor(
    private readonly base: ConnectionRules,
    private readonly forcePick?: (negatives: readonly Response[]) => Response | undefined,
  ) {
    this.name = `spy(${base.name})`;
  }

  selectPositive(positives: readonly Response[], want: number, random: Random): Response[] {
    const chosen = this.base.selectPositive(positives, want, random);
    this.positiveCalls.push({ positives: [...positives], want, chosen: [...chosen] });
    return chosen;
  }

  /** Claim 40: the base's choice (arrival order when the base leaves it out). */
  selectAvailable(positives: readonly Response[], want: number, random: Random): Response[] {
    const chosen = this.base.selectAvailable?.(positives, want, random) ?? positives.slice(0, want);
    this.availableCalls.push({ positives: [...positives], want, chosen: [...chosen] });
    return chosen;
  }

  get forceBelowLinks(): number | undefined {
    return this.base.forceBelowLinks;
  }

  selectForce(negatives: readonly Response[], random: Random): Response | undefined {
    const chosen = this.forcePick !== undefined ? this.forcePick(negatives) : this.base.selectForce(negatives, random);
    this.forceCalls.push({ negatives: [...negatives], chosen });
    return chosen;
  }

  selectDrop(neighbours: readonly NeighbourInfo[], random: Random): NeighbourInfo | undefined {
    const chosen = this.base.selectDrop(neighbours, random);
    this.dropCalls.push({ neighbours: [...neighbours], chosen });
    return chosen;
  }
}

/**
 * Claim 1 at every step: checks each linkOpen against the opening peer's own limit at that
 * moment (links only grow through linkOpen) and records every violation.
 */
export function watchLimits(g: SimGrid): string[] {
  const violations: string[] = [];
  g.listeners.push((address, e, now) => {
    if (e.type !== "linkOpen") return;
    const p = g.at(address);
    const limit = p.endpoint.connectionLimit;
    const links = p.endpoint.linkPeers.length;
    if (e.links > limit || links > limit) violations.push(`${now} ms: ${address} has ${links} links > its limit ${limit}`);
  });
  return violations;
}

/** Records each moment a linkClosed left the live members' graph in more than one component. */
export function watchSplits(g: SimGrid): string[] {
  const splits: string[] = [];
  g.listeners.push((address, e, now) => {
    if (e.type !== "linkClosed") return;
    const n = g.components().length;
    if (n > 1) splits.push(`${now} ms: ${address} closed ${e.peer} (${e.reason}) -> ${n} components`);
  });
  return splits;
}

/** Counts events by type (and linkClosed by reason) per address. */
export function linkEvents(g: SimGrid): { address: Address; now: number; type: "open" | "closed"; peer: number; reason?: string; remoteReason?: number }[] {
  const out: { address: Address; now: number; type: "open" | "closed"; peer: number; reason?: string; remoteReason?: number }[] = [];
  g.listeners.push((address, e, now) => {
    if (e.type === "linkOpen") out.push({ address, now, type: "open", peer: e.peer });
    else if (e.type === "linkClosed") out.push({ address, now, type: "closed", peer: e.peer, reason: e.reason, remoteReason: e.remoteReason });
  });
  return out;
}

/**
 * Adds `n` peers one at a time, each once the previous one holds all the links it can
 * (so with limit >= n - 1 the grid is a full mesh); returns them in order, ids 1..n.
 */
export function mesh(g: SimGrid, n: number, overrides: Omit<PeerConfig, "random" | "lobby"> = {}): PeerNode[] {
  const out: PeerNode[] = [];
  for (let i = 0; i < n; i++) {
    const p = g.addPeer(overrides);
    out.push(p);
    const want = Math.min(i, p.endpoint.connectionLimit);
    g.runUntil(() => p.endpoint.phase === "member" && p.endpoint.linkPeers.length >= want, 10_000, 10);
  }
  g.runUntil(() => out.every((p) => p.endpoint.linkPeers.length === Math.min(n - 1, p.endpoint.connectionLimit)), 10_000, 10);
  return out;
}

/** The address the next addPeer() will get (SimGrid numbers peers from 1). */
export function nextAddress(g: SimGrid): Address {
  return `peer-${g.peers.length + 1}`;
}

/** Sorted copy of a peer's link ids. */
export function linksOf(p: PeerNode): number[] {
  return [...p.endpoint.linkPeers].sort((a, b) => a - b);
}

/** Sends one broadcast from `origin` and returns its (origin, seq). */
export function broadcastFrom(p: PeerNode, payload = new Uint8Array([1, 2, 3, 4])): { origin: number; seq: number } {
  const seq = p.with((peer, now) => peer.broadcast(now, payload));
  return { origin: p.endpoint.id, seq };
}

/** For each sent message, the live members (other than its origin) that did not get it exactly once. */
export function notExactlyOnce(g: SimGrid, sent: readonly { origin: number; seq: number }[], members = g.live()): string[] {
  const bad: string[] = [];
  for (const s of sent) {
    for (const p of members) {
      if (p.endpoint.id === s.origin) continue;
      const n = g.delivered(p.address, s.origin, s.seq);
      if (n !== 1) bad.push(`${p.address} got ${s.origin}:${s.seq} ${n} times`);
    }
  }
  return bad;
}

/** One-way latencies from the peer forced into fullK5 to members 1..5: member 2 answers fastest. */
export const K5_JOINER_LATENCY_MS = [40, 15, 30, 25, 50] as const;

/**
 * K5 of limit-4 members (everyone full), then a sixth peer ("peer-6", with `rules`) whose
 * links to them have the one-way latencies K5_JOINER_LATENCY_MS, so member 2 answers
 * fastest. Inside the mesh, member 2's link to member 4 is the slowest (30 ms), so member 2
 * drops member 4 when forced. Returns once the sixth peer holds its first link; `log`
 * holds the control traffic from the moment it was added.
 */
export function forceIntoFullK5(
  seed: number,
  rules: ConnectionRules,
  peer: Omit<PeerConfig, "random" | "lobby"> = {},
  /** Faults switched on for every link just before the sixth peer joins. */
  faults: Partial<LinkOptions> = {},
  /** Faults on the sixth peer's own links (on top of `faults`). */
  joinerFaults: Partial<LinkOptions> = {},
  /** Called once the links are set, before the sixth peer (at `joiner`) is added. */
  before?: (g: SimGrid, joiner: string) => void,
) {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4, ...peer } });
  g.sim.setLink("peer-2", "peer-4", { latencyMs: 30 });
  const members = mesh(g, 5);
  g.sim.runFor(1_500); // a pong from every neighbour: their link counts are known
  g.sim.setDefaultLink(faults);
  const addr = nextAddress(g);
  members.forEach((m, i) => g.sim.setLink(addr, m.address, { ...faults, ...joinerFaults, latencyMs: K5_JOINER_LATENCY_MS[i] as number }));
  const log = capture(g, [
    Kind.Join,
    Kind.JoinReply,
    Kind.Available,
    Kind.AvailableReply,
    Kind.Connect,
    Kind.ConnectReply,
    Kind.Force,
    Kind.ForceReply,
    Kind.Disconnect,
    Kind.ConnUpdate,
  ]);
  const events = linkEvents(g);
  const splits = watchSplits(g);
  const over = watchLimits(g);
  before?.(g, addr);
  const joinedAt = g.sim.now;
  const j = g.addPeer({ connectionRules: rules });
  g.runUntil(() => j.endpoint.linkPeers.length >= 1, 5_000, 1);
  return { g, members, j, log, events, splits, over, joinedAt };
}

export { Kind };

/**
 * An admitted member's own encoder: `msg` tagged under `node`'s grid key, as if `node`
 * sent it. For tests of what an insider (a peer holding the grid key) can and cannot do.
 */
export function sealAs(node: PeerNode, msg: Message): Uint8Array {
  const bytes = insiderOf(node.endpoint).seal(msg);
  if (bytes === undefined) throw new Error(`${node.address} has no grid key yet`);
  return bytes;
}

/** Placeholders for the link fields of PROTOCOL.md 6.13 (sealOnLinkAs stamps them). */
export const NO_AUTH = new Uint8Array(8);
export const NO_NONCE = new Uint8Array(8);

/** `msg` as `node` sends it on its link to `peer`: the link's next counter, the link auth, the grid tag. */
export function sealOnLinkAs(node: PeerNode, peer: number, msg: LinkMessage): Uint8Array {
  const bytes = insiderOf(node.endpoint).sealOnLink(peer, msg);
  if (bytes === undefined) throw new Error(`${node.address} has no link to ${peer}`);
  return bytes;
}

/** The lobby-signed ticket `node` shows when it opens a link. */
export function ticketOf(node: PeerNode): Uint8Array {
  return insiderOf(node.endpoint).ticket;
}
