/**
 * codec: relay envelope encode + decode per second, the hand codec (writeRelay into a reused
 * buffer, readRelay into a reused header) against @msgpack/msgpack on the same arrays: its
 * module functions (encode/decode) and a reused Encoder (encodeSharedRef) with a reused
 * Decoder. Target: at least 2.5x the reused Encoder. Also heap bytes allocated per message.
 */
import { decode, Decoder, encode, Encoder } from "@msgpack/msgpack";
import { newRelayHeader, readRelay, relaySizeBound, writeRelay } from "../../wire/index.ts";
import { makeEnvelopes, PAYLOAD_BYTES, type EnvelopeArray } from "../support/envelopes.ts";
import { bytesPerOp, opsPerSecond, type Candidate } from "../support/measure.ts";
import { figure, ratio } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const TARGET = 2.5;
const MESSAGES = 256;

function setup(): { msgs: EnvelopeArray[]; views: Uint8Array[]; buf: Uint8Array } {
  const msgs = makeEnvelopes(MESSAGES);
  const buf = new Uint8Array(relaySizeBound(PAYLOAD_BYTES));
  const views: Uint8Array[] = [];
  for (const m of msgs) {
    const n = writeRelay(buf, 0, m[2], m[3], m[4], m[5], m[6], m[7], m[8]);
    const ref = encode(m);
    // The comparison is only fair if both produce the same bytes.
    if (ref.length !== n || ref.some((b, i) => b !== buf[i])) throw new Error(`codec bench: hand codec and @msgpack/msgpack differ for ${JSON.stringify(m.slice(0, 7))}`);
    // readRelay checks the exact length, so each message gets its own view of the one buffer.
    views.push(buf.subarray(0, n));
  }
  return { msgs, views, buf };
}

function candidates(): Candidate[] {
  const { msgs, views, buf } = setup();
  const mask = MESSAGES - 1;
  const header = newRelayHeader();
  const ours: Candidate = {
    name: "ours",
    batch(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const m = msgs[i & mask] as EnvelopeArray;
        writeRelay(buf, 0, m[2], m[3], m[4], m[5], m[6], m[7], m[8]);
        if (readRelay(views[i & mask] as Uint8Array, header) === null) acc += header.seq + header.payloadLength;
      }
      return acc;
    },
  };
  const moduleFns: Candidate = {
    name: "module",
    batch(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const arr = decode(encode(msgs[i & mask])) as EnvelopeArray;
        acc += arr[5] + arr[7].length;
      }
      return acc;
    },
  };
  const encoder = new Encoder();
  const decoder = new Decoder();
  const reused: Candidate = {
    name: "reused",
    batch(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const arr = decoder.decode(encoder.encodeSharedRef(msgs[i & mask])) as EnvelopeArray;
        acc += arr[5] + arr[7].length;
      }
      return acc;
    },
  };
  return [ours, reused, moduleFns];
}

export const codecGroup: Group = {
  name: "codec",
  title: "relay envelope encode+decode",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const repeats = ctx.quick ? 3 : 7;
    const batchMs = ctx.quick ? 120 : 300;
    const allocMessages = ctx.quick ? 200_000 : 1_000_000;
    const cands = candidates();
    ctx.log(`codec: ${repeats} repeats of ~${batchMs} ms per candidate`);
    const [ours, reused, moduleFns] = opsPerSecond(ctx, cands, repeats, batchMs) as [number[], number[], number[]];
    ctx.log(`codec: allocations over ${allocMessages} messages each`);
    const alloc = cands.map((c) => bytesPerOp(ctx, c, allocMessages));
    const vsReused = ratio(ours, reused);
    const rows: Row[] = [
      { key: "oursOpsPerSec", measure: "hand codec: writeRelay + readRelay (reused buffer, header)", value: figure(ours, "op/s") },
      {
        key: "reusedEncoderOpsPerSec",
        measure: "@msgpack/msgpack reused Encoder.encodeSharedRef + Decoder",
        value: figure(reused, "op/s"),
        ratio: vsReused,
        ratioKey: "oursVsReusedEncoderRatio",
        baseline: "ours / this",
        target: `>= ${TARGET}x`,
        met: vsReused.median >= TARGET,
      },
      {
        key: "moduleFunctionsOpsPerSec",
        measure: "@msgpack/msgpack encode() + decode()",
        value: figure(moduleFns, "op/s"),
        ratio: ratio(ours, moduleFns),
        ratioKey: "oursVsModuleFunctionsRatio",
        baseline: "ours / this",
      },
      { key: "oursAllocBytesPerMsg", measure: "hand codec: heap allocated per message", value: figure([alloc[0] as number], "B/msg") },
      { key: "reusedEncoderAllocBytesPerMsg", measure: "reused Encoder/Decoder: heap allocated per message", value: figure([alloc[1] as number], "B/msg") },
      { key: "moduleFunctionsAllocBytesPerMsg", measure: "encode()/decode(): heap allocated per message", value: figure([alloc[2] as number], "B/msg") },
    ];
    return {
      group: "codec",
      title: this.title,
      status: "ok",
      rows,
      info: { messages: MESSAGES, payloadBytes: PAYLOAD_BYTES, repeats, allocMessages, exactAlloc: ctx.hasGc },
      notes: [
        `${MESSAGES} distinct envelopes (9-element arrays: the 8 relay fields and the 9-byte grid-key tag as bin8), ${PAYLOAD_BYTES} B payload, byte-identical in both codecs (checked before timing); one op = encode + decode of one envelope. The tag's SipHash is not computed here (relay-core measures it).`,
        "The hand codec's allocation is writeRelay's tag argument: it copies the tag through tag.subarray(), a new view per call (~100 B); with tag null (what the Peer passes: it signs the zeroed tag in place) the same loop allocates ~16 B per message.",
        `Allocation: median heap delta per chunk of 1,000 messages over ${allocMessages.toLocaleString("en-US")} messages (chunks with a scavenge excluded)${ctx.hasGc ? "" : "; no --expose-gc, so an estimate"}.`,
      ],
    };
  },
};
