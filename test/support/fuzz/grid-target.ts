/**
 * Fuzz targets "peer" and "lobby": hostile datagrams at one endpoint of a small simulated
 * grid (a real Lobby and real Peers, test/support/sim-grid.ts), a settled member or a
 * newcomer in the middle of its handshake and join (the peer target), from its links, from
 * members it is not linked to, from the lobby's address, from strangers and from the
 * address a captured datagram really came from. Some are sealed with the grid key first
 * (an insider, or garbage that passes the tag check), so mutated bytes reach the decoder
 * and the handlers behind the tag (PROTOCOL.md 6.7).
 *
 * Properties (STYLE.md 10; issue 6, points 4 and 5):
 *   - nothing throws (the simulator turns a throw in any endpoint into a failed run; the
 *     lobby's own catch-all must never fire: drops["internal-error"] stays 0);
 *   - after every batch: no peer over its connection limit, no (origin, seq) delivered
 *     twice to a peer, every table of every peer and the lobby's footprint() under its cap,
 *     and the lobby's books balance (datagramsIn = accepted + drops);
 *   - afterwards the grid heals, a new peer can still join (lobby target), and a broadcast
 *     from every member reaches every other member exactly once.
 *
 * Every world is built from one fixed seed, so the datagrams captured while building it
 * (the mutation corpus) carry tags that verify in every run's world, and a replay is exact.
 */
import fc from "fast-check";
import type { Address } from "../../../lib/endpoint.ts";
import type { LobbyConfig } from "../../../lib/lobby/config.ts";
import { writeTag } from "../../../lib/security/grid-keys.ts";
import { isEnvelopeKind, Kind, type KindValue, newRelayHeader, readRelay, RELAY_HOPS_OFFSET, TAG_FIELD_BYTES } from "../../../wire/index.ts";
import { broadcastFrom, captureRaw, notExactlyOnce, ticketOf, watchLimits } from "../peer-scenarios.ts";
import { LOBBY, SimGrid, type PeerNode } from "../sim-grid.ts";
import { lobbyTables, outstandingRequests, overCap, peerAccounting, peerTables, type LobbyCaps } from "./bounds.ts";
import { insiderOf } from "../../../lib/peer/insider.ts";
import { fromHex, payloadArb, payloadBytes, toHex, vectorCorpus, type Payload, type Resolver } from "./inputs.ts";
import type { FuzzTarget } from "./target.ts";

const Role = ["link", "member", "lobby", "stranger", "orig", "self"] as const;
type Role = (typeof Role)[number];

export type Step =
  | { readonly t: "shot"; readonly role: Role; readonly i: number; readonly payload: Payload; readonly seal: boolean }
  | { readonly t: "advance"; readonly ms: number }
  | { readonly t: "broadcast"; readonly who: number };

/** `joiner`: the peer under attack is a newcomer that joins while the batches run (handshake, admission, join round). */
export interface GridInput {
  readonly joiner: boolean;
  readonly batches: readonly (readonly Step[])[];
}

export const LOBBY_CAPS: LobbyCaps = {
  maxSessions: 24,
  maxTrackedSources: 32,
  maxGrids: 8,
  maxMembersPerGrid: 16,
  maxQueuedTransmits: 512,
  maxQueuedEvents: 512,
};

interface WorldSpec {
  readonly seed: number;
  readonly peers: number;
  readonly lobby?: Omit<LobbyConfig, "random">;
  readonly peer: { connectionLimit: number; maxTrackedStrangers?: number };
}

const PEER_WORLD: WorldSpec = { seed: 0x5eed01, peers: 5, peer: { connectionLimit: 3, maxTrackedStrangers: 8 } };
const LOBBY_WORLD: WorldSpec = { seed: 0x5eed02, peers: 4, peer: { connectionLimit: 3 }, lobby: { ...LOBBY_CAPS } };

const STRANGERS = 64;
const strangerAddress = (i: number): Address => `10.66.${i % STRANGERS}.1:4000`;

interface Captured {
  readonly from: Address;
  readonly bytes: Uint8Array;
}

/** One run: a fresh world, the lines it executed, and the checks. */
class GridRun {
  readonly g: SimGrid;
  readonly victim: PeerNode | undefined;
  readonly lines: string[] = [];
  private readonly violations: string[];
  private readonly header = newRelayHeader();

  constructor(
    readonly spec: WorldSpec,
    readonly target: "peer" | "lobby",
    joiner: boolean,
    capture?: Captured[],
  ) {
    this.g = new SimGrid({ seed: spec.seed, peer: spec.peer, lobby: spec.lobby });
    this.g.keepEvents = false;
    const raw = capture === undefined ? undefined : captureRaw(this.g, () => true);
    for (let i = 0; i < spec.peers; i++) this.g.addPeer();
    this.g.settle(2);
    this.g.sim.runFor(1_500);
    for (const p of this.g.live()) broadcastFrom(p);
    this.g.sim.runFor(500);
    this.g.taps.length = 0;
    if (capture !== undefined && raw !== undefined) capture.push(...raw);
    if (joiner) this.lines.push("joiner");
    this.victim = target === "lobby" ? undefined : joiner ? this.g.addPeer() : this.g.at("peer-1");
    this.violations = watchLimits(this.g);
    this.g.listeners.push((address, e) => {
      if (e.type !== "data") return;
      const n = this.g.delivered(address, e.origin, e.seq);
      if (n > 1) this.violations.push(`${address} got ${e.origin}:${e.seq} ${n} times`);
    });
  }

  private members(): PeerNode[] {
    return this.g.live().filter((p) => p !== this.victim);
  }

  /** The address a role stands for at this moment. */
  address(role: Role, i: number, orig: Address | undefined): Address {
    const v = this.victim;
    const linked = v === undefined ? [] : [...v.endpoint.linkPeers].sort((a, b) => a - b).map((id) => this.g.byId(id).address);
    const members = this.members().map((p) => p.address).filter((a) => !linked.includes(a));
    switch (role) {
      case "link":
        return linked.length > 0 ? (linked[i % linked.length] as Address) : strangerAddress(i);
      case "member":
        return members.length > 0 ? (members[i % members.length] as Address) : strangerAddress(i);
      case "lobby":
        return LOBBY;
      case "stranger":
        return strangerAddress(i);
      case "orig":
        return orig ?? strangerAddress(i);
      case "self":
        return v?.address ?? LOBBY;
    }
  }

  readonly resolver: Resolver = {
    grid: () => this.g.gridId,
    member: (i) => {
      const ids = this.g.live().map((p) => p.endpoint.id);
      return ids[i % ids.length] ?? 1;
    },
    self: () => this.victim?.endpoint.id ?? 1,
    ticket: (i) => {
      const live = this.g.live();
      const p = live[i % live.length];
      return p === undefined ? new Uint8Array(0) : ticketOf(p);
    },
    session: (i) => {
      const live = this.g.live();
      const p = live[i % live.length];
      return p === undefined ? 0 : insiderOf(p.endpoint).session;
    },
    addr: (i) => {
      const all = [...this.g.live().map((p) => p.address), LOBBY, strangerAddress(0)];
      return all[i % all.length] as string;
    },
    req: (i) => {
      const reqs = this.victim === undefined ? [] : outstandingRequests(this.victim);
      return reqs.length === 0 ? i : (reqs[i % reqs.length] as number);
    },
  };

  /**
   * Seals `bytes` under the victim's current grid key (its last 11 bytes become a valid tag),
   * except relay data naming a real member as origin: an insider can forge that (PROTOCOL.md
   * 6.8), and it would take the real message's place, which is not what this checks.
   */
  seal(bytes: Uint8Array): void {
    const v = this.victim;
    if (v === undefined || bytes.length < TAG_FIELD_BYTES + 3) return;
    const keyring = insiderOf(v.endpoint).keyring;
    if (keyring.currentEpoch === undefined) return;
    const kind = bytes[2] as number;
    const isData = bytes[0] === 0x99 && bytes[1] === 1 && isEnvelopeKind(kind);
    if (isData && readRelay(bytes, this.header, kind) === null && this.g.live().some((p) => p.endpoint.id === this.header.origin)) return;
    writeTag(keyring, bytes, bytes.length - TAG_FIELD_BYTES, isData ? RELAY_HOPS_OFFSET : -1);
  }

  shot(from: Address, bytes: Uint8Array): void {
    this.lines.push(`shot ${from} ${toHex(bytes)}`);
    if (this.victim !== undefined) this.victim.with((p, now) => p.handleDatagram(now, from, bytes));
    else this.g.lobby.with((l, now) => l.handleDatagram(now, from, bytes));
  }

  advance(ms: number): void {
    this.lines.push(`advance ${ms}`);
    this.g.sim.runFor(ms);
  }

  broadcast(address: Address): void {
    this.lines.push(`broadcast ${address}`);
    const p = this.g.live().find((x) => x.address === address);
    if (p !== undefined) broadcastFrom(p);
  }

  /** The invariants that hold after every batch. */
  endBatch(): void {
    this.lines.push("batch");
    this.checkInvariants();
  }

  private checkInvariants(): void {
    const bad = [...this.violations];
    for (const p of this.g.live()) for (const o of overCap(peerTables(p, this.spec.peer))) bad.push(`${p.address}: ${o}`);
    // Every peer, the victim first: each datagram it took was accepted or dropped under one reason.
    for (const p of this.g.peers) for (const o of peerAccounting(p)) bad.push(`${p.address}: ${o}`);
    if (this.target === "lobby") {
      const s = this.g.lobby.endpoint.stats();
      const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
      if (s.datagramsIn !== s.accepted + drops) bad.push(`lobby: datagramsIn ${s.datagramsIn} != accepted ${s.accepted} + drops ${drops}`);
      if ((s.drops["internal-error"] ?? 0) > 0) bad.push(`lobby: a handler threw (${s.drops["internal-error"]} internal-error drops)`);
      for (const o of overCap(lobbyTables(this.g.lobby.endpoint, LOBBY_CAPS))) bad.push(`lobby: ${o}`);
    }
    if (bad.length > 0) throw new Error(`invariants after batch ${this.lines.filter((l) => l === "batch").length}: ${bad.join("; ")}`);
  }

  /** The grid heals, a newcomer can join (lobby target), and every member's broadcast reaches everyone once. */
  finish(): void {
    this.g.sim.runFor(5_000);
    // A join that a forged lobby Error or Welcome refused (unauthenticated lobby messages,
    // PROTOCOL.md 6.8) ends in "idle" with an error event: the application tries again.
    const v = this.victim;
    if (v !== undefined && v.endpoint.phase === "idle") v.with((p, now) => p.join(now, { grid: "arena", create: true }));
    this.g.settle(2, 40_000);
    if (this.target === "lobby") {
      this.g.addPeer();
      this.g.settle(2, 20_000);
    }
    const sent = this.g.live().map((p) => broadcastFrom(p));
    this.g.sim.runFor(1_000);
    const missed = notExactlyOnce(this.g, sent);
    if (missed.length > 0) throw new Error(`after the fuzz: ${missed.slice(0, 6).join("; ")}`);
    this.checkInvariants();
  }
}

function corpusFor(spec: WorldSpec, target: "peer" | "lobby"): { bytes: Uint8Array[]; from: Address[] } {
  const captured: Captured[] = [];
  new GridRun(spec, target, false, captured);
  // The lobby target mutates what peers send the lobby; the peer target everything it saw.
  const chosen = target === "lobby" ? captured.filter((c) => c.bytes[2] !== undefined && c.bytes[2] >= 0x20 && c.bytes[2] < 0x30) : captured;
  const seen = new Set<string>();
  const out = { bytes: [] as Uint8Array[], from: [] as Address[] };
  for (const v of vectorCorpus()) {
    out.bytes.push(v);
    out.from.push(LOBBY);
  }
  for (const c of chosen) {
    const key = `${c.from} ${toHex(c.bytes)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.bytes.push(c.bytes);
    out.from.push(c.from);
  }
  return out;
}

const ALL = Object.values(Kind) as KindValue[];
/** What a peer is sent: peer <-> peer kinds, and the lobby's replies (forged at its address). */
const PEER_KINDS = ALL.filter((k) => isEnvelopeKind(k) || (k >= 0x10 && k <= 0x1f) || k >= 0x40);
const LOBBY_KINDS = ALL.filter((k) => k >= 0x20 && k <= 0x2f);

function stepArb(roles: readonly Role[], kinds: readonly KindValue[], sealable: boolean): fc.Arbitrary<Step> {
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc.record({
        t: fc.constant("shot" as const),
        role: fc.constantFrom(...roles),
        i: fc.nat(STRANGERS - 1),
        payload: payloadArb(kinds),
        seal: sealable ? fc.boolean() : fc.constant(false),
      }),
    },
    // Mostly short steps: a joining peer's requests are outstanding for a round trip or two.
    { weight: 1, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 30 }) }, fc.integer({ min: 1, max: 400 })) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("broadcast" as const), who: fc.nat(7) }) },
  );
}

function gridTarget(name: "peer" | "lobby", spec: WorldSpec, roles: readonly Role[], kinds: readonly KindValue[]): FuzzTarget<GridInput> {
  let corpus: { bytes: Uint8Array[]; from: Address[] } | undefined;
  const run = (input: GridInput, into?: { lines: string[] }): void => {
    corpus ??= corpusFor(spec, name);
    const c = corpus;
    const r = new GridRun(spec, name, input.joiner);
    if (into !== undefined) into.lines = r.lines;
    for (const batch of input.batches) {
      for (const step of batch) {
        if (step.t === "advance") r.advance(step.ms);
        else if (step.t === "broadcast") {
          const live = r.g.live();
          r.broadcast((live[step.who % live.length] as PeerNode).address);
        } else {
          const bytes = payloadBytes(step.payload, c.bytes, r.resolver);
          if (step.seal) r.seal(bytes);
          const orig = step.payload.t === "mutated" || step.payload.t === "replayed" ? c.from[step.payload.base % c.from.length] : undefined;
          r.shot(r.address(step.role, step.i, orig), bytes);
        }
      }
      r.endBatch();
    }
    r.finish();
  };
  return {
    name,
    arbitrary: fc.record({
      joiner: name === "peer" ? fc.boolean() : fc.constant(false),
      batches: fc.array(fc.array(stepArb(roles, [...kinds, ...ALL], name === "peer"), { minLength: 1, maxLength: 40, size: "max" }), { minLength: 1, maxLength: 3 }),
    }),
    check(input) {
      run(input);
    },
    describe(input) {
      const into = { lines: [] as string[] };
      try {
        run(input, into);
      } catch {
        // The lines up to the failure are the counterexample.
      }
      return into.lines;
    },
    replay(lines) {
      const r = new GridRun(spec, name, lines[0] === "joiner");
      for (const line of lines) {
        const [what, a, b] = line.split(" ");
        if (what === "shot") r.shot(a as string, fromHex(b ?? ""));
        else if (what === "advance") r.advance(Number(a));
        else if (what === "broadcast") r.broadcast(a as string);
        else if (what === "batch") r.endBatch();
        else if (what === "joiner") continue;
        else throw new Error(`unknown replay line: ${line}`);
      }
      r.finish();
    },
  };
}

export const peerTarget = gridTarget("peer", PEER_WORLD, Role, PEER_KINDS);
export const lobbyTarget = gridTarget("lobby", LOBBY_WORLD, ["member", "stranger", "orig", "self"], LOBBY_KINDS);
