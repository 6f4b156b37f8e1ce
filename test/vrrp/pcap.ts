// Minimal classic-pcap reader for the test vectors in ../shared/vectors (tcpdump's format:
// 24-byte global header, then 16-byte record headers; either byte order; Ethernet link type).
// Only what the tests need: frames, and the IPv4 packets inside Ethernet frames.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;

export interface PcapRecord {
  /** Capture time in microseconds since the epoch (nanosecond files are scaled down). */
  timeUs: number;
  /** The captured bytes (a view into the file buffer). */
  data: Buffer;
  originalLength: number;
}

export interface PcapFile {
  linkType: number;
  records: PcapRecord[];
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared vectors: ../shared/vectors relative to the repository root (CI clones shared/ beside it). */
export const VECTORS_DIR = path.resolve(REPO_ROOT, '../shared/vectors');

export function readPcap(file: string): PcapFile {
  return parsePcap(readFileSync(file));
}

export function parsePcap(buf: Buffer): PcapFile {
  if (buf.length < 24) throw new Error(`pcap: ${buf.length} bytes, shorter than the global header`);
  const magicBE = buf.readUInt32BE(0);
  let littleEndian: boolean;
  let nanos: boolean;
  if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) {
    littleEndian = false;
    nanos = magicBE === 0xa1b23c4d;
  } else if (magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1) {
    littleEndian = true;
    nanos = magicBE === 0x4d3cb2a1;
  } else {
    throw new Error(`pcap: bad magic 0x${magicBE.toString(16)} (pcapng is not supported)`);
  }
  const u32 = (o: number): number => (littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff; // upper bits: FCS info
  const records: PcapRecord[] = [];
  let off = 24;
  while (off < buf.length) {
    if (off + 16 > buf.length) throw new Error(`pcap: truncated record header at byte ${off}`);
    const sec = u32(off);
    const frac = u32(off + 4);
    const inclLen = u32(off + 8);
    const originalLength = u32(off + 12);
    const start = off + 16;
    if (start + inclLen > buf.length) throw new Error(`pcap: truncated record data at byte ${start}`);
    records.push({
      timeUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      data: buf.subarray(start, start + inclLen),
      originalLength,
    });
    off = start + inclLen;
  }
  return { linkType, records };
}

/** The IPv4 packet of an Ethernet frame (VLAN tags skipped), or undefined for anything else. */
export function ipv4FromEthernet(frame: Buffer): Buffer | undefined {
  let off = 12;
  if (frame.length < off + 2) return undefined;
  let type = frame.readUInt16BE(off);
  while (type === ETHERTYPE_VLAN) {
    off += 4;
    if (frame.length < off + 2) return undefined;
    type = frame.readUInt16BE(off);
  }
  return type === ETHERTYPE_IPV4 ? frame.subarray(off + 2) : undefined;
}

/** Every IPv4 packet of an Ethernet capture, in order (ARP and other frames skipped). */
export function readIpv4Packets(file: string): Buffer[] {
  const pcap = readPcap(file);
  if (pcap.linkType !== LINKTYPE_ETHERNET) throw new Error(`${file}: link type ${pcap.linkType}, expected Ethernet (1)`);
  const out: Buffer[] = [];
  for (const r of pcap.records) {
    const ip = ipv4FromEthernet(r.data);
    if (ip !== undefined) out.push(ip);
  }
  return out;
}
