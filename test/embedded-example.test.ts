/**
 * The "embedded host loop" example in platform/embedded/README.md cannot rot: its code
 * block must equal platform/embedded/example-host-loop.ts (which tsc checks), and that
 * code runs here as a game would: a few players on in-memory sockets around an embedded
 * lobby, one frame every 16 ms of virtual time, sharing their state every frame.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startNetworking, type EngineSocket } from "../platform/embedded/example-host-loop.ts";
import { createEmbeddedLobby } from "../platform/embedded/index.ts";
import { SeededRandom } from "../lib/rng.ts";
import { randomBytesFrom } from "../lib/security/crypto.ts";

/** A seeded stand-in for the engine's CSPRNG, so a failing run replays. */
const engineRandomBytes = (seed: number): ((n: number) => Uint8Array) => randomBytesFrom(new SeededRandom(seed));

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const MARKER = "// --- README example ---\n";

test("the READMEs' host loop is example-host-loop.ts, word for word (with the package import)", () => {
  const source = readFileSync(resolve(root, "platform/embedded/example-host-loop.ts"), "utf8");
  const example = source.slice(source.indexOf(MARKER) + MARKER.length).replace('from "./index.ts"', 'from "relaygrid/embedded"');
  for (const file of ["platform/embedded/README.md", "README.md"]) {
    const readme = readFileSync(resolve(root, file), "utf8");
    const block = /<!-- example: platform\/embedded\/example-host-loop\.ts[^\n]*-->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block !== undefined, `${file} has the example block after its marker`);
    assert.is(block, example, file);
  }
});

/** In-memory datagram sockets: each address has an inbox the engine polls once per frame. */
function memorySockets(): (address: string) => EngineSocket {
  const inboxes = new Map<string, { from: string; bytes: Uint8Array }[]>();
  return (address) => {
    inboxes.set(address, []);
    return {
      sendTo: (to, bytes) => inboxes.get(to)?.push({ from: address, bytes: bytes.slice() }),
      poll: () => inboxes.get(address)?.shift(),
    };
  };
}

test("the README's host loop runs: three players share state every frame and each gets the others' states exactly once", () => {
  const socketFor = memorySockets();
  const lobbySocket = socketFor("lobby");
  const lobby = createEmbeddedLobby({ randomBytes: engineRandomBytes(1), send: (to, bytes) => lobbySocket.sendTo(to, bytes) });
  const names = ["p1", "p2", "p3"];
  const got = new Map<string, Map<string, number>>();
  const frames = names.map((name, i) => {
    const seen = new Map<string, number>();
    got.set(name, seen);
    return startNetworking(socketFor(name), "lobby", engineRandomBytes(10 + i), (from, state) => {
      const k = `${from}:${Array.from(state).join(",")}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    });
  });
  const FRAME_MS = 16;
  for (let frame = 0; frame < 200; frame++) {
    const now = 5000 + frame * FRAME_MS;
    for (let d = lobbySocket.poll(); d !== undefined; d = lobbySocket.poll()) lobby.receive(now, d.from, d.bytes);
    lobby.update(now);
    // Each player's state: its index and the frame number (two bytes).
    frames.forEach((f, i) => f(now, frame >= 100 ? new Uint8Array([i, frame & 0xff]) : undefined));
  }
  for (const [name, seen] of got) {
    const origins = new Set([...seen.keys()].map((k) => k.split(":")[0]));
    assert.is(origins.size, 2, `${name} hears both other players`);
    for (const [k, n] of seen) assert.is(n, 1, `${name} got ${k} once`);
    assert.ok(seen.size >= 2 * 90, `${name} got ${seen.size} states`); // 100 frames each, the last few still in flight
  }
});

test.run();
