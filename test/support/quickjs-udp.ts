/**
 * The QuickJS host's side of the network: a plain node:dgram socket and a monotonic clock,
 * standing in for what a console engine owns. Deliberately not relaygrid/node, so the
 * embedded path is proven without any of that driver's code.
 */
import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";

/** The test's one clock: monotonic milliseconds, shared by every host in the process. */
export const clock = (): number => performance.now();

/** "127.0.0.1:7000" -> host and port (IPv4 loopback only in these tests). */
export function parseAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** A UDP socket bound on 127.0.0.1 with an OS-chosen port. */
export async function bindLoopback(): Promise<{ socket: Socket; address: string }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return { socket, address: `127.0.0.1:${socket.address().port}` };
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
