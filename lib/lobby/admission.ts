/**
 * Admission (issue 18, item 7): who may create which grid, and join it. Without a policy the
 * lobby admits anyone who reaches it into any grid by name. With one (LobbyConfig.admission),
 * it asks the policy before a CreateGrid creates, before a SelectGrid admits a new member, and
 * before a Rejoin restores a grid or a member it cannot check otherwise; a refusal is
 * Error NotAdmitted with the policy's reason, and nothing is changed.
 *
 * The policy is a plain synchronous function, for an embedder of the sans-IO Lobby that keeps
 * its own list (a match server that knows its players' addresses). joinTokenAdmission() is the
 * one most games want: the game's backend mints signed join tokens (lib/security/join-token.ts)
 * and the lobby admits whoever presents a valid, unexpired, unused one for that grid.
 *
 * Join token rules (PROTOCOL.md 6.10):
 * - the signature verifies under one of the configured public keys, and the token names the grid;
 * - now <= expiresAt + clockSkewS, and expiresAt <= now + maxLifetimeS + clockSkewS (a token valid
 *   for days is a leaked credential waiting to happen; the backend mints short-lived ones);
 * - replay: a token is bound to the first session that used it until it expires; another
 *   session presenting it is refused (a retransmit, a second part or a refresh from the same
 *   session is fine). At most maxTrackedTokens are remembered; past that, new tokens are
 *   refused until old ones expire (fail closed).
 * - the token's player becomes the member's `player`; the lobby keeps one member per player
 *   and grid (a newer admission replaces the older one, as it does for one address).
 *
 * Roles (US 7,610,402, PROTOCOL.md 4.1.3): a SelectGrid asks for a role (`request.role`); a
 * policy may grant another (`{ ok: true, role: "spectator" }`: a late comer to a full match
 * watches, a player without a token for this match spectates), and the lobby allocates the
 * member's id in the granted role's range, so every member knows it from the id. Without a
 * `role` in the verdict the asked one is granted. A role is granted once, when a member is
 * admitted: for "create" and "rejoin" (the id, and with it the role, is already the member's)
 * the verdict's role is not used.
 */
import type { Address } from "../endpoint.ts";
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import { checkBytes, type CryptoProvider, ED25519_PUBLIC_KEY_BYTES } from "../security/crypto.ts";
import { verifyJoinToken } from "../security/join-token.ts";
import type { MemberRoleName } from "../relay/spectators.ts";

export interface AdmissionRequest {
  /** CreateGrid, a SelectGrid admitting a new member, or a Rejoin the lobby cannot check by key. */
  readonly action: "create" | "select" | "rejoin";
  /** The grid's name. */
  readonly grid: string;
  /** The grid's id (0 for "create": it has none yet). */
  readonly gridId: number;
  /** The session asking (a token is bound to the first session that used it). */
  readonly session: number;
  /** Its address, as the datagram came from it. */
  readonly address: Address;
  /** The name the peer gave in Hello (unauthenticated: the peer chose it). */
  readonly name: string;
  /** The role the peer asked for (SelectGrid role; "player" for "create" and "rejoin"). */
  readonly role: MemberRoleName;
  /** The join tokens this session presented (JoinToken), newest first. */
  readonly tokens: readonly Uint8Array[];
  /** The lobby's clock (the `now` it was fed), not wall time. */
  readonly nowMs: number;
}

export type AdmissionVerdict =
  /**
   * Admit; `player` (at most 32 bytes) names who it is, one member per player and grid; `role`
   * is the role granted ("select" only), the asked one when absent.
   */
  | { readonly ok: true; readonly player?: string; readonly role?: MemberRoleName }
  /** Refuse: Error NotAdmitted with `reason` (cut to 128 bytes) as its detail. */
  | { readonly ok: false; readonly reason: string };

export type AdmissionHook = (request: AdmissionRequest) => AdmissionVerdict;

/** A join token may expire at most this far ahead (plus the skew). Defaults to 3600 s. */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 3600;
/** Clocks of the backend and the lobby may disagree by this much. Defaults to 30 s. */
export const DEFAULT_TOKEN_CLOCK_SKEW_S = 30;
/** Join tokens remembered against replay at once. Defaults to 65536 (a few MiB at most). */
export const DEFAULT_MAX_TRACKED_TOKENS = 65_536;
/** Join token public keys a lobby checks at most (a token is tried against each). */
export const MAX_JOIN_TOKEN_KEYS = 4;

export interface JoinTokenAdmissionOptions {
  /** The backend's Ed25519 public keys (32 bytes each; two during a key rotation), 1 to 4. */
  readonly publicKeys: readonly Uint8Array[];
  readonly crypto: CryptoProvider;
  /** Unix time in milliseconds, from the host (relaygrid/node passes its wall clock): the core reads no clock itself. */
  readonly unixTimeMs: () => number;
  /** Defaults to DEFAULT_MAX_TOKEN_LIFETIME_S (3600). */
  readonly maxLifetimeS?: number;
  /** Defaults to DEFAULT_TOKEN_CLOCK_SKEW_S (30). */
  readonly clockSkewS?: number;
  /** Defaults to DEFAULT_MAX_TRACKED_TOKENS (65536). */
  readonly maxTrackedTokens?: number;
}

interface Used {
  readonly session: number;
  readonly forgetAtS: number;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The admission policy of signed join tokens (see the rules above). Throws RelayGridError(invalid-config) on bad options. */
export function joinTokenAdmission(options: JoinTokenAdmissionOptions): AdmissionHook {
  const keys = options.publicKeys;
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > MAX_JOIN_TOKEN_KEYS) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `publicKeys must hold 1 to ${MAX_JOIN_TOKEN_KEYS} Ed25519 public keys (the backend's)`);
  }
  keys.forEach((k, i) => checkBytes(`publicKeys[${i}]`, k, ED25519_PUBLIC_KEY_BYTES));
  const publicKeys = keys.map((k) => k.slice());
  if (typeof options.unixTimeMs !== "function") {
    throw new RelayGridError(ErrorCode.InvalidConfig, "unixTimeMs must be a function returning Unix time in ms (the host's wall clock)");
  }
  const maxLifetimeS = checkInt("maxLifetimeS", options.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S, 1, 30 * 86_400);
  const skewS = checkInt("clockSkewS", options.clockSkewS ?? DEFAULT_TOKEN_CLOCK_SKEW_S, 0, 3600);
  const maxTracked = checkInt("maxTrackedTokens", options.maxTrackedTokens ?? DEFAULT_MAX_TRACKED_TOKENS, 1, 1 << 24);
  /** Token (by its signature) -> the session it is bound to; in insertion order, which ends by forgetAtS order. */
  const used = new Map<string, Used>();

  return (req) => {
    const nowS = Math.floor(options.unixTimeMs() / 1000);
    // Every entry is forgotten maxLifetime + 2 skews after it was stored, at the latest.
    for (const [id, u] of used) {
      if (u.forgetAtS > nowS) break;
      used.delete(id);
    }
    // Why the newest token failed (the one the peer most likely meant), if any did.
    let why: string | undefined;
    for (const token of req.tokens) {
      const check = verifyJoinToken(options.crypto, publicKeys, token);
      if (!check.ok) {
        why ??= check.reason === "malformed" ? "the join token is malformed" : "the join token's signature does not verify under the lobby's join token keys";
        continue;
      }
      const c = check.claims;
      if (c.grid !== req.grid) {
        why ??= `the join token is for grid "${c.grid}", not "${req.grid}"`;
        continue;
      }
      if (nowS > c.expiresAt + skewS) {
        why ??= `the join token for grid "${c.grid}" expired ${nowS - c.expiresAt} s ago: get a fresh one from the game's backend`;
        continue;
      }
      if (c.expiresAt > nowS + maxLifetimeS + skewS) {
        why ??= `the join token for grid "${c.grid}" expires in ${c.expiresAt - nowS} s, more than the lobby's maxLifetimeS ${maxLifetimeS}`;
        continue;
      }
      // The signed claims name the token (not its signature bytes, which a forger could vary).
      const id = `${hex(c.nonce)}:${c.expiresAt}:${c.grid}:${c.player}`;
      const bound = used.get(id);
      if (bound !== undefined && bound.session !== req.session) {
        why ??= `the join token for grid "${c.grid}" was already used by another session (a token admits one client)`;
        continue;
      }
      if (bound === undefined) {
        if (used.size >= maxTracked) return { ok: false, reason: `${maxTracked} join tokens in use (maxTrackedTokens); retry later` };
        used.set(id, { session: req.session, forgetAtS: nowS + maxLifetimeS + 2 * skewS });
      }
      return { ok: true, player: c.player };
    }
    return { ok: false, reason: why ?? `no join token for grid "${req.grid}": the peer must present one from the game's backend (JoinToken) first` };
  };
}
