/**
 * Relaygrid paths for the udp-hop group, on 127.0.0.1: forwarding peers in this process
 * (joinGrid from platform/node, on the transport `udp` names: by default the runtime's
 * native one), the members at the path's ends and the lobby in the load process (udp-load.ts).
 *
 * Peers choose their links themselves, so the bench makes the grid small enough that the
 * links are forced: with n members of connection limit n - 1 it waits until every member
 * holds a link to every other (confirmed at both ends), the only saturated graph.
 *
 * - One hop: forwarder P and end members A and B, limit 2, so the triangle A-P-B. A sends to
 *   P, and P's default relay rules (not back to the sender, not to the origin) forward to its
 *   only other link, B. P runs the defaults a game would.
 * - Chain: forwarders F1, F2, F3 and one end member A, limit 3, so all 6 links exist, and a
 *   relay rule (lib/relay/rules.ts RelayRule, passed as relayRules) on each forwarder allows
 *   exactly one next hop: F1 -> F2 -> F3 -> A. A sends to F1 and the datagram comes back to
 *   A after 4 hops. (With limit 2 the four would have to settle into a square, and a fourth
 *   limit-2 peer joining a full triangle never gets a link: it stays "joining".)
 *
 * The bench's datagrams carry an origin id no member has, so "not to the origin" never cuts
 * a path short; the load process checks the hop byte of every arrival (1 relay for the hop,
 * 3 for the chain).
 */
import { UNLIMITED_LINK_BUDGET } from "./keys.ts";
import { joinGrid, type UdpTransportChoice } from "../../platform/node/index.ts";
import type { RelayContext, RelayRule } from "../../lib/relay/rules.ts";
import { writeRelay } from "../../wire/index.ts";
import type { LoadProcess } from "./udp-raw.ts";
import type { MemberInfo, MemberOptions } from "./udp-load.ts";

/** What a path needs of a forwarding peer (a NodePeer). */
export interface Forwarder {
  readonly id: number;
  address(): string;
  stats(): { links: readonly { peer: number; address: string }[] };
  close(timeoutMs?: number): Promise<void>;
}

/** Member options of both paths but the connection limit (members - 1). */
/**
 * Path members forward as fast as the hop can: the per-link data budget (2000 a second by
 * default, a policy, not a capacity) is raised out of the way; its take() still runs per
 * datagram, so the hop's cost is the shipped Peer's.
 */
export const PATH_MEMBER_OPTIONS = { seekIntervalMs: 100, joinWindowMs: 50, ...UNLIMITED_LINK_BUDGET } as const;

/** A relay rule that lets a forwarder send to one peer only, chosen once the links exist (0: none). */
function nextHopRule(): { rule: RelayRule; setNext(id: number): void } {
  let next = 0;
  return {
    rule: { name: "bench-next-hop", allow: (ctx: RelayContext): boolean => ctx.toPeer === next },
    setNext: (id) => void (next = id),
  };
}

export interface RelayPath {
  readonly grid: number;
  /** The load process's member that sends and the one that sinks (the same one for a loop). */
  readonly from: string;
  readonly to: string;
  /** The address the source sends to: a forwarder linked with `from`. */
  readonly firstHop: string;
  readonly forwarders: readonly Forwarder[];
  /** Relays a datagram has crossed when it reaches `to`. */
  readonly expectedHops: number;
  /** Attempts it took (a grid that did not settle into the cycle is closed and rebuilt). */
  readonly attempts: number;
  readonly settleMs: number;
  /** Connection limit of every member. */
  readonly limit: number;
  close(): Promise<void>;
}

export interface Lobby {
  readonly address: string;
  readonly publicKey: string;
}

/** Length of the bench's Data datagrams in `grid` (origin and seq in the uint32 form, tag included). */
export function relayDatagramBytes(grid: number, payloadBytes: number): number {
  return writeRelay(new Uint8Array(64 + payloadBytes), 0, 0, grid, 0xf000_0000, 0x10000, null, new Uint8Array(payloadBytes));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every member has a link to every other member, held at both ends. */
function isComplete(members: readonly { id: number; links: readonly { peer: number }[] }[]): boolean {
  const links = new Map(members.map((m) => [m.id, new Set(m.links.map((l) => l.peer))]));
  for (const [id, ls] of links) {
    if (ls.size !== members.length - 1) return false;
    for (const o of ls) if (links.get(o)?.has(id) !== true) return false;
  }
  return true;
}

/**
 * Builds the one-hop triangle (forwarders 1) or the 4-hop chain (forwarders 3). Throws after
 * `attempts` grids that did not settle within `settleTimeoutMs` each.
 */
export async function buildPath(
  load: LoadProcess,
  lobby: Lobby,
  name: string,
  forwarderCount: 1 | 3,
  options: { attempts?: number; settleTimeoutMs?: number; udp?: UdpTransportChoice } = {},
): Promise<RelayPath> {
  const ends = forwarderCount === 1 ? ["A", "B"] : ["A"];
  const limit = forwarderCount + ends.length - 1;
  const memberOptions: MemberOptions = { ...PATH_MEMBER_OPTIONS, connectionLimit: limit };
  const attempts = options.attempts ?? 3;
  const timeout = options.settleTimeoutMs ?? 6000;
  let lastState = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const grid = `${name}-${attempt}`;
    const t0 = performance.now();
    const forwarders: Forwarder[] = [];
    const rules = forwarderCount > 1 ? Array.from({ length: forwarderCount }, nextHopRule) : [];
    const close = async (): Promise<void> => {
      await Promise.all([load.call({ op: "leave", prefix: `${name}-` }), ...forwarders.map((f) => f.close(1000))]);
    };
    const join = (end: string): Promise<unknown> =>
      load.call({ op: "join", name: `${name}-${end}`, grid, lobby: lobby.address, lobbyKey: lobby.publicKey, options: memberOptions });
    try {
      await join(ends[0] as string);
      for (let i = 0; i < forwarderCount; i++) {
        const rule = rules[i]?.rule;
        const common = { lobby: lobby.address, lobbyKey: lobby.publicKey, grid, ...memberOptions, ...(rule === undefined ? {} : { relayRules: [rule] }) };
        const f: Forwarder = await joinGrid({ ...common, create: true, host: "127.0.0.1", udp: options.udp ?? "auto" });
        forwarders.push(f);
      }
      if (ends[1] !== undefined) await join(ends[1]);
      while (performance.now() - t0 < timeout) {
        const remote = await load.call<MemberInfo[]>({ op: "members", prefix: `${name}-` });
        const local = forwarders.map((f) => ({ id: f.id, links: f.stats().links }));
        const all = [...remote, ...local];
        lastState = all.map((m) => `${m.id}:[${m.links.map((l) => l.peer).join(",")}]`).join(" ");
        if (isComplete(all)) {
          const from = remote.find((m) => m.name === `${name}-A`) as MemberInfo;
          const to = remote.find((m) => m.name === `${name}-${ends[1] ?? "A"}`) as MemberInfo;
          // The chain: F1 -> F2 -> F3 -> A.
          rules.forEach((r, i) => r.setNext(forwarders[i + 1]?.id ?? from.id));
          return {
            grid: from.grid,
            from: from.name,
            to: to.name,
            firstHop: forwarders[0]?.address() as string,
            forwarders,
            expectedHops: forwarderCount,
            attempts: attempt,
            settleMs: performance.now() - t0,
            limit,
            close,
          };
        }
        await sleep(50);
      }
    } catch (e) {
      await close();
      throw e;
    }
    await close();
  }
  throw new Error(`udp-hop: the ${name} grid did not settle into ${forwarderCount + ends.length} fully linked members in ${attempts} tries of ${timeout} ms (last: ${lastState})`);
}
