/**
 * Checks the relay rules on every transmit the simulator sees (STYLE.md 11):
 *  - claim 15: a peer never forwards data back to the link it first received it from;
 *  - claim 16: no directed link carries the same (origin, seq) twice, unless the receiver
 *    asked for it again (a RepairRequest naming it, or a Graft asking for a catch-up past a
 *    seq below it): a lost copy may be sent again, an unasked one never;
 *  - claim 17: never to the origin.
 * Data and Repair (PROTOCOL.md 4.2.1), Message and MessageRepair (4.1.1) are all checked: a
 * repaired copy is the same data. A
 * neighbour that pruned an origin (redundancy lists, US 7,685,301) getting nothing is a
 * legitimate skip: the rules say where data must not go, not where it must.
 * It throws, which fails the simulation run with its seed.
 *
 * "First received from" is the link an id first arrived over (arrived(), which SimGrid calls
 * from every peer's handleDatagram), so the check holds under loss, jitter and reordering.
 */
import type { Address } from "../../lib/endpoint.ts";
import { decode, isEnvelopeKind, Kind, newRelayHeader, readRelay } from "../../wire/index.ts";

export class RelayInspector {
  /** peer id -> address, filled by the test as peers are admitted. */
  readonly addressOf = new Map<number, Address>();
  // Two generations, so that a long run can forget old messages (rotate()) without
  // forgetting one still in flight.
  private firstFrom = new Map<string, Address>();
  private carried = new Set<string>();
  private olderFirstFrom = new Map<string, Address>();
  private olderCarried = new Set<string>();
  /** "from>to:origin:seq" -> times `to` asked `from` for it again (RepairRequest). */
  private asked = new Map<string, number>();
  /** "from>to:origin" -> the lowest `have` `to` grafted `from` with (a catch-up past it). */
  private caughtUp = new Map<string, number>();
  private readonly header = newRelayHeader();
  checked = 0;
  /** Copies sent again because they were asked for (repairs and catch-ups). */
  resent = 0;

  /** Checks one transmit (the simulator's inspect hook). */
  inspect = (_now: number, from: Address, to: Address, bytes: Uint8Array): void => {
    const kind = bytes.length >= 3 ? (bytes[2] as number) : -1;
    if (kind === Kind.RepairRequest || kind === Kind.Graft) return this.noteAsk(from, to, bytes);
    if (bytes.length < 3 || bytes[0] !== 0x99 || !isEnvelopeKind(kind)) return;
    if (readRelay(bytes, this.header, kind) !== null) return;
    const { origin, seq } = this.header;
    this.checked++;
    const id = `${kind === Kind.Routed ? "r" : ""}${origin}:${seq}`; // routed messages count their own seqs
    const hop = `${from}>${to}:${id}`;
    if (this.carried.has(hop) || this.olderCarried.has(hop)) {
      if (!this.takeAsk(from, to, origin, seq)) throw new Error(`claim 16: ${from} sent ${id} to ${to} twice, unasked`);
      this.resent++;
    }
    this.carried.add(hop);
    if (this.addressOf.get(origin) === to) throw new Error(`claim 17: ${from} relayed ${id} back to its origin ${to}`);
    const back = `${from}|${id}`;
    if ((this.firstFrom.get(back) ?? this.olderFirstFrom.get(back)) === to) {
      throw new Error(`claim 15: ${from} relayed ${id} back to its sender ${to}`);
    }
  };

  /** A Data or Repair datagram `from` -> `to` is handed to `to`: the first one of an id is where `to` got it from. */
  arrived(from: Address, to: Address, bytes: Uint8Array): void {
    const kind = bytes.length >= 3 ? (bytes[2] as number) : -1;
    if (bytes[0] !== 0x99 || !isEnvelopeKind(kind) || readRelay(bytes, this.header, kind) !== null) return;
    const key = `${to}|${kind === Kind.Routed ? "r" : ""}${this.header.origin}:${this.header.seq}`;
    if (!this.firstFrom.has(key) && !this.olderFirstFrom.has(key)) this.firstFrom.set(key, from);
  }

  /** Frees the memory of every checked message (only safe when nothing is in flight). */
  reset(): void {
    this.firstFrom.clear();
    this.carried.clear();
    this.olderFirstFrom.clear();
    this.olderCarried.clear();
    this.asked.clear();
    this.caughtUp.clear();
  }

  /**
   * Forgets the messages checked before the previous rotate(), keeping the recent ones:
   * called every few seconds of virtual time, memory stays bounded while a message in
   * flight (relayed within a second) is still checked against its whole history.
   */
  rotate(): void {
    this.olderFirstFrom = this.firstFrom;
    this.olderCarried = this.carried;
    this.firstFrom = new Map();
    this.carried = new Set();
    if (this.asked.size > 100_000) this.asked.clear();
  }

  /** `from` asks `to` for seqs again: `to` may send them to `from` once more. */
  private noteAsk(from: Address, to: Address, bytes: Uint8Array): void {
    const r = decode(bytes);
    if (!r.ok) return;
    const m = r.msg;
    if (m.kind === Kind.RepairRequest) {
      for (const w of m.wants) {
        for (let i = 0; i < 32; i++) {
          if (((w.mask >>> i) & 1) === 0) continue;
          const k = `${to}>${from}:${w.origin}:${(w.first + i) >>> 0}`;
          this.asked.set(k, (this.asked.get(k) ?? 0) + 1);
        }
      }
    } else if (m.kind === Kind.Graft) {
      for (const e of m.origins) {
        if (e.have === null) continue;
        const k = `${to}>${from}:${e.origin}`;
        this.caughtUp.set(k, Math.min(this.caughtUp.get(k) ?? Infinity, e.have));
      }
    }
  }

  private takeAsk(from: Address, to: Address, origin: number, seq: number): boolean {
    const k = `${from}>${to}:${origin}:${seq}`;
    const n = this.asked.get(k) ?? 0;
    if (n > 0) {
      this.asked.set(k, n - 1);
      return true;
    }
    const have = this.caughtUp.get(`${from}>${to}:${origin}`);
    return have !== undefined && ((seq - have) >>> 0) < 0x80000000 && seq !== have;
  }
}
