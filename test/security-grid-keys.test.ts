/**
 * Grid keys and the datagram tag (issue 6, point 2): the tag is a valid last MessagePack
 * element, covers every byte but the hop byte, is checked under the epoch it names, and a
 * rotation keeps the previous epoch valid so delivery has no gap. The comparison reads
 * every tag byte whatever it finds (behaviour, not timing).
 */
import { decode, encode } from "@msgpack/msgpack";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import { constantTimeEqual } from "../lib/security/bytes.ts";
import { checkTag, deriveMacKey, GridKeyring, tagLength, writeTag } from "../lib/security/grid-keys.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { sipHash24Into, sipKeyFrom } from "../lib/security/siphash.ts";

const crypto = new NobleCrypto(new SeededRandom(9));
const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const HOP = 3; // index of the hop byte in the test datagrams

/** A fixarray datagram [1, 2, hop, payload] with room for the tag, the header counting it. */
function datagram(payload: Uint8Array, hop = 5): { buf: Uint8Array; prefixEnd: number } {
  const body = encode([1, 2, hop, payload]);
  const buf = new Uint8Array(body.length + tagLength);
  buf.set(body);
  buf[0] = 0x95; // fixarray of 5: the tag is the last element
  assert.is(buf[HOP], hop);
  return { buf, prefixEnd: body.length };
}

function ring(...epochs: number[]): GridKeyring {
  const r = new GridKeyring(crypto);
  for (const e of epochs) r.add(e, key(e & 0xff));
  return r;
}

test("the tag is bin8(9): epoch byte and SipHash of the prefix, a valid last MessagePack element", () => {
  const r = ring(258);
  const { buf, prefixEnd } = datagram(Uint8Array.from([9, 9, 9]));
  assert.is(writeTag(r, buf, prefixEnd, HOP), buf.length);
  assert.equal([...buf.subarray(prefixEnd, prefixEnd + 3)], [0xc4, 0x09, 258 & 0xff]);
  const expected = new Uint8Array(8);
  const mac = crypto.hkdfSha256(key(258 & 0xff), new TextEncoder().encode("relaygrid"), new TextEncoder().encode("mac v1"), 16);
  sipHash24Into(sipKeyFrom(mac), buf, 0, prefixEnd, HOP, expected, 0);
  assert.equal(buf.subarray(prefixEnd + 3), expected);
  assert.equal(r.macKeyFor(258), deriveMacKey(crypto, key(258 & 0xff)));
  const msg = decode(buf) as unknown[];
  assert.is(msg.length, 5);
  assert.ok(msg[4] instanceof Uint8Array && msg[4].length === 9);
  assert.is(checkTag(r, buf, HOP), "ok");
});

test("the hop byte may change at every hop; any other flipped bit is a bad tag or missing", () => {
  const r = ring(1);
  const { buf, prefixEnd } = datagram(Uint8Array.from({ length: 40 }, (_, i) => i));
  writeTag(r, buf, prefixEnd, HOP);
  for (let hop = 0; hop < 128; hop++) {
    buf[HOP] = hop;
    assert.is(checkTag(r, buf, HOP), "ok", `hop ${hop}`);
  }
  for (let bit = 0; bit < buf.length * 8; bit++) {
    const i = bit >> 3;
    if (i === HOP) continue;
    const bad = buf.slice();
    bad[i] = (bad[i] as number) ^ (1 << (bit & 7));
    const verdict = checkTag(r, bad, HOP);
    const expected = i === buf.length - 11 || i === buf.length - 10 ? "missing" : i === buf.length - 9 ? "unknown-epoch" : "bad-tag";
    assert.is(verdict, expected, `byte ${i} bit ${bit & 7}`);
  }
  assert.is(checkTag(r, buf, -1), "bad-tag", "the hop byte is covered when not skipped");
});

test("missing, truncated and empty datagrams never throw", () => {
  const r = ring(1);
  const { buf, prefixEnd } = datagram(new Uint8Array(4));
  writeTag(r, buf, prefixEnd, HOP);
  for (let n = 0; n < buf.length; n++) {
    assert.is.not(checkTag(r, buf.subarray(0, n), HOP), "ok", `prefix ${n}`);
  }
  assert.is(checkTag(r, new Uint8Array(0), HOP), "missing");
  assert.is(checkTag(r, new Uint8Array(10), -1), "missing");
  const rng = new SeededRandom(4);
  for (let i = 0; i < 2000; i++) {
    const junk = Uint8Array.from({ length: rng.nextU32() % 64 }, () => rng.nextU32() & 0xff);
    if (junk.length >= 11 && i % 2 === 0) junk.set([0xc4, 0x09, 1], junk.length - 11);
    assert.is.not(checkTag(r, junk, rng.nextU32() % 70), "ok");
  }
  assert.is(checkTag(new GridKeyring(crypto), buf, HOP), "unknown-epoch", "empty keyring");
});

test("rotation: next is accepted before it is used; previous stays valid after; older is forgotten", () => {
  const r = ring(1);
  const tagged = (epochRing: GridKeyring): Uint8Array => {
    const { buf, prefixEnd } = datagram(Uint8Array.from([epochRing.currentEpoch ?? 0]));
    writeTag(epochRing, buf, prefixEnd, HOP);
    return buf;
  };
  const under1 = tagged(r);
  const sender2 = ring(2);
  const under2 = tagged(sender2);
  assert.is(checkTag(r, under2, HOP), "unknown-epoch");
  assert.ok(r.add(2, key(2)));
  assert.is(r.currentEpoch, 1, "add does not switch sending");
  assert.is(checkTag(r, under2, HOP), "ok", "next accepted before activation");
  r.activate(2);
  assert.is(r.currentEpoch, 2);
  assert.equal(r.epochs(), [1, 2]);
  assert.is(checkTag(r, under1, HOP), "ok", "previous still valid: no gap in delivery");
  assert.is(checkTag(r, tagged(r), HOP), "ok");
  r.add(3, key(3));
  r.activate(3);
  assert.equal(r.epochs(), [2, 3]);
  assert.is(checkTag(r, under1, HOP), "unknown-epoch", "two rotations later");
  assert.is(checkTag(r, under2, HOP), "ok");
  assert.is(r.macKeyFor(1), undefined);
  assert.not.ok(r.add(1, key(1)), "a stale epoch is ignored");
  r.add(4, key(4));
  assert.equal(r.epochs(), [2, 3, 4], "at most three epochs");
  r.activate(2);
  assert.equal(r.epochs(), [2, 3], "rolling back to previous drops next");
  assert.is(r.currentEpoch, 2);
  assert.throws(() => r.activate(9), /not in the keyring/);
});

test("a same-epoch key replaces the old one; a forged key for a known epoch is a bad tag", () => {
  const r = ring(5);
  const { buf, prefixEnd } = datagram(new Uint8Array(3));
  writeTag(r, buf, prefixEnd, HOP);
  const impostor = new GridKeyring(crypto);
  impostor.add(5, key(99));
  assert.is(checkTag(impostor, buf, HOP), "bad-tag");
  r.add(5, key(99));
  assert.is(checkTag(r, buf, HOP), "bad-tag", "re-keyed epoch");
  assert.equal(r.keyFor(5), key(99));
});

test("caller mistakes throw: no current key, no room, bad key, colliding epoch byte", () => {
  const { buf, prefixEnd } = datagram(new Uint8Array(3));
  assert.throws(() => writeTag(new GridKeyring(crypto), buf, prefixEnd, HOP), /no current grid key/);
  assert.throws(() => writeTag(ring(1), buf, prefixEnd + 1, HOP), /do not fit/);
  assert.throws(() => ring(1).add(2, new Uint8Array(16)), /32 bytes/);
  assert.throws(() => ring(1).add(-1, key(1)), /u32/);
  assert.throws(() => ring(1, 2).add(257, key(3)), /same tag byte/);
});

test("constant-time compare: reads every byte of both sides, wherever the first difference is", () => {
  const counted = (bytes: Uint8Array, reads: number[]): Uint8Array =>
    new Proxy(bytes, {
      get(target, prop) {
        if (typeof prop === "string" && /^\d+$/.test(prop)) reads.push(Number(prop));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  const a = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  for (const differAt of [-1, 0, 3, 7]) {
    const b = a.slice();
    if (differAt >= 0) b[differAt] = 0xff;
    const readsA: number[] = [];
    const readsB: number[] = [];
    const equal = constantTimeEqual(counted(a, readsA), 0, counted(b, readsB), 0, 8);
    assert.is(equal, differAt < 0);
    assert.equal(readsA, [0, 1, 2, 3, 4, 5, 6, 7], `differ at ${differAt}`);
    assert.equal(readsB, [0, 1, 2, 3, 4, 5, 6, 7], `differ at ${differAt}`);
  }
  assert.not.ok(constantTimeEqual(a, 4, a, 0, 8), "a range past the end is unequal");

  // checkTag reads all 8 tag bytes whether the first or the last one is wrong.
  const r = ring(1);
  const { buf, prefixEnd } = datagram(new Uint8Array(20));
  writeTag(r, buf, prefixEnd, HOP);
  for (const wrong of [prefixEnd + 3, buf.length - 1]) {
    const bad = buf.slice();
    bad[wrong] = (bad[wrong] as number) ^ 1;
    const reads: number[] = [];
    assert.is(checkTag(r, counted(bad, reads), HOP), "bad-tag");
    const tagReads = reads.filter((i) => i >= prefixEnd + 3);
    assert.equal(tagReads, [0, 1, 2, 3, 4, 5, 6, 7].map((k) => prefixEnd + 3 + k), `wrong byte at ${wrong}`);
  }
});

test.run();
