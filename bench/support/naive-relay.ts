/**
 * The baseline of the relay-core group: the relay a developer writes first with
 * @msgpack/msgpack. It decodes every datagram with the module's decode(), remembers every
 * (origin, seq) as an "origin:seq" string in a Set, and re-encodes the message with encode()
 * for every link it forwards to. Same relay rules as the Peer's defaults (not back to the
 * sender, not to the origin, hop limit 127) and the same poll-style output, so both are
 * driven by the same loop. Its Set grows with every message; the bench starts a fresh one
 * per batch (which flatters it). It carries the grid-key tag (the envelope's 9th element)
 * through unchanged and does not check it: it is the baseline of the relay work without the
 * MAC, like the relay-core figure derived without it.
 */
import { decode, encode } from "@msgpack/msgpack";
import { Kind, MAX_HOPS } from "../../wire/index.ts";

interface NaiveLink {
  readonly peer: number;
  readonly address: string;
}

export interface NaiveTransmit {
  readonly to: string;
  readonly bytes: Uint8Array;
}

export interface NaiveData {
  readonly type: "data";
  readonly payload: Uint8Array;
  readonly origin: number;
  readonly seq: number;
  readonly hops: number;
  readonly target: number | null;
}

export class NaiveRelay {
  private readonly byAddress = new Map<string, NaiveLink>();
  private seen = new Set<string>();
  private readonly outbox: NaiveTransmit[] = [];
  private readonly events: NaiveData[] = [];

  constructor(
    private readonly self: number,
    private readonly grid: number,
    private readonly links: readonly NaiveLink[],
  ) {
    for (const l of links) this.byAddress.set(l.address, l);
  }

  /** Forgets every (origin, seq) seen. */
  reset(): void {
    this.seen = new Set();
  }

  handleDatagram(_now: number, from: string, bytes: Uint8Array): void {
    const sender = this.byAddress.get(from);
    if (sender === undefined) return;
    let msg: unknown;
    try {
      msg = decode(bytes);
    } catch {
      return;
    }
    if (!Array.isArray(msg) || msg.length !== 9 || msg[1] !== Kind.Data) return;
    const [version, kind, hops, grid, origin, seq, target, payload, tag] = msg as [number, number, number, number, number, number, number | null, Uint8Array, Uint8Array];
    if (grid !== this.grid || origin === this.self) return;
    const key = `${origin}:${seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (target === null || target === this.self) {
      this.events.push({ type: "data", payload, origin, seq, hops, target });
      if (target === this.self) return;
    }
    if (hops >= MAX_HOPS) return;
    for (const link of this.links) {
      if (link.peer === sender.peer || link.peer === origin) continue;
      this.outbox.push({ to: link.address, bytes: encode([version, kind, hops + 1, grid, origin, seq, target, payload, tag]) });
    }
  }

  pollTransmit(): NaiveTransmit | undefined {
    return this.outbox.shift();
  }

  pollEvent(): NaiveData | undefined {
    return this.events.shift();
  }
}
