/**
 * Shared pieces of the haupd-vs-keepalived benchmarks: one LB pair of either implementation with
 * the SAME settings in the same kind of namespaces, precise observers (address events, adverts on
 * the wire, a fixed-rate client), and /proc sampling for CPU and memory.
 *
 * Reuses the e2e harness (test/e2e/netns.ts, haupd-harness.ts, keepalived.ts, http-probe.ts):
 * namespaces, daemons and HTTP servers are started exactly as the e2e tests start them.
 *
 * Topology per lab: hosts a (master, prio 150), b (backup, prio 100), optionally c (client), on a
 * bridge in its own namespace; 198.18.SUBNET.0/24 inside the namespaces only; VIP .100.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HaupdConfigInput } from '../../src/vrrp/config-schema.ts';
import { createNetnsLab, waitFor, type NetnsLab } from '../../test/e2e/netns.ts';
import { addrsOf, holders, repoRoot, startHaupd } from '../../test/e2e/haupd-harness.ts';
import { startKeepalived } from '../../test/e2e/keepalived.ts';
import type { ProbeSample } from './probe.ts';

export { repoRoot };
export type Impl = 'keepalived' | 'haupd';
export const IMPLS: readonly Impl[] = ['keepalived', 'haupd'];

export interface Setting {
  name: string;
  version: 2 | 3;
  /** Seconds. */
  advertInt: number;
}

export const SETTINGS: Record<string, Setting> = {
  'v2-1s': { name: 'v2-1s', version: 2, advertInt: 1 },
  'v3-100ms': { name: 'v3-100ms', version: 3, advertInt: 0.1 },
  'v3-10ms': { name: 'v3-10ms', version: 3, advertInt: 0.01 },
};

export const MASTER_PRIO = 150;
export const BACKUP_PRIO = 100;
export const VRID = 51;
export const HTTP_PORT = 8080;
/** Probe: one request started every 20 ms; a request not answered within 900 ms failed. */
export const PROBE_EVERY_MS = 20;
export const PROBE_TIMEOUT_MS = 900;

/**
 * The client and the HTTP servers run at a higher CPU priority than the daemons: the machine is
 * shared (load 2-6 on 2 cores), and their scheduling delays would otherwise show up as "outage".
 * The daemons under test keep the default priority, as on an LB.
 */
export const OBSERVER_NICE = -10;

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** RFC 3768 / 5798 Skew_Time in ms. */
export function skewMs(s: Setting, prio: number): number {
  return s.version === 2 ? ((256 - prio) / 256) * 1000 : ((256 - prio) * s.advertInt * 1000) / 256;
}

/** Master_Down_Interval in ms: 3 × advert + Skew. */
export function masterDownMs(s: Setting, prio: number): number {
  return 3 * s.advertInt * 1000 + skewMs(s, prio);
}

export interface BenchLab {
  lab: NetnsLab;
  vip: string;
  dir: string;
  /** Where haupd runs from: the same single-file bundle an LB gets (src/vrrp/bundle.ts). */
  bundleDir: string;
  master: 'a';
  backup: 'b';
  client: 'c' | null;
  cleanup(): Promise<void>;
}

/** Build the haupd bundle once per benchmark process (0.5 s), as deployed to /opt/haup. */
export async function buildBundle(outDir: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/vrrp/bundle.ts'), outDir], { cwd: repoRoot, timeout: 60_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`bundle failed: ${err.message}\n${stderr}`)) : resolve(),
    ),
  );
  return outDir;
}

function waitLine(child: ChildProcess, match: (line: string) => boolean, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.split('\n').some(match)) {
        clearTimeout(t);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => {
      clearTimeout(t);
      reject(new Error(`${what}: process exited (${buf.slice(-500)})`));
    });
  });
}

export async function createBenchLab(opts: { prefix: string; subnet: number; client: boolean; dir: string; bundleDir: string }): Promise<BenchLab> {
  const lab = await createNetnsLab({ prefix: opts.prefix, subnet: opts.subnet, hosts: opts.client ? ['a', 'b', 'c'] : ['a', 'b'] });
  const bl: BenchLab = {
    lab,
    vip: `${lab.net}.100`,
    dir: opts.dir,
    bundleDir: opts.bundleDir,
    master: 'a',
    backup: 'b',
    client: opts.client ? 'c' : null,
    cleanup: () => lab.cleanup(),
  };
  if (opts.client) {
    try {
      // The e2e tests' tiny HTTP server, bound on 0.0.0.0:8080: answers on the VIP while its LB holds it.
      for (const h of ['a', 'b']) {
        const s = lab.spawn(h, 'nice', ['-n', String(OBSERVER_NICE), process.execPath, '--import', 'tsx', path.join(repoRoot, 'test/e2e/http-probe.ts'), 'serve', String(HTTP_PORT), h], { cwd: repoRoot });
        await waitLine(s, (l) => l.startsWith('listening'), `http server in ${h}`, 20_000);
      }
    } catch (err) {
      await lab.cleanup();
      throw err;
    }
  }
  return bl;
}

/** One LB daemon, whichever implementation, behind the same handle. */
export interface Lb {
  impl: Impl;
  host: string;
  /** Processes whose CPU and memory are the daemon's (keepalived: parent + VRRP child). */
  pids(): Promise<number[]>;
  /** Signal the whole daemon (SIGSTOP freezes keepalived's parent and VRRP child together). */
  signal(sig: NodeJS.Signals): void;
  /** Planned stop: SIGTERM to the main process, as systemd does. Does not wait. */
  term(): void;
  exited: Promise<void>;
  /** SIGCONT, SIGTERM, SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>;
  log(): string;
  /** How many times this daemon has entered Master so far (from its log). */
  masterEntries(): number;
}

export function hostIp(bl: BenchLab, host: string): string {
  return bl.lab.host(host).ip;
}

export function haupdConfig(bl: BenchLab, host: string, s: Setting, priority: number): HaupdConfigInput {
  return {
    status_socket: path.join(bl.dir, `${bl.lab.net}-${host}.sock`),
    instances: [
      {
        name: 'VI_1',
        interface: 'eth0',
        vrid: VRID,
        version: s.version,
        priority,
        advert_int: s.advertInt,
        vips: [`${bl.vip}/24`],
        // The peer set the inventory knows (haup deploys it): lets a planned handover skip Skew.
        peers: { [hostIp(bl, 'a')]: MASTER_PRIO, [hostIp(bl, 'b')]: BACKUP_PRIO },
        // keepalived's defaults, so both send the same gratuitous ARPs: 5 at once, 5 after 5 s.
        garp: { count: 5, repeat_count: 5, repeat_delay: 5 },
      },
    ],
  } as HaupdConfigInput;
}

async function readPid(file: string): Promise<number | null> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export async function startLb(bl: BenchLab, impl: Impl, host: string, s: Setting, priority: number): Promise<Lb> {
  const dir = path.join(bl.dir, bl.lab.net);
  if (impl === 'keepalived') {
    const k = await startKeepalived(bl.lab, host, dir, { vrid: VRID, version: s.version, priority, advertInt: s.advertInt, vips: [`${bl.vip}/24`] });
    const exited = new Promise<void>((resolve) => {
      if (k.child.exitCode !== null || k.child.signalCode !== null) resolve();
      else k.child.once('exit', () => resolve());
    });
    const base = path.join(dir, `keepalived-${host}`);
    return {
      impl,
      host,
      pids: async () => [await readPid(`${base}.pid`), await readPid(`${base}.vrrp.pid`)].filter((p): p is number => p !== null),
      signal: (sig) => k.signal(sig),
      term: () => void k.child.kill('SIGTERM'),
      exited,
      stop: async () => {
        k.signal('SIGCONT');
        await k.stop(5000);
      },
      log: () => k.log(),
      masterEntries: () => (k.log().match(/Entering MASTER STATE/g) ?? []).length,
    };
  }
  // HAUPD_NODE_FLAGS="--max-semi-space-size=1 ...": node flags to measure (as the unit would set).
  const nodeFlags = (process.env.HAUPD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const d = await startHaupd(bl.lab, host, dir, haupdConfig(bl, host, s, priority), { bundleDir: bl.bundleDir, node: [process.execPath, ...nodeFlags] });
  const exited = d.exited.then(() => undefined);
  return {
    impl,
    host,
    pids: async () => (d.child.pid !== undefined && d.child.exitCode === null && d.child.signalCode === null ? [d.child.pid] : []),
    signal: (sig) => d.signal(sig),
    term: () => d.signal('SIGTERM'),
    exited,
    stop: async () => {
      d.signal('SIGCONT');
      await d.stop(5000);
    },
    log: () => d.logs.map((e) => JSON.stringify(e)).join('\n') + '\n' + d.raw(),
    masterEntries: () => d.logs.filter((e) => e.event === 'transition' && e.to === 'master').length,
  };
}

/**
 * Start a (prio 150) and wait until it holds the VIP, then b (prio 100), then let b settle on a's
 * adverts. Throws unless a alone holds the VIP at the end.
 */
export async function startPair(bl: BenchLab, impl: Impl, s: Setting): Promise<{ master: Lb; backup: Lb }> {
  const master = await startLb(bl, impl, 'a', s, MASTER_PRIO);
  try {
    await waitFor('VIP on a', async () => (await addrsOf(bl.lab, 'a')).includes(bl.vip), 20_000, 20);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${master.log().slice(-3000)}`);
  }
  const backup = await startLb(bl, impl, 'b', s, BACKUP_PRIO);
  await sleep(Math.max(1500, 3 * s.advertInt * 1000));
  const h = await holders(bl.lab, ['a', 'b'], bl.vip);
  if (h.length !== 1 || h[0] !== 'a') {
    await Promise.all([master.stop(), backup.stop()]);
    throw new Error(`pair not steady: VIP held by [${h.join(', ')}]\n--- a:\n${master.log().slice(-2000)}\n--- b:\n${backup.log().slice(-2000)}`);
  }
  return { master, backup };
}

/** Stop both daemons and remove anything they left, so the next run starts from nothing. */
export async function resetLab(bl: BenchLab, lbs: Lb[]): Promise<void> {
  await Promise.all(lbs.map((l) => l.stop()));
  for (const h of ['a', 'b']) {
    await bl.lab.setLink(h, true);
    await bl.lab.exec(h, 'ip', ['addr', 'del', `${bl.vip}/24`, 'dev', 'eth0']);
    await bl.lab.exec(h, 'nft', ['delete', 'table', 'inet', 'bvblock']);
  }
  if (bl.client) await bl.lab.exec(bl.client, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
}

/** Lines of a long-running observer, each stamped with the time it arrived here. */
function observe(child: ChildProcess, onLine: (line: string, t: number) => void): () => void {
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const t = now();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l, t);
  });
  child.stderr?.resume();
  return () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
}

export interface VipEvent {
  t: number;
  op: 'add' | 'del';
}

/** `ip monitor address` inside a host's namespace: when the VIP appears/disappears (event-driven). */
export function watchVip(bl: BenchLab, host: string): { events: VipEvent[]; stop: () => void } {
  const events: VipEvent[] = [];
  const child = bl.lab.spawn(host, 'ip', ['-o', 'monitor', 'address']);
  const needle = ` inet ${bl.vip}/`;
  const stop = observe(child, (line, t) => {
    if (line.includes(needle)) events.push({ t, op: line.startsWith('Deleted') ? 'del' : 'add' });
  });
  return { events, stop };
}

export interface AdvertSeen {
  /** Kernel capture time (tcpdump -tt), epoch ms. */
  t: number;
  src: string;
  prio: number;
}

/** tcpdump of VRRP in a namespace: every advert sent or received there, with capture timestamps. */
export function watchAdverts(bl: BenchLab, host: string): { adverts: AdvertSeen[]; ready: Promise<void>; stop: () => void } {
  const adverts: AdvertSeen[] = [];
  const child = bl.lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-tt', '-l', 'ip proto 112']);
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const re = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+) > \S+: VRRPv\d, Advertisement, vrid \d+, prio (\d+)/;
  const stop = observe(child, (line) => {
    const m = re.exec(line);
    if (m) {
      adverts.push({ t: Number(m[1]) * 1000, src: m[2] ?? '', prio: Number(m[3]) });
      markReady();
    }
  });
  return { adverts, ready, stop };
}

export interface Probe {
  samples: ProbeSample[];
  ready: Promise<void>;
  done: Promise<void>;
  stop: () => void;
}

/** The fixed-rate client (bench/vrrp/probe.ts) in the client namespace, through the VIP. */
export function startProbe(bl: BenchLab, durationMs: number): Probe {
  if (!bl.client) throw new Error('this lab has no client namespace');
  const samples: ProbeSample[] = [];
  const child = bl.lab.spawn(bl.client, 'nice', ['-n', String(OBSERVER_NICE), process.execPath, '--import', 'tsx', path.join(repoRoot, 'bench/vrrp/probe.ts'), `http://${bl.vip}:${HTTP_PORT}/`, String(durationMs), String(PROBE_EVERY_MS), String(PROBE_TIMEOUT_MS)], { cwd: repoRoot });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = observe(child, (line) => {
    if (line === 'ready') return;
    if (!line.startsWith('{')) return;
    const s = JSON.parse(line) as ProbeSample;
    samples.push(s);
    if (s.by !== null) markReady();
  });
  return { samples, ready, done, stop };
}

export interface ClientStats {
  total: number;
  failed: number;
  /** Longest gap between the send times of two consecutive successful requests (ms). */
  outageMs: number;
  /** Send time of the first request after the longest gap (epoch ms). */
  outageEnd: number;
}

export function clientStats(samples: ProbeSample[], from = -Infinity, to = Infinity): ClientStats {
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to).sort((x, y) => x.t - y.t);
  let lastOk: number | null = null;
  let outage = 0;
  let outageEnd = NaN;
  for (const s of inWindow) {
    if (s.by === null) continue;
    if (lastOk !== null && s.t - lastOk > outage) {
      outage = s.t - lastOk;
      outageEnd = s.t;
    }
    lastOk = s.t;
  }
  return { total: inWindow.length, failed: inWindow.filter((s) => s.by === null).length, outageMs: round1(outage), outageEnd };
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { n: v.length, median, min: v[0] as number, max: v[v.length - 1] as number };
}

/** "median (min–max)" with a unit. */
export function fmt(s: Summary, unit = ' ms', digits = 1): string {
  if (s.n === 0) return '—';
  const f = (x: number): string => x.toFixed(digits);
  return f(s.min) === f(s.max) ? `${f(s.median)}${unit}` : `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

/** CPU time in ns of the live threads of `pids` (sum of /proc/PID/task/TID/schedstat). */
export async function cpuNs(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = await readdir(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        total += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ')[0]);
      } catch {
        /* thread gone */
      }
    }
  }
  return total;
}

/** utime + stime + cutime + cstime in clock ticks (includes exited threads and reaped children). */
export async function cpuTicks(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after "(comm) ": state is index 0, utime is field 14 overall -> index 11.
      total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Resident set size in kB (VmRSS) summed over `pids`. */
export async function rssKb(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      total += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return total;
}

/** The machine the figures come from (goes into every results file and the doc). */
export async function machineInfo(): Promise<Record<string, string>> {
  const { spawnSync } = await import('node:child_process');
  const os = await import('node:os');
  // keepalived prints its version on stderr.
  const kv = spawnSync('keepalived', ['--version'], { encoding: 'utf8', timeout: 5000 });
  const keepalived = `${kv.stdout ?? ''}${kv.stderr ?? ''}`.split('\n')[0] ?? 'unknown';
  // haupd changes fast: name the source the bundle was built from (last commit of src/vrrp, and
  // whether the work tree had uncommitted changes there).
  const git = (args: string[]): string => spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8', timeout: 5000 }).stdout?.trim() ?? '';
  const haupd = `${git(['log', '-1', '--format=%h %cI', '--', 'src/vrrp'])}${git(['status', '--porcelain', '--', 'src/vrrp']) ? ' + uncommitted changes' : ''}`;
  return {
    haupd,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    kernel: os.release(),
    node: process.version,
    keepalived: keepalived.trim(),
    date: new Date().toISOString(),
  };
}

/** Write a results file under bench/vrrp/results/ (committed: the doc's figures come from these). */
/** 1-minute load average: recorded with each run (the machine is shared). */
export async function loadAvg(): Promise<number> {
  return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
}

export async function writeResults(name: string, data: { results: unknown[] } & Record<string, unknown>): Promise<string> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const dir = path.join(repoRoot, 'bench/vrrp/results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  // One line per run: diffable, and small enough to commit with the client samples.
  const { results, ...rest } = data as { results?: unknown[] } & Record<string, unknown>;
  const head = JSON.stringify(rest).slice(0, -1);
  const body = (results ?? []).map((r) => JSON.stringify(r)).join(',\n');
  await writeFile(file, `${head}${head.length > 1 ? ', ' : ''}"results": [\n${body}\n]}\n`);
  return file;
}
