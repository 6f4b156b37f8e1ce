// One raw IPv4 socket per interface for VRRP (IP protocol 112), on @neuralegion/raw-socket.
//
//   const s = await openVrrpSocket('eth0');          // s.primary, s.ifindex
//   s.onPacket((packet, from) => ...)                // packet: a private copy, IPv4 header included
//   await s.send('224.0.0.18', vrrpMessage)          // or a unicast peer; rejects on a send error
//   s.close()
//
// Why IP_HDRINCL: raw-socket has no bind() and no sendmsg(), so without it the source of a unicast
// advert would be whatever the routing table prefers (and could become a VIP of another subnet).
// keepalived builds the IPv4 header itself for the same reason. With IP_HDRINCL the header we write
// is what goes out: source = the interface's primary address, TTL 255, TOS 0xC0, protocol 112
// (built by ipv4.ts's encodeIpv4Packet). The kernel still rewrites total length and header
// checksum and picks the IP id (we leave it 0).
// The TTL/TOS/multicast-TTL options are set as well: harmless with IP_HDRINCL, and they keep the
// socket right if someone turns IP_HDRINCL off.
// Receiving: IP_ADD_MEMBERSHIP with struct ip_mreqn (group, address, ifindex) joins 224.0.0.18 on
// this interface only; IP_MULTICAST_ALL 0 keeps groups joined by other sockets out; SO_BINDTODEVICE
// restricts both directions to the interface; IP_MULTICAST_LOOP 0 keeps our own adverts out.
import { endianness } from 'node:os';
import raw from '@neuralegion/raw-socket';
import { encodeIpv4Packet, IPPROTO_VRRP, VRRP_TOS, VRRP_TTL } from './ipv4.ts';
import { runCommand } from './exec.ts';
import { listIPv4 } from './vip.ts';

export const VRRP_MULTICAST_GROUP = '224.0.0.18';

// Linux <netinet/in.h>, <asm-generic/socket.h>
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_TOS = 1;
const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_DROP_MEMBERSHIP = 36;
const IP_MULTICAST_ALL = 49;

/** Bound on sends waiting for the socket to become writable; beyond it a send fails at once. */
const MAX_PENDING_SENDS = 256;

export interface InterfaceInfo {
  ifname: string;
  ifindex: number;
  /** First non-secondary IPv4 address not in `exclude`; undefined when the interface has none. */
  primary: string | undefined;
}

/** ifindex and primary IPv4 of an interface. Throws (a config/host problem) if it does not exist. */
export async function interfaceInfo(ifname: string, exclude: readonly string[] = []): Promise<InterfaceInfo> {
  // From netlink (`ip`), not /sys/class/net: a sysfs mounted outside our network namespace (a
  // systemd-nspawn host joined to a netns, as in the lab) lists the OUTER interfaces, and a wrong
  // ifindex makes IP_ADD_MEMBERSHIP fail with EADDRNOTAVAIL.
  const link = await runCommand('ip', ['-j', 'link', 'show', 'dev', ifname], { timeoutMs: 3000 });
  const ifindex = link.code === 0 ? Number((JSON.parse(link.stdout || '[]') as { ifindex?: number }[])[0]?.ifindex) : NaN;
  if (!Number.isInteger(ifindex) || ifindex <= 0) throw new Error(`interface ${ifname} does not exist`);
  const addrs = await listIPv4(ifname);
  if ('error' in addrs) throw new Error(`cannot read the addresses of ${ifname}: ${addrs.error}`);
  const skip = new Set(exclude);
  const primary = addrs.find((a) => !a.secondary && !skip.has(a.address))?.address ?? addrs.find((a) => !skip.has(a.address))?.address;
  return { ifname, ifindex, primary };
}

function ipv4Bytes(addr: string): Buffer {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${addr}`);
  return Buffer.from(parts);
}

/** struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; } */
export function ipMreqn(group: string, address: string, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  ipv4Bytes(group).copy(b, 0);
  ipv4Bytes(address).copy(b, 4);
  if (endianness() === 'LE') b.writeInt32LE(ifindex, 8);
  else b.writeInt32BE(ifindex, 8);
  return b;
}

export interface VrrpSocket {
  readonly ifname: string;
  readonly ifindex: number;
  /** Source address of every advert sent (the interface's primary IPv4 when opened). */
  readonly primary: string;
  /** Send one VRRP message (no IP header) to 224.0.0.18 or a unicast peer. Rejects on error. */
  send(dst: string, payload: Buffer): Promise<void>;
  /**
   * The daemon's hot path (every advert interval, 100/s at 0.01 s): the same as `send`, but no
   * promise is created; a failure (at once, or later if the socket buffer was full) calls
   * `onError`. Pass the same `payload` buffer every time: its IPv4 packet is built once.
   */
  sendNow(dst: string, payload: Buffer, onError: (err: Error, dst: string) => void): void;
  /** `packet` is this socket's own copy of the whole IPv4 packet; `from` its source address. */
  onPacket(cb: (packet: Buffer, from: string) => void): void;
  /**
   * The daemon's receive path: `buf` is the socket's SHARED receive buffer, the packet its first
   * `length` bytes, valid only during the call (the next packet overwrites it). Copy what you
   * keep. No allocation per packet beyond what the addon itself makes.
   */
  onDatagram(cb: (buf: Buffer, length: number) => void): void;
  /** Socket-level errors after open (the daemon logs them). If `closed` is true afterwards the
   *  system closed the socket: open a new one. */
  onError(cb: (err: Error) => void): void;
  /** Leave the group, close the fd, fail pending sends. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

export interface OpenOptions {
  /** Source address to use instead of the interface's primary IPv4 (e.g. to exclude stale VIPs). */
  primary?: string;
  /** Addresses never to pick as primary (our VIPs). */
  excludeFromPrimary?: readonly string[];
}

interface RawSocket {
  /**
   * The native SocketWrap (raw-socket 1.8.x, pinned): send() is a synchronous sendto(), recv() a
   * synchronous recvfrom() into the given buffer that calls back at once; it emits 'recvReady'
   * when the fd is readable (the EventEmitter methods are copied onto its prototype).
   */
  wrap?: {
    send(buffer: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): unknown;
    recv(buffer: Buffer, cb: (buffer: Buffer, bytes: number, source: string) => void): unknown;
    on(event: 'recvReady', cb: () => void): unknown;
    removeAllListeners(event: 'recvReady'): unknown;
  };
  buffer?: Buffer;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, after: (error: Error | null, bytes: number) => void): unknown;
  on(event: 'message', cb: (buffer: Buffer, source: string) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  close(): unknown;
}

/** One settled promise and one no-op callback shared by every fast-path send (no per-send garbage). */
const SENT: Promise<void> = Promise.resolve();
const ignoreSent = (): void => undefined;
const BUSY = Symbol('busy');

export async function openVrrpSocket(ifname: string, opts: OpenOptions = {}): Promise<VrrpSocket> {
  const info = await interfaceInfo(ifname, opts.excludeFromPrimary ?? []);
  const primary = opts.primary ?? info.primary;
  if (!primary) throw new Error(`interface ${ifname} has no IPv4 address to send VRRP adverts from`);

  const sock = raw.createSocket({ protocol: IPPROTO_VRRP, bufferSize: 65535 }) as unknown as RawSocket;
  const packetListeners: ((packet: Buffer, from: string) => void)[] = [];
  const errorListeners: ((err: Error) => void)[] = [];
  const pending = new Set<(err: Error) => void>();
  /** Payload buffer -> destination -> IPv4 packet; weak, so dropped adverts free their packets. */
  const packetCache = new WeakMap<Buffer, Map<string, Buffer>>();
  let closed = false;
  const mreqn = ipMreqn(VRRP_MULTICAST_GROUP, primary, info.ifindex);

  // raw-socket emits 'error' for failed recv(); without a listener EventEmitter would throw.
  sock.on('error', (err) => {
    for (const l of errorListeners) l(err);
  });
  // raw-socket closes the socket itself on a poll error: say so, so the daemon can reopen it
  // (`closed` turns true) instead of sending into a dead socket.
  sock.on('close', () => {
    if (closed) return;
    closed = true;
    for (const fail of [...pending]) fail(new Error(`VRRP socket on ${ifname} was closed by the system`));
    for (const l of errorListeners) l(new Error(`VRRP socket on ${ifname} was closed by the system`));
  });
  const datagramListeners: ((buf: Buffer, length: number) => void)[] = [];
  const deliver = (buffer: Buffer, length: number, source: string): void => {
    if (closed) return;
    for (const l of datagramListeners) l(buffer, length);
    if (packetListeners.length === 0) return;
    // raw-socket hands out a slice of one receive buffer that the next packet overwrites.
    const packet = Buffer.from(buffer.subarray(0, length));
    for (const l of packetListeners) l(packet, source);
  };
  const wrap = sock.wrap;
  const recvBuffer = sock.buffer;
  if (wrap && recvBuffer) {
    // raw-socket's own handler allocates a closure, a Buffer slice and an 'message' emit per
    // packet (100/s per peer at 0.01 s adverts). Ours reads into the same buffer with one
    // callback made once, and copies only for onPacket listeners.
    const onRecv = (buffer: Buffer, bytes: number, source: string): void => deliver(buffer, bytes, source);
    wrap.removeAllListeners('recvReady');
    wrap.on('recvReady', () => {
      try {
        wrap.recv(recvBuffer, onRecv);
      } catch (err) {
        for (const l of errorListeners) l(err as Error);
      }
    });
  } else {
    sock.on('message', (buffer, source) => deliver(buffer, buffer.length, source));
  }

  try {
    const name = Buffer.from(`${ifname}\0`);
    sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    sock.setOption(SOL_SOCKET, SO_RCVBUF, 256 * 1024);
    sock.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    sock.setOption(IPPROTO_IP, IP_TTL, VRRP_TTL);
    sock.setOption(IPPROTO_IP, IP_TOS, VRRP_TOS);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, VRRP_TTL);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_ALL, 0);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, mreqn, mreqn.length);
    sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, mreqn.length);
  } catch (err) {
    sock.close();
    throw new Error(`cannot set up the VRRP socket on ${ifname}: ${(err as Error).message}`);
  }

  /** The IPv4 packet for (payload, dst): built once per payload buffer and destination. */
  const packetFor = (dst: string, payload: Buffer): Buffer | Error => {
    if (closed) return new Error(`VRRP socket on ${ifname} is closed`);
    if (pending.size >= MAX_PENDING_SENDS) return new Error(`VRRP socket on ${ifname}: ${MAX_PENDING_SENDS} sends pending`);
    // The daemon sends the same cached advert buffer every interval (100/s at 0.01 s): its IPv4
    // packet is built once per (payload, dst), not allocated and filled per send. The bytes
    // never change: id 0 and the header checksum are filled in by the kernel.
    let packet = packetCache.get(payload)?.get(dst);
    if (!packet) {
      try {
        // The codec's header: TTL 255, TOS 0xC0, protocol 112, id 0 (the kernel picks one).
        packet = encodeIpv4Packet(payload, { src: primary, dst });
      } catch (err) {
        return err as Error;
      }
      let byDst = packetCache.get(payload);
      if (!byDst) packetCache.set(payload, (byDst = new Map()));
      byDst.set(dst, packet);
    }
    return packet;
  };
  /**
   * sendto() right now on the non-blocking socket (half the CPU of raw-socket's queue, measured
   * 9-13 us vs 23-30 us per send, and no extra event-loop turn before the advert leaves).
   * undefined = sent; BUSY = the socket buffer is full (or sends are queued): use the queue,
   * which waits for POLLOUT.
   */
  const sendImmediately = (dst: string, packet: Buffer): Error | typeof BUSY | undefined => {
    if (!sock.wrap || pending.size > 0) return BUSY;
    try {
      sock.wrap.send(packet, 0, packet.length, dst, ignoreSent);
      return undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (/temporarily unavailable|No buffer space/i.test(message)) return BUSY;
      return new Error(`send to ${dst} on ${ifname}: ${message}`);
    }
  };
  const queueSend = (dst: string, packet: Buffer): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        pending.delete(fail);
        reject(err);
      };
      pending.add(fail);
      sock.send(packet, 0, packet.length, dst, (error) => {
        if (!pending.has(fail)) return; // closed meanwhile: already rejected
        pending.delete(fail);
        if (error) reject(new Error(`send to ${dst} on ${ifname}: ${error.message}`));
        else resolve();
      });
    });

  return {
    ifname,
    ifindex: info.ifindex,
    primary,
    get closed() {
      return closed;
    },
    send(dst, payload) {
      const packet = packetFor(dst, payload);
      if (packet instanceof Error) return Promise.reject(packet);
      const now = sendImmediately(dst, packet);
      if (now === undefined) return SENT;
      if (now !== BUSY) return Promise.reject(now);
      return queueSend(dst, packet);
    },
    sendNow(dst, payload, onError) {
      const packet = packetFor(dst, payload);
      if (packet instanceof Error) return onError(packet, dst);
      const now = sendImmediately(dst, packet);
      if (now === undefined) return;
      if (now !== BUSY) return onError(now, dst);
      queueSend(dst, packet).catch((err: unknown) => onError(err as Error, dst));
    },
    onPacket(cb) {
      packetListeners.push(cb);
    },
    onDatagram(cb) {
      datagramListeners.push(cb);
    },
    onError(cb) {
      errorListeners.push(cb);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        sock.setOption(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreqn, mreqn.length);
      } catch {
        /* interface gone: closing the fd leaves the group anyway */
      }
      sock.close();
      for (const fail of [...pending]) fail(new Error(`VRRP socket on ${ifname} closed`));
    },
  };
}
