// IPv4 layer of haupd's VRRP path. Pure: no sockets here.
// - parseIpv4Packet: a buffer from the raw socket (Linux delivers the IPv4 header with the data on
//   a SOCK_RAW/IPPROTO_VRRP socket) -> header fields + a view of the payload, or a DropReason.
//   Never throws, whatever the bytes.
// - encodeIpv4Packet: header + payload, for an I/O layer that sends with IP_HDRINCL.
// - Addresses are carried as unsigned 32-bit numbers on the receive path: comparing numbers needs
//   no string building for every packet; formatIpv4Address turns one into text when needed.
import { internetChecksum } from './checksum.ts';

export const IPPROTO_VRRP = 112;
/** IPsec AH: RFC 2338's VRRPv2 auth type 2 puts an AH header in front of the VRRP message. */
export const IPPROTO_AH = 51;
/** 224.0.0.18, the VRRP multicast group, as a number. */
export const VRRP_MULTICAST_GROUP = 0xe0000012;
export const VRRP_TTL = 255;
/** DSCP CS6 (network control), what keepalived sends. */
export const VRRP_TOS = 0xc0;

export interface Ipv4Packet {
  /** Source address as an unsigned 32-bit number (see formatIpv4Address). */
  src: number;
  dst: number;
  ttl: number;
  tos: number;
  protocol: number;
  /** Identification field (only useful in logs and tests). */
  id: number;
  /** The bytes after the IP header up to the header's total length: a view, not a copy. */
  payload: Buffer;
}

/** Why an IPv4 datagram was not handed to the VRRP layer. */
export type Ipv4DropReason =
  /** Not IPv4 or an IHL below 5 words. */
  | 'ip-malformed'
  /** Fewer bytes than the header or its total-length field claim. */
  | 'ip-truncated'
  /** A fragment (the kernel reassembles before raw delivery, so this is never a whole advert). */
  | 'ip-fragment';

/**
 * Parse a received IPv4 datagram. The payload is a view into `buf`: the I/O layer must hand in a
 * buffer it owns (raw-socket reuses its receive buffer for the next packet).
 * Trailing bytes after the total length (Ethernet padding in captures) are ignored. The header
 * checksum is not checked: the kernel verified it before delivering to the raw socket.
 */
export function parseIpv4Packet(buf: Buffer): Ipv4Packet | Ipv4DropReason {
  if (buf.length < 20) return 'ip-truncated';
  const b0 = buf[0] as number;
  const ihl = (b0 & 0x0f) * 4;
  if (b0 >> 4 !== 4 || ihl < 20) return 'ip-malformed';
  const totalLength = ((buf[2] as number) << 8) | (buf[3] as number);
  if (totalLength < ihl) return 'ip-malformed';
  if (buf.length < ihl || buf.length < totalLength) return 'ip-truncated';
  const fragment = (((buf[6] as number) << 8) | (buf[7] as number)) & 0x3fff; // MF + offset
  if (fragment !== 0) return 'ip-fragment';
  return {
    src: readU32(buf, 12),
    dst: readU32(buf, 16),
    ttl: buf[8] as number,
    tos: buf[1] as number,
    protocol: buf[9] as number,
    id: ((buf[4] as number) << 8) | (buf[5] as number),
    payload: buf.subarray(ihl, totalLength),
  };
}

export interface Ipv4HeaderOptions {
  src: string | number;
  dst: string | number;
  /** Default 255 (VRRP requires it). */
  ttl?: number;
  /** Default 0xC0. */
  tos?: number;
  /** Default 112 (VRRP). */
  protocol?: number;
  /** Default 0 (with IP_HDRINCL Linux fills in an id when it is 0). */
  id?: number;
}

/** A 20-byte IPv4 header (no options, DF clear, like keepalived) followed by `payload`. */
export function encodeIpv4Packet(payload: Uint8Array, opts: Ipv4HeaderOptions): Buffer {
  const totalLength = 20 + payload.length;
  if (totalLength > 0xffff) throw new RangeError(`IPv4 payload too long: ${payload.length} bytes`);
  const out = Buffer.alloc(totalLength);
  out[0] = 0x45;
  out[1] = byteOption('tos', opts.tos ?? VRRP_TOS);
  out.writeUInt16BE(totalLength, 2);
  out.writeUInt16BE(intOption('id', opts.id ?? 0, 0xffff), 4);
  out[8] = byteOption('ttl', opts.ttl ?? VRRP_TTL);
  out[9] = byteOption('protocol', opts.protocol ?? IPPROTO_VRRP);
  out.writeUInt32BE(addressOption('src', opts.src), 12);
  out.writeUInt32BE(addressOption('dst', opts.dst), 16);
  out.writeUInt16BE(internetChecksum(out, 0, 20), 10);
  out.set(payload, 20);
  return out;
}

/** Strict dotted quad ("198.18.0.1"; no leading zeros, no shorthand) -> number, else undefined. */
export function parseIpv4Address(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIpv4Address(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

export function isMulticast(address: number): boolean {
  return address >>> 28 === 0xe;
}

/** Big-endian unsigned 32-bit read without bounds exceptions (callers checked the length). */
export function readU32(buf: Uint8Array, offset: number): number {
  return (
    ((buf[offset] as number) * 0x1000000 +
      (((buf[offset + 1] as number) << 16) | ((buf[offset + 2] as number) << 8) | (buf[offset + 3] as number))) >>>
    0
  );
}

/** A number or dotted-quad option -> number; throws RangeError for a caller's programming error. */
export function addressOption(name: string, value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return value;
  } else {
    const n = parseIpv4Address(value);
    if (n !== undefined) return n;
  }
  throw new RangeError(`${name}: not an IPv4 address: ${String(value)}`);
}

function byteOption(name: string, value: number): number {
  return intOption(name, value, 0xff);
}

function intOption(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name}: expected an integer 0..${max}, got ${value}`);
  }
  return value;
}
