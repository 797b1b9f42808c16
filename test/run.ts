/**
 * Runs every uvu suite under test/ (files named *.test.ts), in one process, in a stable
 * order. `npm test -- relay` runs only the files whose path contains "relay".
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { run } from "uvu/run";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname);
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));

function collect(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const files = collect(root, []).filter(
  (f) => filters.length === 0 || filters.some((p) => relative(root, f).includes(p)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(", ")}`);
  process.exit(1);
}
// uvu/run imports with a "file:///" + path prefix; hand it the path part of a file URL.
await run(
  files.map((file) => ({ name: relative(root, file), file: pathToFileURL(file).pathname.replace(/^\//, "") })),
  { bail: false },
);
