/**
 * The README's Node example cannot rot: the ```ts example=node block is run as written,
 * with "relaygrid/node" pointed at the sources, over real UDP on 127.0.0.1 (bounded).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

test("README: the Node example runs and prints what its comment says", async () => {
  const readme = readFileSync(resolve(root, "README.md"), "utf8");
  const block = /```ts example=node\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block !== undefined, "README.md has a ```ts example=node block");
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
      new Promise((_, reject) => setTimeout(() => reject(new Error("the README example did not finish in 10 s")), 10_000)),
    ]);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(printed, ["hello grid from 1, 0 hops"]);
});

test.run();
