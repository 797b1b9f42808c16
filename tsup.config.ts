import { cpSync } from "node:fs";
import { defineConfig, type Options } from "tsup";

/**
 * dist/relaygrid.embedded.js: platform/embedded with every dependency bundled, one minified
 * ES2020 script that defines a global `relaygrid`, for VMs with no module loader (QuickJS,
 * console engines). test/quickjs.test.ts loads it and checks it names no platform API.
 */
export const embeddedBundle: Options = {
  entry: { "relaygrid.embedded": "platform/embedded/index.ts" },
  format: ["iife"],
  globalName: "relaygrid",
  outExtension: () => ({ js: ".js" }),
  target: "es2020",
  platform: "neutral",
  noExternal: [/.*/],
  minify: true,
  dts: false,
  sourcemap: false,
  clean: false,
  splitting: false,
  // "neutral" resolves no package main field by default; @msgpack/msgpack has no exports map.
  esbuildOptions(options) {
    options.mainFields = ["module", "main"];
  },
};

// ESM + CJS + .d.ts for every entry in package.json's exports map.
export default defineConfig([{
  entry: {
    index: "lib/index.ts",
    wire: "wire/index.ts",
    memory: "platform/memory/index.ts",
    embedded: "platform/embedded/index.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  target: "es2020",
  platform: "neutral",
  sourcemap: true,
  // Everything but the embedded bundle, which the second config writes at the same time.
  clean: ["!relaygrid.embedded.js"],
  splitting: false,
  treeshake: true,
}, {
  // relaygrid/node (node:dgram, timers) and the relaygrid command: platform "node" so
  // node: built-ins stay imports; the same files run on Deno and Bun.
  entry: { node: "platform/node/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  target: "es2022",
  platform: "node",
  sourcemap: true,
  clean: false,
  splitting: false,
  // The lobby dashboard finds its page at new URL("./dashboard/", import.meta.url): the shim
  // gives the CJS build an import.meta.url, and the page's files are copied as they are.
  shims: true,
  onSuccess: async () => cpSync("platform/http/dashboard", "dist/dashboard", { recursive: true }),
}, {
  entry: { cli: "platform/cli/main.ts" },
  format: ["esm"],
  dts: false,
  target: "es2022",
  platform: "node",
  banner: { js: "#!/usr/bin/env node" },
  clean: false,
  splitting: false,
}, embeddedBundle]);
