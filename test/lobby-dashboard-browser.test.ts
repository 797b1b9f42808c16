/**
 * The dashboard in a real browser (Debian's headless Chromium through playwright-core):
 *
 * 1. against an exact lobby (the test Harness, served for real): the page draws the members,
 *    confirmed and one-sided links and components the lobby has, follows a join, shows a
 *    hostile grid name as text without running it, and says RTT and loss are unknown;
 * 2. against `relaygrid demo --http --crash`: the page shows the 12-peer grid formed in one
 *    component, the members falling when 3 crash, and the grid whole again with 12 after the
 *    newcomers join; its counts always agree with the lobby's /state.json.
 *
 * Screenshots go to artifacts/ (git-ignored; CI keeps them). Without Chromium (apt-get
 * install -y chromium, which .ci/run does) the tests say so and pass without running.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { serveLobbyHttp } from "../platform/http/lobby-http.ts";
import type { DashboardState } from "../platform/http/dashboard-state.ts";
import { Client, Harness, joinMany, linkBoth, type Joined } from "./lobby-harness.ts";
import { browserMissing, launchChromium } from "./support/browser.ts";
import { lineOf, startCli, within } from "./support/cli-process.ts";
import { harnessSource } from "./support/harness-source.ts";
import { request } from "./support/http-client.ts";

const ARTIFACTS = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../artifacts");
const HOSTILE = `<img src=x onerror=pwned=1>`;

function skipped(name: string): boolean {
  const why = browserMissing();
  if (why !== undefined) console.log(`  SKIP ${name}: ${why}`);
  return why !== undefined;
}

/** Waits (bounded) until the picture has stopped moving, for a screenshot. */
async function settled(page: Page): Promise<void> {
  await page.waitForSelector("body[data-settled=true]", { timeout: 8000 }).catch(() => undefined);
}

async function counts(page: Page): Promise<{ members: string; components: string }> {
  return { members: (await page.textContent("#grid-members")) ?? "", components: (await page.textContent("#grid-components")) ?? "" };
}

/** Polls `cond` against the page until it holds, within `ms`; the failure says what the page showed last. */
async function until(page: Page, what: string, ms: number, cond: (c: { members: string; components: string }) => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let last = await counts(page);
  while (!(await cond(last))) {
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${ms} ms; the page shows ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await counts(page);
  }
}

test("dashboard in Chromium: members, links and islands as the lobby has them; names stay text", async () => {
  if (skipped("dashboard in Chromium")) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const h = new Harness({}, 41);
  const source = harnessSource(h);
  const http = await serveLobbyHttp(source, { host: "127.0.0.1", port: 0, clock: () => h.nowMs, pushIntervalMs: 100 });
  const chromium = await launchChromium();
  try {
    const owner = new Client(h, "10.4.0.1:4000");
    owner.hello();
    const grid = owner.create("arena", 0, 4);
    const p = joinMany(h, grid, 7, 3);
    // Three components: 1-2-3-4 (a ring), 5-6, and 7 alone; 4 reports 5 but 5 does not report 4.
    for (const [a, b] of [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5]] as const) linkBoth(grid, p[a] as Joined, p[b] as Joined);
    p[3]?.client.link(grid, 4, 5);
    const hostile = owner.create(HOSTILE, 4, 4);
    joinMany(h, hostile, 1, 4, "10.44");
    source.pump();

    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${http.url}#grid=${grid}`);
    await until(page, "the arena's counts", 10_000, (c) => c.members === "7" && c.components === "3");
    assert.is(await page.textContent("#grid-name"), "arena");
    assert.is(await page.textContent("#grid-links"), "5");
    assert.is(await page.textContent("#grid-one-sided"), "1");
    assert.match((await page.textContent("#grid-status")) ?? "", "split: 2 islands (4 + 2 + 1)");
    assert.is(await page.locator("#graph .node").count(), 7);
    assert.is(await page.locator("#graph .edge.confirmed").count(), 5);
    assert.is(await page.locator("#graph .edge.one-sided").count(), 1);
    const islands = await page.locator("#graph .node circle").evaluateAll((cs) => cs.map((c) => c.getAttribute("class")));
    assert.equal([...new Set(islands)].sort(), ["island-0", "island-1", "island-2"], "each component its own colour");
    assert.is(await page.locator("#members tbody tr").count(), 7);
    assert.equal(await page.locator("#members tbody tr td:last-child").allTextContents(), Array(7).fill("unknown"), "the lobby knows no RTT or loss");
    // The hostile name is listed as text, and nothing in it ran or became an element.
    assert.ok((await page.locator("#grids tbody td").allTextContents()).includes(HOSTILE));
    assert.is(await page.locator("img").count(), 0);
    assert.is(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    await settled(page);
    await page.screenshot({ path: resolve(ARTIFACTS, "dashboard-islands.png") });
    // Live: a join shows up without a reload, and so does the log line.
    joinMany(h, grid, 1, 3, "10.45");
    source.pump();
    await until(page, "the join", 10_000, (c) => c.members === "8");
    assert.match((await page.textContent("#log")) ?? "", "peer 8 joined (10.45.0.1:4000)");
    assert.equal(errors, [], "no script error on the page");
  } finally {
    await chromium.close();
    await http.close();
  }
});

test("dashboard in Chromium: relaygrid demo --crash forms, loses three peers and heals", async () => {
  if (skipped("demo in Chromium")) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const demo = startCli(["demo", "--peers", "12", "--seconds", "18", "--crash", "3", "--tick", "10", "--http", "127.0.0.1:0"]);
  const chromium = await launchChromium();
  try {
    const url = (await lineOf(demo, /^relaygrid demo dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/, 30_000))[1] as string;
    const page = await chromium.context.newPage();
    await page.goto(url);
    const agrees = async (c: { members: string; components: string }): Promise<boolean> => {
      const s = JSON.parse((await request(`${url}state.json`)).body) as DashboardState;
      return c.members === String(s.selected?.members) && c.components === String(s.selected?.components);
    };
    await until(page, "the grid formed", 40_000, (c) => c.members === "12" && c.components === "1");
    await page.screenshot({ path: resolve(ARTIFACTS, "dashboard-demo-formed.png") });
    await lineOf(demo, /^crashed 3 peers/, 40_000);
    await until(page, "the crashed members expired", 20_000, (c) => Number(c.members) < 12);
    await until(page, "the page agrees with the lobby", 10_000, agrees);
    await page.screenshot({ path: resolve(ARTIFACTS, "dashboard-demo-crash.png") });
    await lineOf(demo, /^healed \d+ ms after the crash: \d+ members, one component$/, 30_000);
    await lineOf(demo, /^3 new peers join$/, 30_000);
    await until(page, "whole again with 12", 20_000, (c) => c.members === "12" && c.components === "1");
    await until(page, "the page agrees with the lobby", 10_000, agrees);
    await settled(page);
    await page.screenshot({ path: resolve(ARTIFACTS, "dashboard-demo.png") });
    assert.is(await within("the demo's exit", 40_000, demo.exited), 0);
  } finally {
    await chromium.close();
    demo.kill();
  }
});

test.run();
