/**
 * The relaygrid command as a user meets it (issue 18 item 5, issue 11 bugs 2 and 3), each
 * run as a real process on 127.0.0.1, every wait bounded:
 * - --version, "did you mean" for commands and options, short flags, and caller mistakes
 *   at runtime as one line with exit code 2 (they printed a stack trace and exited 1);
 * - `relaygrid peer` refuses a line over the payload limit (it cut it mid-character) and
 *   prints the links it opened before its "joined" line (issue 11 bug 2);
 * - Ctrl-C right after the first line exits 0, directly and under tsx (issue 11 bug 3);
 * - `relaygrid demo` on Ctrl-C prints its summary and exits 0.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DemoTally } from "../platform/cli/demo-tally.ts";
import { createLobby, joinGrid, MAX_PAYLOAD_BYTES } from "../platform/node/index.ts";
import { ROOT, runCli, startCli, until, within, type CliOptions } from "./support/cli-process.ts";

const START_MS = 20_000;
const EXIT_MS = 10_000;
/** Runs per signal race: the bug hit ~4-5 of 12 runs, so 12 clean runs in a row would be ~0.3^12 by luck. */
const SIGNAL_RUNS = 12;
const noStack = (lines: string[]): boolean => !lines.some((l) => /^\s+at /.test(l));

test("cli: --version prints the package version", async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const r = await runCli(["--version"]);
  assert.is(r.code, 0);
  assert.equal(r.out, [`relaygrid ${version}`]);
});

test('cli: an unknown command says "did you mean" and exits 2; an unknown option suggests the flag, short or long', async () => {
  const cmd = await runCli(["lobyb"]);
  assert.is(cmd.code, 2);
  assert.match(cmd.err[0] ?? "", /unknown command "lobyb" \(did you mean "relaygrid lobby"\?\)/);
  const long = await runCli(["lobby", "--prot", "7777"]);
  assert.is(long.code, 2);
  assert.match(long.err.join("\n"), /unknown option --prot \(did you mean --port\?\)/);
  const short = await runCli(["peer", "-x"]);
  assert.is(short.code, 2);
  assert.match(short.err.join("\n"), /unknown option -x \(short options: -l \(--lobby\), .*-p \(--port\), -h\)/);
});

test("cli: caller mistakes found at runtime print one line, no stack trace, and exit 2", async () => {
  const addr = await runCli(["peer", "--lobby", "not-an-address"]);
  assert.is(addr.code, 2);
  assert.equal(addr.err.length, 1, addr.err.join("\n"));
  assert.match(addr.err[0] ?? "", /^relaygrid peer: lobby "not-an-address" is not "HOST:PORT"/);
  const key = await runCli(["peer", "-l", "127.0.0.1:9", "--lobby-key", "abc"]);
  assert.is(key.code, 2);
  assert.ok(noStack(key.err), key.err.join("\n"));
  assert.match(key.err.join("\n"), /lobbyKey must be 64 hex characters/);
});

test("cli: relaygrid peer refuses a line over the payload limit instead of cutting it mid-character, and prints links opened before joining (issue 11 bug 2)", async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const a = await joinGrid({ lobby: lobby.address(), grid: "chat", create: true });
  const got: string[] = [];
  a.on("data", (payload) => got.push(new TextDecoder("utf-8", { fatal: true }).decode(payload)));
  const run = startCli(["peer", "-l", lobby.address(), "-g", "chat", "-c", "-k", lobby.publicKey(), "--host", "127.0.0.1", "-p", "0"], { stdin: true });
  try {
    await until(`joined (stderr: ${run.err.join(" | ")})`, START_MS, () => run.out.some((l) => l.startsWith("joined grid")));
    assert.match(run.out.find((l) => l.startsWith("joined grid")) ?? "", /^joined grid "chat" as peer \d+ from 127\.0\.0\.1:\d+;/, "--host and --port bind");
    // Issue 11 bug 2: the link to `a` opened before "joined" is printed too.
    await until("an early link line", EXIT_MS, () => run.err.some((l) => l.includes("links at join")));
    const early = run.err.filter((l) => l.includes("links at join"));
    const m = /^link to (\d+) open \((\d+) links at join\)$/.exec(early[0] ?? "");
    assert.ok(m !== null, early.join("\n"));
    assert.is(early.length, Number(m[2]), "one line per link open at join");
    assert.ok(early.some((l) => l.startsWith(`link to ${a.id} open`)), "the link to the member that was already there");

    const long = "é".repeat(Math.ceil((MAX_PAYLOAD_BYTES + 1) / 2)); // 2 bytes each: over the limit by 1-2 bytes
    run.child.stdin?.write(`${long}\nhello\n`);
    await until("the short line arrives", EXIT_MS, () => got.includes("hello"));
    assert.equal(got, ["hello"], "the long line was not sent, in whole or in part");
    assert.ok(run.err.some((l) => new RegExp(`^not sent: the line is ${long.length * 2} bytes of UTF-8, over the ${MAX_PAYLOAD_BYTES}-byte payload limit`).test(l)), run.err.join("\n"));
    run.child.stdin?.end();
    assert.is(await within("exit after stdin ends", EXIT_MS, run.exited), 0);
  } finally {
    run.kill();
    await a.close();
    await lobby.close();
  }
});

/** Starts `relaygrid lobby --port 0`, sends SIGINT as soon as its first line is out, returns how it ended. */
async function interruptAfterFirstLine(options: CliOptions): Promise<{ code: number | string; out: string[]; err: string[] }> {
  const run = startCli(["lobby", "--port", "0", "--stats-interval", "0"], options);
  try {
    await until(`first line (stderr: ${run.err.join(" | ")})`, START_MS, () => run.out.length > 0);
    run.signal("SIGINT");
    return { code: await within("exit after SIGINT", EXIT_MS, run.exited), out: run.out, err: run.err };
  } finally {
    run.kill();
  }
}

test(`issue 11 bug 3: SIGINT right after relaygrid lobby's first line exits 0, never by the signal (${SIGNAL_RUNS} runs)`, async () => {
  const codes: (number | string)[] = [];
  for (let i = 0; i < SIGNAL_RUNS; i++) codes.push((await interruptAfterFirstLine({})).code);
  assert.equal(codes, Array<number>(SIGNAL_RUNS).fill(0));
});

// Under tsx's own CLI (`npx tsx main.ts`) the exit status is tsx's, not ours: its parent
// process relays a SIGINT to the child and, when the child's IPC acknowledgement takes more
// than 2 x 30 ms (tsx/dist/cli.mjs relaySignals), SIGKILLs it and exits 130 itself. On a
// loaded 2-core machine that happened in 2 of 6 runs after our clean "closed" line, so no
// code of ours can make it 0: the package's scripts run the CLI as `node --import tsx`
// (no relaying parent), and this test covers that path with the process-group SIGINT a
// terminal's Ctrl-C sends.
test(`issue 11 bug 3: a process-group SIGINT (what Ctrl-C sends) to npm run demo's way of running the CLI exits 0 after the "closed" line (${SIGNAL_RUNS / 2} runs)`, async () => {
  const results: string[] = [];
  for (let i = 0; i < SIGNAL_RUNS / 2; i++) {
    const r = await interruptAfterFirstLine({ via: "loader", group: true });
    results.push(`${r.code}${r.out.some((l) => l.startsWith("relaygrid lobby closed")) ? " closed" : ""}`);
  }
  assert.equal(results, Array<string>(SIGNAL_RUNS / 2).fill("0 closed"));
});

test("cli: relaygrid demo on Ctrl-C prints its summary and exits 0", async () => {
  const run = startCli(["demo", "--peers", "3", "--seconds", "120", "--tick", "10"], { group: true });
  try {
    await until(`the first table row (stdout: ${run.out.join(" | ")}; stderr: ${run.err.join(" | ")})`, 40_000, () =>
      run.out.some((l) => l.startsWith("peers 3")),
    );
    run.signal("SIGINT");
    assert.is(await within("exit after SIGINT", 15_000, run.exited), 0);
    assert.ok(run.out.some((l) => l.startsWith("interrupted after")), run.out.join("\n"));
    assert.ok(run.out.includes("summary:"), run.out.join("\n"));
    assert.ok(run.out.some((l) => /^ {2}broadcasts \d+, deliveries \d+ of \d+/.test(l)), run.out.join("\n"));
  } finally {
    run.kill();
  }
});

test("demo: the live delivery figure leaves out broadcasts still in flight", () => {
  const t = new DemoTally();
  t.onSent(1, 1, 0, 2);
  t.onDelivered(1, 1, 0, 5);
  t.onDelivered(1, 1, 1, 7);
  t.onSent(1, 2, 995, 2); // sent 5 ms before the row: nobody has it yet
  assert.is(t.deliveryPercent(), 50, "over everything sent, the fresh one reads as missed");
  assert.is(t.settledDeliveryPercent(1000 - 1000), 100, "over broadcasts at least 1 s old");
  t.onDelivered(1, 2, 0, 1001);
  assert.is(t.settledDeliveryPercent(2000 - 1000), 75, "the second one settles with 1 of 2");
  t.onDelivered(1, 2, 0, 2500);
  assert.is(t.settledDeliveryPercent(3000 - 1000), 100, "a late delivery still counts once settled");
});

test.run();
