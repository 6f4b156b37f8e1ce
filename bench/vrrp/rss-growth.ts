/**
 * LONG benchmark (~10.5 min): memory over time at 100 adverts/s (VRRPv3, 0.01 s adverts). A
 * keepalived pair and a haupd pair run side by side (two labs, at the same time); the master's and
 * the backup's RSS and the master's CPU are sampled every 10 s for 10 minutes.
 *
 *   node --import tsx bench/vrrp/rss-growth.ts [--minutes 10] [--every 10] [--out NAME]
 *
 * Namespaces haup-bvgk-* (198.18.183.0/24) and haup-bvgh-* (198.18.184.0/24), removed at the end.
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
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
    samples.push({ s: 0, masterRssKb: await rssKb(mp), backupRssKb: await rssKb(bp), masterCpuPct: NaN, load: await loadAvg() });
    for (let i = 1; i <= n; i++) {
      await sleep(Math.max(0, t0 + i * everyS * 1000 - now()));
      const cpu = await cpuNs(mp);
      const t = now();
      samples.push({ s: round1((t - t0) / 1000), masterRssKb: await rssKb(mp), backupRssKb: await rssKb(bp), masterCpuPct: Math.round(((cpu - lastCpu) / 1e6 / (t - lastT)) * 100 * 1000) / 1000, load: await loadAvg() });
      lastCpu = cpu;
      lastT = t;
    }
    if ((await master.pids()).join() !== mp.join()) throw new Error(`${impl}: the master's processes changed during the run`);
    return { impl, samples };
  } finally {
    await resetLab(bl, lbs);
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
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, every: { type: 'string', default: '10' }, out: { type: 'string', default: 'rss-growth' } } });
  const minutes = Number(values.minutes);
  const every = Number(values.every);
  const dir = `/tmp/haup-bench-growth-${process.pid}`;
  const bundleDir = await buildBundle(`${dir}/bundle`);
  const machine = await machineInfo(); // at build time: names the haupd source measured
  const labs = [
    await createBenchLab({ prefix: 'bvgk', subnet: 183, client: false, dir, bundleDir }),
    await createBenchLab({ prefix: 'bvgh', subnet: 184, client: false, dir, bundleDir }),
  ] as const;
  const started = Date.now();
  try {
    const results = await Promise.all([track(labs[0], 'keepalived', minutes, every), track(labs[1], 'haupd', minutes, every)]);
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
