/**
 * CPU and memory of an idle master (and its backup), keepalived and haupd with the same settings,
 * plus two floors: a bare idle Node (`node -e 'setInterval(()=>{},1e3)'`) and a bare Node with a
 * 10 ms timer (the CPU any Node process pays to wake 100 times a second).
 * One lab per (implementation, setting), all measured at the same time; each run is a fresh pair
 * measured over WINDOW seconds once steady (after the 5 s gratuitous ARP repeat).
 *
 *   node --import tsx bench/vrrp/idle.ts [--runs 5] [--window 60] [--settings v2-1s,v3-100ms,v3-10ms]
 *                                        [--impl both|haupd|keepalived] [--prefix hperf] [--subnet 30]
 *
 * ~(window + 12 s) × runs: 6 min for the defaults. Namespaces haup-PREFIXi-* on
 * 198.18.(SUBNET+i).0/24, one lab per (setting, impl): haup-hperf0..5-* on 198.18.30-35.0/24 by
 * default (unique to this benchmark, so it can run beside the takeover benchmarks).
 * haupd's node flags: HAUPD_NODE_FLAGS (recorded in the results as machine.nodeFlags).
 * CPU = CPU time of every live thread (/proc/PID/task/TID/schedstat, ns) over wall time, % of one
 * core; cross-checked with utime+stime ticks. keepalived counts its parent and VRRP child.
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  IMPLS,
  SETTINGS,
  buildBundle,
  cpuNs,
  cpuTicks,
  createBenchLab,
  fmt,
  loadAvg,
  machineInfo,
  now,
  resetLab,
  rssKb,
  sleep,
  startPair,
  summarize,
  writeResults,
  type BenchLab,
  type Impl,
  type Lb,
  type Setting,
} from './harness.ts';

/**
 * Floors: a bare idle Node (the RSS floor of any Node daemon), and a bare Node waking 100 times a
 * second (what any Node process pays in CPU for a 10 ms timer, before doing anything), also with
 * --no-opt (haupd's launcher flag: no TurboFan, whose code pages and zones a hot timer touches).
 * Values: node's arguments.
 */
export const FLOORS = {
  'node-floor': ['-e', 'setInterval(()=>{},1e3)'],
  'node-100hz': ['-e', 'setInterval(()=>{},10)'],
  'node-100hz-no-opt': ['--no-opt', '-e', 'setInterval(()=>{},10)'],
} as const;
type Floor = keyof typeof FLOORS;

export interface IdleRun {
  impl: Impl | Floor;
  setting: string;
  run: number;
  windowS: number;
  masterCpuPct: number;
  masterCpuTicksPct: number;
  backupCpuPct: number;
  /** RSS at the end of the window, and the largest seen (sampled every 5 s), kB. */
  masterRssKb: number;
  masterRssMaxKb: number;
  backupRssKb: number;
  /**
   * Times the backup entered Master during the window, and the master left it: a late advert
   * (> 3 × advert + Skew) makes the backup take over with no failure at all.
   */
  backupTakeovers: number;
  masterLosses: number;
  load: number;
  error?: string;
}

const CLK_TCK = 100;

interface Meter {
  pids: number[];
  cpu0: number;
  ticks0: number;
}

async function meter(pids: number[]): Promise<Meter> {
  return { pids, cpu0: await cpuNs(pids), ticks0: await cpuTicks(pids) };
}

async function readMeter(m: Meter, seconds: number): Promise<{ cpuPct: number; ticksPct: number; rss: number }> {
  const cpu = await cpuNs(m.pids);
  const ticks = await cpuTicks(m.pids);
  return {
    cpuPct: Math.round(((cpu - m.cpu0) / 1e9 / seconds) * 100 * 10000) / 10000,
    ticksPct: Math.round(((ticks - m.ticks0) / CLK_TCK / seconds) * 100 * 10000) / 10000,
    rss: await rssKb(m.pids),
  };
}

/** Wait until `t`, sampling the RSS of `pids` every 5 s; returns the largest. */
async function rssMaxUntil(pids: number[], t: number): Promise<number> {
  let max = await rssKb(pids);
  while (now() < t) {
    await sleep(Math.min(5000, Math.max(0, t - now())));
    max = Math.max(max, await rssKb(pids));
  }
  return max;
}

async function idleRun(bl: BenchLab, impl: Impl, s: Setting, run: number, windowS: number): Promise<IdleRun> {
  const lbs: Lb[] = [];
  try {
    const { master, backup } = await startPair(bl, impl, s);
    lbs.push(master, backup);
    await sleep(6000); // past the second gratuitous ARP burst (5 s after takeover)
    const mp = await master.pids();
    const bp = await backup.pids();
    if (mp.length === 0 || bp.length === 0) throw new Error(`no pids: master [${mp}] backup [${bp}]`);
    const mm = await meter(mp);
    const bm = await meter(bp);
    const bEntries = backup.masterEntries();
    const aEntries = master.masterEntries();
    const t0 = now();
    const rssMax = await rssMaxUntil(mp, t0 + windowS * 1000);
    const secs = (now() - t0) / 1000;
    const m = await readMeter(mm, secs);
    const b = await readMeter(bm, secs);
    if ((await master.pids()).join() !== mp.join()) throw new Error('the master restarted during the window');
    // The master re-entering Master means it lost it in between.
    const backupTakeovers = backup.masterEntries() - bEntries;
    const masterLosses = master.masterEntries() - aEntries;
    return { impl, setting: s.name, run, windowS: Math.round(secs * 10) / 10, masterCpuPct: m.cpuPct, masterCpuTicksPct: m.ticksPct, backupCpuPct: b.cpuPct, masterRssKb: m.rss, masterRssMaxKb: Math.max(rssMax, m.rss), backupRssKb: b.rss, backupTakeovers, masterLosses, load: await loadAvg() };
  } catch (err) {
    return { impl, setting: s.name, run, windowS, masterCpuPct: NaN, masterCpuTicksPct: NaN, backupCpuPct: NaN, masterRssKb: NaN, masterRssMaxKb: NaN, backupRssKb: NaN, backupTakeovers: NaN, masterLosses: NaN, load: NaN, error: (err as Error).message.slice(0, 3000) };
  } finally {
    await resetLab(bl, lbs);
  }
}

/** A floor process, in one of the labs' namespaces so cleanup always reaps it. */
async function floorRun(bl: BenchLab, floor: Floor, run: number, windowS: number): Promise<IdleRun> {
  const child = bl.lab.spawn('a', process.execPath, [...FLOORS[floor]]);
  try {
    await sleep(2000);
    if (child.pid === undefined) throw new Error('floor process did not start');
    const mm = await meter([child.pid]);
    const t0 = now();
    const rssMax = await rssMaxUntil([child.pid], t0 + windowS * 1000);
    const secs = (now() - t0) / 1000;
    const m = await readMeter(mm, secs);
    return { impl: floor, setting: '-', run, windowS: Math.round(secs * 10) / 10, masterCpuPct: m.cpuPct, masterCpuTicksPct: m.ticksPct, backupCpuPct: NaN, masterRssKb: m.rss, masterRssMaxKb: Math.max(rssMax, m.rss), backupRssKb: NaN, backupTakeovers: NaN, masterLosses: NaN, load: await loadAvg() };
  } finally {
    child.kill('SIGKILL');
  }
}

const sum = (xs: number[]): number => xs.filter(Number.isFinite).reduce((a, b) => a + b, 0);

export function idleRows(runs: IdleRun[]): string[] {
  const keys = [...new Set(runs.map((r) => `${r.setting}|${r.impl}`))];
  return keys.map((k) => {
    const [setting = '', impl = ''] = k.split('|');
    const rs = runs.filter((r) => r.setting === setting && r.impl === impl);
    const ok = rs.filter((r) => !r.error);
    const mb = (f: (r: IdleRun) => number): string => fmt(summarize(ok.map((r) => f(r) / 1024)), ' MB', 1);
    const pct = (f: (r: IdleRun) => number): string => fmt(summarize(ok.map(f)), ' %', 3);
    return `| ${setting} | ${impl} | ${ok.length}/${rs.length} | ${pct((r) => r.masterCpuPct)} | ${impl in FLOORS ? '—' : pct((r) => r.backupCpuPct)} | ${mb((r) => r.masterRssKb)} | ${mb((r) => r.masterRssMaxKb)} | ${impl in FLOORS ? '—' : mb((r) => r.backupRssKb)} | ${impl in FLOORS || !ok.some((r) => Number.isFinite(r.backupTakeovers)) ? '—' : `${sum(ok.map((r) => r.backupTakeovers))} in ${sum(ok.map((r) => r.windowS)).toFixed(0)} s`} |`;
  });
}

export const IDLE_HEADER = [
  '| setting | impl | runs ok | master CPU (% of a core) | backup CPU | master RSS | master RSS max | backup RSS | spurious backup takeovers |',
  '|---|---|---|---|---|---|---|---|---|',
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, window: { type: 'string', default: '60' }, settings: { type: 'string', default: 'v2-1s,v3-100ms,v3-10ms' }, out: { type: 'string', default: 'idle' }, impl: { type: 'string', default: 'both' }, prefix: { type: 'string', default: 'hperf' }, subnet: { type: 'string', default: '30' } } });
  const runs = Number(values.runs);
  const windowS = Number(values.window);
  const settings = values.settings.split(',').map((n) => {
    const s = SETTINGS[n];
    if (!s) throw new Error(`--settings: unknown ${n}`);
    return s;
  });
  const dir = `/tmp/haup-bench-idle-${process.pid}`;
  const bundleDir = await buildBundle(`${dir}/bundle`);
  const machine = { ...(await machineInfo()), nodeFlags: process.env.HAUPD_NODE_FLAGS ?? '' }; // at build time: names the haupd source measured
  const impls = values.impl === 'both' ? IMPLS : IMPLS.filter((i) => i === values.impl);
  const combos = settings.flatMap((s) => impls.map((impl) => ({ s, impl })));
  const labs: BenchLab[] = [];
  const started = Date.now();
  const results: IdleRun[] = [];
  try {
    for (const [i, c] of combos.entries()) labs.push(await createBenchLab({ prefix: `${values.prefix}${i}`, subnet: Number(values.subnet) + i, client: false, dir, bundleDir }));
    for (let run = 1; run <= runs; run++) {
      const batch = await Promise.all([...combos.map((c, i) => idleRun(labs[i] as BenchLab, c.impl, c.s, run, windowS)), ...(Object.keys(FLOORS) as Floor[]).map((f) => floorRun(labs[0] as BenchLab, f, run, windowS))]);
      for (const r of batch) {
        results.push(r);
        process.stdout.write(`${r.setting} ${r.impl} #${run}: master CPU ${r.masterCpuPct} % (ticks ${r.masterCpuTicksPct} %), backup ${r.backupCpuPct} %, master RSS ${r.masterRssKb} kB (max ${r.masterRssMaxKb}), backup ${r.backupRssKb} kB, backup takeovers ${r.backupTakeovers}, master losses ${r.masterLosses}, load ${r.load}${r.error ? ` ERROR ${r.error.split('\n')[0]}` : ''}\n`);
      }
    }
  } finally {
    for (const l of labs) await l.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  const file = await writeResults(values.out, { bench: 'idle', machine, seconds: Math.round((Date.now() - started) / 1000), runsPerCase: runs, windowS, results });
  process.stdout.write(`\n${[...IDLE_HEADER, ...idleRows(results)].join('\n')}\n\nresults: ${file}\n`);
}

if (process.argv[1]?.endsWith('idle.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
