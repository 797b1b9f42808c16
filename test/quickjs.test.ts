/**
 * Issue 7, point 3: the embedded bundle proven inside QuickJS. A Node test host creates two
 * QuickJS contexts (quickjs-emscripten), loads dist/relaygrid.embedded-peer.js into each
 * with nothing but the host functions send, log and hostRandomBytes (the engine's CSPRNG:
 * keys come from it, issue 18 item 1), bridges each to a real UDP socket on
 * 127.0.0.1, and drives it with a frame loop calling update(now) on the host's clock. They
 * join one grid through a Node lobby together with a Node peer, and broadcasts go both
 * ways, each delivered exactly once. Bounded in time; every socket, context and runtime
 * is closed or disposed at the end.
 *
 * The Node side is relaygrid/node itself: createLobby and joinGrid on 127.0.0.1, port 0.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { getQuickJS, type QuickJSWASMModule } from "quickjs-emscripten";
import type { LobbyEvent } from "../lib/lobby/events.ts";
import { SeededRandom } from "../lib/rng.ts";
import { createLobby, joinGrid } from "../platform/node/index.ts";
import { forbiddenReferences, loadBundle } from "./support/quickjs-bundle.ts";
import { QuickJsPeerHost } from "./support/quickjs-peer-host.ts";

const FRAME_MS = 5;
const JOIN_WITHIN_MS = 5000;
const DELIVER_WITHIN_MS = 3000;

let bundle = "";
/** The peer-only bundle: what a console loads; the VM peers below run it. */
let peerBundle = "";
let QuickJS: QuickJSWASMModule;

test.before(async () => {
  bundle = await loadBundle("full");
  peerBundle = await loadBundle("peer");
  QuickJS = await getQuickJS();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every frame until it holds; fails with `describe()` after `withinMs`. */
async function until(done: () => boolean, withinMs: number, describe: () => string): Promise<void> {
  const end = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > end) assert.unreachable(`not within ${withinMs} ms: ${describe()}`);
    await sleep(FRAME_MS);
  }
}

test("the embedded bundles name no module loader, Node built-in, timer, clock, process or Buffer", () => {
  assert.equal(forbiddenReferences(bundle), []);
  assert.equal(forbiddenReferences(peerBundle), []);
  // A size guard, not a target: 245,937 bytes (minified) with NAT traversal, redundancy lists
  // + repair (issue 12), messages (issue 14) and issue 15's session frames, quotas and budgets
  // in it; a jump past 266 KB means something pulled in too much. Origin signatures
  // (originAuth, PROTOCOL.md 4.1.4) added 2,730 bytes (263,870 -> 266,600): the guard was 270 KB.
  // Issue 13's birthday probing (lib/peer/birthday.ts) adds about 2,200 bytes: the guard is 272 KB.
  assert.ok(bundle.length < 272_000, `bundle is ${bundle.length} bytes`);
});

test("issue 18 item 6: the peer-only bundle leaves the lobby out (~30 KB smaller) and still loads in a bare context", async () => {
  assert.ok(bundle.includes("createEmbeddedLobby"));
  assert.not.ok(peerBundle.includes("createEmbeddedLobby"), "no lobby in the peer bundle");
  assert.ok(bundle.length - peerBundle.length > 20_000, `full ${bundle.length} B, peer ${peerBundle.length} B`);
  const host = new QuickJsPeerHost(QuickJS, "peer-probe");
  try {
    host.evalString(peerBundle + "\n''");
    assert.is(host.evalString("typeof relaygrid.createEmbeddedPeer"), "function");
    assert.is(host.evalString("typeof relaygrid.createEmbeddedLobby"), "undefined");
  } finally {
    await host.dispose();
  }
});

test("a bare QuickJS context has no TextEncoder or timers; the bundle loads there and installs its UTF-8 fallback", async () => {
  const host = new QuickJsPeerHost(QuickJS, "probe");
  try {
    for (const [name, type] of Object.entries(host.globalsTypeof())) assert.is(type, "undefined", `${name} in a bare context`);
    host.evalString(bundle + "\n''");
    assert.is(host.evalString("typeof relaygrid.createEmbeddedPeer"), "function");
    assert.is(host.evalString("String(relaygrid.textCodecPolyfilled)"), "true");
    assert.is(host.evalString("new TextDecoder().decode(new TextEncoder().encode('h\\u00e9 \\ud83c\\udfae'))"), "hé 🎮");
  } finally {
    await host.dispose();
  }
});

test("issue 7: two QuickJS peers and a Node peer join one grid through a Node lobby over UDP; broadcasts go both ways exactly once", async () => {
  const closers: (() => Promise<void>)[] = [];
  try {
    const lobbyEvents: LobbyEvent[] = [];
    const lobby = await createLobby({ host: "127.0.0.1", port: 0, random: new SeededRandom(7) });
    closers.push(() => lobby.close());
    lobby.on("event", (e) => lobbyEvents.push(e));

    const vms = [new QuickJsPeerHost(QuickJS, "qjs-a"), new QuickJsPeerHost(QuickJS, "qjs-b")];
    for (const [i, vm] of vms.entries()) {
      closers.push(() => vm.dispose());
      await vm.start(peerBundle, lobby.address(), 100 + i, FRAME_MS);
    }
    const nodeGot: { origin: number; text: string }[] = [];
    const node = await joinGrid({
      lobby: lobby.address(),
      grid: "arena",
      create: true,
      connectionLimit: 4,
      random: new SeededRandom(8),
      joinTimeoutMs: JOIN_WITHIN_MS,
    });
    closers.push(() => node.close());
    node.on("data", (payload, info) => nodeGot.push({ origin: info.origin, text: new TextDecoder().decode(payload) }));
    const describe = (): string =>
      JSON.stringify({
        node: { id: node.id, links: node.stats().links.length, got: nodeGot },
        vms: vms.map((vm) => ({ name: vm.name, ...vm.status(), logs: vm.logs, errors: vm.errors })),
        lobby: lobbyEvents.map((e) => e.type),
      });

    await until(
      () => node.stats().links.length > 0 && vms.every((vm) => vm.status().phase === "member" && vm.status().links > 0),
      JOIN_WITHIN_MS,
      describe,
    );
    const ids = vms.map((vm) => vm.status().id);
    assert.equal(new Set([...ids, node.id]).size, 3, "three distinct peer ids in one grid");
    for (const vm of vms) assert.ok(vm.logs.includes("joined"), `${vm.name} saw "joined"`);

    // QuickJS -> everyone, Node -> everyone.
    for (const vm of vms) vm.broadcast(`hello from ${vm.name}`);
    node.broadcast(new TextEncoder().encode("hello from node"));
    const expectedVm = (self: QuickJsPeerHost): string[] =>
      ["hello from node", ...vms.filter((v) => v !== self).map((v) => `hello from ${v.name}`)].sort();
    const done = (): boolean =>
      nodeGot.length >= vms.length && vms.every((vm) => vm.status().received.length >= vms.length);
    await until(done, DELIVER_WITHIN_MS, describe);
    await sleep(200); // a duplicate would arrive within a few frames on loopback

    assert.equal(nodeGot.map((m) => m.text).sort(), vms.map((vm) => `hello from ${vm.name}`).sort(), "Node got each QuickJS broadcast once");
    assert.equal(nodeGot.map((m) => m.origin).sort(), [...ids].sort());
    for (const vm of vms) {
      const s = vm.status();
      assert.equal(s.received.map((m) => m.text).sort(), expectedVm(vm), `${vm.name} got the others' broadcasts once`);
      assert.ok(s.received.some((m) => m.origin === node.id), `${vm.name} got Node's broadcast`);
      assert.equal(vm.errors, [], `${vm.name} threw nothing`);
      assert.not.ok(vm.pendingJobs(), `${vm.name} queued no promise job`);
    }

    // Leaving is part of the host loop too: the VMs say goodbye over UDP and close.
    for (const vm of vms) vm.leave();
    await until(() => vms.every((vm) => vm.logs.includes("closed")), 2000, describe);
  } finally {
    for (const close of closers.reverse()) await close();
  }
});

test.run();
