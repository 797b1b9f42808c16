/**
 * Errors for the caller's mistakes (bad config, payload too large, unknown grid, closed peer).
 * The remote's mistakes (bad datagrams) are never thrown: they are counted drops (see stats()).
 */
export const ErrorCode = {
  InvalidConfig: "invalid-config",
  PayloadTooLarge: "payload-too-large",
  NotJoined: "not-joined",
  Closed: "closed",
  Timeout: "timeout",
  Rejected: "rejected",
  UnknownGrid: "unknown-grid",
  GridFull: "grid-full",
  LimitReached: "limit-reached",
  InvalidAddress: "invalid-address",
  Socket: "socket",
  /** The lobby's admission policy refused: no valid join token for the grid (expired, used, or none). */
  NotAdmitted: "not-admitted",
  /** A reliable message could not be delivered: repair gave it up, or the receiver fell too far behind (delivery.ts). */
  MessageLost: "message-lost",
  /** Admitted, but no member could be reached (NAT traversal failed for every one): see the message for why and the fix. */
  Unreachable: "unreachable",
  /** An application listener (e.g. on("data")) threw; the error is its `cause` (platform/node). */
  Listener: "listener",
  /** A spectator tried to send: what a spectator originates is delivered to nobody (lib/relay/spectators.ts). */
  Spectator: "spectator",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class RelayGridError extends Error {
  /** Stable, machine-readable; safe to switch on across versions. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "RelayGridError";
    this.code = code;
  }
}

/** Throws InvalidConfig unless `value` is an integer within [min, max]. */
export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}
