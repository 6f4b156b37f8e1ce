// Receive validation for haupd: every check a received VRRP advertisement must pass before the
// state machine may see it (RFC 3768 §7.1, RFC 5798 §7.1, RFC 9568, errata 8299/8301, keepalived
// 2.2.7's vrrp_check_packet). Pure: no I/O, never throws, every drop has a named reason and is
// counted. One raw socket sees every protocol-112 packet on its interface, so the caller passes
// the VRID -> expected-instance lookup in.
//
// Checks, in order (the first failing one names the drop):
//   ip-malformed / ip-truncated / ip-fragment   IPv4 header (validateDatagram only; see ipv4.ts)
//   auth-ah            IP protocol 51: RFC 2338 AH-authenticated VRRP, not supported
//   ip-protocol        IP protocol is not 112
//   ip-ttl             multicast destination and TTL != 255 (RFC: MUST). Unicast destination:
//                      TTL below the instance's minUnicastTtl (default 255, see ExpectedInstance)
//   vrrp-too-short / vrrp-version / vrrp-type / vrrp-length    structure (codec.ts)
//   vrrp-checksum      v2: message only; v3: either keepalived's pseudo-header form or RFC 9568's
//                      message-only form (which one matched is reported, see checksumForm)
//   count-zero         no addresses (RFC 5798 erratum 8299; applied to v2 too: no sane sender)
//   interval-zero      advertisement interval 0 (erratum 8301; v2 too)
//   unknown-vrid       no instance for this VRID on this socket (also other routers' VRIDs)
//   version-mismatch   v2 packet for a v3 instance or the reverse
//   destination-mismatch  multicast instance got a packet not sent to 224.0.0.18, or a unicast
//                      instance got a multicast one (keepalived: "Expected multicast packet...")
//   unknown-peer       unicast instance, source not among its configured peers
//   auth-ah            v2 auth type 2 (AH) inside the message
//   auth-type-mismatch v2 auth type differs from the instance's (0 none / 1 PASS)
//   auth-password      v2 PASS data differs (compared in constant time, see equalConstantTime)
//   interval-mismatch  v2 interval differs from ours (RFC 3768: MUST discard; v3 adopts the
//                      master's interval instead, so it is not compared)
// Accepted but flagged: addressMismatch (the address list differs from ours as a set). RFC 5798
// says log it and continue; RFC 3768 says drop unless priority 255 and keepalived drops. We
// accept for both versions so a VIP-list typo on one node cannot cause two masters; the daemon
// logs and counts it (counters.addressMismatch).
// Not checked here: "the local router is not the address owner" (the state machine handles
// priority 255) and adverts from our own address (the daemon knows its addresses).
//
// Hot path: at a 0.01 s advert interval this runs 100 times a second per instance, forever.
// Addresses are compared as numbers, the checksum is summed in place, and the accepted Advert
// reuses the instance's own address array and auth bytes when the packet carries equal ones, so
// the accept path builds no strings except the sender's address (memoised in a small cache).
// What remains per packet is the result object, the Advert object and a payload view: a few
// short-lived objects that V8's young-generation GC reclaims for almost nothing. Measured on
// this machine (Node 20): ~0.3 us (v3) / ~0.5 us (v2 PASS) and ~500 bytes per accepted packet,
// i.e. at 100 adverts/s about 0.005% of a core and one scavenge every few minutes.
import { ipv4PseudoHeaderSum, foldSum, onesSum } from './checksum.ts';
import {
  advertFromChecked,
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  passwordAuthData,
  structuralDropReason,
  VRRP_AUTH_DATA_LENGTH,
  VRRP_HEADER_LENGTH,
  V3_MAX_INTERVAL_CS,
  addressesToNumbers,
  type Advert,
  type DecodeDropReason,
  type V3ChecksumForm,
  type VrrpVersion,
} from './codec.ts';
import {
  formatIpv4Address,
  IPPROTO_AH,
  IPPROTO_VRRP,
  isMulticast,
  parseIpv4Address,
  parseIpv4Packet,
  readU32,
  VRRP_MULTICAST_GROUP,
  VRRP_TTL,
  type Ipv4DropReason,
  type Ipv4Packet,
} from './ipv4.ts';

export const DROP_REASONS = [
  'ip-malformed',
  'ip-truncated',
  'ip-fragment',
  'ip-protocol',
  'ip-ttl',
  'vrrp-too-short',
  'vrrp-version',
  'vrrp-type',
  'vrrp-length',
  'vrrp-checksum',
  'count-zero',
  'interval-zero',
  'unknown-vrid',
  'version-mismatch',
  'destination-mismatch',
  'unknown-peer',
  'auth-ah',
  'auth-type-mismatch',
  'auth-password',
  'interval-mismatch',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
// Compile-time guard: every reason the IPv4 and codec layers can return is a DropReason.
const layerReasonsAreDropReasons: readonly DropReason[] = [] as readonly (Ipv4DropReason | DecodeDropReason)[];
void layerReasonsAreDropReasons;

/** Counters one socket (interface) keeps; the daemon exports them as status and metrics. */
export interface DropCounters {
  accepted: number;
  /** Accepted packets whose address list differed from the instance's (see file comment). */
  addressMismatch: number;
  dropped: Record<DropReason, number>;
}

export function newDropCounters(): DropCounters {
  const dropped = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) dropped[r] = 0;
  return { accepted: 0, addressMismatch: 0, dropped };
}

/** What an instance expects from its peers; build it once with expectedInstance(). */
export interface ExpectedInstance {
  readonly version: VrrpVersion;
  readonly vrid: number;
  readonly advertIntervalCs: number;
  /** v2: 0 none or 1 PASS. v3: 0. */
  readonly authType: 0 | 1;
  /** v2 PASS: the 8 auth bytes; otherwise 8 zero bytes. A secret: never log it. */
  readonly authData: Buffer;
  readonly addresses: readonly string[];
  readonly addressNumbers: readonly number[];
  /** Empty: multicast (224.0.0.18). Otherwise the unicast peers' addresses as numbers. */
  readonly unicastPeers: readonly number[];
  readonly minUnicastTtl: number;
}

export interface ExpectedInstanceOptions {
  version: VrrpVersion;
  vrid: number;
  /** v2: a multiple of 100 (whole seconds). */
  advertIntervalCs: number;
  /** v2 PASS password (1..8 bytes); absent = auth none. Not allowed for v3. */
  authPassword?: string;
  addresses: readonly string[];
  unicastPeers?: readonly string[];
  /**
   * Lowest TTL accepted on unicast packets. Default 255: haupd's peers are on-link and
   * keepalived sends unicast adverts with TTL 255 too (its unicast_ttl default), so a packet
   * with a lower TTL was routed here from off-link: the same spoofing guard as for multicast
   * (RFC 5082 GTSM). Set lower only for peers that really are routed hops away. keepalived
   * itself skips the TTL check for unicast unless a per-peer min_ttl is configured.
   */
  minUnicastTtl?: number;
}

/** Validate and precompute an instance's expectations. Throws RangeError on a bad value. */
export function expectedInstance(opts: ExpectedInstanceOptions): ExpectedInstance {
  const { version } = opts;
  if (version !== 2 && version !== 3) throw new RangeError(`version: expected 2 or 3`);
  intIn('vrid', opts.vrid, 1, 255);
  if (version === 2) {
    const cs = opts.advertIntervalCs;
    if (!Number.isInteger(cs) || cs % 100 !== 0 || cs < 100 || cs > 25500) {
      throw new RangeError(`advertIntervalCs: VRRPv2 needs whole seconds 1..255, got ${cs} cs`);
    }
  } else {
    intIn('advertIntervalCs', opts.advertIntervalCs, 1, V3_MAX_INTERVAL_CS);
    if (opts.authPassword !== undefined) throw new RangeError('authPassword: VRRPv3 has no authentication');
  }
  if (opts.addresses.length < 1 || opts.addresses.length > 255) {
    throw new RangeError('addresses: 1..255 virtual addresses');
  }
  const minUnicastTtl = opts.minUnicastTtl ?? VRRP_TTL;
  intIn('minUnicastTtl', minUnicastTtl, 1, 255);
  const peers = (opts.unicastPeers ?? []).map((p, i) => {
    const n = parseIpv4Address(p);
    if (n === undefined || isMulticast(n)) throw new RangeError(`unicastPeers[${i}]: not a unicast IPv4 address: ${p}`);
    return n;
  });
  const pass = opts.authPassword;
  return {
    version,
    vrid: opts.vrid,
    advertIntervalCs: opts.advertIntervalCs,
    authType: pass === undefined ? AUTH_NONE : AUTH_PASS,
    authData: pass === undefined ? Buffer.alloc(VRRP_AUTH_DATA_LENGTH) : passwordAuthData(pass),
    addresses: Object.freeze([...opts.addresses]),
    addressNumbers: Object.freeze(addressesToNumbers(opts.addresses)),
    unicastPeers: Object.freeze(peers),
    minUnicastTtl,
  };
}

/** A Map keyed by VRID works as is; a function lets the daemon look up however it likes. */
export type VridLookup<E extends ExpectedInstance> = ReadonlyMap<number, E> | ((vrid: number) => E | undefined);

/** Which checksum form the sender used: v2's, or one of the two v3 forms. */
export type ChecksumForm = 'v2' | V3ChecksumForm;

export interface AcceptedAdvert<E extends ExpectedInstance> {
  ok: true;
  advert: Advert;
  instance: E;
  /** Sender address as a number and as text (the state machine's `from`). */
  src: number;
  from: string;
  dst: number;
  /** For v3, re-encoding with this form reproduces the packet; the daemon may log a change. */
  checksumForm: ChecksumForm;
  addressMismatch: boolean;
}

export interface DroppedAdvert<E extends ExpectedInstance> {
  ok: false;
  reason: DropReason;
  /** Sender, when the IP header could be read (format with formatIpv4Address to log it). */
  src: number | undefined;
  /** Set once the VRID was read (from the structure check on). */
  vrid: number | undefined;
  /** Set when the drop happened after the instance was found (per-instance counting). */
  instance: E | undefined;
}

export type ValidationResult<E extends ExpectedInstance> = AcceptedAdvert<E> | DroppedAdvert<E>;

/** parseIpv4Packet + validateAdvert: what the daemon calls with each (copied) socket buffer. */
export function validateDatagram<E extends ExpectedInstance>(
  buf: Buffer,
  lookup: VridLookup<E>,
  counters: DropCounters,
): ValidationResult<E> {
  const ip = parseIpv4Packet(buf);
  if (typeof ip === 'string') return drop<E>(counters, ip, undefined, undefined, undefined);
  return validateAdvert(ip, lookup, counters);
}

/** Every receive check on one parsed IPv4 packet; counts the outcome in `counters`. */
export function validateAdvert<E extends ExpectedInstance>(
  ip: Ipv4Packet,
  lookup: VridLookup<E>,
  counters: DropCounters,
): ValidationResult<E> {
  const { src, dst, ttl, payload: msg } = ip;
  if (ip.protocol !== IPPROTO_VRRP) {
    return drop<E>(counters, ip.protocol === IPPROTO_AH ? 'auth-ah' : 'ip-protocol', src, undefined, undefined);
  }
  const multicast = isMulticast(dst);
  if (multicast && ttl !== VRRP_TTL) return drop<E>(counters, 'ip-ttl', src, undefined, undefined);

  const structural = structuralDropReason(msg);
  if (structural !== undefined) {
    return drop<E>(counters, structural, src, msg.length >= 2 ? msg[1] : undefined, undefined);
  }
  const version = ((msg[0] as number) >> 4) as VrrpVersion;
  const vrid = msg[1] as number;
  const count = msg[3] as number;

  const checksumForm = matchChecksum(msg, version, src, dst);
  if (checksumForm === undefined) return drop<E>(counters, 'vrrp-checksum', src, vrid, undefined);
  if (count === 0) return drop<E>(counters, 'count-zero', src, vrid, undefined);
  const interval = version === 2 ? (msg[5] as number) * 100 : (((msg[4] as number) & 0x0f) << 8) | (msg[5] as number);
  if (interval === 0) return drop<E>(counters, 'interval-zero', src, vrid, undefined);

  const instance = typeof lookup === 'function' ? lookup(vrid) : lookup.get(vrid);
  if (instance === undefined) return drop<E>(counters, 'unknown-vrid', src, vrid, undefined);
  if (instance.version !== version) return drop<E>(counters, 'version-mismatch', src, vrid, instance);

  const peers = instance.unicastPeers;
  if (peers.length === 0) {
    if (dst !== VRRP_MULTICAST_GROUP) return drop<E>(counters, 'destination-mismatch', src, vrid, instance);
  } else {
    if (multicast) return drop<E>(counters, 'destination-mismatch', src, vrid, instance);
    if (ttl < instance.minUnicastTtl) return drop<E>(counters, 'ip-ttl', src, vrid, instance);
    if (!peers.includes(src)) return drop<E>(counters, 'unknown-peer', src, vrid, instance);
  }

  let authData: Buffer | undefined;
  if (version === 2) {
    const authType = msg[4] as number;
    if (authType === AUTH_AH) return drop<E>(counters, 'auth-ah', src, vrid, instance);
    if (authType !== instance.authType) return drop<E>(counters, 'auth-type-mismatch', src, vrid, instance);
    const authStart = VRRP_HEADER_LENGTH + 4 * count;
    const received = msg.subarray(authStart, authStart + VRRP_AUTH_DATA_LENGTH);
    if (authType === AUTH_PASS) {
      // Constant time: a byte-by-byte early exit would let an on-link attacker time the password.
      const ours = instance.authData;
      if (!equalConstantTime(received, ours)) {
        return drop<E>(counters, 'auth-password', src, vrid, instance);
      }
      authData = ours;
    } else {
      // Auth none: the bytes are "ignored on receipt" (zero from every sane sender); reuse the
      // instance's zeros when equal, else keep the packet's so a re-encode is byte-exact.
      authData = received.equals(instance.authData) ? instance.authData : received;
    }
    if (interval !== instance.advertIntervalCs) return drop<E>(counters, 'interval-mismatch', src, vrid, instance);
  }

  const expected = instance.addressNumbers;
  let addresses: readonly string[] = instance.addresses;
  let addressMismatch = false;
  if (!sameAddressesInOrder(msg, count, expected)) {
    addresses = readAddresses(msg, count);
    addressMismatch = !sameAddressSet(msg, count, expected);
  }
  if (addressMismatch) counters.addressMismatch++;
  counters.accepted++;
  return {
    ok: true,
    advert: advertFromChecked(msg, addresses, authData),
    instance,
    src,
    from: addressText(src),
    dst,
    checksumForm,
    addressMismatch,
  };
}

/** Which checksum form the message carries, or undefined when none matches. */
function matchChecksum(msg: Buffer, version: VrrpVersion, src: number, dst: number): ChecksumForm | undefined {
  const field = ((msg[6] as number) << 8) | (msg[7] as number);
  // Sum everything but the checksum field, then compare the computed value exactly. (Summing
  // with the field and testing for 0xffff would also accept 0xffff where 0x0000 is right, and
  // such a packet would not re-encode to the same bytes.)
  const sum = onesSum(msg, 8, msg.length, onesSum(msg, 0, 6));
  if (version === 2) return (~foldSum(sum) & 0xffff) === field ? 'v2' : undefined;
  // keepalived's form first: it is what keepalived peers send by default.
  const pseudo = sum + ipv4PseudoHeaderSum(src, dst, IPPROTO_VRRP, msg.length);
  if ((~foldSum(pseudo) & 0xffff) === field) return 'pseudo';
  if ((~foldSum(sum) & 0xffff) === field) return 'message';
  return undefined;
}

function sameAddressesInOrder(msg: Buffer, count: number, expected: readonly number[]): boolean {
  if (count !== expected.length) return false;
  for (let i = 0; i < count; i++) {
    if (readU32(msg, VRRP_HEADER_LENGTH + 4 * i) !== expected[i]) return false;
  }
  return true;
}

/** Same addresses in any order (duplicates aside): what "the address list matches" means. */
function sameAddressSet(msg: Buffer, count: number, expected: readonly number[]): boolean {
  if (count !== expected.length) return false;
  for (let i = 0; i < count; i++) {
    if (!expected.includes(readU32(msg, VRRP_HEADER_LENGTH + 4 * i))) return false;
  }
  for (const e of expected) {
    let found = false;
    for (let i = 0; i < count && !found; i++) found = readU32(msg, VRRP_HEADER_LENGTH + 4 * i) === e;
    if (!found) return false;
  }
  return true;
}

function readAddresses(msg: Buffer, count: number): string[] {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = formatIpv4Address(readU32(msg, VRRP_HEADER_LENGTH + 4 * i));
  return out;
}

// Sender addresses repeat (one or two peers per instance), so their text is memoised; the cap
// keeps a flood of spoofed sources from growing it without bound (only accepted packets reach it).
const ADDRESS_TEXT_CACHE_MAX = 256;
const addressTextCache = new Map<number, string>();

function addressText(n: number): string {
  let text = addressTextCache.get(n);
  if (text === undefined) {
    if (addressTextCache.size >= ADDRESS_TEXT_CACHE_MAX) addressTextCache.clear();
    text = formatIpv4Address(n);
    addressTextCache.set(n, text);
  }
  return text;
}

function drop<E extends ExpectedInstance>(
  counters: DropCounters,
  reason: DropReason,
  src: number | undefined,
  vrid: number | undefined,
  instance: E | undefined,
): DroppedAdvert<E> {
  counters.dropped[reason]++;
  return { ok: false, reason, src, vrid, instance };
}

/**
 * Constant-time equality of two byte strings of the same length (the 8 PASS bytes): every byte is
 * compared whatever the earlier ones were. Not crypto.timingSafeEqual: node:crypto costs the
 * long-running daemon ~0.6 MB of RSS for this one 8-byte comparison.
 */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function intIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: expected an integer ${min}..${max}, got ${String(value)}`);
  }
}
