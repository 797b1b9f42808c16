/**
 * relaygrid/memory: a deterministic, seeded, virtual-time network for testing sans-IO
 * endpoints (Peer, Lobby) at scale, with loss, latency, jitter, duplication, reordering,
 * partitions and crashes.
 */
export { SimNetwork } from "./network.ts";
export { SimNode } from "./handle.ts";
export { SimulationError } from "./error.ts";
// The same class as every other entry's (one shared chunk in the package): what SimNetwork throws for caller mistakes.
export { ErrorCode, RelayGridError } from "../../lib/errors.ts";
export {
  DEFAULT_EVENT_LOG_LIMIT,
  DEFAULT_MAX_STEPS,
  DEFAULT_MTU_BYTES,
  DEFAULT_STRICT_MTU,
  type InspectFn,
  type OnEventFn,
  type RunOptions,
  type RunUntilOptions,
  type SimNetworkOptions,
} from "./options.ts";
export {
  DEFAULT_DUPLICATE_PERCENT,
  DEFAULT_JITTER_MS,
  DEFAULT_LATENCY_MS,
  DEFAULT_LINK,
  DEFAULT_LOSS_PERCENT,
  DEFAULT_REORDER_DELAY_MS,
  DEFAULT_REORDER_PERCENT,
  type LinkModel,
  type LinkOptions,
} from "./link.ts";
export type { LinkCounters, SimStats } from "./stats.ts";
export { DEFAULT_MAPPING_TIMEOUT_MS, NAT_KINDS, type NatFiltering, type NatMapping, type RouterOptions } from "./nat.ts";
