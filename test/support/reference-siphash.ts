/**
 * SipHash-2-4 from the paper (Aumasson & Bernstein, 2012, section 2) in BigInt: an
 * independent reference for lib/security/siphash.ts's 32-bit implementation. Tests only.
 */
export function referenceSipHash(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M;
  const le = (b: Uint8Array, p: number, n: number): bigint => {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[p + i] as number);
    return x;
  };
  const k0 = le(key, 0, 8);
  const k1 = le(key, 8, 8);
  const v = [k0 ^ 0x736f6d6570736575n, k1 ^ 0x646f72616e646f6dn, k0 ^ 0x6c7967656e657261n, k1 ^ 0x7465646279746573n];
  const round = (): void => {
    let [v0, v1, v2, v3] = v as [bigint, bigint, bigint, bigint];
    v0 = (v0 + v1) & M; v2 = (v2 + v3) & M;
    v1 = rotl(v1, 13n); v3 = rotl(v3, 16n);
    v1 ^= v0; v3 ^= v2;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v1) & M; v0 = (v0 + v3) & M;
    v1 = rotl(v1, 17n); v3 = rotl(v3, 21n);
    v1 ^= v2; v3 ^= v0;
    v2 = rotl(v2, 32n);
    v.splice(0, 4, v0, v1, v2, v3);
  };
  const words = Math.floor(msg.length / 8);
  const compress = (m: bigint): void => {
    v[3] = (v[3] as bigint) ^ m;
    round();
    round();
    v[0] = (v[0] as bigint) ^ m;
  };
  for (let w = 0; w < words; w++) compress(le(msg, w * 8, 8));
  compress(le(msg, words * 8, msg.length % 8) | (BigInt(msg.length & 0xff) << 56n));
  v[2] = (v[2] as bigint) ^ 0xffn;
  for (let i = 0; i < 4; i++) round();
  let out = ((v[0] as bigint) ^ (v[1] as bigint) ^ (v[2] as bigint) ^ (v[3] as bigint)) & M;
  const tag = new Uint8Array(8);
  for (let i = 0; i < 8; i++, out >>= 8n) tag[i] = Number(out & 0xffn);
  return tag;
}
