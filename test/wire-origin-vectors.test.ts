/**
 * test/vectors/origin.json (PROTOCOL.md 4.1.4): the origin signature trailer. The signed
 * message is rebuilt here by hand from the formula in the file's `about`, the signature
 * checked under the link key with both crypto providers (pure JS and node:crypto), and the
 * datagram's payload shown to end with the ticket and the signature.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { SeededRandom } from "../lib/rng.ts";
import { verifyTicketV2Signature } from "../lib/security/ticket.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";
import { newRelayHeader, readRelay } from "../wire/index.ts";
import { ORIGIN_SIGNATURE_BYTES, ORIGIN_TICKET_BYTES, ORIGIN_TRAILER_BYTES } from "../wire/origin-signature.ts";
import { fromHex, readVectorFiles, toHex, vectorFiles } from "../scripts/gen-vectors.ts";

const { text, origin: v } = readVectorFiles();
const providers = [new NobleCrypto(new SeededRandom(1)), new NodeCrypto()];

test("test/vectors/origin.json is what scripts/gen-vectors.ts writes", () => {
  assert.ok(vectorFiles().origin === text.origin, "test/vectors/origin.json is stale: npx tsx scripts/gen-vectors.ts");
});

test("the origin's ticket is the lobby's (RFC 8032 7.1 test 1) over the link key (test 2)", () => {
  const ticket = fromHex(v.ticket);
  assert.is(ticket.length, ORIGIN_TICKET_BYTES);
  assert.is(toHex(ticket.subarray(13, 45)), v.inputs.linkKey);
  for (const c of providers) assert.ok(verifyTicketV2Signature(c, fromHex(v.inputs.identity), ticket), c.name);
});

test("signed message by hand from the formula; the signature verifies with both providers; the datagram carries both", () => {
  const u32 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");
  const domain = toHex(new TextEncoder().encode("relaygrid-origin-v1"));
  for (const x of v.vectors) {
    const cls = x.kind === 0x06 ? "01" : "00";
    const target = x.target === null ? "00" + u32(0) : "01" + u32(x.target);
    const byHand = domain + cls + u32(x.grid) + u32(x.origin) + u32(x.seq) + target + x.payload + v.ticket;
    assert.is(x.signedMessage, byHand, x.name);
    for (const c of providers) assert.ok(c.ed25519Verify(fromHex(v.inputs.linkKey), fromHex(byHand), fromHex(x.signature)), `${x.name} ${c.name}`);
    const d = fromHex(x.datagram);
    const h = newRelayHeader();
    assert.is(readRelay(d, h, x.kind), null, x.name);
    assert.equal([h.grid, h.origin, h.seq, h.target, h.payloadLength], [x.grid, x.origin, x.seq, x.target, x.payload.length / 2 + ORIGIN_TRAILER_BYTES]);
    const end = h.payloadOffset + h.payloadLength;
    assert.is(toHex(d.subarray(end - ORIGIN_SIGNATURE_BYTES, end)), x.signature);
    assert.is(toHex(d.subarray(end - ORIGIN_TRAILER_BYTES, end - ORIGIN_SIGNATURE_BYTES)), v.ticket);
  }
});

test.run();
