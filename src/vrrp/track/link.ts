// Track interface: is the link usable (carrier present, admin up)?
//
// Two sources, whichever sees the change first:
// - `ip -o monitor link` (netlink RTM_NEWLINK events) re-reads the state on every event for the
//   interface; event-driven, no cost while nothing happens;
// - a poll of /sys/class/net/IF/carrier every `pollMs` (default 100 ms). The kernel's linkwatch
//   may hold back the netlink event of a carrier change (non-urgent events are batched, up to 1 s
//   apart) while `carrier` changes at once; the poll bounds detection at pollMs whatever the
//   driver does, and covers an `ip monitor` that died (restarted at most once a second).
// Measured in namespaces (test/e2e/vrrp-io.test.ts prints it): veth carrier loss seen 9-30 ms
// after `ip link set` via ip monitor, admin down 12 ms, link back 4-17 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { silentLogger, type IoLogger } from '../exec.ts';

/** carrier = 1 means admin up and lower layer up; reading it fails (EINVAL) when admin down. */
export function readLinkUp(ifname: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${ifname}/carrier`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** The interface name in one `ip -o monitor link` line, e.g. `3: eth0@if5: <...>` -> eth0. */
export function monitorLineIfname(line: string): string | undefined {
  return /^(?:\[[^\]]*\]\s*)*(?:Deleted\s+)?\d+:\s+([^:@\s]+)[@:]/.exec(line.trim())?.[1];
}

/**
 * readLinkUp for the 100 ms poll: one open fd read with pread at offset 0 (sysfs renders the value
 * again on every read from 0) into a reused buffer, instead of a path walk, an open, a close and
 * a string 10 times a second for the daemon's whole life. Any error (EINVAL while admin down,
 * ENODEV once the interface is deleted) counts as down and closes the fd: the next read reopens
 * the path, so an interface deleted and created again is found.
 */
export class CarrierReader {
  private fd: number | null = null;
  private readonly buf = Buffer.alloc(8);
  private readonly path: string;

  constructor(ifname: string) {
    this.path = `/sys/class/net/${ifname}/carrier`;
  }

  up(): boolean {
    try {
      this.fd ??= openSync(this.path, 'r');
      return readSync(this.fd, this.buf, 0, this.buf.length, 0) >= 1 && this.buf[0] === 0x31; // '1'
    } catch {
      this.close();
      return false;
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already gone */
    }
    this.fd = null;
  }
}

export interface LinkWatch {
  readonly up: boolean;
  stop(): void;
}

export interface LinkWatchOptions {
  pollMs?: number;
  log?: IoLogger;
}

/**
 * One `ip -o monitor link` for the whole daemon, shared by every watcher: started with the first,
 * killed with the last, restarted (at most once a second) if it dies while someone listens.
 */
const subscribers = new Set<(ifname: string) => void>();
let monitor: ChildProcess | undefined;
let restartTimer: NodeJS.Timeout | undefined;
let monitorLog: IoLogger = silentLogger;

function startMonitor(): void {
  if (subscribers.size === 0 || monitor) return;
  const child = spawn('ip', ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
  monitor = child;
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    if (partial.length > 65536) partial = '';
    const names = new Set(lines.map(monitorLineIfname).filter((n): n is string => n !== undefined));
    for (const name of names) for (const sub of [...subscribers]) sub(name);
  });
  child.on('error', (err) => monitorLog.warn('link_monitor_error', { error: err.message }));
  child.on('exit', () => {
    if (monitor !== child) return;
    monitor = undefined;
    if (subscribers.size === 0) return;
    monitorLog.warn('link_monitor_exited', {});
    restartTimer = setTimeout(startMonitor, 1000);
  });
}

function subscribe(fn: (ifname: string) => void, log: IoLogger): () => void {
  subscribers.add(fn);
  monitorLog = log;
  startMonitor();
  return () => {
    subscribers.delete(fn);
    if (subscribers.size > 0) return;
    clearTimeout(restartTimer);
    const m = monitor;
    monitor = undefined;
    m?.kill('SIGKILL');
  };
}

export function watchLink(ifname: string, onChange: (up: boolean, via: 'poll' | 'monitor') => void, opts: LinkWatchOptions = {}): LinkWatch {
  const carrier = new CarrierReader(ifname);
  let up = carrier.up();
  let stopped = false;

  const check = (via: 'poll' | 'monitor'): void => {
    if (stopped) return;
    const now = carrier.up();
    if (now === up) return;
    up = now;
    onChange(up, via);
  };
  const poll = setInterval(() => check('poll'), opts.pollMs ?? 100);
  const unsubscribe = subscribe((name) => {
    if (name === ifname) check('monitor');
  }, opts.log ?? silentLogger);

  return {
    get up() {
      return up;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      carrier.close();
      unsubscribe();
    },
  };
}

/** Whether the shared `ip monitor` runs (tests). */
export function linkMonitorRunning(): boolean {
  return monitor !== undefined;
}
