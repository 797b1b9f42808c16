/**
 * SipHash-2-4 (lib/security/siphash.ts) against the paper's published test vectors
 * (Aumasson & Bernstein 2012: key 00 01 .. 0f, messages 00 01 02 .. of length 0..63), an
 * independent BigInt transcription of the paper for random inputs, and the hop-byte skip:
 * the skipped byte never changes the tag, every other byte does.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { referenceSipHash } from "./support/reference-siphash.ts";
import { SeededRandom } from "../lib/rng.ts";
import { sipHash24, sipHash24Into, sipHash24IntoJs, sipHashBackend, sipKeyFrom, useWasmSipHash } from "../lib/security/siphash.ts";

// The 64 outputs as 64-bit integers (the tag is their little-endian encoding).
const VECTORS = [
  "726fdb47dd0e0e31", "74f839c593dc67fd", "0d6c8009d9a94f5a", "85676696d7fb7e2d",
  "cf2794e0277187b7", "18765564cd99a68d", "cbc9466e58fee3ce", "ab0200f58b01d137",
  "93f5f5799a932462", "9e0082df0ba9e4b0", "7a5dbbc594ddb9f3", "f4b32f46226bada7",
  "751e8fbc860ee5fb", "14ea5627c0843d90", "f723ca908e7af2ee", "a129ca6149be45e5",
  "3f2acc7f57c29bdb", "699ae9f52cbe4794", "4bc1b3f0968dd39c", "bb6dc91da77961bd",
  "bed65cf21aa2ee98", "d0f2cbb02e3b67c7", "93536795e3a33e88", "a80c038ccd5ccec8",
  "b8ad50c6f649af94", "bce192de8a85b8ea", "17d835b85bbb15f3", "2f2e6163076bcfad",
  "de4daaaca71dc9a5", "a6a2506687956571", "ad87a3535c49ef28", "32d892fad841c342",
  "7127512f72f27cce", "a7f32346f95978e3", "12e0b01abb051238", "15e034d40fa197ae",
  "314dffbe0815a3b4", "027990f029623981", "cadcd4e59ef40c4d", "9abfd8766a33735c",
  "0e3ea96b5304a7d0", "ad0c42d6fc585992", "187306c89bc215a9", "d4a60abcf3792b95",
  "f935451de4f21df2", "a9538f0419755787", "db9acddff56ca510", "d06c98cd5c0975eb",
  "e612a3cb9ecba951", "c766e62cfcadaf96", "ee64435a9752fe72", "a192d576b245165a",
  "0a8787bf8ecb74b2", "81b3e73d20b49b6f", "7fa8220ba3b2ecea", "245731c13ca42499",
  "b78dbfaf3a8d83bd", "ea1ad565322a1a0b", "60e61c23a3795013", "6606d7e446282b93",
  "6ca4ecb15c5f91e1", "9f626da15c9625f3", "e51b38608ef25f57", "958a324ceb064572",
];

const seq = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const u64 = (tag: Uint8Array): string => [...tag].reverse().map((b) => b.toString(16).padStart(2, "0")).join("");


function randomBytes(rng: SeededRandom, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.nextU32() & 0xff);
}

test("the paper's 64 test vectors (key 00..0f, messages 00 01 .. of length 0..63)", () => {
  const key = sipKeyFrom(seq(16));
  for (let n = 0; n < 64; n++) assert.is(u64(sipHash24(key, seq(n))), VECTORS[n], `length ${n}`);
});

test("the BigInt reference agrees with the vectors, so it can judge random inputs", () => {
  for (let n = 0; n < 64; n++) assert.is(u64(referenceSipHash(seq(16), seq(n))), VECTORS[n]);
});

test("random keys, lengths 0..300 and sub-ranges agree with the reference", () => {
  const rng = new SeededRandom(0x51f);
  const out = new Uint8Array(20);
  for (let i = 0; i < 600; i++) {
    const keyBytes = randomBytes(rng, 16);
    const data = randomBytes(rng, rng.nextU32() % 301);
    const start = data.length === 0 ? 0 : rng.nextU32() % (data.length + 1);
    const end = start + (rng.nextU32() % (data.length - start + 1));
    const at = rng.nextU32() % 13;
    sipHash24Into(sipKeyFrom(keyBytes), data, start, end, -1, out, at);
    assert.equal(out.slice(at, at + 8), referenceSipHash(keyBytes, data.slice(start, end)), `case ${i}`);
  }
});

test("the skipped byte is read as 0: it never changes the tag, every other byte does", () => {
  const rng = new SeededRandom(7);
  const key = sipKeyFrom(randomBytes(rng, 16));
  for (const n of [1, 7, 8, 9, 15, 16, 17, 40, 100]) {
    const data = randomBytes(rng, n);
    for (let skip = 0; skip < n; skip++) {
      const base = new Uint8Array(8);
      sipHash24Into(key, data, 0, n, skip, base, 0);
      const zeroed = data.slice();
      zeroed[skip] = 0;
      assert.equal(base, sipHash24(key, zeroed), `n ${n} skip ${skip}: same as hashing with the byte zeroed`);
      for (let i = 0; i < n; i++) {
        const copy = data.slice();
        copy[i] = (copy[i] as number) ^ (1 << (i % 8));
        const tag = new Uint8Array(8);
        sipHash24Into(key, copy, 0, n, skip, tag, 0);
        if (i === skip) assert.equal(tag, base, `n ${n}: byte ${i} is skipped`);
        else assert.not.equal(tag, base, `n ${n} skip ${skip}: byte ${i} is covered`);
      }
    }
  }
});

test("long messages (read through an Int32Array view when 4-byte aligned) agree with the reference, with and without a skipped byte", () => {
  const rng = new SeededRandom(0x1b16);
  const out = new Uint8Array(8);
  for (let i = 0; i < 120; i++) {
    const keyBytes = randomBytes(rng, 16);
    const key = sipKeyFrom(keyBytes);
    const n = 250 + (rng.nextU32() % 1000);
    // A view into a larger buffer at an offset of 0..7, so both aligned and unaligned reads run.
    const backing = randomBytes(rng, n + 16);
    const data = backing.subarray(rng.nextU32() % 8, n + 8);
    const start = rng.nextU32() % 5;
    const skip = i % 3 === 0 ? -1 : start + (rng.nextU32() % (data.length - start));
    sipHash24Into(key, data, start, data.length, skip, out, 0);
    const zeroed = data.slice(start);
    if (skip >= 0) zeroed[skip - start] = 0;
    assert.equal(out, referenceSipHash(keyBytes, zeroed), `case ${i}: ${data.length - start} bytes at offset ${data.byteOffset + start}, skip ${skip}`);
  }
});

test("a skip index outside [start, end) covers every byte; -1 covers every byte", () => {
  const key = sipKeyFrom(seq(16, 100));
  const data = seq(50);
  const all = new Uint8Array(8);
  sipHash24Into(key, data, 10, 40, -1, all, 0);
  for (const skip of [0, 9, 40, 49, 1000]) {
    const tag = new Uint8Array(8);
    sipHash24Into(key, data, 10, 40, skip, tag, 0);
    assert.equal(tag, all, `skip ${skip}`);
  }
  assert.equal(all, sipHash24(key, data.slice(10, 40)));
});

test("caller mistakes throw: bad key length, ranges outside the arrays", () => {
  assert.throws(() => sipKeyFrom(new Uint8Array(15)), /16 bytes/);
  const key = sipKeyFrom(seq(16));
  const out = new Uint8Array(8);
  assert.throws(() => sipHash24Into(key, seq(10), 0, 11, -1, out, 0), RangeError);
  assert.throws(() => sipHash24Into(key, seq(10), 5, 4, -1, out, 0), RangeError);
  assert.throws(() => sipHash24Into(key, seq(10), -1, 4, -1, out, 0), RangeError);
  assert.throws(() => sipHash24Into(key, seq(10), 0, 10, -1, out, 1), RangeError);
});

test("WebAssembly (where the runtime has it) and JavaScript give the same tags: every length to 1,300, offsets, skipped bytes", () => {
  // Node, Bun and Deno all have WebAssembly; QuickJS (test/quickjs.test.ts) runs the JavaScript path.
  assert.is(sipHashBackend(), typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === "object" ? "wasm" : "js");
  const rng = new SeededRandom(0x5a5a);
  const a = new Uint8Array(8);
  const b = new Uint8Array(8);
  for (let n = 0; n <= 1300; n++) {
    const key = sipKeyFrom(randomBytes(rng, 16));
    const backing = randomBytes(rng, n + 80);
    const data = backing.subarray(rng.nextU32() % 8);
    const start = n % 5 === 0 ? 50 + (rng.nextU32() % 20) : rng.nextU32() % 4; // past the whole-array copy's reach too
    const end = Math.min(data.length, start + n);
    const skip = n % 3 === 0 ? -1 : start + (rng.nextU32() % Math.max(1, end - start));
    sipHash24Into(key, data, start, end, skip, a, 0);
    sipHash24IntoJs(key, data, start, end, skip, b, 0);
    assert.equal(a, b, `length ${end - start} from ${start}, skip ${skip}`);
  }
  // The vectors again with WebAssembly switched off, and on.
  for (const on of [false, true]) {
    useWasmSipHash(on);
    const key = sipKeyFrom(seq(16));
    for (let n = 0; n < 64; n++) assert.is(u64(sipHash24(key, seq(n))), VECTORS[n], `length ${n}, wasm ${on}`);
  }
});

test.run();
