/**
 * A real headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a browser download: `npx playwright install` is not used). The flags
 * keep it off the network (this machine has none) and out of any profile: a fresh
 * --user-data-dir per launch (playwright passes it for launchPersistentContext), removed on close. Without the binary the tests say so and skip.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM_PATH = process.env.RELAYGRID_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium; .ci/run installs it)`;
}

export interface Launched {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Launched> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "relaygrid-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1400, height: 820 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
