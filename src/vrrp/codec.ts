// VRRP advertisement codec for IPv4: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798 / RFC 9568). Pure.
//
// Wire formats (network byte order):
//   v2: 0x21 | VRID | prio | count | auth type | adver int (s) | checksum(2) | count*4 addrs | 8 auth
//   v3: 0x31 | VRID | prio | count | rsvd(4 bits) + max adver int (12 bits, cs) | checksum(2) | addrs
// Checksums (RFC 1071):
//   v2: over the VRRP message only.
//   v3 'pseudo' : IPv4 pseudo-header {src, dst, 0, 112, VRRP length} + message. keepalived's
//                 default for IPv4, so haupd sends it by default for interop.
//   v3 'message': message only, as RFC 9568 clarifies for IPv4 (Cisco/Juniper/Arista).
// decodeAdvert never throws: malformed input gives a DecodeDropReason. It checks structure only;
// the checksum, TTL, auth and the instance-level checks live in receive.ts (validateAdvert).
import { checksumFromSum, ipv4PseudoHeaderSum, onesSum } from './checksum.ts';
import { addressOption, formatIpv4Address, IPPROTO_VRRP, parseIpv4Address, readU32 } from './ipv4.ts';

export type VrrpVersion = 2 | 3;
export const VRRP_TYPE_ADVERT = 1;
export const VRRP_HEADER_LENGTH = 8;
/** v2 only: the 8 bytes of authentication data after the addresses (zero when unused). */
export const VRRP_AUTH_DATA_LENGTH = 8;
export const AUTH_NONE = 0;
/** v2 simple text password (RFC 2338; deprecated by RFC 3768 but what keepalived's PASS is). */
export const AUTH_PASS = 1;
/** v2 IPsec AH (RFC 2338): decoded only so receive can drop it with its own reason. */
export const AUTH_AH = 2;
/** v3: 12-bit Max Advertise Interval in centiseconds. */
export const V3_MAX_INTERVAL_CS = 0xfff;

export interface Advert {
  version: VrrpVersion;
  /** Virtual router id, 1..255 (0 is only ever seen on the wire in malformed packets). */
  vrid: number;
  priority: number;
  /** The virtual addresses, dotted quad. Treat as read-only: receive may share one array. */
  addresses: readonly string[];
  /** Advertisement interval in centiseconds (v2: the seconds field * 100). */
  advertIntervalCs: number;
  /** v2: 0 none, 1 PASS, 2 AH (any byte value decodes). v3: always 0. */
  authType: number;
  /**
   * v2: the 8 authentication bytes (PASS: ASCII password zero-padded); v3: empty.
   * Holds a secret: never log it. Read-only: receive may share it with the expected instance.
   */
  authData: Buffer;
  /** The checksum as read from the wire. encodeAdvert ignores it and computes the right one. */
  checksum: number;
  /**
   * v3 only: the 4 reserved bits before the interval. RFC 5798 says send 0, ignore on receive;
   * decode keeps them so that a received packet re-encodes byte for byte. Omitted = 0.
   */
  reserved?: number;
}

export type V3ChecksumForm = 'pseudo' | 'message';

export interface EncodeOptions {
  /** IPv4 source and destination: needed for the v3 'pseudo' checksum only. */
  src?: string | number;
  dst?: string | number;
  /** v3 checksum form; default 'pseudo' (keepalived's). Ignored for v2. */
  v3Checksum?: V3ChecksumForm;
}

/** Structural reasons a VRRP message cannot be decoded (receive.ts adds the rest). */
export type DecodeDropReason =
  /** Shorter than the 8-byte fixed header. */
  | 'vrrp-too-short'
  /** Version nibble neither 2 nor 3. */
  | 'vrrp-version'
  /** Type nibble not 1 (advertisement: the only type VRRP defines). */
  | 'vrrp-type'
  /** Length differs from what the count field implies (header + 4*count [+ 8 auth for v2]). */
  | 'vrrp-length';

const EMPTY = Buffer.alloc(0);

/** Expected VRRP message length for a version and address count. */
export function advertLength(version: VrrpVersion, count: number): number {
  return VRRP_HEADER_LENGTH + 4 * count + (version === 2 ? VRRP_AUTH_DATA_LENGTH : 0);
}

/**
 * Structural check shared by decodeAdvert and validateAdvert: no allocation, never throws.
 * Returns undefined when the fixed header, version, type and length are consistent.
 */
export function structuralDropReason(msg: Uint8Array): DecodeDropReason | undefined {
  if (msg.length < VRRP_HEADER_LENGTH) return 'vrrp-too-short';
  const b0 = msg[0] as number;
  const version = b0 >> 4;
  if (version !== 2 && version !== 3) return 'vrrp-version';
  if ((b0 & 0x0f) !== VRRP_TYPE_ADVERT) return 'vrrp-type';
  if (msg.length !== advertLength(version, msg[3] as number)) return 'vrrp-length';
  return undefined;
}

/** Decode one VRRP message (the IP payload). Never throws. */
export function decodeAdvert(msg: Buffer): Advert | DecodeDropReason {
  const reason = structuralDropReason(msg);
  if (reason !== undefined) return reason;
  const count = msg[3] as number;
  const addresses: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) addresses[i] = formatIpv4Address(readU32(msg, VRRP_HEADER_LENGTH + 4 * i));
  return advertFromChecked(msg, addresses, undefined);
}

/**
 * Build the Advert of a message that passed structuralDropReason, with the address list and the
 * v2 auth bytes supplied by the caller when it already holds equal ones (receive.ts reuses the
 * instance's arrays so the accept path builds no strings). authData undefined = view into msg.
 */
export function advertFromChecked(msg: Buffer, addresses: readonly string[], authData: Buffer | undefined): Advert {
  const version = ((msg[0] as number) >> 4) as VrrpVersion;
  const count = msg[3] as number;
  const checksum = ((msg[6] as number) << 8) | (msg[7] as number);
  if (version === 2) {
    const authStart = VRRP_HEADER_LENGTH + 4 * count;
    return {
      version,
      vrid: msg[1] as number,
      priority: msg[2] as number,
      addresses,
      advertIntervalCs: (msg[5] as number) * 100,
      authType: msg[4] as number,
      authData: authData ?? msg.subarray(authStart, authStart + VRRP_AUTH_DATA_LENGTH),
      checksum,
      reserved: 0,
    };
  }
  return {
    version,
    vrid: msg[1] as number,
    priority: msg[2] as number,
    addresses,
    advertIntervalCs: (((msg[4] as number) & 0x0f) << 8) | (msg[5] as number),
    authType: AUTH_NONE,
    authData: EMPTY,
    checksum,
    reserved: (msg[4] as number) >> 4,
  };
}

/**
 * Encode an advert (the VRRP message, without IP header) with a freshly computed checksum.
 * Throws RangeError for an advert no correct sender would build (a bug or an unchecked config):
 * the config validator is expected to have refused such values with a located message.
 */
export function encodeAdvert(advert: Advert, opts: EncodeOptions = {}): Buffer {
  const { version } = advert;
  if (version !== 2 && version !== 3) throw new RangeError(`version: expected 2 or 3, got ${String(version)}`);
  const count = advert.addresses.length;
  checkInt('vrid', advert.vrid, 1, 255);
  checkInt('priority', advert.priority, 0, 255);
  checkInt('addresses.length', count, 1, 255);
  const msg = Buffer.alloc(advertLength(version, count));
  msg[0] = (version << 4) | VRRP_TYPE_ADVERT;
  msg[1] = advert.vrid;
  msg[2] = advert.priority;
  msg[3] = count;
  for (let i = 0; i < count; i++) {
    msg.writeUInt32BE(addressOption(`addresses[${i}]`, advert.addresses[i] as string), VRRP_HEADER_LENGTH + 4 * i);
  }
  if (version === 2) {
    const cs = advert.advertIntervalCs;
    if (!Number.isInteger(cs) || cs % 100 !== 0 || cs < 100 || cs > 25500) {
      throw new RangeError(`advertIntervalCs: VRRPv2 carries whole seconds 1..255, got ${cs} cs`);
    }
    checkInt('authType', advert.authType, 0, 255);
    if (advert.authData.length !== VRRP_AUTH_DATA_LENGTH) {
      throw new RangeError(`authData: VRRPv2 needs exactly ${VRRP_AUTH_DATA_LENGTH} bytes`);
    }
    msg[4] = advert.authType;
    msg[5] = cs / 100;
    msg.set(advert.authData, VRRP_HEADER_LENGTH + 4 * count);
    msg.writeUInt16BE(checksumFromSum(onesSum(msg, 0, msg.length)), 6);
    return msg;
  }
  checkInt('advertIntervalCs', advert.advertIntervalCs, 1, V3_MAX_INTERVAL_CS);
  if (advert.authType !== AUTH_NONE || advert.authData.length !== 0) {
    throw new RangeError('authType/authData: VRRPv3 has no authentication (expected 0 and empty)');
  }
  const reserved = advert.reserved ?? 0;
  checkInt('reserved', reserved, 0, 15);
  msg.writeUInt16BE((reserved << 12) | advert.advertIntervalCs, 4);
  let sum = onesSum(msg, 0, msg.length);
  if ((opts.v3Checksum ?? 'pseudo') === 'pseudo') {
    if (opts.src === undefined || opts.dst === undefined) {
      throw new RangeError("v3Checksum 'pseudo' needs the IPv4 src and dst");
    }
    sum += ipv4PseudoHeaderSum(addressOption('src', opts.src), addressOption('dst', opts.dst), IPPROTO_VRRP, msg.length);
  }
  msg.writeUInt16BE(checksumFromSum(sum), 6);
  return msg;
}

/**
 * keepalived's PASS: the password's bytes zero-padded to 8. More than 8 bytes is refused here
 * (keepalived silently truncates, which makes two configs that differ after byte 8 "match").
 */
export function passwordAuthData(password: string): Buffer {
  const bytes = Buffer.from(password, 'utf8');
  if (bytes.length === 0 || bytes.length > VRRP_AUTH_DATA_LENGTH) {
    throw new RangeError(`PASS password must be 1..${VRRP_AUTH_DATA_LENGTH} bytes, got ${bytes.length}`);
  }
  const out = Buffer.alloc(VRRP_AUTH_DATA_LENGTH);
  bytes.copy(out);
  return out;
}

/** Dotted quads -> numbers (throws RangeError on a bad one); used to prepare expected instances. */
export function addressesToNumbers(addresses: readonly string[]): number[] {
  return addresses.map((a, i) => {
    const n = parseIpv4Address(a);
    if (n === undefined) throw new RangeError(`addresses[${i}]: not an IPv4 address: ${a}`);
    return n;
  });
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: expected an integer ${min}..${max}, got ${String(value)}`);
  }
}
