/**
 * Issue 18 item 6: the npm package as a user installs it. What broke: `npm pack` was 1.3 MB
 * (5.0 MB unpacked, 3.3 MB of it source maps), shipped none of the docs the README links
 * to, had no repository/homepage/keywords, and `instanceof RelayGridError` failed across
 * "relaygrid" and "relaygrid/node" (each entry had its own copy of the class).
 *
 * Reads the file list from `npm pack --dry-run --json`, then packs the tarball, installs it
 * into a temporary project (npm install --prefer-offline: the dependencies come from npm's
 * cache, which npm ci filled) and runs an ESM program, a CJS program, the bin, and strict
 * TypeScript against it. Builds dist/ first when it is missing. Bounded in time; the
 * temporary directory is removed.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const STEP_MS = 180_000;

interface PackFile {
  path: string;
  size: number;
}
interface PackInfo {
  size: number;
  unpackedSize: number;
  filename: string;
  files: PackFile[];
}

async function ensureBuilt(): Promise<void> {
  const needed = ["index.js", "node.cjs", "cli.js", "relaygrid.embedded-peer.js"].map((f) => join(ROOT, "dist", f));
  if (needed.every((f) => existsSync(f))) return;
  await run(NPM, ["run", "build"], { cwd: ROOT, timeout: STEP_MS });
}

async function packInfo(): Promise<PackInfo> {
  const { stdout } = await run(NPM, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, timeout: STEP_MS });
  return (JSON.parse(stdout) as PackInfo[])[0] as PackInfo;
}

/** Every relative link target in a markdown file, as a package path. */
function linkedFiles(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
    const target = m[1] as string;
    if (/^[a-z]+:/i.test(target)) continue;
    out.push(normalize(join(dirname(file), target)).replace(/\\/g, "/"));
  }
  return out;
}

/** Every file package.json's main, module, types, bin and exports name. */
function declaredFiles(pkg: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.push(v.replace(/^\.\//, ""));
    else if (v !== null && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  walk([pkg.main, pkg.module, pkg.types, pkg.bin, pkg.exports]);
  return out.filter((p) => p !== "package.json");
}

let info: PackInfo;

test.before(async () => {
  await ensureBuilt();
  info = await packInfo();
});

test("issue 18 item 6: the package ships the docs the README links to, every declared entry, and no source maps", () => {
  const paths = new Set(info.files.map((f) => f.path));
  const docs = ["README.md", "wire/PROTOCOL.md", "platform/embedded/README.md", "docs/CLAIMS.md", "docs/DESIGN.md", "docs/RELIABILITY.md", "docs/SECURITY.md"];
  for (const d of docs) assert.ok(paths.has(d), `${d} is in the package`);
  for (const md of docs) for (const target of linkedFiles(md)) assert.ok(paths.has(target), `${md} links to ${target}, which the package must ship`);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  for (const f of declaredFiles(pkg)) assert.ok(paths.has(f), `package.json names ${f}, which the package must ship`);
  assert.equal([...paths].filter((p) => p.endsWith(".map")), [], "no source maps");
  assert.equal([...paths].filter((p) => /\.ts$/.test(p) && !p.endsWith(".d.ts")), [], "no TypeScript sources");
  // A guard against shipping sources or maps again (1.3 MB / 5.0 MB then), with room for the
  // code itself to grow: after issue 14, NAT traversal and issue 15's session frames, quotas
  // and budgets it packs 758,878 B (2,531,902 B unpacked; `npm pack --dry-run --json`); with
  // issue 15's link keys (PROTOCOL.md 6.13) 822,729 B (2,765,973 B unpacked); origin
  // signatures (originAuth, PROTOCOL.md 4.1.4) added 11,566 B packed and 29,230 B unpacked
  // (829,509 -> 841,075 and 2,793,099 -> 2,822,329): the guard rose by 12,000 and 32,000;
  // issue 14's reliable routed messages (PROTOCOL.md 4.1.2) bring it to 849,597 B packed and
  // 2,851,447 B unpacked: the guard rose by 8,000 and 30,000.
  // Issue 13's birthday probing and extra sockets (lib/peer/birthday.ts, probe-sockets.ts)
  // add 12,059 B packed and 43,850 B unpacked (861,656 and 2,895,297 B): the guard rose by
  // 14,000 and 44,000.
  assert.ok(info.size < 874_000, `packed ${info.size} B (was 1.3 MB)`);
  assert.ok(info.unpackedSize < 2_906_000, `unpacked ${info.unpackedSize} B (was 5.0 MB)`);
  assert.type(pkg.homepage, "string");
  assert.type((pkg.repository as { url?: unknown } | undefined)?.url, "string");
  assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.length > 0, "keywords");
});

const ESM_PROGRAM = `
import * as core from "relaygrid";
import * as node from "relaygrid/node";
import * as embedded from "relaygrid/embedded";
import * as wire from "relaygrid/wire";
import * as memory from "relaygrid/memory";
const classes = [core, node, embedded, wire, memory].map((m) => m.RelayGridError);
if (!classes.every((c) => c === core.RelayGridError)) throw new Error("RelayGridError differs between entries");
const fromNode = await node.joinGrid({ lobby: "not-an-address", grid: "x" }).catch((e) => e);
let fromEmbedded;
try { embedded.createEmbeddedPeer({ lobby: "l", send() {} }); } catch (e) { fromEmbedded = e; }
const checks = {
  nodeErrorIsCoreError: fromNode instanceof core.RelayGridError,
  embeddedErrorIsNodeError: fromEmbedded instanceof node.RelayGridError,
  codes: [fromNode.code, fromEmbedded.code],
};
console.log(JSON.stringify(checks));
`;

const CJS_PROGRAM = `
const core = require("relaygrid");
const node = require("relaygrid/node");
const embedded = require("relaygrid/embedded");
const wire = require("relaygrid/wire");
const memory = require("relaygrid/memory");
const same = [node, embedded, wire, memory].every((m) => m.RelayGridError === core.RelayGridError);
let fromEmbedded;
try { embedded.createEmbeddedPeer({ lobby: "l", send() {} }); } catch (e) { fromEmbedded = e; }
node.joinGrid({ lobby: "not-an-address", grid: "x" }).catch((fromNode) => {
  const bundle = require.resolve("relaygrid/relaygrid.embedded-peer.js");
  console.log(JSON.stringify({ same, nodeErrorIsCoreError: fromNode instanceof core.RelayGridError, embeddedErrorIsWireError: fromEmbedded instanceof wire.RelayGridError, bundle: bundle.endsWith("relaygrid.embedded-peer.js") }));
});
`;

const TS_PROGRAM = `
import { RelayGridError, SeededRandom, type PeerEvent } from "relaygrid";
import { joinGrid, createLobby, type NodePeer, type JoinGridOptions } from "relaygrid/node";
import { createEmbeddedPeer, type EmbeddedPeerOptions } from "relaygrid/embedded";
import { encode, decode } from "relaygrid/wire";
import { SimNetwork } from "relaygrid/memory";

export async function demo(options: JoinGridOptions): Promise<NodePeer> {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  try {
    return await joinGrid({ ...options, lobby: lobby.address() });
  } catch (e) {
    if (e instanceof RelayGridError) console.error(e.code satisfies string);
    throw e;
  }
}
export const opts: EmbeddedPeerOptions = { lobby: "l", randomBytes: (n: number) => new Uint8Array(n), send: () => {} };
export const peer = createEmbeddedPeer(opts);
export const seen: PeerEvent[] = [];
export const codec = [encode, decode, SimNetwork, SeededRandom] as const;
`;

test("issue 18 item 6: the packed tarball installs into a new project: ESM, CJS, the bin and strict TypeScript work, and instanceof holds across entries", async () => {
  const dir = mkdtempSync(join(tmpdir(), "relaygrid-pack-"));
  try {
    await run(NPM, ["pack", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT, timeout: STEP_MS });
    const tarball = join(dir, info.filename);
    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
    await run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: app, timeout: STEP_MS });

    writeFileSync(join(app, "esm.mjs"), ESM_PROGRAM);
    const esm = JSON.parse((await run(process.execPath, ["esm.mjs"], { cwd: app, timeout: 60_000 })).stdout) as Record<string, unknown>;
    assert.equal(esm, { nodeErrorIsCoreError: true, embeddedErrorIsNodeError: true, codes: ["invalid-address", "invalid-config"] });

    writeFileSync(join(app, "cjs.cjs"), CJS_PROGRAM);
    const cjs = JSON.parse((await run(process.execPath, ["cjs.cjs"], { cwd: app, timeout: 60_000 })).stdout) as Record<string, unknown>;
    assert.equal(cjs, { same: true, nodeErrorIsCoreError: true, embeddedErrorIsWireError: true, bundle: true });

    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const bin = await run(process.execPath, [join(app, "node_modules", "relaygrid", "dist", "cli.js"), "--version"], { cwd: app, timeout: 60_000 });
    assert.is(bin.stdout.trim(), `relaygrid ${version}`);

    writeFileSync(join(app, "main.ts"), TS_PROGRAM);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
          lib: ["ES2022", "DOM"],
        },
        files: ["main.ts"],
      }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = await run(process.execPath, [tsc, "-p", app], { cwd: app, timeout: STEP_MS }).catch((e: { stdout?: string }) => e);
    assert.is((checked as { stdout?: string }).stdout ?? "", "", "strict TypeScript accepts the package's types");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
