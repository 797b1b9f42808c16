/**
 * A grid's symmetric keys by epoch, and the datagram MAC tag (issue 6, point 2:
 * "relay data carries a short MAC under the grid key over everything but the hop fields,
 * checked once per hop ... keys rotate ... without a gap in delivery").
 *
 * Rotation without a gap: the lobby hands out epoch e+1 while e is current; a member
 * `add`s it (accepted from then on, not yet used to send), later `activate`s it (sends
 * under e+1, still accepts e as the previous epoch), and the next activation forgets e.
 *
 * The tag is the LAST element of the datagram's MessagePack fixarray (the array header
 * must count it), 11 bytes:
 *
 *   0xc4 0x09     bin8 of 9 bytes
 *   epoch & 0xff  which key of the ring
 *   8 bytes       SipHash-2-4 under that epoch's MAC key of every byte before the tag,
 *                 with the hop byte read as 0 (it changes at every hop)
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { asciiBytes, constantTimeEqual, isU32 } from "./bytes.ts";
import { checkBytes, type CryptoProvider } from "./crypto.ts";
import { type SipKey, sipHash24Into, sipKeyFrom } from "./siphash.ts";

export const GRID_KEY_BYTES = 32;
/** previous, current, next. */
export const MAX_EPOCHS = 3;
/** Bytes the tag adds to a datagram. */
export const tagLength = 11;
const TAG_HEADER_0 = 0xc4; // MessagePack bin8
const TAG_HEADER_1 = 0x09; // 9 bytes: epoch byte + SipHash tag

const MAC_SALT = asciiBytes("relaygrid");
const MAC_INFO = asciiBytes("mac v1");

/** The 16-byte SipHash key for a grid key: HKDF-SHA256(key, "relaygrid", "mac v1"). */
export function deriveMacKey(crypto: CryptoProvider, key: Uint8Array): SipKey {
  return sipKeyFrom(crypto.hkdfSha256(key, MAC_SALT, MAC_INFO, 16));
}

interface EpochKey {
  readonly epoch: number;
  readonly key: Uint8Array;
  readonly mac: SipKey;
}

export class GridKeyring {
  private previous: EpochKey | null = null;
  private current: EpochKey | null = null;
  private next: EpochKey | null = null;
  /** Epochs below this were retired (retirePrevious) and are never taken again. */
  private floor = 0;
  private readonly crypto: CryptoProvider;

  /** `crypto` derives each epoch's MAC key (HKDF-SHA256). */
  constructor(crypto: CryptoProvider) {
    this.crypto = crypto;
  }

  /** The epoch outgoing tags use; undefined until a key is added. */
  get currentEpoch(): number | undefined {
    return this.current?.epoch;
  }

  /** Stored epochs, oldest first. */
  epochs(): number[] {
    const out: number[] = [];
    for (const e of [this.previous, this.current, this.next]) if (e !== null) out.push(e.epoch);
    return out;
  }

  /**
   * Stores the key of `epoch`. The first key becomes current; a later epoch becomes (or
   * replaces) next; an earlier one becomes previous if it is newer than the stored previous
   * (a stale one, or one retired by retirePrevious(), is ignored and false returned); the
   * current epoch's key is replaced.
   * Throws InvalidConfig for a key that is not 32 bytes, an epoch that is not a u32, or an
   * epoch whose low byte (the tag's epoch byte) would collide with another stored epoch.
   */
  add(epoch: number, key: Uint8Array): boolean {
    if (!isU32(epoch)) throw new RelayGridError(ErrorCode.InvalidConfig, `grid key epoch must be a u32, got ${String(epoch)}`);
    checkBytes("grid key", key, GRID_KEY_BYTES);
    if (epoch < this.floor) return false;
    const entry: EpochKey = { epoch, key: key.slice(), mac: deriveMacKey(this.crypto, key) };
    let { previous, current, next } = this;
    if (current === null || epoch === current.epoch) current = entry;
    else if (epoch > current.epoch) next = entry;
    else if (previous === null || epoch >= previous.epoch) previous = entry;
    else return false;
    const bytes = [previous, current, next].filter((e): e is EpochKey => e !== null).map((e) => e.epoch & 0xff);
    if (new Set(bytes).size !== bytes.length) {
      throw new RelayGridError(
        ErrorCode.InvalidConfig,
        `grid key epoch ${epoch} has the same tag byte (epoch & 0xff) as a stored epoch ` +
          `(${this.epochs().join(", ")}); keep the epochs of one keyring within 255 of each other`,
      );
    }
    this.previous = previous;
    this.current = current;
    this.next = next;
    return true;
  }

  /**
   * Sends under `epoch` from now on. Activating next makes the old current previous (and
   * forgets the old previous); activating previous rolls back (the old current becomes
   * next). Throws InvalidConfig when `epoch` is not stored.
   */
  activate(epoch: number): void {
    const { previous, current, next } = this;
    if (current !== null && current.epoch === epoch) return;
    if (next !== null && next.epoch === epoch) {
      this.previous = current;
      this.current = next;
      this.next = null;
    } else if (previous !== null && previous.epoch === epoch) {
      this.next = current;
      this.current = previous;
      this.previous = null;
    } else {
      throw new RelayGridError(
        ErrorCode.InvalidConfig,
        `grid key epoch ${String(epoch)} is not in the keyring (stored: ${this.epochs().join(", ") || "none"}); add it first`,
      );
    }
  }

  /**
   * Forgets the previous epoch's key, for good: a tag under it is unknown-epoch from now on,
   * and add() refuses it and every older epoch. A peer calls it a grace period after it
   * switched to a new key (issue 15, point 3: a member that left before the rotation loses
   * access then, not one rotation later). Returns the epoch retired, if there was one.
   */
  retirePrevious(): number | undefined {
    const retired = this.previous?.epoch;
    this.previous = null;
    if (this.current !== null) this.floor = this.current.epoch;
    return retired;
  }

  /** The MAC key of a stored epoch. */
  macKeyFor(epoch: number): SipKey | undefined {
    return this.find(epoch)?.mac;
  }

  /** The 32-byte grid key of a stored epoch (a copy). */
  keyFor(epoch: number): Uint8Array | undefined {
    return this.find(epoch)?.key.slice();
  }

  /** The 32-byte grid key whose epoch has this low byte (a tag's epoch byte), or undefined. Not a copy: read it, never change it. */
  keyForTagByte(epochByte: number): Uint8Array | undefined {
    for (const e of [this.current, this.next, this.previous]) if (e !== null && (e.epoch & 0xff) === epochByte) return e.key;
    return undefined;
  }

  /** The MAC key whose epoch has this low byte (current first). Allocates nothing. */
  macKeyForTagByte(epochByte: number): SipKey | undefined {
    const { previous, current, next } = this;
    if (current !== null && (current.epoch & 0xff) === epochByte) return current.mac;
    if (next !== null && (next.epoch & 0xff) === epochByte) return next.mac;
    if (previous !== null && (previous.epoch & 0xff) === epochByte) return previous.mac;
    return undefined;
  }

  private find(epoch: number): EpochKey | undefined {
    for (const e of [this.current, this.next, this.previous]) if (e !== null && e.epoch === epoch) return e;
    return undefined;
  }
}

/**
 * Writes the 11-byte tag at bytes[prefixEnd..prefixEnd+11) over bytes[0..prefixEnd) under
 * the current epoch, reading bytes[skipIndex] as 0 (-1: none). Returns prefixEnd + 11.
 * Throws when there is no current key or no room (caller mistakes). Allocates nothing.
 */
export function writeTag(keyring: GridKeyring, bytes: Uint8Array, prefixEnd: number, skipIndex: number): number {
  const epoch = keyring.currentEpoch;
  const mac = epoch === undefined ? undefined : keyring.macKeyFor(epoch);
  if (epoch === undefined || mac === undefined) {
    throw new RelayGridError(ErrorCode.InvalidConfig, "writeTag: the keyring has no current grid key; add one first");
  }
  if (!(prefixEnd >= 0 && prefixEnd + tagLength <= bytes.length)) {
    throw new RangeError(`writeTag: ${tagLength} tag bytes at ${prefixEnd} do not fit a ${bytes.length}-byte buffer`);
  }
  bytes[prefixEnd] = TAG_HEADER_0;
  bytes[prefixEnd + 1] = TAG_HEADER_1;
  bytes[prefixEnd + 2] = epoch & 0xff;
  sipHash24Into(mac, bytes, 0, prefixEnd, skipIndex, bytes, prefixEnd + 3);
  return prefixEnd + tagLength;
}

export type TagCheck = "ok" | "missing" | "unknown-epoch" | "bad-tag";

const scratch = new Uint8Array(8);

/**
 * Checks the tag in the last 11 bytes of a datagram: header, epoch, then the SipHash of
 * everything before it (bytes[skipIndex] read as 0), compared in constant time. Never
 * throws and allocates nothing.
 */
export function checkTag(keyring: GridKeyring, bytes: Uint8Array, skipIndex: number): TagCheck {
  const end = bytes.length - tagLength;
  if (end < 0 || bytes[end] !== TAG_HEADER_0 || bytes[end + 1] !== TAG_HEADER_1) return "missing";
  const mac = keyring.macKeyForTagByte(bytes[end + 2] as number);
  if (mac === undefined) return "unknown-epoch";
  sipHash24Into(mac, bytes, 0, end, skipIndex, scratch, 0);
  return constantTimeEqual(scratch, 0, bytes, end + 3, 8) ? "ok" : "bad-tag";
}
