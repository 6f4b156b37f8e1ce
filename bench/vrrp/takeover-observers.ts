/**
 * Observers for the takeover benchmarks that carry the time an event HAPPENED, not the time its
 * line reached the benchmark process (harness.ts's watchVip stamps arrival: under load the bench's
 * own event loop, busy with the probe and tcpdump output, adds ms of its own). Used to split a
 * takeover into its steps (bench/vrrp/failover.ts):
 *   - watchVipStamped: `ip -ts -o monitor address`, stamped by `ip` when the netlink event arrives;
 *   - watchGarps: tcpdump of ARP in a namespace, kernel capture time of every gratuitous ARP for
 *     the VIP and the host that sent it (by MAC);
 *   - haupdTakeover: the `transition` (with `decided`) and `vips_added` lines of haupd's log.
 */
import type { ChildProcess } from 'node:child_process';
import type { BenchLab, VipEvent } from './harness.ts';

function lines(child: ChildProcess, onLine: (line: string) => void): () => void {
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const ls = partial.split('\n');
    partial = ls.pop() ?? '';
    for (const l of ls) onLine(l);
  });
  child.stderr?.resume();
  return () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
}

/** `[2026-11-22T02:55:48.249423]` (local time, this machine runs UTC) -> epoch ms with µs. */
export function parseIpTs(stamp: string): number {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{1,9})\]/.exec(stamp);
  if (!m) return NaN;
  const whole = Date.parse(`${m[1]}Z`);
  return whole + Number(`0.${m[2]}`) * 1000;
}

/** The VIP appearing/disappearing in a namespace, with `ip`'s own timestamps. */
export function watchVipStamped(bl: BenchLab, host: string): { events: VipEvent[]; stop: () => void } {
  const events: VipEvent[] = [];
  const needle = ` inet ${bl.vip}/`;
  const stop = lines(bl.lab.spawn(host, 'ip', ['-ts', '-o', 'monitor', 'address']), (l) => {
    if (!l.includes(needle)) return;
    const t = parseIpTs(l);
    if (Number.isFinite(t)) events.push({ t, op: l.includes('] Deleted ') ? 'del' : 'add' });
  });
  return { events, stop };
}

export interface GarpSeen {
  /** Kernel capture time, epoch ms. */
  t: number;
  /** Lab host whose MAC sent it (or the MAC). */
  from: string;
}

/** Gratuitous ARPs for the VIP (request or reply, broadcast, sender = VIP) seen in `host`. */
export function watchGarps(bl: BenchLab, host: string): { garps: GarpSeen[]; stop: () => void } {
  const garps: GarpSeen[] = [];
  const byMac = new Map(bl.lab.hosts.map((h) => [h.mac.toLowerCase(), h.name]));
  const vip = bl.vip.replace(/\./g, '\\.');
  const re = new RegExp(`^(\\d+\\.\\d+) ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff, .*(?:Request who-has ${vip}(?: \\([0-9a-f:]+\\))? tell ${vip}|Reply ${vip} is-at)`);
  const stop = lines(bl.lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-e', '-tt', '-l', 'arp']), (l) => {
    const m = re.exec(l);
    if (m) garps.push({ t: Number(m[1]) * 1000, from: byMac.get(m[2] ?? '') ?? m[2] ?? '?' });
  });
  return { garps, stop };
}

export interface HaupdTakeoverLog {
  cause: string;
  /** When the state machine decided (epoch ms, haupd's clock, ms resolution). */
  decided: number;
  /** When the transition line was written (after the VIPs were added). */
  logged: number;
  /** What `ip addr add` took, as haupd measured it. */
  ipAddMs: number | null;
}

type LogLine = Record<string, unknown>;

/** haupd's first transition to master at or after `from` (epoch ms), from its JSON log text. */
export function haupdTakeover(logText: string, from: number): HaupdTakeoverLog | null {
  const entries: LogLine[] = [];
  for (const l of logText.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(l) as LogLine);
    } catch {
      /* not a log line */
    }
  }
  const tr = entries.find((e) => e.event === 'transition' && e.to === 'master' && Date.parse(String(e.decided)) >= from - 1);
  if (!tr) return null;
  const decided = Date.parse(String(tr.decided));
  const added = entries.find((e) => e.event === 'vips_added' && Date.parse(String(e.ts)) >= decided);
  return { cause: String(tr.cause), decided, logged: Date.parse(String(tr.ts)), ipAddMs: typeof added?.ms === 'number' ? added.ms : null };
}
