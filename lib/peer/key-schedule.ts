/**
 * The grid keys a member sends under and accepts (PROTOCOL.md 6.5; issue 15, point 3: "a
 * departed member loses access at the first rotation"). The lobby client feeds it the keys
 * of every grant and the epochs of every HeartbeatAck; it
 *
 * - adds the keys a grant carries, and switches forward only (a grant sealed before a
 *   switch and delivered after it must not roll the keyring back to a retired key);
 * - switches to the epoch a HeartbeatAck names once it holds its key;
 * - keeps the key it switched away from for a grace period (previousKeyGraceMs, two
 *   heartbeats by default: every member learns of the switch within one heartbeat and its
 *   retransmissions), then retires it (the key-grace timer). After that a member that left
 *   before the rotation holds no key this peer accepts, and its ticket (of an older epoch)
 *   opens no new link (credentials.ts).
 */
import { PREVIOUS_KEY_GRACE_HEARTBEATS } from "./config.ts";
import type { AdmissionGrant } from "../security/admission.ts";
import type { PeerCore } from "./core.ts";
import { PeerTimer } from "./timers.ts";

export class KeySchedule {
  constructor(private readonly core: PeerCore) {}

  /** Takes the keys and ticket of an opened grant; false when the keyring cannot hold them. */
  takeGrant(now: number, heartbeatMs: number, grant: AdmissionGrant): boolean {
    const creds = this.core.credentials;
    try {
      for (const k of grant.keys) creds.keyring.add(k.epoch, k.key);
      const current = creds.keyring.currentEpoch;
      if (current === undefined || grant.activeEpoch > current) this.switchTo(now, heartbeatMs, grant.activeEpoch);
    } catch {
      return false; // epochs the keyring cannot hold together
    }
    creds.ticket = grant.ticket;
    return true;
  }

  /**
   * A HeartbeatAck's epochs: "fetch" when the newest issued key is missing (select the grid
   * again for it), "switched" when this peer now sends under `epoch`, else "none".
   */
  onHeartbeatAck(now: number, heartbeatMs: number, epoch: number, latest: number): "fetch" | "switched" | "none" {
    const keyring = this.core.credentials.keyring;
    if (keyring.keyFor(latest) === undefined) return "fetch";
    const current = keyring.currentEpoch;
    if (current === undefined || epoch <= current || keyring.keyFor(epoch) === undefined) return "none";
    this.switchTo(now, heartbeatMs, epoch);
    return "switched";
  }

  /** The key-grace timer: the key switched away from is no longer accepted. */
  onGraceOver(): void {
    this.core.timers.disarm(PeerTimer.KeyGrace);
    this.core.credentials.keyring.retirePrevious();
  }

  private switchTo(now: number, heartbeatMs: number, epoch: number): void {
    const keyring = this.core.credentials.keyring;
    const had = keyring.currentEpoch;
    keyring.activate(epoch);
    if (had === undefined) return;
    const grace = this.core.cfg.previousKeyGraceMs ?? PREVIOUS_KEY_GRACE_HEARTBEATS * heartbeatMs;
    this.core.timers.arm(PeerTimer.KeyGrace, now + grace);
  }
}
