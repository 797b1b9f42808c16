/**
 * A lobby session driven by hand for the security bench: a sans-IO Lobby with node:crypto,
 * one peer's side of the handshake (Hello, Retry, Hello, Welcome verified), its session
 * frames, and a member in a grid, so the bench can feed the lobby framed requests at full
 * speed. No network: handleDatagram and pollTransmit directly.
 */
import { Lobby, type LobbyConfig } from "../../lib/lobby/index.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { beginHandshake, finishHandshake } from "../../lib/security/handshake.ts";
import { deriveSessionMacKeys, SessionFramer } from "../../lib/security/session-frame.ts";
import { decode, encode, Kind, MIN_HELLO_BYTES, type Message } from "../../wire/index.ts";
import { seededCrypto } from "./keys.ts";

const EMPTY = new Uint8Array(0);

export function hello(req: number, cookie: Uint8Array, eph: Uint8Array): Uint8Array {
  const base = { kind: Kind.Hello, req, name: "bench", cookie, eph, pad: EMPTY } as const;
  return encode({ ...base, pad: new Uint8Array(Math.max(0, MIN_HELLO_BYTES - encode(base).length)) });
}

/** Everything the lobby sent since the last call, decoded (a frame's body opened under `framer` when given). */
export function drain(lobby: Lobby, framer?: SessionFramer): Message[] {
  const out: Message[] = [];
  for (let t = lobby.pollTransmit(); t !== undefined; t = lobby.pollTransmit()) {
    const d = decode(t.bytes);
    if (!d.ok) continue;
    if (d.msg.kind === Kind.SessionFrame && framer !== undefined && framer.open(t.bytes) === "fresh") {
      const inner = decode(d.msg.body);
      if (inner.ok) out.push(inner.msg);
    } else out.push(d.msg);
  }
  while (lobby.pollEvent() !== undefined);
  return out;
}

export interface BenchSession {
  readonly lobby: Lobby;
  readonly addr: string;
  readonly session: number;
  readonly framer: SessionFramer;
  readonly grid: number;
  readonly peer: number;
}

/** A lobby, one session at `addr` and its member in a new grid. */
export function lobbySession(config: Partial<LobbyConfig> = {}, addr = "198.51.100.7:7000"): BenchSession {
  const crypto = seededCrypto(7);
  const lobby = new Lobby({ random: new SeededRandom(7), crypto: seededCrypto(8), ...config });
  const eph = beginHandshake(crypto);
  lobby.handleDatagram(0, addr, hello(1, EMPTY, eph.publicKey));
  const retry = drain(lobby).find((m) => m.kind === Kind.Retry);
  if (retry?.kind !== Kind.Retry) throw new Error("bench: no Retry");
  lobby.handleDatagram(0, addr, hello(2, retry.cookie, eph.publicKey));
  const w = drain(lobby).find((m) => m.kind === Kind.Welcome);
  if (w?.kind !== Kind.Welcome) throw new Error("bench: no Welcome");
  const r = finishHandshake(crypto, eph, { lobbyEph: w.eph, signature: w.signature, session: w.session }, lobby.publicKey);
  if (!r.ok) throw new Error("bench: the Welcome does not verify");
  const framer = SessionFramer.forPeer(deriveSessionMacKeys(crypto, r.sessionKey), w.session);
  const ask = (msg: Message): Message[] => {
    lobby.handleDatagram(0, addr, framer.frame(encode(msg)) as Uint8Array);
    return drain(lobby, framer);
  };
  const created = ask({ kind: Kind.CreateGrid, req: 3, session: w.session, name: "bench", capacity: 0, limit: 4, meta: "" })[0];
  if (created?.kind !== Kind.GridCreated) throw new Error("bench: no grid");
  const members = ask({ kind: Kind.SelectGrid, req: 4, session: w.session, grid: created.grid, limit: 4, part: 0, role: 0 })[0];
  if (members?.kind !== Kind.Members) throw new Error("bench: not admitted");
  return { lobby, addr, session: w.session, framer, grid: created.grid, peer: members.peer };
}
