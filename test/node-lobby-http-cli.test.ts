/**
 * `relaygrid lobby --http HOST:PORT` and `relaygrid demo --http` as processes: the third line
 * names the dashboard's URL, `/metrics` answers against the live lobby, a port in use and a
 * malformed address exit 2 with a message that says why. Real sockets on 127.0.0.1, every
 * wait bounded, the child killed if the test fails halfway.
 */
import { createServer } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lineOf, startCli, within } from "./support/cli-process.ts";
import { request } from "./support/http-client.ts";
import { parsePrometheusText, valueOf } from "./support/prom-text.ts";

const START_MS = 20_000;

test("lobby --http: the third line is the dashboard URL; the page and /metrics answer; SIGINT exits 0", async () => {
  const run = startCli(["lobby", "--port", "0", "--http", "127.0.0.1:0", "--stats-interval", "0"]);
  try {
    const m = await lineOf(run, /^relaygrid lobby dashboard on (http:\/\/127\.0\.0\.1:(\d+)\/) \(Prometheus metrics: http:\/\/127\.0\.0\.1:\d+\/metrics\)$/, START_MS);
    assert.match(run.out[0] ?? "", /^relaygrid lobby listening on 127\.0\.0\.1:\d+$/, "the first two lines stay what scripts read");
    assert.match(run.out[1] ?? "", /^relaygrid lobby key [0-9a-f]{64}$/);
    assert.is(run.out[2], m[0]);
    const url = m[1] as string;
    const page = await request(url);
    assert.is(page.status, 200);
    assert.match(page.body, "<title>relaygrid lobby</title>");
    const metrics = parsePrometheusText((await request(`${url}metrics`)).body);
    assert.is(valueOf(metrics, "relaygrid_lobby_members"), 0);
    assert.ok(metrics.has("relaygrid_lobby_reply_duration_seconds"), "the live lobby's reply histogram is there");
    run.child.kill("SIGINT");
    assert.is(await within("exit after SIGINT", 10_000, run.exited), 0);
  } finally {
    run.kill();
  }
});

test("lobby --http: a port in use exits 2 and says so; a bad address is a usage error (2)", async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const port = (holder.address() as { port: number }).port;
  const runs = [startCli(["lobby", "--port", "0", "--http", `127.0.0.1:${port}`]), startCli(["lobby", "--port", "0", "--http", "8080"]), startCli(["demo", "--http", "localhost"])];
  try {
    const [busy, bare, demo] = runs as [ReturnType<typeof startCli>, ReturnType<typeof startCli>, ReturnType<typeof startCli>];
    assert.is(await within("busy exit", START_MS, busy.exited), 2);
    assert.match(busy.err.join("\n"), `relaygrid lobby: cannot listen on http://127.0.0.1:${port}/: the port is in use (EADDRINUSE)`);
    assert.is(await within("bare exit", START_MS, bare.exited), 2);
    assert.match(bare.err.join("\n"), '--http needs HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got "8080")');
    assert.is(await within("demo exit", START_MS, demo.exited), 2);
    assert.match(demo.err.join("\n"), "--http needs HOST:PORT");
  } finally {
    for (const r of runs) r.kill();
    holder.close();
  }
});

test("demo --crash: must leave two peers (exit 2)", async () => {
  const run = startCli(["demo", "--peers", "4", "--crash", "3"]);
  try {
    assert.is(await within("exit", START_MS, run.exited), 2);
    assert.match(run.err.join("\n"), "--crash must leave at least 2 of the 4 peers, got 3");
  } finally {
    run.kill();
  }
});

test.run();
