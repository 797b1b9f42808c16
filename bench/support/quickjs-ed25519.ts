/**
 * Ed25519 verify inside QuickJS (quickjs-emscripten, the engine test/quickjs.test.ts runs the
 * embedded bundle in): @noble/curves, what an embedded Peer verifies origin signatures with,
 * bundled by esbuild into one script, loaded into a fresh context, and timed from the host
 * around a loop of verifies run inside the VM. Returns microseconds per verify, per repeat.
 */
import { build } from "esbuild";
import { getQuickJS } from "quickjs-emscripten";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { SeededRandom } from "../../lib/rng.ts";

const ENTRY = `import { ed25519 } from "@noble/curves/ed25519.js";
globalThis.verifyLoop = (pk, msg, sig, n) => { let ok = 0; for (let i = 0; i < n; i++) if (ed25519.verify(sig, msg, pk)) ok++; return ok; };`;

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export async function quickJsVerifyUs(perRepeat: number, repeats: number): Promise<number[]> {
  const out = await build({ stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: "js" }, bundle: true, write: false, format: "iife", target: "es2020" });
  const script = out.outputFiles[0]?.text ?? "";
  const crypto = new NobleCrypto(new SeededRandom(0x15d));
  const key = crypto.ed25519KeyPair();
  const msg = new Uint8Array(90).map((_, i) => i);
  const sig = crypto.ed25519Sign(key.secretKey, msg);
  const QuickJS = await getQuickJS();
  const vm = QuickJS.newContext();
  try {
    vm.unwrapResult(vm.evalCode(script)).dispose();
    const fromHex = "const h = (s) => Uint8Array.from(s.match(/../g), (x) => parseInt(x, 16));";
    vm.unwrapResult(vm.evalCode(`${fromHex} globalThis.args = [h("${hex(key.publicKey)}"), h("${hex(msg)}"), h("${hex(sig)}")];`)).dispose();
    const run = (n: number): number => {
      const t0 = performance.now();
      const r = vm.unwrapResult(vm.evalCode(`verifyLoop(args[0], args[1], args[2], ${n})`));
      const ok = vm.getNumber(r);
      r.dispose();
      if (ok !== n) throw new Error(`quickjs: ${ok} of ${n} signatures verified`);
      return performance.now() - t0;
    };
    run(1); // warm-up (and the first verify's precomputation)
    return Array.from({ length: repeats }, () => (1000 * run(perRepeat)) / perRepeat);
  } finally {
    vm.dispose();
  }
}
