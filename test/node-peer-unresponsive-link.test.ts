/**
 * Regression (issue 11, bug 1) on real UDP, 127.0.0.1, port 0: a real Node peer whose
 * neighbour stops answering its pings closes the link as unresponsive and asks the lobby
 * about it (ConnStatus, claim 50). The lobby never answered: on performance.now() the
 * reply's silentMs was fractional, encode() threw, and every retransmission was counted as
 * `internal-error`. The simulator twin of this test: test/lobby-conn-status-live-member.test.ts.
 *
 * The lobby is the real Lobby on the real node driver (what createLobby() runs), with a
 * send tap so the test sees its replies; peer a is a NodePeer from joinGrid(); peer b is a
 * Peer on the same driver whose send filter drops its Pongs, so it stays a live member of
 * the lobby (it heartbeats) while a hears nothing back. Bounded: every wait has a timeout.
 * Runs on Bun and Deno too (the file name matches the platform suites of .ci/run).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lobby, type LobbyEvent } from "../lib/lobby/index.ts";
import { Peer } from "../lib/peer/peer.ts";
import type { PeerEvent } from "../lib/peer/events.ts";
import { bindUdp, CryptoRandom, driveEndpoint, joinGrid, NodeCrypto, type EndpointDriver, type NodePeer, type RelayGridError } from "../platform/node/index.ts";
import { formatAddress } from "../platform/node/address.ts";
import { Kind, LinkStatus, peekKind, type MessageOf } from "../wire/index.ts";
import { carried } from "./support/frames.ts";
import { closeWithin, waitFor } from "./support/wait.ts";

const FAST_PINGS = { pingIntervalMs: 100, pongTimeoutMs: 80, maxMissedPings: 3 } as const;

test("bug 11.1 (real UDP): a peer whose neighbour stops answering pings gets the lobby's ConnStatusReply Alive", async () => {
  const lobbyErrors: string[] = [];
  const replies: { to: string; msg: MessageOf<typeof Kind.ConnStatusReply> }[] = [];
  const lobby = new Lobby({ random: new CryptoRandom(), crypto: new NodeCrypto(), heartbeatMs: 500 });
  const lobbySocket = await bindUdp("127.0.0.1", 0);
  const lobbyAddr = formatAddress("127.0.0.1", lobbySocket.address().port);
  const lobbyDriver = driveEndpoint<LobbyEvent>(lobbySocket, lobby, {
    onEvent: (e) => {
      if (e.type === "internalError") lobbyErrors.push(e.message);
    },
    onError: (e) => lobbyErrors.push(`driver: ${e.message}`),
    sendFilter: (to, bytes) => {
      const c = carried(bytes); // the lobby's replies travel in session frames
      if (c?.msg.kind === Kind.ConnStatusReply) replies.push({ to, msg: c.msg });
      return true;
    },
  });
  let bDriver: EndpointDriver | undefined;
  let a: NodePeer | undefined;
  const peerErrors: string[] = [];
  try {
    // b creates the grid; its Pongs are dropped once `silent` is set.
    let silent = false;
    const b = new Peer({ lobby: lobbyAddr, random: new CryptoRandom(), crypto: new NodeCrypto(), ...FAST_PINGS });
    const bSocket = await bindUdp("127.0.0.1", 0);
    bDriver = driveEndpoint<PeerEvent>(bSocket, b, {
      onError: (e: RelayGridError) => peerErrors.push(`b driver: ${e.message}`),
      sendFilter: (_to, bytes) => !(silent && peekKind(bytes) === Kind.Pong),
    });
    bDriver.command((now) => b.join(now, { grid: "unresponsive", create: true }));
    await waitFor("b is a member", () => b.phase === "member", 5_000);
    a = await joinGrid({ lobby: lobbyAddr, grid: "unresponsive", ...FAST_PINGS, joinTimeoutMs: 5_000 });
    a.on("error", (e) => peerErrors.push(`a: ${e.message}`));
    const aAddr = a.address();
    await waitFor("a and b linked", () => b.linkPeers.includes(a?.id ?? -1), 5_000);

    silent = true;
    await waitFor("the lobby answers a's ConnStatus about b", () => replies.some((r) => r.to === aAddr && r.msg.other === b.id), 5_000);
    const reply = replies.find((r) => r.to === aAddr)?.msg;
    assert.is(reply?.status, LinkStatus.Alive, "b heartbeats: the link broke, not the peer");
    assert.ok(Number.isInteger(reply?.silentMs), `silentMs ${String(reply?.silentMs)}`);
    assert.is(lobby.stats().drops["internal-error"], undefined, "no lobby handler threw");
    assert.equal(lobbyErrors, []);
    assert.equal(peerErrors, []);
  } finally {
    await closeWithin(async () => {
      await a?.close();
      await bDriver?.stop();
      await lobbyDriver.stop();
    });
  }
});

test.run();
