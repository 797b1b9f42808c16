/** Polls `cond` on the real clock until it holds or `timeoutMs` passes (real-socket tests only). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Asserts that `fn` rejects and that `check` accepts the reason (uvu/assert has no rejects). */
export async function rejects(fn: () => Promise<unknown>, check: (e: unknown) => boolean, what = "promise"): Promise<void> {
  let reason: unknown;
  try {
    await fn();
  } catch (e) {
    reason = e;
    if (!check(e)) throw new Error(`${what} rejected with an unexpected reason: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return;
  }
  throw new Error(`${what} resolved, expected a rejection${reason === undefined ? "" : ""}`);
}

/** Runs `close` (closing sockets, peers, lobbies) and fails if it hangs: a hang guard, not a speed claim. */
export async function closeWithin(close: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  let guard: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    close(),
    new Promise((_, reject) => (guard = setTimeout(() => reject(new Error(`close hung for ${timeoutMs} ms`)), timeoutMs))),
  ]).finally(() => clearTimeout(guard));
}
