/**
 * Whether the Node peer driver (platform/node, `joinGrid`) exists yet. The UDP groups need it
 * for their relaygrid side; until it lands they say so instead of printing a number.
 */
export interface DriverStatus {
  readonly available: boolean;
  readonly reason: string;
}

export async function nodePeerDriver(): Promise<DriverStatus> {
  const url = new URL("../../platform/node/index.ts", import.meta.url).href;
  try {
    const mod = (await import(url)) as Record<string, unknown>;
    if (typeof mod.joinGrid === "function") return { available: true, reason: "platform/node exports joinGrid" };
    return { available: false, reason: "needs the Node peer driver: platform/node does not export joinGrid yet" };
  } catch (e) {
    const missing = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
    return {
      available: false,
      reason: missing
        ? "needs the Node peer driver (platform/node joinGrid), which does not exist yet"
        : `needs the Node peer driver: platform/node did not load (${(e as Error).message.split("\n")[0] ?? ""})`,
    };
  }
}
