/**
 * What the handshake crypto costs a QuickJS host per call, the figures
 * platform/embedded/README.md quotes (dist/relaygrid.embedded-peer.js, pure-JS noble crypto
 * in the VM):
 * 1. in fresh contexts: loading the bundle, createEmbeddedPeer, the first join() (its X25519
 *    key pair and Hello) and a second peer's create + join in the same context;
 * 2. a Node lobby on 127.0.0.1 and `--peers` QuickJS peers joining one grid over UDP, every
 *    call into a VM timed (start = createEmbeddedPeer + join, receive, update): per peer
 *    the start call, the slowest calls, and the calls over one 60 Hz frame (16.7 ms).
 * Run: npx tsx scripts/quickjs-frame-cost.ts [--peers 3]
 */
import { randomBytes } from "node:crypto";
import { getQuickJS, type QuickJSWASMModule } from "quickjs-emscripten";
import { createLobby } from "../platform/node/index.ts";
import { loadBundle } from "../test/support/quickjs-bundle.ts";
import { QuickJsPeerHost } from "../test/support/quickjs-peer-host.ts";

const FRAME_MS = 1000 / 60;
const args = process.argv.slice(2);
const peersAt = args.indexOf("--peers");
const peers = peersAt >= 0 ? Number(args[peersAt + 1]) : 3;

const bundle = await loadBundle("peer");
const QuickJS = await getQuickJS();

/** Part 1: one fresh context, its steps timed one by one. */
function freshContext(Q: QuickJSWASMModule): string {
  const rt = Q.newRuntime();
  const vm = rt.newContext();
  try {
    const rb = vm.newFunction("hostRandomBytes", (n) => vm.newArrayBuffer(Uint8Array.from(randomBytes(vm.getNumber(n))).buffer));
    vm.setProp(vm.global, "hostRandomBytes", rb);
    rb.dispose();
    const timed = (code: string): string => {
      const t0 = performance.now();
      vm.unwrapResult(vm.evalCode(code)).dispose();
      return `${(performance.now() - t0).toFixed(0)} ms`;
    };
    const create = 'relaygrid.createEmbeddedPeer({ lobby: "l", randomBytes: function (n) { return new Uint8Array(hostRandomBytes(n)); }, send: function () {} })';
    return [
      `load ${timed(`${bundle}\n0`)}`,
      `createEmbeddedPeer ${timed(`var p = ${create}; 0`)}`,
      `first join ${timed('p.join({ grid: "a" }, 0); 0')}`,
      `second peer create+join ${timed(`var q = ${create}; q.join({ grid: "a" }, 0); 0`)}`,
    ].join(", ");
  } finally {
    vm.dispose();
    rt.dispose();
  }
}
for (let i = 1; i <= 3; i++) console.log(`fresh context ${i}: ${freshContext(QuickJS)}`);
const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
const vms = Array.from({ length: peers }, (_, i) => new QuickJsPeerHost(QuickJS, `qjs-${i + 1}`));
try {
  for (const [i, vm] of vms.entries()) await vm.start(bundle, lobby.address(), 1000 + i, 5);
  const end = Date.now() + 30_000;
  while (!vms.every((vm) => vm.status().phase === "member" && vm.status().links >= Math.min(2, peers - 1))) {
    if (Date.now() > end) throw new Error(`not joined within 30 s: ${JSON.stringify(vms.map((v) => v.status()))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 2000)); // the links' first pings
  console.log(`QuickJS (quickjs-emscripten), Node ${process.version}, ${peers} peers, peer bundle ${bundle.length} B`);
  for (const vm of vms) {
    const calls = vm.calls.filter((c) => c.name !== "status");
    const start = calls.find((c) => c.name === "start");
    const slow = [...calls].sort((a, b) => b.ms - a.ms).slice(0, 4);
    const overFrame = calls.filter((c) => c.ms > FRAME_MS);
    const rest = calls.filter((c) => c !== start).map((c) => c.ms).sort((a, b) => a - b);
    const median = rest[Math.floor(rest.length / 2)] ?? 0;
    console.log(
      `${vm.name}: start+join ${start?.ms.toFixed(0)} ms; slowest ${slow.map((c) => `${c.name} ${c.ms.toFixed(0)} ms`).join(", ")}; ` +
        `${overFrame.length} of ${calls.length} calls over ${FRAME_MS.toFixed(1)} ms (${overFrame.reduce((a, c) => a + c.ms, 0).toFixed(0)} ms in all); median call ${median.toFixed(2)} ms`,
    );
  }
} finally {
  for (const vm of vms) await vm.dispose();
  await lobby.close();
}
