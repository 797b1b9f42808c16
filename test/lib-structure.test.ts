/**
 * The core's shape, checked on every `npm test`: no value-import loop inside lib/ (a part
 * that needs another is handed it by its composer, the Peer or the Lobby, through a small
 * interface), and no file in lib/ over 350 lines (the house limit; aim under 300).
 *
 * Type-only imports (`import type`, `export type`, or a specifier list that is all `type`)
 * are erased at build time and may point either way; a value import is a module that must
 * run first, so those must form no loop.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const lib = join(root, "lib");
const MAX_LINES = 350;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Every `import ... from "x"` / `export ... from "x"` whose module is loaded at run time. */
export function valueImports(text: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([\s\S]*?)\s+from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[5] !== undefined) {
      out.push(m[5]); // a bare side-effect import
      continue;
    }
    if (m[2] !== undefined) continue; // import type / export type
    const clause = (m[3] as string).trim();
    const braces = /^\{([\s\S]*)\}$/.exec(clause);
    if (braces !== null) {
      const specifiers = (braces[1] as string).split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (specifiers.length > 0 && specifiers.every((s) => s.startsWith("type "))) continue;
    }
    out.push(m[4] as string);
  }
  return out;
}

/** lib/ file -> lib/ files it value-imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sources(lib)) {
    const deps = valueImports(readFileSync(file, "utf8"))
      .filter((spec) => spec.startsWith("."))
      .map((spec) => resolve(dirname(file), spec))
      .filter((path) => path.startsWith(lib + "/"));
    g.set(file, deps);
  }
  return g;
}

/** The loops of `g`, each as the files around it (Tarjan's strongly connected components of size > 1, or a self-import). */
function loops(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        on.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.map((f) => relative(root, f)).sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test("the value-import scanner tells type-only imports from value imports", () => {
  const text = [
    'import type { A } from "./a.ts";',
    'import { type B, type C } from "./b.ts";',
    'import { type D, e } from "./d.ts";',
    'import * as f from "./f.ts";',
    'export type { G } from "./g.ts";',
    'export { h } from "./h.ts";',
    'import {\n  i,\n  type J,\n} from "./i.ts";',
    'import "./k.ts";',
  ].join("\n");
  assert.equal(valueImports(text), ["./d.ts", "./f.ts", "./h.ts", "./i.ts", "./k.ts"]);
});

test("no value-import loop inside lib/ (the Peer and the Lobby compose their parts)", () => {
  const g = graph();
  assert.ok(g.size > 40, `read ${g.size} files under lib/`);
  assert.equal(loops(g), []);
});

test(`no file in lib/ is over ${MAX_LINES} lines`, () => {
  const over = sources(lib)
    .map((f) => [relative(root, f), readFileSync(f, "utf8").split("\n").length - 1] as const)
    .filter(([, n]) => n > MAX_LINES)
    .map(([f, n]) => `${f}: ${n} lines`);
  assert.equal(over, []);
});

test.run();
