/**
 * A Random backed by the Web Crypto API (globalThis.crypto.getRandomValues), present in
 * Node >= 19, Deno and Bun. The lobby's session ids prove that a peer receives datagrams at
 * its address, so in production they must not be predictable from a small seed.
 */
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import type { Random } from "../../lib/rng.ts";

const BATCH = 256;

export class CryptoRandom implements Random {
  private readonly pool = new Uint32Array(BATCH);
  private index = BATCH;

  constructor() {
    if (typeof globalThis.crypto?.getRandomValues !== "function") {
      throw new RelayGridError(ErrorCode.InvalidConfig, "globalThis.crypto.getRandomValues is missing: pass `random` explicitly");
    }
  }

  nextU32(): number {
    if (this.index >= BATCH) {
      globalThis.crypto.getRandomValues(this.pool);
      this.index = 0;
    }
    return this.pool[this.index++] as number;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }
}
