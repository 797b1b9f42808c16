/**
 * dist/relaygrid.embedded.js (peer and lobby) and dist/relaygrid.embedded-peer.js (peer
 * only) for the QuickJS test: built on demand from the same tsup options as `npm run build`
 * (tsup.config.ts's embeddedBundle), so the test also works from a fresh clone before a
 * full build, and scanned for any platform API they name.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "tsup";
import { embeddedBundle } from "../../tsup.config.ts";

const DIST = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../dist");
export const BUNDLE_PATHS = {
  full: resolve(DIST, "relaygrid.embedded.js"),
  peer: resolve(DIST, "relaygrid.embedded-peer.js"),
} as const;

/** A bundle's source, building both first when dist/ does not have them. */
export async function loadBundle(which: keyof typeof BUNDLE_PATHS = "full"): Promise<string> {
  if (!Object.values(BUNDLE_PATHS).every((p) => existsSync(p))) await build({ ...embeddedBundle, config: false, silent: true });
  return readFileSync(BUNDLE_PATHS[which], "utf8");
}

/**
 * What an embedded bundle must not mention: module loading (a bare VM has none), Node
 * built-ins, and the host services the embedded driver leaves to the host (timers, the
 * clock, process, Buffer). Word-bounded, so ArrayBuffer or a property like `.nowMs` do not match.
 */
export const FORBIDDEN: readonly { name: string; pattern: RegExp }[] = [
  { name: "require()", pattern: /\brequire\s*\(/ },
  { name: "import statement", pattern: /(^|[;\s}])import\s*[{*"'\w]/ },
  { name: "dynamic import()", pattern: /\bimport\s*\(/ },
  { name: "node: specifier", pattern: /["']node:/ },
  { name: "Node built-in module name", pattern: /["'](dgram|fs|net|os|path|crypto|events|timers|perf_hooks|worker_threads)["']/ },
  { name: "setTimeout", pattern: /\bsetTimeout\b/ },
  { name: "setInterval", pattern: /\bsetInterval\b/ },
  { name: "setImmediate", pattern: /\bsetImmediate\b/ },
  // The global (process.env, typeof process), not a method named process() as in noble's hashes.
  { name: "process", pattern: /(?<![.\w])process\s*\.|typeof\s+process\b/ },
  { name: "Buffer", pattern: /\bBuffer\b/ },
  { name: "Date.now", pattern: /\bDate\s*\.\s*now\b/ },
  { name: "performance", pattern: /\bperformance\b/ },
];
// Math.random is plain ECMAScript and so not listed: @msgpack/msgpack's map-key cache uses it
// to evict, which wire/ never reaches (it decodes no maps: maxMapLength 0).

/** The names from FORBIDDEN that `source` mentions. */
export function forbiddenReferences(source: string): string[] {
  return FORBIDDEN.filter((f) => f.pattern.test(source)).map((f) => f.name);
}
