/**
 * The address text form (PROTOCOL.md 4.5): one text per socket address, because a member
 * compares a ticket's address with the source it formats itself (6.3 step 4). Checked
 * against test/vectors/addresses.json (written by hand from RFC 5952), against an
 * independent RFC 5952 serializer (the WHATWG URL parser's, which compresses and lowercases
 * the same way), and for round trips; the Node driver's formatAddress is this form.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom, randomInt } from "../lib/rng.ts";
import { canonicalHost, formatSocketAddress, isIpv4Literal } from "../wire/address.ts";
import { formatAddress, parseAddress, sendHost } from "../platform/node/address.ts";
import { readVectorFiles, vectorFiles } from "../scripts/gen-vectors.ts";

const { text, addresses } = readVectorFiles();

test("addresses.json is what scripts/gen-vectors.ts writes", () => {
  assert.ok(vectorFiles().addresses === text.addresses, "test/vectors/addresses.json is stale: npx tsx scripts/gen-vectors.ts");
});

test("every address vector: the wire form, and the Node driver's formatAddress, give its text", () => {
  assert.ok(addresses.length >= 20);
  for (const a of addresses) {
    assert.is(formatSocketAddress(a.host, a.port), a.text, a.why);
    assert.is(formatAddress(a.host, a.port), a.text, a.why);
    // The text parses back to a host the driver can send to, and formats to itself.
    const hp = parseAddress(a.text);
    assert.ok(hp !== undefined && hp.port === a.port, a.text);
    assert.is(formatAddress(hp.host, hp.port), a.text, `${a.text} is a fixpoint`);
  }
});

/** A random IPv6 address as eight groups, with zero runs likely. */
function randomGroups(rng: SeededRandom): number[] {
  return Array.from({ length: 8 }, () => (rng.next() < 0.5 ? 0 : rng.next() < 0.5 ? randomInt(rng, 16) : rng.nextU32() & 0xffff));
}

test("IPv6: canonicalHost agrees with the WHATWG URL serializer (RFC 5952 compression) on 5000 random addresses", () => {
  const rng = new SeededRandom(5952);
  for (let i = 0; i < 5000; i++) {
    const w = randomGroups(rng);
    // A non-canonical spelling: leading zeros, uppercase, no compression.
    const spelled = w.map((g) => g.toString(16).padStart(rng.next() < 0.5 ? 4 : 1, "0").toUpperCase()).join(":");
    const mapped = w.slice(0, 5).every((g) => g === 0) && w[5] === 0xffff;
    const ours = canonicalHost(spelled);
    if (mapped) {
      assert.ok(isIpv4Literal(ours), `${spelled} is IPv4-mapped: ${ours}`);
      continue;
    }
    assert.is(ours, new URL(`http://[${spelled}]/`).hostname.slice(1, -1), spelled);
    assert.is(canonicalHost(ours), ours, "idempotent");
  }
});

test("hosts that are not IP literals are kept; bad literals are not 'fixed' into another address", () => {
  for (const h of ["localhost", "host-handle-42", "1.2.3", "1.2.3.256", "1::2::3", "12345::1", "1:2:3:4:5:6:7:8:9", "[::1]"]) {
    assert.is(canonicalHost(h), h, h);
  }
});

test("sendHost: a dual-stack (IPv6) socket sends to an IPv4 address as ::ffff:a.b.c.d; nothing else changes", () => {
  assert.is(sendHost("127.0.0.1", true), "::ffff:127.0.0.1");
  assert.is(sendHost("127.0.0.1", false), "127.0.0.1");
  assert.is(sendHost("::1", true), "::1");
  assert.is(sendHost("localhost", true), "localhost");
});

test.run();
