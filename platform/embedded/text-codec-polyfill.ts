/**
 * Installs the UTF-8 TextEncoder/TextDecoder of ./utf8-codec.ts on globalThis, only where
 * the runtime has none. It must be evaluated before @msgpack/msgpack, which constructs a
 * TextEncoder and a TextDecoder at import time: platform/embedded/index.ts imports this
 * module first, and ES module evaluation (and esbuild's bundle order) follows import order.
 *
 * The result is exported (and re-exported by the entry) rather than being a bare
 * side-effect import, because the package declares `"sideEffects": false` and a bundler
 * may drop an import whose bindings nobody uses.
 */
import { Utf8TextDecoder, Utf8TextEncoder } from "./utf8-codec.ts";

interface CodecGlobals {
  TextEncoder?: unknown;
  TextDecoder?: unknown;
}

function install(): boolean {
  const g = globalThis as unknown as CodecGlobals;
  let installed = false;
  if (typeof g.TextEncoder !== "function") {
    g.TextEncoder = Utf8TextEncoder;
    installed = true;
  }
  if (typeof g.TextDecoder !== "function") {
    g.TextDecoder = Utf8TextDecoder;
    installed = true;
  }
  return installed;
}

/** True when this runtime lacked TextEncoder or TextDecoder and the UTF-8 fallback was installed. */
export const textCodecPolyfilled: boolean = install();
