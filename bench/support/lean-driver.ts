/**
 * A bench-only driver loop for one Peer, to split the udp-hop gap between the Peer and the
 * Node driver (platform/node/endpoint-driver.ts): the same sans-IO Peer, the same socket
 * calls, but none of the driver's per-datagram extras. Per received datagram the Node driver
 * formats the sender's address, wraps handleDatagram and the drain in closures, parses every
 * destination address, sends with a completion callback (a nextTick per datagram, for
 * flushed()) and hands every event to NodePeer (an emit and an info object per delivery).
 * Here: source addresses cached by port, destinations cached by address string, sends without
 * a callback, events dropped but "joined". It is what a tighter driver could do; it is not a
 * product (no error reporting, IPv4 loopback only).
 */
import { createSocket, type Socket } from "node:dgram";
import { Peer } from "../../lib/peer/peer.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import { CryptoRandom } from "../../platform/node/crypto-random.ts";
import { NodeCrypto } from "../../platform/node/node-crypto.ts";

const HOST = "127.0.0.1";

export interface LeanPeer {
  readonly id: number;
  address(): string;
  stats(): { links: readonly { peer: number; address: string }[] };
  close(): Promise<void>;
}

export interface LeanOptions extends Omit<PeerConfig, "lobby" | "random" | "lobbyKey"> {
  lobby: string;
  lobbyKey: string;
  grid: string;
  joinTimeoutMs?: number;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export async function joinLean(o: LeanOptions): Promise<LeanPeer> {
  const { lobby, lobbyKey, grid, joinTimeoutMs = 10_000, ...config } = o;
  const peer = new Peer({ crypto: new NodeCrypto(), ...config, lobby, lobbyKey: hex(lobbyKey), random: new CryptoRandom() });
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, HOST, () => resolve(s));
  });
  const self = `${HOST}:${socket.address().port}`;
  const fromByPort = new Map<number, string>();
  const toByAddress = new Map<string, number>();
  let joined: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let armedAt: number | undefined;
  let stopped = false;

  const drain = (): void => {
    for (let t = peer.pollTransmit(); t !== undefined; t = peer.pollTransmit()) {
      let port = toByAddress.get(t.to);
      if (port === undefined) {
        port = Number(t.to.slice(t.to.lastIndexOf(":") + 1));
        if (!t.to.startsWith(`${HOST}:`) || !(port > 0)) continue; // loopback only
        toByAddress.set(t.to, port);
      }
      socket.send(t.bytes, port, HOST);
    }
    for (let e = peer.pollEvent(); e !== undefined; e = peer.pollEvent()) if (e.type === "joined") joined?.();
    const at = peer.pollTimeout();
    if (stopped || (at === armedAt && timer !== undefined)) return;
    if (timer !== undefined) clearTimeout(timer);
    armedAt = at;
    timer = at === undefined ? undefined : setTimeout(onTimer, Math.max(0, Math.ceil(at - performance.now())));
  };
  function onTimer(): void {
    timer = undefined;
    armedAt = undefined;
    if (stopped) return;
    peer.handleTimeout(performance.now());
    drain();
  }
  socket.on("message", (msg: Uint8Array, rinfo: { port: number }) => {
    let from = fromByPort.get(rinfo.port);
    if (from === undefined) fromByPort.set(rinfo.port, (from = `${HOST}:${rinfo.port}`));
    peer.handleDatagram(performance.now(), from, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    drain();
  });

  const done = new Promise<void>((resolve, reject) => {
    joined = resolve;
    setTimeout(() => reject(new Error(`lean peer: not joined within ${joinTimeoutMs} ms`)), joinTimeoutMs).unref?.();
  });
  peer.join(performance.now(), { grid, create: true });
  drain();
  try {
    await done;
  } catch (e) {
    stopped = true;
    clearTimeout(timer);
    socket.close();
    throw e;
  }
  return {
    id: peer.id,
    address: () => self,
    stats: () => peer.stats(),
    close: async () => {
      if (stopped) return;
      peer.leave(performance.now());
      drain();
      await new Promise((r) => setTimeout(r, 50));
      stopped = true;
      clearTimeout(timer);
      socket.close();
    },
  };
}
