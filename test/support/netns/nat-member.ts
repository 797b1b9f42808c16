/**
 * A scripted member that speaks the lobby side of NAT traversal (PROTOCOL.md 4.7) over a
 * real UDP socket, for the NAT suites: Hello (Retry, cookie), Welcome checked under the
 * pinned lobby key, CreateGrid or ListGrids, SelectGrid, Register (its link key sealed under
 * the session key), Introduce; everything the lobby sends it is kept, decoded. It stands
 * in for the peer of phase B, so the lobby's answers can be checked through real NATs now;
 * it does no punching (the peer's job). After the Welcome every request goes, and every
 * lobby message comes, in a session frame (PROTOCOL.md 6.10).
 */
import { createSocket, type Socket } from "node:dgram";
import type { KeyPair } from "../../../lib/security/crypto.ts";
import { beginHandshake, finishHandshake } from "../../../lib/security/handshake.ts";
import { deriveSessionMacKeys, SessionFramer } from "../../../lib/security/session-frame.ts";
import { sealLinkKey } from "../../../lib/security/link-key.ts";
import { NodeCrypto } from "../../../platform/node/node-crypto.ts";
import { decode, encode } from "../../../wire/codec.ts";
import { Kind, NatKind } from "../../../wire/kinds.ts";
import { MIN_HELLO_BYTES } from "../../../wire/limits.ts";
import type { AnyMessage } from "../../../wire/messages.ts";

const crypto = new NodeCrypto();
const REPLY_MS = 3000;

export interface NatMemberInfo {
  readonly grid: number;
  readonly peer: number;
  readonly observed: string;
  readonly ticket: string;
  readonly local: string;
}

export class NatMember {
  private readonly inbox: AnyMessage[] = [];
  private session = 0;
  private sessionKey: Uint8Array | undefined;
  private framer: SessionFramer | undefined;
  private req = 1;
  grid = 0;
  peer = 0;
  readonly linkKey: KeyPair = crypto.ed25519KeyPair();

  private constructor(
    private readonly socket: Socket,
    private readonly lobby: { host: string; port: number },
    private readonly lobbyKey: Uint8Array,
  ) {
    socket.on("message", (bytes, rinfo) => {
      if (`${rinfo.address}:${rinfo.port}` !== `${lobby.host}:${lobby.port}`) return;
      const d = decode(bytes, 1200, { natTraversal: true });
      if (!d.ok) return;
      if (d.msg.kind !== Kind.SessionFrame) this.inbox.push(d.msg);
      else if (this.framer?.open(bytes) === "fresh") {
        const inner = decode(d.msg.body, 1200, { natTraversal: true });
        if (inner.ok) this.inbox.push(inner.msg);
      }
    });
  }

  static async open(lobby: string, lobbyKeyHex: string): Promise<NatMember> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "0.0.0.0", resolve));
    const i = lobby.lastIndexOf(":");
    return new NatMember(socket, { host: lobby.slice(0, i), port: Number(lobby.slice(i + 1)) }, Buffer.from(lobbyKeyHex, "hex"));
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }

  /** Sends `msg`: bare before the Welcome (Hello), in a session frame after it. */
  private send(msg: AnyMessage): void {
    const bytes = this.framer === undefined ? encode(msg) : this.framer.frame(encode(msg));
    if (bytes === undefined) throw new Error("session frame counters spent");
    this.socket.send(bytes, this.lobby.port, this.lobby.host);
  }

  /** Waits for a message matching `pick` (removing it from the inbox), or throws after REPLY_MS. */
  private async reply<T extends AnyMessage>(what: string, pick: (m: AnyMessage) => m is T): Promise<T> {
    const deadline = performance.now() + REPLY_MS;
    for (;;) {
      const i = this.inbox.findIndex(pick);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as T;
      if (performance.now() > deadline) throw new Error(`no ${what} from the lobby within ${REPLY_MS} ms; got ${JSON.stringify(this.inbox.map((m) => m.kind))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The lobby's answer of `kind` to request `req` (an Error answer throws). */
  private async answer<K extends AnyMessage["kind"]>(req: number, kind: K): Promise<Extract<AnyMessage, { kind: K }>> {
    const r = await this.reply(`kind ${kind} for req ${req}`, (m): m is AnyMessage => (m as { req?: number }).req === req && (m.kind === kind || m.kind === Kind.Error));
    if (r.kind === Kind.Error) throw new Error(`lobby error ${r.code}: ${r.detail}`);
    return r as Extract<AnyMessage, { kind: K }>;
  }

  /** Handshake, grid, membership and registration; returns what the lobby said. */
  async join(gridName: string, create: boolean, locals: readonly string[]): Promise<NatMemberInfo> {
    const eph = beginHandshake(crypto);
    const hello = (req: number, cookie: Uint8Array): AnyMessage => {
      const base = { kind: Kind.Hello, req, name: "nat-member", cookie, eph: eph.publicKey, pad: new Uint8Array(0) } as const;
      return { ...base, pad: new Uint8Array(Math.max(0, MIN_HELLO_BYTES - encode(base).length)) };
    };
    const first = this.req++;
    this.send(hello(first, new Uint8Array(0)));
    const retry = await this.answer(first, Kind.Retry);
    const second = this.req++;
    this.send(hello(second, retry.cookie));
    const w = await this.answer(second, Kind.Welcome);
    const hs = finishHandshake(crypto, eph, { lobbyEph: w.eph, signature: w.signature, session: w.session }, this.lobbyKey);
    if (!hs.ok) throw new Error(`Welcome does not verify: ${hs.reason}`);
    this.session = w.session;
    this.sessionKey = hs.sessionKey;
    this.framer = SessionFramer.forPeer(deriveSessionMacKeys(crypto, hs.sessionKey), w.session);
    if (create) {
      const req = this.req++;
      this.send({ kind: Kind.CreateGrid, req, session: this.session, name: gridName, capacity: 0, limit: 4, meta: "" });
      this.grid = (await this.answer(req, Kind.GridCreated)).grid;
    } else {
      const req = this.req++;
      this.send({ kind: Kind.ListGrids, req, session: this.session, filter: gridName, offset: 0 });
      const found = (await this.answer(req, Kind.GridList)).grids.find((g) => g.name === gridName);
      if (found === undefined) throw new Error(`no grid ${gridName}`);
      this.grid = found.grid;
    }
    const selReq = this.req++;
    this.send({ kind: Kind.SelectGrid, req: selReq, session: this.session, grid: this.grid, limit: 4, part: 0, role: 0 });
    this.peer = (await this.answer(selReq, Kind.Members)).peer;
    const req = this.req++;
    const sealed = sealLinkKey(crypto, this.sessionKey, req, this.grid, this.peer, this.linkKey.publicKey);
    this.send({ kind: NatKind.Register, req, session: this.session, grid: this.grid, peer: this.peer, locals: locals.map((addr) => ({ addr })), sealed });
    const r = await this.answer(req, NatKind.Registered);
    return { grid: this.grid, peer: this.peer, observed: r.observed, ticket: Buffer.from(r.ticket).toString("hex"), local: `0.0.0.0:${this.port}` };
  }

  /** Introduce `targets`; returns the Introduced results. */
  async introduce(targets: readonly number[]): Promise<{ peer: number; status: number }[]> {
    const req = this.req++;
    this.send({ kind: NatKind.Introduce, req, session: this.session, grid: this.grid, peer: this.peer, targets: [...targets] });
    return (await this.answer(req, NatKind.Introduced)).results;
  }

  /** Introductions received so far (taken out of the inbox), after waiting up to `waitMs` for `min`. */
  async introductions(waitMs: number, min: number): Promise<AnyMessage[]> {
    const deadline = performance.now() + waitMs;
    const isIntro = (m: AnyMessage): boolean => m.kind === NatKind.Introduction;
    while (this.inbox.filter(isIntro).length < min && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const out = this.inbox.filter(isIntro);
    for (const m of out) this.inbox.splice(this.inbox.indexOf(m), 1);
    return out;
  }
}
