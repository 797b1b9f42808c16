/**
 * Join tokens from a game's backend (relaygrid/node), for a lobby that admits only the
 * players the backend sent (createLobby({ joinTokenKeys })). The backend keeps the secret key
 * and mints a token per player and grid; the lobby holds the public key only.
 */
import { randomBytes } from "node:crypto";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { JOIN_TOKEN_NONCE_BYTES, createJoinToken as mint } from "../../lib/security/join-token.ts";
import { NodeCrypto } from "./node-crypto.ts";

/** How long a token from createJoinToken admits by default: 60 s, time for a client to get to the lobby. */
export const DEFAULT_JOIN_TOKEN_TTL_S = 60;

export interface JoinTokenKeys {
  /** The 32-byte Ed25519 seed: the backend's secret. Never ship it to clients or the lobby. */
  readonly secretKey: Uint8Array;
  /** The 32-byte public key: give it to the lobby (createLobby({ joinTokenKeys: [publicKey] })). */
  readonly publicKey: Uint8Array;
}

export interface CreateJoinTokenOptions {
  /** The backend's secret key (JoinTokenKeys.secretKey), 32 bytes or 64 hex characters. */
  secretKey: Uint8Array | string;
  /** The grid name the token admits to (1 to 32 bytes); the player may create it if it does not exist. */
  grid: string;
  /** Who the player is, in the backend's terms (at most 32 bytes); the lobby keeps one member per player and grid. Defaults to "". */
  player?: string;
  /** Seconds from now until it stops admitting (1 to the lobby's maxLifetimeS, 3600 by default). Defaults to 60. */
  ttlSeconds?: number;
}

/** A fresh Ed25519 key pair for signing join tokens. */
export function createJoinTokenKeys(): JoinTokenKeys {
  return new NodeCrypto().ed25519KeyPair();
}

/** Mints a join token for one player and grid, valid for ttlSeconds; hand it to the player's client (joinGrid({ token })). */
export function createJoinToken(options: CreateJoinTokenOptions): Uint8Array {
  const ttl = options.ttlSeconds ?? DEFAULT_JOIN_TOKEN_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86_400) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `ttlSeconds must be an integer from 1 to ${30 * 86_400}, got ${String(ttl)}`);
  }
  const expiresAt = Math.floor(Date.now() / 1000) + ttl;
  const nonce = new Uint8Array(randomBytes(JOIN_TOKEN_NONCE_BYTES));
  return mint(new NodeCrypto(), keyBytes("secretKey", options.secretKey), { grid: options.grid, player: options.player ?? "", expiresAt, nonce });
}

/** A 32-byte key as given, or from 64 hex characters. */
export function keyBytes(name: string, key: Uint8Array | string): Uint8Array {
  if (key instanceof Uint8Array) return key;
  if (typeof key !== "string" || !/^[0-9a-fA-F]{64}$/.test(key)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `${name} must be 32 bytes or 64 hex characters`);
  }
  return new Uint8Array(Buffer.from(key, "hex"));
}
