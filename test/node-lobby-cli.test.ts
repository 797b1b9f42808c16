/**
 * `relaygrid lobby` as a process: it prints its bound address first, answers a Hello over
 * UDP, prints summaries, and exits 0 on SIGINT. Runs tsx's CLI directly with this node:
 * `npx tsx` would put npm exec in between, which does not pass SIGINT on to its child.
 * Every wait is bounded and the child is killed if the test fails halfway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bindUdp, parseAddress } from "../platform/node/index.ts";
import { decode, encode } from "../wire/codec.ts";
import { Kind } from "../wire/kinds.ts";

const TSX_CLI = createRequire(import.meta.url).resolve("tsx/cli");
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const START_MS = 20_000;
const WAIT_MS = 5000;

function start(args: string[]): { child: ChildProcess; lines: string[]; errors: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [TSX_CLI, "platform/cli/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, errors: () => stderr, exited };
}

async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("cli: relaygrid lobby --port 0 prints its address, answers a Hello, exits 0 on SIGINT", async () => {
  const run = start(["lobby", "--port", "0", "--stats-interval", "1"]);
  const socket = await bindUdp("127.0.0.1", 0);
  try {
    await until(`first line (stderr: ${run.errors()})`, START_MS, () => run.lines.length > 0);
    const m = /^relaygrid lobby listening on (127\.0\.0\.1:([0-9]+))$/.exec(run.lines[0] ?? "");
    assert.ok(m !== null, `first line: ${run.lines[0]}`);
    const dest = parseAddress(m[1] as string);
    assert.ok(dest !== undefined && dest.port !== 0);

    const reply = new Promise<Uint8Array>((resolve) => socket.once("message", (b: Buffer) => resolve(new Uint8Array(b))));
    socket.send(encode({ kind: Kind.Hello, req: 9, name: "cli-test" }), dest.port, dest.host);
    const d = decode(await within("Welcome", WAIT_MS, reply));
    assert.ok(d.ok && d.msg.kind === Kind.Welcome && d.msg.req === 9, JSON.stringify(d));

    await until("a summary line", WAIT_MS, () => run.lines.some((l) => l.startsWith("grids=")));
    assert.match(run.lines.find((l) => l.startsWith("grids=")) ?? "", /^grids=0 peers=0 links=0 islands=0 in=\d+ out=\d+ drops: /);

    run.child.kill("SIGINT");
    assert.is(await within("exit after SIGINT", WAIT_MS, run.exited), 0);
    assert.ok(run.lines.some((l) => l.startsWith("relaygrid lobby closed")), run.lines.join("\n"));
  } finally {
    socket.close();
    if (run.child.exitCode === null) run.child.kill("SIGKILL");
  }
});

test("cli: SIGTERM also shuts down cleanly", async () => {
  const run = start(["lobby", "--port", "0", "--stats-interval", "0"]);
  try {
    await until(`first line (stderr: ${run.errors()})`, START_MS, () => run.lines.length > 0);
    run.child.kill("SIGTERM");
    assert.is(await within("exit after SIGTERM", WAIT_MS, run.exited), 0);
  } finally {
    if (run.child.exitCode === null) run.child.kill("SIGKILL");
  }
});

test("cli: an unknown flag is a usage error with exit code 2", async () => {
  const run = start(["lobby", "--prot", "7777"]);
  try {
    assert.is(await within("exit", START_MS, run.exited), 2);
    assert.match(run.errors(), /unknown option --prot/);
  } finally {
    if (run.child.exitCode === null) run.child.kill("SIGKILL");
  }
});

test.run();
