/**
 * Checks the relay rules on every transmit the simulator sees (STYLE.md 11):
 *  - claim 15: a peer never forwards data back to the link it first received it from;
 *  - claim 16: no directed link carries the same (origin, seq) twice;
 *  - claim 17: never to the origin.
 * It throws, which fails the simulation run with its seed.
 *
 * "First received from" is the first transmit of an id towards a peer, which is also the
 * first to arrive when every link has the same latency and no jitter or reordering.
 */
import type { Address } from "../../lib/endpoint.ts";
import { newRelayHeader, readRelay } from "../../wire/index.ts";

export class RelayInspector {
  /** peer id -> address, filled by the test as peers are admitted. */
  readonly addressOf = new Map<number, Address>();
  // Two generations, so that a long run can forget old messages (rotate()) without
  // forgetting one still in flight.
  private firstFrom = new Map<string, Address>();
  private carried = new Set<string>();
  private olderFirstFrom = new Map<string, Address>();
  private olderCarried = new Set<string>();
  private readonly header = newRelayHeader();
  checked = 0;

  /** Checks one transmit (the simulator's inspect hook). */
  inspect = (_now: number, from: Address, to: Address, bytes: Uint8Array): void => {
    if (bytes.length < 3 || bytes[0] !== 0x99 || bytes[2] !== 1) return;
    if (readRelay(bytes, this.header) !== null) return;
    const { origin, seq } = this.header;
    this.checked++;
    const id = `${origin}:${seq}`;
    const hop = `${from}>${to}:${id}`;
    if (this.carried.has(hop) || this.olderCarried.has(hop)) throw new Error(`claim 16: ${from} sent ${id} to ${to} twice`);
    this.carried.add(hop);
    if (this.addressOf.get(origin) === to) throw new Error(`claim 17: ${from} relayed ${id} back to its origin ${to}`);
    // The first transmit of this id that reaches `to` is where `to` got it from.
    const key = `${to}|${id}`;
    if (!this.firstFrom.has(key) && !this.olderFirstFrom.has(key)) this.firstFrom.set(key, from);
    const back = `${from}|${id}`;
    if ((this.firstFrom.get(back) ?? this.olderFirstFrom.get(back)) === to) {
      throw new Error(`claim 15: ${from} relayed ${id} back to its sender ${to}`);
    }
  };

  /** Frees the memory of every checked message (only safe when nothing is in flight). */
  reset(): void {
    this.firstFrom.clear();
    this.carried.clear();
    this.olderFirstFrom.clear();
    this.olderCarried.clear();
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
  }
}
