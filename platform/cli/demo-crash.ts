/**
 * `relaygrid demo --crash N`: a third of the way in, N peers crash (their sockets close and
 * nobody is told); two thirds in, N new peers join. Victims are chosen, where possible, so
 * that losing them cuts the lobby's confirmed graph in pieces: the demo then shows the whole
 * repair story (dead links dropped, islands detected, repair hints, links re-formed), not
 * only neighbours replacing a lost link.
 */
import type { LobbyServer, NodePeer } from "../node/index.ts";

export class CrashPlan {
  private crashed = false;
  private replaced = false;
  private healed = false;
  private crashedAt = 0;

  constructor(
    private readonly n: number,
    private readonly startMs: number,
    private readonly spanMs: number,
  ) {}

  /** Called every tick: crashes, reports healing, and adds the new peers to `peers` as they join. */
  step(now: number, peers: NodePeer[], lobby: LobbyServer, join: () => Promise<NodePeer>, io: { out(line: string): void }): void {
    if (!this.crashed && now >= this.startMs + this.spanMs / 3) {
      this.crashed = true;
      this.crashedAt = now;
      const ids = new Set(chooseVictims(lobby, peers.map((p) => p.id), this.n));
      const dead = peers.filter((p) => ids.has(p.id));
      peers.splice(0, peers.length, ...peers.filter((p) => !ids.has(p.id)));
      for (const p of dead) void p.destroy();
      io.out(`crashed ${dead.length} peers (${dead.map((p) => p.id).join(", ")}): sockets closed, nobody told; watch the grid heal`);
    }
    if (this.crashed && !this.healed) {
      const s = lobby.stats();
      if (s.peers === peers.length && s.components === 1) {
        this.healed = true;
        io.out(`healed ${(now - this.crashedAt).toFixed(0)} ms after the crash: ${s.peers} members, one component`);
      }
    }
    if (!this.replaced && now >= this.startMs + (2 * this.spanMs) / 3) {
      this.replaced = true;
      io.out(`${this.n} new peers join`);
      for (let i = 0; i < this.n; i++) void join().then((p) => peers.push(p), (e: unknown) => io.out(`a join failed: ${String(e)}`));
    }
  }
}

/** Up to `n` of `alive`: first, one at a time, members whose loss adds a component to the lobby's graph; then at random. */
export function chooseVictims(lobby: LobbyServer, alive: readonly number[], n: number): number[] {
  const grid = lobby.lobby.grids()[0]?.grid;
  const adjacency = grid === undefined ? undefined : lobby.lobby.graphOf(grid);
  const pool = shuffle([...alive]);
  const chosen: number[] = [];
  if (adjacency !== undefined) {
    let parts = components(adjacency, new Set());
    for (const id of pool) {
      if (chosen.length >= n) break;
      const after = components(adjacency, new Set([...chosen, id]));
      if (after > parts) {
        chosen.push(id);
        parts = after;
      }
    }
  }
  for (const id of pool) if (chosen.length < n && !chosen.includes(id)) chosen.push(id);
  return chosen;
}

function components(adjacency: ReadonlyMap<number, readonly number[]>, removed: ReadonlySet<number>): number {
  const seen = new Set<number>(removed);
  let count = 0;
  for (const start of adjacency.keys()) {
    if (seen.has(start)) continue;
    count++;
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      for (const next of adjacency.get(stack.pop() as number) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
  }
  return count;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
