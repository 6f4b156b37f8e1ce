// VRRP timer arithmetic (RFC 3768 §6.1 for v2, RFC 5798 §6.1 for v3). Pure functions, all
// results in milliseconds, NOT rounded: v2 prio 100 gives 3609.375 ms, and the caller's timer
// rounds only once, at the very end, so errors never accumulate.

export type VrrpVersion = 2 | 3;

/**
 * Skew_Time in ms.
 * - v2: (256 − priority) / 256 seconds (independent of the advert interval).
 * - v3: ((256 − priority) × Master_Adver_Interval) / 256, Master_Adver_Interval being the
 *   interval learned from the current master (RFC 5798 §6.4.2), or ours until one is learned.
 */
export function skewMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  return ((256 - priority) * masterAdverIntervalCs * 10) / 256;
}

/**
 * Master_Down_Interval in ms: 3 × advert interval + Skew_Time.
 * `adverIntervalCs` is our own interval for v2 (v2 routers must agree on it; mismatches are
 * dropped on receive) and Master_Adver_Interval for v3.
 */
export function masterDownIntervalMs(version: VrrpVersion, priority: number, adverIntervalCs: number): number {
  return 3 * adverIntervalCs * 10 + skewMs(version, priority, adverIntervalCs);
}

/** An IPv4 dotted quad as an unsigned 32-bit number, or undefined if it is not one. */
export function ipv4ToUint32(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    // Multiply instead of shifting: `<<` works on signed 32-bit ints and would turn
    // 198.x.x.x negative, which breaks the "compare as unsigned" rule of the tie-break.
    value = value * 256 + octet;
  }
  return value;
}

/**
 * Compare two primary IPv4 addresses as unsigned 32-bit numbers (RFC 5798 §6.4.3 tie-break):
 * negative if a < b, 0 if equal, positive if a > b. Unparseable addresses sort lowest, so a
 * garbage sender can never win a tie.
 */
export function compareIpv4(a: string, b: string): number {
  const x = ipv4ToUint32(a) ?? -1;
  const y = ipv4ToUint32(b) ?? -1;
  return x - y;
}
