// RFC 1071 Internet checksum, the one used by VRRP (both versions) and the IPv4 header.
// Works on Uint8Array ranges by index so callers never slice (no allocation on the receive path).

/**
 * One's-complement sum of the 16-bit big-endian words in `bytes[start, end)`, added to `initial`,
 * NOT folded and NOT complemented (so partial sums can be chained: pseudo-header + message).
 * An odd trailing byte is padded with a zero byte, as RFC 1071 says. The result stays a small
 * integer: at most 0xffff per word, so even a 64 KiB range sums to < 2^32.
 */
export function onesSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  const evenEnd = end - ((end - start) & 1);
  for (; i < evenEnd; i += 2) sum += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (i < end) sum += (bytes[i] as number) << 8;
  return sum;
}

/** Fold carries into 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for a given (unfolded) sum of everything except the checksum field. */
export function checksumFromSum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** RFC 1071 checksum of `bytes[start, end)` (the checksum field inside must be zero). */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return checksumFromSum(onesSum(bytes, start, end));
}

/** Sum of the IPv4 pseudo-header {src, dst, 0, protocol, length} (RFC 768 / keepalived's VRRPv3). */
export function ipv4PseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
