/**
 * What a datagram carries, for taps and send filters that watch the wire: a session frame's
 * body decoded (PROTOCOL.md 6.10; a tap holds no session key, so it reads the frame without
 * checking it), anything else as it is.
 */
import { decode, Kind, type Message } from "../../wire/index.ts";

export function carried(bytes: Uint8Array): { msg: Message; framed: boolean } | undefined {
  const r = decode(bytes);
  if (!r.ok) return undefined;
  if (r.msg.kind !== Kind.SessionFrame) return { msg: r.msg, framed: false };
  const inner = decode(r.msg.body);
  return inner.ok ? { msg: inner.msg, framed: true } : undefined;
}
