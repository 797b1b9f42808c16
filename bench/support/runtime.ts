/**
 * Which runtime this process is (Node, Bun or Deno), and how to start a script on a runtime:
 * the UDP groups run on the runtime --runtime names, taken from node_modules/.bin (the bun and
 * deno devDependencies) or else from PATH.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Runtime } from "../types.ts";

declare const Bun: { version: string } | undefined;
declare const Deno: { version: { deno: string } } | undefined;

export function currentRuntime(): { name: Runtime; version: string } {
  if (typeof Bun !== "undefined") return { name: "bun", version: Bun.version };
  if (typeof Deno !== "undefined") return { name: "deno", version: Deno.version.deno };
  return { name: "node", version: process.version };
}

function tsxLoader(): string {
  try {
    return import.meta.resolve("tsx");
  } catch {
    return "tsx"; // resolved from the working directory
  }
}

/** The command and arguments that run the TypeScript file `script` on `runtime`. */
export function scriptCommand(runtime: Runtime, script: string, nodeFlags: readonly string[] = []): [string, string[]] {
  if (runtime === "node") {
    const execPath = currentRuntime().name === "node" ? process.execPath : "node";
    return [execPath, [...nodeFlags, "--import", tsxLoader(), script]];
  }
  const local = fileURLToPath(new URL(`../../node_modules/.bin/${runtime}`, import.meta.url));
  const bin = currentRuntime().name === runtime ? process.execPath : existsSync(local) ? local : runtime;
  // --unstable-net: Deno.listenDatagram, for the udp-hop group's native raw forwarder on Deno.
  return runtime === "deno" ? [bin, ["run", "-A", "--unstable-net", script]] : [bin, [script]];
}
