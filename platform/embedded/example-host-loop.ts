// The embedded host loop from platform/embedded/README.md, kept here so it type-checks and
// test/embedded.test.ts runs it: the README's code block must equal the text below the marker.
// --- README example ---
import { createEmbeddedPeer } from "./index.ts";

/** What the engine already has: a UDP socket it polls each frame. */
export interface EngineSocket {
  sendTo(address: string, bytes: Uint8Array): void;
  poll(): { from: string; bytes: Uint8Array } | undefined; // bytes: a fresh buffer per datagram
}

export function startNetworking(socket: EngineSocket, lobby: string, randomBytes: (n: number) => Uint8Array, onState: (from: number, state: Uint8Array) => void) {
  let joined = false;
  const peer = createEmbeddedPeer({
    lobby, // "10.0.0.5:7777", or whatever handle your socket layer understands
    randomBytes, // the platform's CSPRNG: every key comes from it (a seed never does)
    connectionLimit: 4,
    send: (address, bytes) => socket.sendTo(address, bytes),
    onData: (payload, info) => onState(info.origin, payload.slice()), // slice: payload is a view
    onEvent: (e) => { if (e.type === "joined") joined = true; },
  });

  // Call once per frame with the engine's clock (ms); pass this frame's state to share it.
  return function frame(now: number, state?: Uint8Array): void {
    if (peer.phase === "idle") peer.join({ grid: "arena", create: true }, now); // again after an "error" event
    for (let d = socket.poll(); d !== undefined; d = socket.poll()) peer.receive(now, d.from, d.bytes);
    if (state !== undefined && joined) peer.broadcast(state, now);
    peer.update(now); // fires due timers (pings, retries); nextDeadline() says when it next matters
  };
}
