import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";

test("rng: one seed gives one sequence", () => {
  const a = new SeededRandom(42), b = new SeededRandom(42);
  for (let i = 0; i < 100; i++) assert.is(a.nextU32(), b.nextU32());
});
test.run();
