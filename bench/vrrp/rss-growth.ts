/**
 * LONG benchmark (~10.5 min): memory over time at 100 adverts/s (VRRPv3, 0.01 s adverts). A
 * keepalived pair, a haupd pair and a bare Node waking every 10 ms (the floor any Node daemon
 * pays: `node -e 'setInterval(()=>{},10)'`) run side by side, at the same time; the master's and
 * the backup's RSS and the master's CPU are sampled every 30 s for 10 minutes.
 *
 *   node --import tsx bench/vrrp/rss-growth.ts [--minutes 10] [--every 30] [--out NAME] [--prefix hperfg] [--subnet 38]
 *                                              [--floor node-100hz|node-100hz-no-opt]
 *
 * Namespaces haup-PREFIXk-* (198.18.SUBNET.0/24) and haup-PREFIXh-* (198.18.SUBNET+1.0/24),
 * removed at the end. haupd's node flags: HAUPD_NODE_FLAGS (recorded as machine.nodeFlags).
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FLOORS } from './idle.ts';
import {
  SETTINGS,
  buildBundle,
  cpuNs,
  createBenchLab,
  loadAvg,
  machineInfo,
  now,
  resetLab,
  round1,
  rssKb,
  sleep,
  startPair,
  writeResults,
  type BenchLab,
  type Impl,
  type Lb,
} from './harness.ts';

export interface GrowthSample {
  /** Seconds since the first sample. */
  s: number;
  masterRssKb: number;
  backupRssKb: number;
  /** Master's CPU over the last interval, % of one core. */
  masterCpuPct: number;
  load: number;
  /**
   * Times the backup has entered Master so far (a spurious takeover on a loaded machine: the
   * master then answers with an advert and gratuitous ARP, which spawns arping). Absent for floors.
   */
  backupTakeovers?: number;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function track(bl: BenchLab, impl: Impl, minutes: number, everyS: number): Promise<{ impl: Impl; samples: GrowthSample[] }> {
  const s = SETTINGS['v3-10ms'];
  if (!s) throw new Error('setting v3-10ms missing');
  const lbs: Lb[] = [];
  try {
    const { master, backup } = await startPair(bl, impl, s);
    lbs.push(master, backup);
    const samples: GrowthSample[] = [];
    const mp = await master.pids();
    const bp = await backup.pids();
    if (mp.length === 0 || bp.length === 0) throw new Error(`${impl}: no pids (master ${mp}, backup ${bp})`);
    const t0 = now();
    let lastCpu = await cpuNs(mp);
    let lastT = t0;
    const n = Math.round((minutes * 60) / everyS);
    const entries0 = backup.masterEntries();
    samples.push({ s: 0, masterRssKb: await rssKb(mp), backupRssKb: await rssKb(bp), masterCpuPct: NaN, load: await loadAvg(), backupTakeovers: 0 });
    for (let i = 1; i <= n; i++) {
      await sleep(Math.max(0, t0 + i * everyS * 1000 - now()));
      const cpu = await cpuNs(mp);
      const t = now();
      samples.push({ s: round1((t - t0) / 1000), masterRssKb: await rssKb(mp), backupRssKb: await rssKb(bp), masterCpuPct: Math.round(((cpu - lastCpu) / 1e6 / (t - lastT)) * 100 * 1000) / 1000, load: await loadAvg(), backupTakeovers: backup.masterEntries() - entries0 });
      lastCpu = cpu;
      lastT = t;
    }
    if ((await master.pids()).join() !== mp.join()) throw new Error(`${impl}: the master's processes changed during the run`);
    return { impl, samples };
  } finally {
    await resetLab(bl, lbs);
  }
}

/** The 100 Hz bare Node floor in the haupd lab's namespace, sampled like a master (no backup). */
async function trackFloor(bl: BenchLab, floor: keyof typeof FLOORS, minutes: number, everyS: number): Promise<{ impl: string; samples: GrowthSample[] }> {
  const child = bl.lab.spawn('a', process.execPath, [...FLOORS[floor]]);
  try {
    await sleep(2000);
    if (child.pid === undefined) throw new Error('floor process did not start');
    const pids = [child.pid];
    const samples: GrowthSample[] = [];
    const t0 = now();
    let lastCpu = await cpuNs(pids);
    let lastT = t0;
    const n = Math.round((minutes * 60) / everyS);
    samples.push({ s: 0, masterRssKb: await rssKb(pids), backupRssKb: NaN, masterCpuPct: NaN, load: await loadAvg() });
    for (let i = 1; i <= n; i++) {
      await sleep(Math.max(0, t0 + i * everyS * 1000 - now()));
      const cpu = await cpuNs(pids);
      const t = now();
      samples.push({ s: round1((t - t0) / 1000), masterRssKb: await rssKb(pids), backupRssKb: NaN, masterCpuPct: Math.round(((cpu - lastCpu) / 1e6 / (t - lastT)) * 100 * 1000) / 1000, load: await loadAvg() });
      lastCpu = cpu;
      lastT = t;
    }
    return { impl: floor, samples };
  } finally {
    child.kill('SIGKILL');
  }
}

export function growthSummary(samples: GrowthSample[]): { firstKb: number; lastKb: number; maxKb: number; slopeKbPerMin: number; slopeLastHalfKbPerMin: number; cpuMedianPct: number } {
  const xs = samples.map((x) => x.s / 60);
  const ys = samples.map((x) => x.masterRssKb);
  const half = Math.floor(samples.length / 2);
  const cpus = samples.map((x) => x.masterCpuPct).filter(Number.isFinite).sort((a, b) => a - b);
  return {
    firstKb: ys[0] ?? NaN,
    lastKb: ys.at(-1) ?? NaN,
    maxKb: Math.max(...ys),
    slopeKbPerMin: round1(slope(xs, ys)),
    slopeLastHalfKbPerMin: round1(slope(xs.slice(half), ys.slice(half))),
    cpuMedianPct: cpus[Math.floor(cpus.length / 2)] ?? NaN,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, every: { type: 'string', default: '30' }, out: { type: 'string', default: 'rss-growth' }, prefix: { type: 'string', default: 'hperfg' }, subnet: { type: 'string', default: '38' }, floor: { type: 'string', default: 'node-100hz' } } });
  if (!(values.floor in FLOORS)) throw new Error(`--floor: one of ${Object.keys(FLOORS).join(', ')}`);
  const floor = values.floor as keyof typeof FLOORS;
  const minutes = Number(values.minutes);
  const every = Number(values.every);
  const dir = `/tmp/haup-bench-growth-${process.pid}`;
  const bundleDir = await buildBundle(`${dir}/bundle`);
  const machine = { ...(await machineInfo()), nodeFlags: process.env.HAUPD_NODE_FLAGS ?? '' }; // at build time: names the haupd source measured
  const labs = [
    await createBenchLab({ prefix: `${values.prefix}k`, subnet: Number(values.subnet), client: false, dir, bundleDir }),
    await createBenchLab({ prefix: `${values.prefix}h`, subnet: Number(values.subnet) + 1, client: false, dir, bundleDir }),
  ] as const;
  const started = Date.now();
  try {
    const results = await Promise.all([track(labs[0], 'keepalived', minutes, every), track(labs[1], 'haupd', minutes, every), trackFloor(labs[1], floor, minutes, every)]);
    const summary = results.map((r) => ({ impl: r.impl, ...growthSummary(r.samples) }));
    const file = await writeResults(values.out, { bench: 'rss-growth', machine, seconds: Math.round((Date.now() - started) / 1000), setting: 'v3-10ms', everyS: every, minutes, summary, results });
    for (const s of summary) {
      process.stdout.write(`${s.impl}: RSS ${s.firstKb} kB -> ${s.lastKb} kB (max ${s.maxKb}), slope ${s.slopeKbPerMin} kB/min (last half ${s.slopeLastHalfKbPerMin} kB/min), master CPU median ${s.cpuMedianPct} %\n`);
    }
    process.stdout.write(`results: ${file}\n`);
  } finally {
    for (const l of labs) await l.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('rss-growth.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
