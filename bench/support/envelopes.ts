/**
 * Relay envelopes as the positional arrays @msgpack/msgpack encodes
 * ([version, kind, hops, grid, origin, seq, target, payload, tag], PROTOCOL.md 4.1), generated
 * from a seed with a realistic spread of field sizes: grid ids are random u32, origins are
 * small member ids, seqs cover the fixint, u8, u16 and u32 encodings, a few messages are
 * addressed to one member. The tag is 9 bytes (epoch byte + 8 bytes of SipHash output) of
 * seeded noise: the codec only carries it, lib/security computes and checks it.
 */
import { SeededRandom } from "../../lib/rng.ts";
import { Kind, PROTOCOL_VERSION, TAG_BYTES } from "../../wire/index.ts";

export type EnvelopeArray = [number, number, number, number, number, number, number | null, Uint8Array, Uint8Array];

/** Payload size of the codec and relay-core groups: a typical game state delta. */
export const PAYLOAD_BYTES = 64;

export function makeEnvelopes(count: number, payloadBytes = PAYLOAD_BYTES, seed = 7): EnvelopeArray[] {
  const rng = new SeededRandom(seed);
  const grid = rng.nextU32() | 0x80000000; // always the 5-byte uint32 form, like a lobby's random id
  const seqSpans = [0x7f, 0xff, 0xffff, 0xffffffff];
  const out: EnvelopeArray[] = [];
  for (let i = 0; i < count; i++) {
    const payload = new Uint8Array(payloadBytes);
    for (let j = 0; j < payloadBytes; j++) payload[j] = rng.nextU32() & 0xff;
    const span = seqSpans[i % seqSpans.length] as number;
    const seq = Math.floor(rng.next() * span);
    const target = i % 16 === 15 ? 1 + (rng.nextU32() % 64) : null;
    const tag = new Uint8Array(TAG_BYTES);
    for (let j = 0; j < TAG_BYTES; j++) tag[j] = rng.nextU32() & 0xff;
    out.push([PROTOCOL_VERSION, Kind.Data, i % 8, grid >>> 0, 1 + (rng.nextU32() % 64), seq, target, payload, tag]);
  }
  return out;
}
