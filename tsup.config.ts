import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { defineConfig, type Options } from "tsup";

/**
 * dist/relaygrid.embedded.js (peer and lobby) and dist/relaygrid.embedded-peer.js (the peer
 * alone): platform/embedded with every dependency bundled, each one minified ES2020 script
 * that defines a global `relaygrid`, for VMs with no module loader (QuickJS, console
 * engines). test/quickjs.test.ts loads them and checks they name no platform API.
 */
export const embeddedBundle: Options = {
  entry: {
    "relaygrid.embedded": "platform/embedded/index.ts",
    "relaygrid.embedded-peer": "platform/embedded/peer-only.ts",
  },
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

/** The package's module entries (package.json "exports"). */
const ENTRIES = {
  index: "lib/index.ts",
  wire: "wire/index.ts",
  memory: "platform/memory/index.ts",
  embedded: "platform/embedded/index.ts",
  node: "platform/node/index.ts",
};

const CLI_BANNER = "#!/usr/bin/env node\n";

/**
 * One build of every entry with code splitting, ESM and CJS: the core each entry uses lives
 * once, in shared chunks, so `RelayGridError` (and every other class) is the same object
 * whether it is imported from "relaygrid", "relaygrid/node" or "relaygrid/embedded", and
 * `instanceof` holds across them. The relaygrid command (cli) is an ESM entry of the same
 * build and shares the chunks too; onSuccess gives it its #! line and drops its CJS twin.
 *
 * platform "node" keeps node: built-ins (used by relaygrid/node only) as imports; the core
 * entries name none, and every dependency stays external. No source maps: the .js files are
 * unminified, and maps of TypeScript sources the package does not ship were 3.3 MB of 5 MB.
 */
export default defineConfig([
  {
    entry: { ...ENTRIES, cli: "platform/cli/main.ts" },
    format: ["esm", "cjs"],
    dts: { entry: ENTRIES },
    target: "es2020",
    platform: "node",
    sourcemap: false,
    splitting: true,
    treeshake: false,
    // Everything but the embedded bundles, which the second config writes at the same time.
    clean: ["!relaygrid.embedded*.js"],
    // The lobby dashboard finds its page at new URL("./dashboard/", import.meta.url) (its
    // chunk sits in dist/ beside the entries): the shim gives the CJS build an
    // import.meta.url, and the page's files are copied as they are.
    shims: true,
    async onSuccess() {
      cpSync("platform/http/dashboard", "dist/dashboard", { recursive: true });
      rmSync("dist/cli.cjs", { force: true });
      const cli = readFileSync("dist/cli.js", "utf8");
      if (!cli.startsWith("#!")) writeFileSync("dist/cli.js", CLI_BANNER + cli);
      chmodSync("dist/cli.js", 0o755);
    },
  },
  embeddedBundle,
]);
