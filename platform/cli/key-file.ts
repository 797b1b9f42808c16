/**
 * The lobby's identity on disk, for `relaygrid lobby --key-file PATH`: the 32-byte Ed25519
 * seed as 64 hex characters (a trailing newline is fine). A missing file is created with a
 * fresh seed, readable by its owner only (mode 0600), so a restarted lobby keeps its
 * identity and peers that pinned its public key keep trusting it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { CryptoProvider, KeyPair } from "../../lib/security/crypto.ts";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";

const SEED_HEX = /^[0-9a-fA-F]{64}$/;

function isMissing(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "ENOENT";
}

/**
 * The identity stored at `path`, or a new one written there (`created`). Throws a
 * RelayGridError(invalid-config) for a file that is not 64 hex characters or cannot be read
 * or written, saying which.
 */
export function loadOrCreateIdentity(path: string, crypto: CryptoProvider): { identity: KeyPair; created: boolean } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (!isMissing(e)) throw new RelayGridError(ErrorCode.InvalidConfig, `cannot read key file ${path}: ${(e as Error).message}`);
    const identity = crypto.ed25519KeyPair();
    try {
      // "wx": never overwrite a key file another process created in between.
      writeFileSync(path, `${Buffer.from(identity.secretKey).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    } catch (w) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `cannot create key file ${path}: ${(w as Error).message}`);
    }
    return { identity, created: true };
  }
  const hex = text.trim();
  if (!SEED_HEX.test(hex)) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `key file ${path} must hold an Ed25519 seed as 64 hex characters, got ${hex.length} characters; ` +
        "move it away to have a new identity generated",
    );
  }
  return { identity: crypto.ed25519KeyPair(new Uint8Array(Buffer.from(hex, "hex"))), created: false };
}
