/** joinGrid's option checks: each a RelayGridError invalid-config that says how to fix it. */
import { isIP } from "node:net";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";

/** A bind address of the other family than the lobby's could never reach it. */
export function checkBindFamily(host: string, lobbyFamily: 4 | 6): void {
  const family = isIP(host);
  if (family !== 0 && family !== lobbyFamily) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `host "${host}" is IPv${family} but the lobby is IPv${lobbyFamily}: bind an address of the lobby's family, or leave host out`,
    );
  }
}

/** simulatedLossPercent, checked. */
export function checkLoss(percent: number): number {
  if (!(percent >= 0 && percent <= 100)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `simulatedLossPercent must be from 0 to 100, got ${String(percent)}`);
  }
  return percent;
}

/** lobbyKey as bytes: 32 bytes as given, or 64 hex characters. */
export function parseKey(key: Uint8Array | string | undefined): Uint8Array | undefined {
  if (key === undefined || key instanceof Uint8Array) return key;
  if (!/^[0-9a-fA-F]{64}$/.test(key)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `lobbyKey must be 64 hex characters (32 bytes), got ${key.length} characters`);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(key.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** resolveOn, checked: when joinGrid resolves. */
export function checkResolveOn(on: string): "connected" | "joined" {
  if (on !== "connected" && on !== "joined") {
    throw new RelayGridError(ErrorCode.InvalidConfig, `resolveOn must be "connected" or "joined", got ${JSON.stringify(on)}`);
  }
  return on;
}
