/** The seeker's round (seeker.ts): what a join or connection-available round holds. */
import type { Address } from "../endpoint.ts";
import type { Response } from "./connection-rules.ts";

/** A join round (claim 26) or a connection-available round (claim 36) in progress. */
export interface Round {
  readonly id: number;
  readonly kind: "join" | "available";
  readonly sentAt: number;
  deadline: number;
  /** The members asked. */
  readonly asked: readonly number[];
  readonly responses: Response[];
  /** The request that asked each member (asked again at its proven path, PathSource). */
  readonly requests: Map<number, { readonly req: number; readonly addr: Address }>;
}

/** Where the seeker gets more members to ask when it knows nobody new (the lobby client). */
export interface MemberSource {
  refreshMembers(now: number): void;
}
