/**
 * A simulated host that only listens: the victim of a reflection, or where a departed
 * member's answers land. It counts bytes and datagrams and keeps what decodes.
 */
import type { Endpoint, Transmit } from "../../lib/endpoint.ts";
import { decode, type Message } from "../../wire/index.ts";

export class Sink implements Endpoint<unknown> {
  bytes = 0;
  datagrams = 0;
  readonly got: Message[] = [];
  handleDatagram(_now: number, _from: string, bytes: Uint8Array): void {
    this.bytes += bytes.length;
    this.datagrams++;
    const d = decode(bytes);
    if (d.ok) this.got.push(d.msg);
  }
  handleTimeout(): void {}
  pollTimeout(): undefined {
    return undefined;
  }
  pollTransmit(): Transmit | undefined {
    return undefined;
  }
  pollEvent(): undefined {
    return undefined;
  }
}
