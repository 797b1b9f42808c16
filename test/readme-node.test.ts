/**
 * The README's examples cannot rot: the ```ts example=node, example=admission and example=send blocks run as written,
 * with "relaygrid/node" pointed at the sources, over real UDP on 127.0.0.1 (bounded).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

/** Runs the README's ```ts example=<name> block as written; returns what it printed. */
async function runExample(name: string): Promise<string[]> {
  const readme = readFileSync(resolve(root, "README.md"), "utf8");
  const block = new RegExp("```ts example=" + name + "\\n([\\s\\S]*?)```").exec(readme)?.[1];
  assert.ok(block !== undefined, `README.md has a \`\`\`ts example=${name} block`);
  const source = block.replace('"relaygrid/node"', JSON.stringify(pathToFileURL(resolve(root, "platform/node/index.ts")).href));
  const dir = mkdtempSync(join(tmpdir(), "relaygrid-readme-"));
  const file = join(dir, "example.mts"); // .mts: an ES module wherever it is (top-level await)
  writeFileSync(file, `${source}\nexport {};\n`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(args.map(String).join(" "));
  try {
    await Promise.race([
      import(pathToFileURL(file).href),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`the README example ${name} did not finish in 20 s`)), 20_000)),
    ]);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  return printed;
}

test("README: the Node example runs and prints what its comment says", async () => {
  assert.equal(await runExample("node"), ["hello grid from 1, 0 hops"]);
});

test("README: the join token example runs: the token holder joins, the peer without one is refused with not-admitted (issue 18 item 7)", async () => {
  const printed = await runExample("admission");
  assert.is(printed.length, 1);
  assert.match(printed[0] ?? "", /^not-admitted lobby refused select: no join token for grid "match-42"/);
});

test("README: the send example runs: reliable-ordered, a 64 KiB message, a team message, a routed one and a spectator's refused send, as its comments say (issue 14 item 6)", async () => {
  assert.equal(await runExample("send"), [
    ["65536 bytes", "flank left, team 7", "gg, routed", "round 1, ordered", "round 2, ordered"].join(","),
    ["65536 bytes", "round 1, ordered", "round 2, ordered"].join(","),
    "spectator",
  ]);
});

test.run();
