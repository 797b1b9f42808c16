/**
 * A QuickJS "console": one QuickJS runtime and context with nothing in it but the language
 * (no console, no timers, no TextEncoder, no crypto) and three host functions,
 * `send(address, ArrayBuffer)`, `log(message)` and `hostRandomBytes(n)` (the engine's
 * CSPRNG: an ArrayBuffer of n bytes from node:crypto, as a console SDK would provide). It loads dist/relaygrid.embedded.js as a
 * plain script, runs a few lines of game-side glue that use only the global `relaygrid`,
 * and bridges the VM to a real node:dgram socket. The Node side plays the engine: it owns
 * the socket and the clock and calls update(now) every frame.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:dgram";
import {
  DefaultIntrinsics,
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from "quickjs-emscripten";
import { bindLoopback, clock, closeSocket, parseAddress } from "./quickjs-udp.ts";

/** The game's script inside the VM: ES2020, the bundle's global API and the three host functions only. */
const GAME_SCRIPT = `
var peer = null;
var received = [];
function start(lobby, seed) {
  peer = relaygrid.createEmbeddedPeer({
    lobby: lobby,
    seed: seed,
    randomBytes: function (n) { return new Uint8Array(hostRandomBytes(n)); },
    connectionLimit: 4,
    send: function (address, bytes) {
      send(address, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    },
    onData: function (payload, info) {
      received.push({ origin: info.origin, hops: info.hops, text: new TextDecoder().decode(payload) });
    },
    onEvent: function (e) {
      log(e.type + (e.type === "error" ? " " + e.code + ": " + e.message : ""));
    }
  });
  peer.join({ grid: "arena", create: true });
}
function receive(now, address, buffer) { peer.receive(now, address, new Uint8Array(buffer)); }
function update(now) { peer.update(now); }
function broadcast(text) { return peer.broadcast(new TextEncoder().encode(text)); }
function status() {
  return JSON.stringify({ id: peer.id, phase: peer.phase, links: peer.stats().links.length, received: received });
}
function leave() { peer.leave(); }
`;

/** Globals a bare context must not have: the bundle has to do without them. */
export const BARE_GLOBALS = ["TextEncoder", "TextDecoder", "setTimeout", "setInterval", "queueMicrotask", "console", "process", "Buffer", "performance", "require", "crypto"];

export interface VmStatus {
  id: number;
  phase: string;
  links: number;
  received: { origin: number; hops: number; text: string }[];
}

export class QuickJsPeerHost {
  readonly name: string;
  /** What the game script logged (its events), in order. */
  readonly logs: string[] = [];
  /** Exceptions from the VM during socket or frame callbacks (there is no caller to throw to). */
  readonly errors: string[] = [];
  /** How long each call into the VM took, in order (for scripts/quickjs-frame-cost.ts; tests never assert a timing). */
  readonly calls: { name: string; ms: number }[] = [];
  private frameTimer: ReturnType<typeof setInterval> | undefined;
  private readonly runtime: QuickJSRuntime;
  private readonly vm: QuickJSContext;
  private socket: Socket | undefined;
  address = "";

  constructor(QuickJS: QuickJSWASMModule, name: string) {
    this.name = name;
    this.runtime = QuickJS.newRuntime();
    this.runtime.setMemoryLimit(64 * 1024 * 1024);
    this.runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 60_000)); // a runaway VM cannot hang CI
    // Default intrinsics: Promise stays, because the bundle holds @msgpack/msgpack's (never
    // called) async methods, and QuickJS without the Promise intrinsic cannot free such a
    // context. pendingJobs() proves instead that no promise job is ever queued.
    this.vm = this.runtime.newContext({ intrinsics: DefaultIntrinsics });
  }

  /** True when something in the VM queued a promise job (the embedded driver needs none). */
  pendingJobs(): boolean {
    return this.runtime.hasPendingJob();
  }

  /** typeof of each name in BARE_GLOBALS, read inside the VM. */
  globalsTypeof(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of BARE_GLOBALS) out[name] = this.evalString(`typeof ${name}`);
    return out;
  }

  /** Loads the bundle and the game script, binds a UDP socket, and starts the frame loop. */
  async start(bundle: string, lobby: string, seed: number, frameMs: number): Promise<void> {
    const { socket, address } = await bindLoopback();
    this.socket = socket;
    this.address = address;
    this.defineHostFunctions(socket);
    this.vm.unwrapResult(this.vm.evalCode(bundle, "relaygrid.embedded.js", { type: "global" })).dispose();
    this.vm.unwrapResult(this.vm.evalCode(GAME_SCRIPT, "game.js", { type: "global" })).dispose();
    socket.on("message", (msg, rinfo) => {
      const from = `${rinfo.address}:${rinfo.port}`;
      this.guarded(() => this.call("receive", [this.vm.newNumber(clock()), this.vm.newString(from), this.vm.newArrayBuffer(Uint8Array.from(msg).buffer)]));
    });
    socket.on("error", (err) => this.logs.push(`socket error: ${err.message}`));
    this.call("start", [this.vm.newString(lobby), this.vm.newNumber(seed)]);
    // The engine's frame loop: one update(now) per frame with the host's clock.
    this.frameTimer = setInterval(() => this.guarded(() => this.call("update", [this.vm.newNumber(clock())])), frameMs);
  }

  private guarded(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
  }

  evalString(code: string): string {
    const h = this.vm.unwrapResult(this.vm.evalCode(code, "probe.js", { type: "global" }));
    const s = this.vm.getString(h);
    h.dispose();
    return s;
  }

  status(): VmStatus {
    return JSON.parse(this.callString("status", [])) as VmStatus;
  }

  broadcast(text: string): void {
    this.call("broadcast", [this.vm.newString(text)]);
  }

  leave(): void {
    this.call("leave", []);
  }

  /** Stops the frame loop, closes the socket, and frees the context and then its runtime. */
  async dispose(): Promise<void> {
    if (this.frameTimer !== undefined) clearInterval(this.frameTimer);
    this.frameTimer = undefined;
    if (this.socket !== undefined) {
      this.socket.removeAllListeners("message");
      await closeSocket(this.socket);
      this.socket = undefined;
    }
    if (this.vm.alive) this.vm.dispose();
    if (this.runtime.alive) this.runtime.dispose();
  }

  private defineHostFunctions(socket: Socket): void {
    const send = this.vm.newFunction("send", (addressHandle, bufferHandle) => {
      const address = this.vm.getString(addressHandle);
      const view = this.vm.getArrayBuffer(bufferHandle);
      const bytes = view.value.slice(); // out of the VM's heap before it is freed
      view.dispose();
      const { host, port } = parseAddress(address);
      socket.send(bytes, port, host);
    });
    const log = this.vm.newFunction("log", (messageHandle) => {
      this.logs.push(this.vm.getString(messageHandle));
    });
    const hostRandomBytes = this.vm.newFunction("hostRandomBytes", (nHandle) => {
      const n = this.vm.getNumber(nHandle);
      return this.vm.newArrayBuffer(Uint8Array.from(randomBytes(n)).buffer);
    });
    this.vm.setProp(this.vm.global, "send", send);
    this.vm.setProp(this.vm.global, "log", log);
    this.vm.setProp(this.vm.global, "hostRandomBytes", hostRandomBytes);
    send.dispose();
    log.dispose();
    hostRandomBytes.dispose();
  }

  /** Calls a global function of the game script; consumes `args`; a VM exception is rethrown here. */
  private call(name: string, args: QuickJSHandle[]): void {
    this.invoke(name, args).dispose();
  }

  private callString(name: string, args: QuickJSHandle[]): string {
    const h = this.invoke(name, args);
    const s = this.vm.getString(h);
    h.dispose();
    return s;
  }

  private invoke(name: string, args: QuickJSHandle[]): QuickJSHandle {
    const fn = this.vm.getProp(this.vm.global, name);
    const t0 = performance.now();
    try {
      return this.vm.unwrapResult(this.vm.callFunction(fn, this.vm.undefined, ...args));
    } finally {
      if (this.calls.length < 100_000) this.calls.push({ name, ms: performance.now() - t0 });
      fn.dispose();
      for (const a of args) a.dispose();
    }
  }
}
