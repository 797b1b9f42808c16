/**
 * joinGrid's deadline, and what it says when it passes. The protocol gives up on its own:
 * a lobby request is sent maxAttempts times with a doubling backoff, then the Peer emits
 * an "error" naming the cause ("did not answer hello after 8 tries", or "failed the
 * handshake: its Welcome did not verify under the pinned lobbyKey"). The default deadline
 * comes after that, so the real cause is what the join rejects with; a deadline the
 * application set shorter still names the cause from what the peer saw so far.
 */
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRANSMIT_MS } from "../../lib/peer/config.ts";
import type { Phase } from "../../lib/peer/core.ts";
import { MAX_BACKOFF_MS } from "../../lib/peer/request-table.ts";
import type { GridStanding } from "../../lib/peer/standing.ts";
import type { PeerStats } from "../../lib/peer/stats.ts";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";

/** Added to a lobby request's give-up time for joinGrid's default deadline. */
export const JOIN_TIMEOUT_MARGIN_MS = 5000;

/** How long one lobby request is retried before the Peer gives up: 11000 ms with the defaults (200+400+800+1600+4x2000). */
export function requestGiveUpMs(retransmitMs: number = DEFAULT_RETRANSMIT_MS, maxAttempts: number = DEFAULT_MAX_ATTEMPTS): number {
  let total = 0;
  for (let k = 1; k <= maxAttempts; k++) total += Math.min(retransmitMs * 2 ** (k - 1), MAX_BACKOFF_MS);
  return total;
}

/**
 * How long joinGrid waits by default: 16000 ms with the default timing (the 11 s a lobby
 * request takes to give up, plus JOIN_TIMEOUT_MARGIN_MS).
 */
export const DEFAULT_JOIN_TIMEOUT_MS = requestGiveUpMs() + JOIN_TIMEOUT_MARGIN_MS;

/** The default deadline for these timing options: never before a lobby request gives up. */
export function defaultJoinTimeoutMs(retransmitMs: number | undefined, maxAttempts: number | undefined): number {
  return Math.max(DEFAULT_JOIN_TIMEOUT_MS, requestGiveUpMs(retransmitMs, maxAttempts) + JOIN_TIMEOUT_MARGIN_MS);
}

/** What joinGrid rejects with when its deadline passes first: the cause, from the peer's counters and phase. */
export function joinTimeoutError(
  timeoutMs: number,
  lobby: string,
  grid: string | number,
  phase: Phase,
  stats: PeerStats,
  standing?: GridStanding,
): RelayGridError {
  const badSignature = stats.drops["handshake-bad-signature"] ?? 0;
  if (badSignature > 0) {
    return new RelayGridError(
      ErrorCode.Rejected,
      `the lobby at ${lobby} failed the handshake: ${badSignature} Welcome(s) did not verify under the pinned lobbyKey ` +
        `(wrong key, or not the lobby); check the key "relaygrid lobby" prints (not joined within joinTimeoutMs ${timeoutMs})`,
    );
  }
  if (stats.datagramsIn === 0) {
    return new RelayGridError(
      ErrorCode.Timeout,
      `the lobby at ${lobby} did not answer: no datagram came back in ${timeoutMs} ms (${stats.datagramsOut} sent); ` +
        "is it running at that address and port, and does the network let UDP through?",
    );
  }
  if (phase === "member") {
    // Linked, but not (yet) told it stands in the main component: an island, or a lobby that sends no GridStatus.
    const island = standing === undefined ? "the lobby has not said where it stands" : `the lobby counts it on an island of ${standing.component} of ${standing.members} members`;
    return new RelayGridError(
      ErrorCode.Timeout,
      `this peer holds ${stats.links.length} link(s) in grid ${String(grid)}, but ${island}, so its broadcasts may not reach the grid ` +
        `(not connected within joinTimeoutMs ${timeoutMs}; resolveOn: "joined" resolves on the first link)`,
    );
  }
  const where =
    phase === "joining"
      ? `the lobby admitted this peer to grid ${String(grid)}, but no member answered its join requests`
      : `the lobby at ${lobby} answered (${stats.datagramsIn} datagrams) but grid ${String(grid)} was not joined (phase "${phase}")`;
  return new RelayGridError(ErrorCode.Timeout, `${where} within joinTimeoutMs ${timeoutMs}`);
}
