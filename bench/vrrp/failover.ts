/**
 * Takeover benchmark, keepalived and haupd side by side in the same namespaces with the same
 * settings: for each failure kind and advert setting, N fresh pairs; each run measures
 *   - VIP on the backup after the failure (ip monitor in the backup's namespace),
 *   - the backup's first advert and the master's last one (tcpdump in the backup's namespace):
 *     "since last advert" is what the RFC bound 3 × advert + Skew describes,
 *   - the client through the VIP (bench/vrrp/probe.ts: one request started every 20 ms).
 *
 *   node --import tsx bench/vrrp/failover.ts [--impl keepalived|haupd|both] [--runs 5]
 *        [--settings v2-1s,v3-100ms,v3-10ms] [--failures freeze,linkdown,term] [--out NAME]
 *
 * Bounded: every wait has a timeout; ~7 min per implementation for the full matrix at 5 runs.
 * Namespaces haup-bvf-* on 198.18.181.0/24, removed at the end (also on Ctrl-C).
 */
import { parseArgs } from 'node:util';
import { rm } from 'node:fs/promises';
import {
  BACKUP_PRIO,
  IMPLS,
  SETTINGS,
  buildBundle,
  clientStats,
  createBenchLab,
  fmt,
  hostIp,
  loadAvg,
  machineInfo,
  masterDownMs,
  now,
  resetLab,
  round1,
  skewMs,
  sleep,
  startPair,
  startProbe,
  summarize,
  watchAdverts,
  watchVip,
  writeResults,
  type BenchLab,
  type ClientStats,
  type Impl,
  type Lb,
  type Setting,
} from './harness.ts';

export type Failure = 'freeze' | 'linkdown' | 'term';
const FAILURES: Failure[] = ['freeze', 'linkdown', 'term'];

export interface FailoverRun {
  impl: Impl;
  setting: string;
  failure: Failure;
  run: number;
  /** VIP added on the backup, ms after the failure was injected. */
  vipOnBackupMs: number | null;
  /** VIP removed from the master, ms after the failure (null: it kept it, e.g. frozen). */
  vipOffMasterMs: number | null;
  /** The backup's first own advert, ms after the failure. */
  backupFirstAdvertMs: number | null;
  /** VIP on the backup, ms after the last master advert with priority > 0 the backup saw. */
  sinceLastAdvertMs: number | null;
  /** The master's priority-0 advert (planned stop), ms after SIGTERM. */
  prio0Ms: number | null;
  client: ClientStats;
  /** Longest gap between successes in the second BEFORE the failure: the probe's own jitter. */
  baselineGapMs: number;
  /** 1-minute load average of the machine at the failure. */
  load: number;
  /** Times the backup had entered Master BEFORE the failure (a spurious takeover: late adverts). */
  preFailureTakeovers: number;
  /** Client samples in the window: [send time - failure time (ms), answered by | null]. */
  samples: [number, string | null][];
  error?: string;
}

async function inject(bl: BenchLab, master: Lb, failure: Failure): Promise<number> {
  if (failure === 'freeze') {
    const t = now();
    master.signal('SIGSTOP');
    return t;
  }
  if (failure === 'term') {
    const t = now();
    master.term();
    return t;
  }
  // The netlink change happens at the end of the `ip` run: take the time it returns (≤ 1 ms late).
  await bl.lab.setLink('a', false);
  return now();
}

async function oneRun(bl: BenchLab, impl: Impl, s: Setting, failure: Failure, run: number): Promise<FailoverRun> {
  const vipA = watchVip(bl, 'a');
  const vipB = watchVip(bl, 'b');
  const adv = watchAdverts(bl, 'b');
  const lbs: Lb[] = [];
  let probe: ReturnType<typeof startProbe> | null = null;
  const md = masterDownMs(s, BACKUP_PRIO);
  try {
    const { master, backup } = await startPair(bl, impl, s);
    lbs.push(master, backup);
    await withTimeout(adv.ready, 5000, 'adverts seen by tcpdump');
    if (!vipA.events.some((e) => e.op === 'add')) throw new Error('ip monitor on a missed the VIP add');
    probe = startProbe(bl, 4000 + md + 5000);
    await withTimeout(probe.ready, 15_000, 'first successful client request');
    await sleep(1000);
    const load = await loadAvg();
    const preFailureTakeovers = backup.masterEntries();
    const t0 = await inject(bl, master, failure);
    const deadline = t0 + md + 5000;
    while (!vipB.events.some((e) => e.op === 'add' && e.t >= t0) && now() < deadline) await sleep(5);
    const onB = vipB.events.find((e) => e.op === 'add' && e.t >= t0);
    // Let the client settle on the new holder, then let requests still in flight finish.
    const tEnd = (onB?.t ?? now()) + 1000;
    await sleep(Math.max(0, tEnd - now()) + 1000);
    const offA = vipA.events.find((e) => e.op === 'del' && e.t >= t0);
    const A = hostIp(bl, 'a');
    const B = hostIp(bl, 'b');
    const lastMaster = adv.adverts.filter((a) => a.src === A && a.prio > 0 && a.t <= t0 + 1).at(-1);
    const prio0 = adv.adverts.find((a) => a.src === A && a.prio === 0 && a.t >= t0);
    const firstB = adv.adverts.find((a) => a.src === B && a.t >= t0);
    return {
      impl,
      setting: s.name,
      failure,
      run,
      vipOnBackupMs: onB ? round1(onB.t - t0) : null,
      vipOffMasterMs: offA ? round1(offA.t - t0) : null,
      backupFirstAdvertMs: firstB ? round1(firstB.t - t0) : null,
      sinceLastAdvertMs: onB && lastMaster ? round1(onB.t - lastMaster.t) : null,
      prio0Ms: prio0 ? round1(prio0.t - t0) : null,
      client: clientStats(probe.samples, t0 - 1000, tEnd),
      load,
      preFailureTakeovers,
      baselineGapMs: clientStats(probe.samples, t0 - 1000, t0).outageMs,
      samples: probe.samples.filter((x) => x.t >= t0 - 1000 && x.t <= tEnd).sort((x, y) => x.t - y.t).map((x) => [round1(x.t - t0), x.by]),
      ...(onB ? {} : { error: `no VIP on the backup within ${Math.round(md + 5000)} ms` }),
    };
  } finally {
    probe?.stop();
    vipA.stop();
    vipB.stop();
    adv.stop();
    await resetLab(bl, lbs);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);
}

/** The goal/bound column: RFC bound for hard failures; for the planned stop, keepalived waits Skew. */
export function boundText(s: Setting, failure: Failure): string {
  if (failure === 'term') return `Skew ${skewMs(s, BACKUP_PRIO).toFixed(1)} ms (haupd with known peers: 0)`;
  return `3×adv+Skew ${masterDownMs(s, BACKUP_PRIO).toFixed(1)} ms`;
}

export function tableRows(runs: FailoverRun[]): string[] {
  const rows: string[] = [];
  const keys = [...new Set(runs.map((r) => `${r.setting}|${r.failure}|${r.impl}`))];
  for (const k of keys) {
    const [setting = '', failure = '', impl = ''] = k.split('|');
    const rs = runs.filter((r) => r.setting === setting && r.failure === failure && r.impl === impl);
    const ok = rs.filter((r) => !r.error);
    const s = SETTINGS[setting] as Setting;
    const col = (f: (r: FailoverRun) => number | null): string => fmt(summarize(ok.map(f).filter((x): x is number => x !== null)));
    rows.push(
      `| ${setting} | ${failure} | ${impl} | ${ok.length}/${rs.length} | ${col((r) => r.vipOnBackupMs)} | ${col((r) => (r.failure === 'term' ? (r.vipOnBackupMs !== null && r.prio0Ms !== null ? r.vipOnBackupMs - r.prio0Ms : null) : r.sinceLastAdvertMs))} | ${col((r) => r.vipOffMasterMs)} | ${col((r) => r.client.outageMs)} | ${fmt(summarize(ok.map((r) => r.client.failed)), '', 0)} | ${col((r) => r.baselineGapMs)} | ${ok.filter((r) => (r.preFailureTakeovers ?? 0) > 0).length}/${ok.length} | ${boundText(s, failure as Failure)} |`,
    );
  }
  return rows;
}

export const TABLE_HEADER = [
  '| setting | failure | impl | runs ok | VIP on backup after | since master\'s last advert (term: since its priority 0) | VIP off master after | client outage | failed requests | probe jitter (longest gap in the second before) | runs where the backup had already taken over for nothing | bound |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      impl: { type: 'string', default: 'both' },
      runs: { type: 'string', default: '5' },
      settings: { type: 'string', default: Object.keys(SETTINGS).join(',') },
      failures: { type: 'string', default: FAILURES.join(',') },
      out: { type: 'string' },
    },
  });
  const impls = values.impl === 'both' ? [...IMPLS] : [values.impl as Impl];
  for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl: ${i}`);
  const settings = values.settings.split(',').map((n) => {
    const s = SETTINGS[n];
    if (!s) throw new Error(`--settings: unknown ${n} (known: ${Object.keys(SETTINGS).join(', ')})`);
    return s;
  });
  const failures = values.failures.split(',') as Failure[];
  for (const f of failures) if (!FAILURES.includes(f)) throw new Error(`--failures: unknown ${f}`);
  const runs = Number(values.runs);
  const dir = `/tmp/haup-bench-failover-${process.pid}`;
  const bundleDir = await buildBundle(`${dir}/bundle`);
  const machine = await machineInfo(); // at build time: names the haupd source measured
  const bl = await createBenchLab({ prefix: 'bvf', subnet: 181, client: true, dir, bundleDir });
  const results: FailoverRun[] = [];
  const started = Date.now();
  try {
    for (const s of settings) {
      for (const failure of failures) {
        for (const impl of impls) {
          for (let run = 1; run <= runs; run++) {
            let r: FailoverRun;
            try {
              r = await oneRun(bl, impl, s, failure, run);
            } catch (err) {
              r = { impl, setting: s.name, failure, run, vipOnBackupMs: null, vipOffMasterMs: null, backupFirstAdvertMs: null, sinceLastAdvertMs: null, prio0Ms: null, client: { total: 0, failed: 0, outageMs: NaN, outageEnd: NaN }, baselineGapMs: NaN, load: NaN, preFailureTakeovers: NaN, samples: [], error: (err as Error).message.slice(0, 4000) };
            }
            results.push(r);
            process.stdout.write(
              `${s.name} ${failure} ${impl} #${run}: VIP on b +${r.vipOnBackupMs} ms, since last advert ${r.sinceLastAdvertMs} ms, off a +${r.vipOffMasterMs} ms, b advert +${r.backupFirstAdvertMs} ms, prio0 +${r.prio0Ms} ms; client ${r.client.failed}/${r.client.total} failed, outage ${r.client.outageMs} ms (baseline gap ${r.baselineGapMs} ms, load ${r.load}, backup was master ${r.preFailureTakeovers}× before)${r.error ? ` ERROR ${r.error.split('\n')[0]}` : ''}\n`,
            );
          }
        }
      }
    }
  } finally {
    await bl.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  const name = values.out ?? `failover-${impls.join('-')}`;
  const file = await writeResults(name, { bench: 'failover', machine, seconds: Math.round((Date.now() - started) / 1000), runsPerCase: runs, results });
  process.stdout.write(`\n${[...TABLE_HEADER, ...tableRows(results)].join('\n')}\n\nresults: ${file}\n`);
}

if (process.argv[1]?.endsWith('failover.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
