import { defineConfig } from "tsup";

// ESM + CJS + .d.ts for every entry in package.json's exports map.
export default defineConfig({
  entry: {
    index: "lib/index.ts",
    wire: "wire/index.ts",
    memory: "platform/memory/index.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  target: "es2020",
  platform: "neutral",
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
});
