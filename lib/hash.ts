/**
 * A fast, well-mixed 32-bit string hash: FNV-1a with murmur3's finaliser, so nearby strings (and
 * the low bits, which hash tables use first) spread evenly. Not cryptographic. Used by the proxy's
 * consistent-hash ring and DNS's persistent indexes.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
