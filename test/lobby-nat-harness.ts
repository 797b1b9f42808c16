/**
 * NAT traversal on top of the lobby harness (not a suite): a scripted member that makes an
 * Ed25519 link key, registers it sealed under its session key (PROTOCOL.md 6.9) with its
 * local addresses, and asks for introductions. Used by test/lobby-nat*.test.ts.
 */
import * as assert from "uvu/assert";
import type { KeyPair } from "../lib/security/crypto.ts";
import { sealLinkKey } from "../lib/security/link-key.ts";
import { NatKind } from "../wire/kinds.ts";
import type { AnyMessage, NatMessageOf } from "../wire/messages.ts";
import type { LobbyConfig } from "../lib/lobby/index.ts";
import { Client, expectKind, Harness } from "./lobby-harness.ts";

export class NatClient extends Client {
  readonly linkKey: KeyPair;
  peer = 0;
  grid = 0;

  constructor(h: Harness, addr: string) {
    super(h, addr);
    this.linkKey = h.peerCrypto.ed25519KeyPair();
  }

  /** Hello, then SelectGrid of `grid`: a member, as a peer is after its first Members. */
  join(grid: number, limit = 4): this {
    this.hello();
    this.grid = grid;
    this.peer = this.select(grid, limit).peer;
    return this;
  }

  /** Register: the replies (Registered, or an Error). `key` defaults to this client's link key. */
  register(locals: string[] = [], key: Uint8Array = this.linkKey.publicKey, req = this.req()): AnyMessage[] {
    assert.ok(this.sessionKey !== undefined, "no session");
    const sealed = sealLinkKey(this.h.peerCrypto, this.sessionKey, req, this.grid, this.peer, key);
    return this.send(NatKind.Register, { grid: this.grid, peer: this.peer, locals: locals.map((addr) => ({ addr })), sealed }, req);
  }

  /** Register, expecting Registered. */
  registered(locals: string[] = []): NatMessageOf<typeof NatKind.Registered> {
    const r = this.register(locals);
    assert.is(r.length, 1, JSON.stringify(r));
    return expectKind(r[0], NatKind.Registered);
  }

  /** Introduce `targets`: every reply to this client (its Introductions, then Introduced). */
  introduce(targets: number[], req = this.req()): AnyMessage[] {
    return this.send(NatKind.Introduce, { grid: this.grid, peer: this.peer, targets }, req);
  }
}

/** `n` registered members of `grid` at 198.18.x.y:4000 (each its own public address). */
export function registeredMembers(h: Harness, grid: number, n: number, prefix = "198.18"): NatClient[] {
  const out: NatClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = new NatClient(h, `${prefix}.${Math.floor(i / 200) + 1}.${(i % 200) + 1}:4000`).join(grid);
    c.registered();
    out.push(c);
  }
  return out;
}

/** A harness with `config` and one grid, "arena", created by a session that never joins it. */
export function natGrid(config: Partial<LobbyConfig> = {}): { h: Harness; grid: number } {
  const h = new Harness(config);
  const owner = new Client(h, "198.18.200.1:1");
  owner.hello();
  return { h, grid: owner.create("arena") };
}
