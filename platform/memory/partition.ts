/**
 * Network partitions: cuts between two groups of addresses.
 *
 * Several cuts may be active at once (partition() twice splits the grid three ways);
 * heal() removes them all. A datagram "crosses" when its ends sit on opposite sides of
 * any cut, and it is dropped whether it was sent across the cut or was in flight when
 * the cut appeared: the wire is gone, not just the on-ramp.
 */
import type { Address } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError } from "../../lib/errors.ts";

interface Cut {
  readonly a: ReadonlySet<Address>;
  readonly b: ReadonlySet<Address>;
}

export class Partitions {
  private cuts: Cut[] = [];

  /** Cuts groupA from groupB. An address in both groups is a caller mistake. */
  add(groupA: readonly Address[], groupB: readonly Address[]): void {
    const a = new Set(groupA);
    const b = new Set(groupB);
    for (const address of b) {
      if (a.has(address)) {
        throw new RelayGridError(ErrorCode.InvalidConfig, `partition: ${address} is in both groups; list it on one side`);
      }
    }
    this.cuts.push({ a, b });
  }

  clear(): void {
    this.cuts = [];
  }

  get active(): boolean {
    return this.cuts.length > 0;
  }

  /** Whether a datagram between these two addresses is cut (in either direction). */
  crosses(from: Address, to: Address): boolean {
    for (const { a, b } of this.cuts) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return true;
    }
    return false;
  }
}
