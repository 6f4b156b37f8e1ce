// Status endpoint: JSON over a unix socket. A client connects, the daemon writes one JSON document
// and a newline, then closes. No request to parse means nothing to attack; the socket is mode 0600
// (or 0660 for an operators' group) and owned by the daemon's user (root), in a directory that is
// created 0750 so the socket is never reachable before its mode is set.
//
//   const server = await startStatusServer('/run/haupd/status.sock', () => snapshot());
//   const status = await queryStatus('/run/haupd/status.sock');   // `haupd status` / `haup status`
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';
import type { CheckStatus } from './track/state.ts';

export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

export interface TrackStatus {
  name: string;
  kind: 'script' | 'interface' | 'partition-guard';
  status: CheckStatus;
  weight: number;
  /** Last failure detail, if any. */
  detail?: string;
}

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  state: VrrpStateName;
  /** Configured priority. */
  priority: number;
  /** Priority advertised now (tracking applied, clamped 1..254). */
  effectivePriority: number;
  vips: string[];
  /** Whether our VIPs are on the interface now (as last added/removed by the daemon). */
  vipsHeld: boolean;
  /** Last master heard from (not ourselves). */
  masterSeen: { address: string; priority: number; at: string } | null;
  lastTransition: { from: VrrpStateName; to: VrrpStateName; reason: string; at: string } | null;
  counters: {
    advertsSent: number;
    advertsReceived: number;
    becameMaster: number;
    /** Dropped packets by reason (the codec's DropReason names). */
    drops: Record<string, number>;
  };
  tracks: TrackStatus[];
}

export interface DaemonStatus {
  pid: number;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  configFile: string;
  instances: InstanceStatus[];
  partitionGuard: { gateway: string; status: CheckStatus; detail?: string } | null;
}

export interface StatusServer {
  readonly path: string;
  close(): Promise<void>;
}

export interface StatusServerOptions {
  /** 0o600 (default) or 0o660. */
  mode?: 0o600 | 0o660;
  /** Group that may read the status with mode 0o660 (the owner stays the daemon's user, root). */
  gid?: number;
}

export async function startStatusServer(path: string, snapshot: () => unknown, opts: StatusServerOptions = {}): Promise<StatusServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  // A socket file left by a daemon killed with -9 blocks listen(); it is ours to replace. One that
  // still answers belongs to a running haupd: refuse (two daemons would fight over the VIPs).
  // Anything that is not a socket is not ours: refuse.
  let exists = true;
  try {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    exists = false;
  }
  if (exists) {
    if (await answers(path)) throw new Error(`another haupd is running: ${path} answers`);
    unlinkSync(path);
  }
  const server = createServer((conn) => {
    conn.on('error', () => {
      /* client went away */
    });
    let body: string;
    try {
      body = JSON.stringify(snapshot());
    } catch (err) {
      body = JSON.stringify({ error: `status unavailable: ${(err as Error).message}` });
    }
    conn.end(body + '\n');
  });
  server.maxConnections = 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, opts.mode ?? 0o600);
  if (opts.gid !== undefined) chownSync(path, process.getuid?.() ?? 0, opts.gid);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }),
  };
}

/** Does something accept connections on this unix socket? (ECONNREFUSED = a stale file) */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection(path);
    const timer = setTimeout(() => {
      conn.destroy();
      resolve(true); // accepted but silent: still someone's socket
    }, 500);
    conn.on('connect', () => {
      clearTimeout(timer);
      conn.destroy();
      resolve(true);
    });
    conn.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** One-shot client: connect, read the JSON document, parse it. Rejects with a readable message. */
export function queryStatus(path: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let data = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      data += d;
      if (data.length > 16 << 20) {
        conn.destroy();
        clearTimeout(timer);
        reject(new Error(`status from ${path} is larger than 16 MiB`));
      }
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? ' (is haupd running?)' : err.code === 'EACCES' ? ' (run as root)' : '';
      reject(new Error(`cannot read haupd status from ${path}: ${err.message}${hint}`));
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data));
      } catch {
        reject(new Error(`haupd status from ${path} is not JSON`));
      }
    });
  });
}
