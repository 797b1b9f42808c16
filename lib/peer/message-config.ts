/**
 * The receiving side's bounds for messages (PROTOCOL.md 4.1.1, delivery.ts): what a member
 * holds back for ordering and for reassembly. Each has a DEFAULT_*; a receiver that falls
 * further behind than these reports it (an "error" event, code message-lost) and skips ahead,
 * never holding more.
 */
import { checkInt } from "../errors.ts";
import { MAX_MESSAGE_BYTES } from "../../wire/index.ts";
import { DEFAULT_REASSEMBLY_BYTES, DEFAULT_REASSEMBLY_BYTES_PER_ORIGIN, DEFAULT_REASSEMBLY_TIMEOUT_MS } from "../relay/reassembly.ts";

/** Ordered messages held per origin, waiting for an earlier one. Defaults to 256. */
export const DEFAULT_MAX_HELD_MESSAGES = 256;
/** Bytes of ordered messages held back, all origins together. Defaults to 4 MiB. */
export const DEFAULT_MAX_HELD_BYTES = 4 * 1024 * 1024;
/**
 * Longest an ordered message waits for an earlier one before that one is reported lost and
 * skipped. Repair gives a missing message up well before (maxRepairAttempts). Defaults to 10 s.
 */
export const DEFAULT_MAX_HOLD_MS = 10_000;

export interface MessageOptions {
  /** Defaults to DEFAULT_MAX_HELD_MESSAGES (256). */
  maxHeldMessages?: number;
  /** Defaults to DEFAULT_MAX_HELD_BYTES (4 MiB). */
  maxHeldBytes?: number;
  /** Defaults to DEFAULT_MAX_HOLD_MS (10000). */
  maxHoldMs?: number;
  /** Unfinished large messages per origin, in bytes. Defaults to DEFAULT_REASSEMBLY_BYTES_PER_ORIGIN (512 KiB). */
  reassemblyBytesPerOrigin?: number;
  /** Unfinished large messages, all origins together. Defaults to DEFAULT_REASSEMBLY_BYTES (4 MiB). */
  reassemblyBytes?: number;
  /** An unfinished large message is dropped this long after its first fragment. Defaults to DEFAULT_REASSEMBLY_TIMEOUT_MS (10000). */
  reassemblyTimeoutMs?: number;
}

export function resolveMessageOptions(c: MessageOptions): Required<MessageOptions> {
  return {
    maxHeldMessages: checkInt("maxHeldMessages", c.maxHeldMessages ?? DEFAULT_MAX_HELD_MESSAGES, 1, 1 << 16),
    maxHeldBytes: checkInt("maxHeldBytes", c.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES, MAX_MESSAGE_BYTES, 1 << 30),
    maxHoldMs: checkInt("maxHoldMs", c.maxHoldMs ?? DEFAULT_MAX_HOLD_MS, 10, 600_000),
    reassemblyBytesPerOrigin: checkInt("reassemblyBytesPerOrigin", c.reassemblyBytesPerOrigin ?? DEFAULT_REASSEMBLY_BYTES_PER_ORIGIN, MAX_MESSAGE_BYTES, 1 << 30),
    reassemblyBytes: checkInt("reassemblyBytes", c.reassemblyBytes ?? DEFAULT_REASSEMBLY_BYTES, MAX_MESSAGE_BYTES, 1 << 30),
    reassemblyTimeoutMs: checkInt("reassemblyTimeoutMs", c.reassemblyTimeoutMs ?? DEFAULT_REASSEMBLY_TIMEOUT_MS, 10, 600_000),
  };
}
