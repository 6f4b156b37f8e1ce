// Partition guard: is the gateway reachable? ICMP echo over a raw ICMP socket every `intervalMs`;
// `fall` consecutive misses -> isolated (the daemon releases its VIPs: an LB that cannot reach the
// gateway cannot serve, and holding the VIP would make a split brain), `rise` answers -> back.
// This replaces the ssh/ping scripts the classic guides hand-write.
//
// One raw socket (protocol 1) per guard; the kernel adds the IPv4 header on send, receive buffers
// include it. The socket sees every ICMP packet of the namespace: replies are matched on source,
// identifier and sequence number. Until the first probe has answered the guard is 'unknown', which
// the tracking rules treat as failing (see state.ts).
import { endianness } from 'node:os';
import raw from '@neuralegion/raw-socket';
import { startPeriodicCheck, type Clock, type ProbeResult } from './periodic.ts';
import type { CheckStatus } from './state.ts';

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SOL_RAW = 255;
const ICMP_FILTER = 1;

export function icmpChecksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** ICMP echo request (type 8) with an 8-byte payload. */
export function echoRequest(id: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 8;
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  b.write('haupd-gw', 8, 'ascii');
  b.writeUInt16BE(icmpChecksum(b), 2);
  return b;
}

/** { id, seq } of an echo reply in a raw-socket buffer (IPv4 header included), from `src`. */
export function parseEchoReply(packet: Buffer): { src: string; id: number; seq: number } | undefined {
  if (packet.length < 20) return undefined;
  const ihl = (packet[0]! & 0x0f) * 4;
  if (packet[0]! >> 4 !== 4 || ihl < 20 || packet[9] !== 1 || packet.length < ihl + 8) return undefined;
  if (packet[ihl] !== 0 || packet[ihl + 1] !== 0) return undefined; // type 0 code 0: echo reply
  const src = `${packet[12]}.${packet[13]}.${packet[14]}.${packet[15]}`;
  return { src, id: packet.readUInt16BE(ihl + 4), seq: packet.readUInt16BE(ihl + 6) };
}

interface RawSocket {
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, after: (error: Error | null, bytes: number) => void): unknown;
  on(event: 'message', cb: (buffer: Buffer, source: string) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  close(): unknown;
}

export interface Pinger {
  /** One echo; resolves ok when the matching reply arrives within timeoutMs. Never rejects. */
  ping(timeoutMs: number): Promise<ProbeResult & { rttMs?: number }>;
  close(): void;
}

let nextId = (process.pid ^ 0x4855) & 0xffff;

export function createPinger(target: string, ifname?: string): Pinger {
  const sock = raw.createSocket({ protocol: 1, bufferSize: 2048 }) as unknown as RawSocket;
  // ICMP_FILTER: a bit per ICMP type to drop in the kernel; keep only echo replies (type 0), so a
  // busy LB's other ICMP traffic never reaches JavaScript.
  const filter = Buffer.alloc(4);
  if (endianness() === 'LE') filter.writeUInt32LE(~1 >>> 0);
  else filter.writeUInt32BE(~1 >>> 0);
  try {
    sock.setOption(SOL_RAW, ICMP_FILTER, filter, 4);
  } catch {
    /* not fatal: replies are matched in JavaScript anyway */
  }
  if (ifname) {
    const name = Buffer.from(`${ifname}\0`);
    try {
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    } catch (err) {
      sock.close();
      throw new Error(`partition guard: cannot bind to ${ifname}: ${(err as Error).message}`);
    }
  }
  // Each pinger its own identifier, so two guards (or a test's two pingers) never take each other's replies.
  const id = nextId;
  nextId = (nextId + 1) & 0xffff;
  let seq = 0;
  let closed = false;
  const waiting = new Map<number, (answered: boolean) => void>();
  sock.on('error', () => {
    /* a failed recv: the probe times out and counts as a miss */
  });
  sock.on('message', (buffer) => {
    const r = parseEchoReply(buffer);
    if (!r || r.id !== id || r.src !== target) return;
    waiting.get(r.seq)?.(true);
  });
  return {
    ping(timeoutMs) {
      if (closed) return Promise.resolve({ ok: false, detail: 'closed' });
      seq = (seq + 1) & 0xffff;
      const mySeq = seq;
      const started = performance.now();
      return new Promise((resolve) => {
        const done = (r: ProbeResult & { rttMs?: number }): void => {
          clearTimeout(timer);
          waiting.delete(mySeq);
          resolve(r);
        };
        const timer = setTimeout(() => done({ ok: false, detail: `no echo reply from ${target} within ${timeoutMs} ms` }), timeoutMs);
        waiting.set(mySeq, (answered) =>
          done(answered ? { ok: true, rttMs: performance.now() - started } : { ok: false, detail: 'pinger closed' }),
        );
        const msg = echoRequest(id, mySeq);
        sock.send(msg, 0, msg.length, target, (err) => {
          if (err) done({ ok: false, detail: `echo to ${target}: ${err.message}` });
        });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      sock.close();
      for (const w of [...waiting.values()]) w(false);
    },
  };
}

export interface PartitionGuardSpec {
  gateway: string;
  interface?: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

export interface PartitionGuard {
  /** 'failed' = isolated. */
  readonly status: CheckStatus;
  readonly isolated: boolean;
  readonly last: ProbeResult | undefined;
  stop(): void;
}

export function startPartitionGuard(spec: PartitionGuardSpec, onChange: (status: CheckStatus, last: ProbeResult) => void, clock?: Clock): PartitionGuard {
  const pinger = createPinger(spec.gateway, spec.interface);
  const timeoutMs = Math.min(spec.timeoutMs, spec.intervalMs);
  const check = startPeriodicCheck({
    intervalMs: spec.intervalMs,
    rise: spec.rise,
    fall: spec.fall,
    probe: () => pinger.ping(timeoutMs),
    onChange,
    ...(clock ? { clock } : {}),
  });
  return {
    get status() {
      return check.status;
    },
    get isolated() {
      return check.status === 'failed';
    },
    get last() {
      return check.last;
    },
    stop() {
      check.stop();
      pinger.close();
    },
  };
}
