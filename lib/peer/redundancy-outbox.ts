/**
 * The Prunes and Grafts a peer owes its links (redundancy.ts), batched per link and sent
 * together at the next redundancy tick: a Prune lists up to MAX_PRUNE_ORIGINS origins, a Graft
 * up to MAX_GRAFT_ORIGINS (origin, have) entries; more make more datagrams.
 */
import { Kind, MAX_GRAFT_ORIGINS, MAX_PRUNE_ORIGINS, type GraftEntry } from "../../wire/index.ts";
import { NO_AUTH, NO_TAG, type PeerCore } from "./core.ts";

export class RedundancyOutbox {
  private readonly prunes = new Map<number, number[]>();
  private readonly grafts = new Map<number, GraftEntry[]>();

  constructor(
    private readonly core: PeerCore,
    private readonly counters: { prunesSent: number; graftsSent: number },
  ) {}

  prune(peer: number, origin: number): void {
    let out = this.prunes.get(peer);
    if (out === undefined) this.prunes.set(peer, (out = []));
    if (!out.includes(origin)) out.push(origin);
  }

  /** A Graft entry for `origin` to `peer`; `have` (a catch-up request) wins over null for the same origin. */
  graft(peer: number, origin: number, have: number | null): void {
    let out = this.grafts.get(peer);
    if (out === undefined) this.grafts.set(peer, (out = []));
    const e = out.find((x) => x.origin === origin);
    if (e !== undefined) e.have = e.have ?? have;
    else out.push({ origin, have });
  }

  /** The link closed: nothing more for it. */
  forget(peer: number): void {
    this.prunes.delete(peer);
    this.grafts.delete(peer);
  }

  flush(): void {
    const core = this.core;
    for (const [peer, origins] of this.prunes) {
      const link = core.links.get(peer);
      if (link === undefined) continue;
      for (let i = 0; i < origins.length; i += MAX_PRUNE_ORIGINS) {
        core.sendOnLink(link, { kind: Kind.Prune, grid: core.grid, from: core.self, to: link.peer, origins: origins.slice(i, i + MAX_PRUNE_ORIGINS), ctr: 0, auth: NO_AUTH, tag: NO_TAG });
        this.counters.prunesSent++;
      }
    }
    this.prunes.clear();
    for (const [peer, entries] of this.grafts) {
      const link = core.links.get(peer);
      if (link === undefined) continue;
      for (let i = 0; i < entries.length; i += MAX_GRAFT_ORIGINS) {
        core.sendOnLink(link, { kind: Kind.Graft, grid: core.grid, from: core.self, to: link.peer, origins: entries.slice(i, i + MAX_GRAFT_ORIGINS), ctr: 0, auth: NO_AUTH, tag: NO_TAG });
        this.counters.graftsSent++;
      }
    }
    this.grafts.clear();
  }
}
