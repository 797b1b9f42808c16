/**
 * test/vectors/security.json (PROTOCOL.md 6.6): a fixed grid key, its MAC key and datagrams
 * before and after signing, for another implementation to check its HKDF and SipHash-2-4
 * against. The file is written by scripts/gen-vectors.ts with lib/security (writeTag); here
 * every value is recomputed independently: HKDF-SHA256 straight from @noble/hashes, SipHash-2-4
 * as a BigInt transcription of the paper, the datagrams with @msgpack/msgpack, and the tag
 * checked with lib/security checkTag.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { referenceSipHash } from "./support/reference-siphash.ts";
import { checkSessionVectors } from "./support/session-vectors.ts";
import { encode as referenceEncode } from "@msgpack/msgpack";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SeededRandom } from "../lib/rng.ts";
import { checkTag, GridKeyring } from "../lib/security/grid-keys.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { decode, Kind, RELAY_HOPS_OFFSET, TAG_BYTES, TAG_FIELD_BYTES, type Message } from "../wire/index.ts";
import { fromHex, positional, readVectorFiles, type SignedDatagram, toHex, vectorFiles } from "../scripts/gen-vectors.ts";

const { text, security } = readVectorFiles();
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);


function keyring(): GridKeyring {
  const k = new GridKeyring(new NobleCrypto(new SeededRandom(1)));
  k.add(security.epoch, fromHex(security.gridKey));
  return k;
}

const cases: [string, SignedDatagram][] = [
  ["data", security.data],
  ["ping", security.ping],
];

test("security.json is what scripts/gen-vectors.ts writes", () => {
  assert.ok(vectorFiles().security === text.security, "test/vectors/security.json is stale: npx tsx scripts/gen-vectors.ts");
});

test("macKey = HKDF-SHA256(gridKey, salt \"relaygrid\", info \"mac v1\", 16 bytes)", () => {
  assert.is(security.gridKey.length, 64);
  assert.is(toHex(hkdf(sha256, fromHex(security.gridKey), ascii("relaygrid"), ascii("mac v1"), 16)), security.macKey);
});

test("the paper's SipHash-2-4 test vector holds for the reference used here", () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  // Aumasson & Bernstein 2012, appendix A: the 15-byte message 00 .. 0e.
  assert.is(toHex(referenceSipHash(key, Uint8Array.from({ length: 15 }, (_, i) => i))), "e545be4961ca29a1");
});

test("unsigned: the message encoded with a zero tag, by an independent MessagePack encoder", () => {
  for (const [name, c] of cases) {
    const zero = { ...c.msg, tag: new Uint8Array(TAG_BYTES) } as Message;
    assert.is(toHex(referenceEncode(positional(zero))), c.unsigned, name);
    assert.ok(c.unsigned.endsWith("c409" + "00".repeat(TAG_BYTES)), name);
  }
});

test("macInput: every byte before the tag field, the hop byte of Data read as 0", () => {
  assert.is(security.data.skipIndex, RELAY_HOPS_OFFSET);
  assert.is(security.ping.skipIndex, -1);
  for (const [name, c] of cases) {
    const expected = fromHex(c.unsigned).slice(0, -TAG_FIELD_BYTES);
    if (c.skipIndex >= 0) expected[c.skipIndex] = 0;
    assert.is(c.macInput, toHex(expected), name);
  }
});

test("tag = epoch & 0xff || SipHash-2-4(macKey, macInput); signed = unsigned with the tag in place", () => {
  for (const [name, c] of cases) {
    const sip = referenceSipHash(fromHex(security.macKey), fromHex(c.macInput));
    const epochByte = (security.epoch & 0xff).toString(16).padStart(2, "0");
    assert.is(c.tag, epochByte + toHex(sip), name);
    assert.is(c.signed, c.unsigned.slice(0, -2 * TAG_BYTES) + c.tag, name);
    assert.is(toHex((c.msg as { tag: Uint8Array }).tag), c.tag, `${name}: msg carries the signed tag`);
  }
});

test("link key (PROTOCOL.md 6.13) = HKDF-SHA256(gridKey, initiatorNonce || responderNonce, \"relaygrid link v1\" || u32be ids, 16); auth = SipHash-2-4 over every byte before the auth field", () => {
  const l = security.link;
  assert.is(l.salt, l.initiatorNonce + l.responderNonce);
  const ids = [l.initiator, l.responder].map((n) => n.toString(16).padStart(8, "0")).join("");
  assert.is(l.info, toHex(ascii("relaygrid link v1")) + ids);
  assert.is(toHex(hkdf(sha256, fromHex(security.gridKey), fromHex(l.salt), fromHex(l.info), 16)), l.linkKey);
  assert.is(toHex(referenceEncode(positional({ ...l.ping.msg, auth: new Uint8Array(8), tag: new Uint8Array(TAG_BYTES) } as Message))), l.ping.unsigned);
  assert.is(l.ping.authInput, l.ping.unsigned.slice(0, -2 * (TAG_FIELD_BYTES + 10)));
  assert.is(toHex(referenceSipHash(fromHex(l.linkKey), fromHex(l.ping.authInput))), l.ping.auth);
  const stamped = l.ping.unsigned.slice(0, -2 * (TAG_FIELD_BYTES + 8)) + l.ping.auth + "c409" + "00".repeat(TAG_BYTES);
  const tag = (security.epoch & 0xff).toString(16).padStart(2, "0") + toHex(referenceSipHash(fromHex(security.macKey), fromHex(stamped).slice(0, -TAG_FIELD_BYTES)));
  assert.is(l.ping.signed, stamped.slice(0, -2 * TAG_BYTES) + tag);
  assert.is(checkTag(keyring(), fromHex(l.ping.signed), -1), "ok");
  const d = decode(fromHex(l.ping.signed));
  assert.ok(d.ok && d.msg.kind === Kind.Ping && toHex((d.msg as { auth: Uint8Array }).auth) === l.ping.auth);
});

test("lib/security checkTag accepts the signed datagrams, and a relay's hop change, and nothing else", () => {
  const k = keyring();
  for (const [name, c] of cases) {
    const signed = fromHex(c.signed);
    assert.is(checkTag(k, signed, c.skipIndex), "ok", name);
    assert.is(checkTag(k, fromHex(c.unsigned), c.skipIndex), "unknown-epoch", `${name}: zero tag (epoch byte 0)`);
    // Any other byte flipped, the tag itself included, breaks it.
    for (let i = 0; i < signed.length; i++) {
      if (i === c.skipIndex) continue;
      const b = signed.slice();
      b[i] = (b[i] as number) ^ 0x01;
      const r = checkTag(k, b, c.skipIndex);
      if (i === signed.length - TAG_BYTES) assert.is(r, "unknown-epoch", `${name}: epoch byte`);
      else if (i >= signed.length - TAG_FIELD_BYTES && i < signed.length - TAG_BYTES) assert.is(r, "missing", `${name}: tag header byte ${i}`);
      else assert.is(r, "bad-tag", `${name}: byte ${i}`);
    }
  }
  const forwarded = fromHex(security.data.forwarded);
  assert.is(forwarded[RELAY_HOPS_OFFSET], 2);
  assert.is(checkTag(k, forwarded, RELAY_HOPS_OFFSET), "ok", "forwarded: the hop byte is not covered");
  assert.is(checkTag(k, forwarded, -1), "bad-tag", "forwarded: covering the hop byte would break the tag");
  assert.is(security.data.forwarded, security.data.signed.slice(0, 6) + "02" + security.data.signed.slice(8));
});

test("the signed datagrams decode to their msg", () => {
  for (const [name, c] of cases) {
    const r = decode(fromHex(c.signed));
    if (!r.ok) assert.unreachable(`${name}: ${r.code} ${r.detail}`);
    else assert.equal(r.msg, c.msg, name);
  }
  const fwd = decode(fromHex(security.data.forwarded));
  assert.ok(fwd.ok && fwd.msg.kind === Kind.Data && fwd.msg.hops === 2);
});

test("6.10: session frames under a fixed session key, recomputed by hand, opened as a peer and a lobby do", () => {
  checkSessionVectors(security.session);
});

test.run();
