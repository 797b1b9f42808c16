/**
 * Checks the relay rules on every transmit the simulator sees (STYLE.md 11):
 *  - claim 15: a peer never forwards data back to the link it first received it from;
 *  - claim 17: never to the origin;
 *  - claim 16: no directed link carries the same (origin, seq) twice.
 * It throws, which fails the simulation run with its seed.
 */
import type { Address } from "../../lib/endpoint.ts";
import { newRelayHeader, readRelay } from "../../wire/index.ts";

export class RelayInspector {
  /** peer id -> address, filled by the test as peers are admitted. */
  readonly addressOf = new Map<number, Address>();
  private readonly firstFrom = new Map<string, Address>();
  private readonly carried = new Set<string>();
  private readonly header = newRelayHeader();
  checked = 0;

  /** Records that `at` received (origin, seq) from `from` (call from a delivery hook). */
  inspect = (_now: number, from: Address, to: Address, bytes: Uint8Array): void => {
    if (bytes.length < 3 || bytes[0] !== 0x98 || bytes[2] !== 1) return;
    if (readRelay(bytes, this.header) !== null) return;
    const { origin, seq } = this.header;
    this.checked++;
    const id = `${origin}:${seq}`;
    const hop = `${from}>${to}:${id}`;
    if (this.carried.has(hop)) throw new Error(`claim 16: ${from} sent ${id} to ${to} twice`);
    this.carried.add(hop);
    if (this.addressOf.get(origin) === to) throw new Error(`claim 17: ${from} relayed ${id} back to its origin ${to}`);
    // The first transmit of this id that reaches `to` is where `to` got it from.
    const key = `${to}|${id}`;
    if (!this.firstFrom.has(key)) this.firstFrom.set(key, from);
    if (this.firstFrom.get(`${from}|${id}`) === to) throw new Error(`claim 15: ${from} relayed ${id} back to its sender ${to}`);
  };

  /** Frees the memory of checked messages (long runs). */
  reset(): void {
    this.firstFrom.clear();
    this.carried.clear();
  }
}
