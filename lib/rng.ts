/**
 * Injected randomness. The core never calls Math.random(): every choice comes from a
 * Random the driver passes in, so a simulation replays exactly from its seed.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** A uint32. */
  nextU32(): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded through splitmix32.
 * Small, fast, and good enough for protocol choices (not for keys).
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }
}

/** An integer in [0, n). */
export function randomInt(rng: Random, n: number): number {
  return Math.floor(rng.next() * n);
}

/** Fisher-Yates shuffle in place; returns the same array. */
export function shuffle<T>(rng: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/**
 * Up to `k` distinct items of `items` at random, in random order, without copying or
 * shuffling the whole list: O(k) expected for k well below items.length (a hint's targets
 * or a member sample drawn from a grid of 10,000), a shuffled copy otherwise.
 */
export function sample<T>(rng: Random, items: readonly T[], k: number): T[] {
  const n = items.length;
  if (k <= 0 || n === 0) return [];
  if (k * 4 >= n) return shuffle(rng, [...items]).slice(0, k);
  const picked = new Set<number>();
  const out: T[] = [];
  while (out.length < k) {
    const i = randomInt(rng, n);
    if (picked.has(i)) continue;
    picked.add(i);
    out.push(items[i] as T);
  }
  return out;
}
