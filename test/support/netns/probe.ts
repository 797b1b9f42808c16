/**
 * A NAT probe in the manner of RFC 5780 (NAT behaviour discovery), over the bench's agents:
 * a reflector on the Internet with three addresses answers "who" with the source it saw, so
 * a client behind a NAT learns its mapped address towards two different remotes (mapping),
 * then the reflector sends to that mapping from the remote the client contacted, from the
 * same address on another port, and from an address the client never contacted (filtering).
 */
import type { Agent } from "./agent-client.ts";

/** The reflector's port on each of its addresses, and a second port on the first. */
export const REFLECTOR_PORT = 3478;
export const REFLECTOR_OTHER_PORT = 3479;
/** How long the probe waits for datagrams that should arrive (they take < 1 ms on the bench). */
export const PROBE_WAIT_MS = 1500;
/** How long it waits for datagrams that should not: long enough that a late one would be seen. */
export const QUIET_WAIT_MS = 400;

export interface Reflector {
  readonly agent: Agent;
  /** Socket ids: [addr0:3478, addr1:3478, addr0:3479, addr2:3478, addr2:3479]. */
  readonly sockets: readonly number[];
  readonly endpoints: readonly string[];
}

/** Opens the reflector's four sockets on an Internet host with (at least) three addresses. */
export async function startReflector(agent: Agent, addrs: readonly [string, string, string]): Promise<Reflector> {
  const endpoints = [
    `${addrs[0]}:${REFLECTOR_PORT}`,
    `${addrs[1]}:${REFLECTOR_PORT}`,
    `${addrs[0]}:${REFLECTOR_OTHER_PORT}`,
    `${addrs[2]}:${REFLECTOR_PORT}`,
    // Only for the unsolicited datagram sent before any outbound one: the conntrack entry it
    // leaves (30 s, unreplied) must not be one the filtering probe's senders then reuse.
    `${addrs[2]}:${REFLECTOR_OTHER_PORT}`,
  ];
  const sockets: number[] = [];
  for (const bind of endpoints) sockets.push((await agent.call<{ id: number }>("udp.open", { bind, echo: true })).id);
  return { agent, sockets, endpoints };
}

export interface NatProbe {
  /** The client's socket address inside its home. */
  readonly local: string;
  /**
   * What the reflector saw from the client on its first and second address, and from a third
   * endpoint that had sent the client an unsolicited datagram first (as the other side's
   * first Punch does in a simultaneous open).
   */
  readonly mapped: readonly [string, string, string];
  /** The same mapping towards all three remotes (RFC 4787 endpoint-independent mapping). */
  readonly independentMapping: boolean;
  /** Arrived from the remote the client sent to (every NAT lets this in). */
  readonly fromContacted: boolean;
  /** Arrived from the contacted address's other port (not for address and port-dependent filtering). */
  readonly fromOtherPort: boolean;
  /** Arrived from an address the client never sent to (only endpoint-independent filtering). */
  readonly fromOtherAddress: boolean;
  /** Arrived at the router's WAN address and the client's port before the client sent anything. */
  readonly beforeOutbound: boolean;
}

type Datagram = { from: string; text: string };

/**
 * Probes the NAT in front of `client`. Each probe uses a fresh socket (a new port), so a
 * conntrack entry left by an earlier probe cannot make a datagram look solicited.
 */
export async function probeNat(client: Agent, reflector: Reflector, wanAddress: string): Promise<NatProbe> {
  const r = reflector;
  const sock = await client.call<{ id: number; address: string }>("udp.open", {});
  const port = sock.address.slice(sock.address.lastIndexOf(":") + 1);
  try {
    // Unsolicited, before any outbound datagram: no NAT may let it in.
    await r.agent.call("udp.send", { id: r.sockets[4], to: `${wanAddress}:${port}`, text: "early" });
    const early = await client.call<Datagram[]>("udp.take", { id: sock.id, waitMs: QUIET_WAIT_MS, min: 1 });

    const seen: string[] = [];
    for (const i of [0, 1, 4]) {
      await client.call("udp.send", { id: sock.id, to: r.endpoints[i], text: "who" });
      const got = await client.call<Datagram[]>("udp.take", { id: sock.id, waitMs: PROBE_WAIT_MS, min: 1 });
      const reply = got.find((d) => d.text.startsWith("seen ") && d.from === r.endpoints[i]);
      if (reply === undefined) throw new Error(`no reflection from ${r.endpoints[i] as string} to ${client.host}: got ${JSON.stringify(got)}`);
      seen.push(reply.text.slice(5));
    }
    const mapping = seen[0] as string;
    const labels = ["contacted", "", "other-port", "other-address"];
    for (const i of [0, 2, 3]) await r.agent.call("udp.send", { id: r.sockets[i], to: mapping, text: labels[i] });
    // The contacted remote's datagram is the one that must come; then a quiet spell for the others.
    const inbound = await client.call<Datagram[]>("udp.take", { id: sock.id, waitMs: PROBE_WAIT_MS, min: 1 });
    inbound.push(...(await client.call<Datagram[]>("udp.take", { id: sock.id, waitMs: QUIET_WAIT_MS, min: 3 })));
    const arrived = (label: string, from: string | undefined): boolean => inbound.some((d) => d.text === label && d.from === from);
    return {
      local: sock.address,
      mapped: [seen[0] as string, seen[1] as string, seen[2] as string],
      independentMapping: seen[0] === seen[1] && seen[1] === seen[2],
      fromContacted: arrived("contacted", r.endpoints[0]),
      fromOtherPort: arrived("other-port", r.endpoints[2]),
      fromOtherAddress: arrived("other-address", r.endpoints[3]),
      beforeOutbound: early.length > 0,
    };
  } finally {
    await client.call("udp.close", { id: sock.id });
  }
}
