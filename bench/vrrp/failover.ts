/**
 * Takeover benchmark, keepalived and haupd side by side in the same namespaces with the same
 * settings: for each failure kind and advert setting, N fresh pairs; each run measures
 *   - VIP on the backup after the failure (ip monitor in the backup's namespace),
 *   - the backup's first advert and the master's last one (tcpdump in the backup's namespace):
 *     "since last advert" is what the RFC bound 3 × advert + Skew describes,
 *   - the client through the VIP (bench/vrrp/probe.ts: one request started every 20 ms).
 *
 *   node --import tsx bench/vrrp/failover.ts [--impl keepalived|haupd|both] [--runs 5]
 *        [--settings v2-1s,v3-100ms,v3-10ms] [--failures freeze,kill9,linkdown,term,preempt]
 *        [--out NAME] [--prefix bvf] [--subnet 181]
 *
 * Failures: freeze = SIGSTOP of the master; kill9 = SIGKILL of the master (haupd: then
 * `haupd --release`, as its unit's ExecStopPost does; keepalived's unit has no such step, its VIP
 * stays behind); linkdown = the master's veth down; term = SIGTERM (planned stop); preempt = the
 * master is stopped (SIGTERM), the backup holds the VIP, then the master's daemon is started again
 * and preempts (times counted from that start).
 *
 * Where the time goes (each run records it, `steps`): the master's last advert (kernel time,
 * tcpdump in b) -> the new master's decision (haupd's `transition` log, `decided`) -> its first
 * advert on the wire (tcpdump) -> the VIP on its interface (`ip -ts monitor`, stamped by `ip`) ->
 * its first gratuitous ARP seen by the client (tcpdump in c) -> the first client request it served.
 *
 * Bounded: every wait has a timeout; ~7 min per implementation for the full matrix at 5 runs.
 * Namespaces haup-PREFIX-* on 198.18.SUBNET.0/24 (default bvf, 181), removed at the end.
 */
import { parseArgs } from 'node:util';
import { rm } from 'node:fs/promises';
import path from 'node:path';
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
  MASTER_PRIO,
  startLb,
} from './harness.ts';
import { haupdTakeover, watchGarps, watchVipStamped } from './takeover-observers.ts';

export type Failure = 'freeze' | 'kill9' | 'linkdown' | 'term' | 'preempt';
const FAILURES: Failure[] = ['freeze', 'kill9', 'linkdown', 'term', 'preempt'];

/**
 * Steps of one takeover, ms after the failure (preempt: after the master's daemon was started
 * again); null = not seen. The new holder is the backup b (preempt: the returning master a).
 */
export interface TakeoverSteps {
  /** The old master's last advert with priority > 0 seen in b (kernel time; negative). */
  lastMasterAdvert: number | null;
  /** haupd only: the state machine's decision (`decided` of its transition line). */
  decided: number | null;
  /** haupd only: the transition line itself (written once the VIPs are added). */
  logged: number | null;
  /** haupd only: what its `ip addr add` took, as haupd measured it. */
  ipAddMs: number | null;
  /** haupd only: the transition's cause. */
  cause: string | null;
  /** The new holder's first advert on the wire (kernel time, tcpdump in b). */
  advert: number | null;
  /** VIP on the new holder, stamped by `ip -ts monitor` when the netlink event arrived. */
  vip: number | null;
  /** The same event, stamped when its line reached this benchmark process (the old measure). */
  vipArrival: number | null;
  /** The new holder's first gratuitous ARP for the VIP, as the client's kernel captured it. */
  garp: number | null;
  /** The first client request answered by the new holder: send time, and answer time. */
  served: number | null;
  servedAnswer: number | null;
}

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
  /** Where the takeover time goes (absent in results recorded before the field existed). */
  steps?: TakeoverSteps;
  /** VIP add as first measured (arrival of ip monitor's line here), kept to compare. */
  vipOnBackupArrivalMs?: number | null;
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
  if (failure === 'kill9') {
    const t = now();
    master.signal('SIGKILL');
    if (master.impl === 'haupd') {
      // What the unit's ExecStopPost does once the main process is gone (not timed: the clock runs).
      await master.exited;
      await bl.lab.exec('a', process.execPath, [path.join(bl.bundleDir, 'lib', 'haupd.cjs'), '--release', '--config', path.join(bl.dir, bl.lab.net, 'haupd-a.json')]);
    }
    return t;
  }
  // The netlink change happens at the end of the `ip` run: take the time it returns (≤ 1 ms late).
  await bl.lab.setLink('a', false);
  return now();
}

function msAfter(t: number | null | undefined, t0: number): number | null {
  return t === null || t === undefined || !Number.isFinite(t) ? null : round1(t - t0);
}

/** Steps of the takeover by `newHolder` after t0 (see TakeoverSteps). */
function stepsOf(o: { t0: number; newHolder: Lb; newIp: string; lastMaster: number | null; vipStamped: number | null; vipArrival: number | null; adverts: { t: number; src: string }[]; garps: { t: number; from: string }[]; samples: { t: number; ms: number; by: string | null }[] }): TakeoverSteps {
  const { t0 } = o;
  const h = o.newHolder.impl === 'haupd' ? haupdTakeover(o.newHolder.log(), t0) : null;
  const served = o.samples.filter((x) => x.t >= t0 && x.by === o.newHolder.host).sort((x, y) => x.t - y.t)[0];
  return {
    lastMasterAdvert: msAfter(o.lastMaster, t0),
    decided: msAfter(h?.decided, t0),
    logged: msAfter(h?.logged, t0),
    ipAddMs: h?.ipAddMs ?? null,
    cause: h?.cause ?? null,
    advert: msAfter(o.adverts.find((a) => a.src === o.newIp && a.t >= t0)?.t, t0),
    vip: msAfter(o.vipStamped, t0),
    vipArrival: msAfter(o.vipArrival, t0),
    garp: msAfter(o.garps.find((g) => g.from === o.newHolder.host && g.t >= t0)?.t, t0),
    served: msAfter(served?.t, t0),
    servedAnswer: msAfter(served ? served.t + served.ms : null, t0),
  };
}

async function oneRun(bl: BenchLab, impl: Impl, s: Setting, failure: Failure, run: number): Promise<FailoverRun> {
  if (failure === 'preempt') return preemptRun(bl, impl, s, run);
  const vipA = watchVip(bl, 'a');
  const vipB = watchVip(bl, 'b');
  const vipAts = watchVipStamped(bl, 'a');
  const vipBts = watchVipStamped(bl, 'b');
  const garps = watchGarps(bl, 'c');
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
    // VIP times from `ip -ts` (when the event happened); the arrival-stamped ones only as a check.
    const offA = vipAts.events.find((e) => e.op === 'del' && e.t >= t0 - 1);
    const onBts = vipBts.events.find((e) => e.op === 'add' && e.t >= t0 - 1);
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
      vipOnBackupMs: onBts ? round1(onBts.t - t0) : null,
      vipOnBackupArrivalMs: onB ? round1(onB.t - t0) : null,
      vipOffMasterMs: offA ? round1(offA.t - t0) : null,
      backupFirstAdvertMs: firstB ? round1(firstB.t - t0) : null,
      sinceLastAdvertMs: onBts && lastMaster ? round1(onBts.t - lastMaster.t) : null,
      steps: stepsOf({ t0, newHolder: backup, newIp: B, lastMaster: lastMaster?.t ?? null, vipStamped: onBts?.t ?? null, vipArrival: onB?.t ?? null, adverts: adv.adverts, garps: garps.garps, samples: probe.samples }),
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
    vipAts.stop();
    vipBts.stop();
    garps.stop();
    adv.stop();
    await resetLab(bl, lbs);
  }
}

/**
 * Preempt back: the master is stopped (SIGTERM: a planned stop, the backup takes the VIP), then
 * its daemon is started again with its higher priority: it waits Master_Down (its own, priority
 * 150) at start, then takes the VIP back. Counted from that start: VIP on a, VIP off b, the client.
 */
async function preemptRun(bl: BenchLab, impl: Impl, s: Setting, run: number): Promise<FailoverRun> {
  const vipAts = watchVipStamped(bl, 'a');
  const vipBts = watchVipStamped(bl, 'b');
  const vipA = watchVip(bl, 'a');
  const garps = watchGarps(bl, 'c');
  const adv = watchAdverts(bl, 'b');
  const lbs: Lb[] = [];
  let probe: ReturnType<typeof startProbe> | null = null;
  const mdA = masterDownMs(s, MASTER_PRIO);
  try {
    const { master, backup } = await startPair(bl, impl, s);
    lbs.push(master, backup);
    await withTimeout(adv.ready, 5000, 'adverts seen by tcpdump');
    probe = startProbe(bl, 1000 + 3000 + 3000 + mdA + 3000);
    await withTimeout(probe.ready, 15_000, 'first successful client request');
    await sleep(500);
    const tTerm = now();
    master.term();
    await withTimeout(master.exited, 10_000, 'master daemon exit after SIGTERM');
    const deadline = now() + 5000;
    while (!vipBts.events.some((e) => e.op === 'add' && e.t >= tTerm - 1) && now() < deadline) await sleep(5);
    if (!vipBts.events.some((e) => e.op === 'add' && e.t >= tTerm - 1)) throw new Error('the backup did not take the VIP after the master stopped');
    // Past the takeover's first gratuitous ARPs and the old master's drain.
    await sleep(1000);
    const load = await loadAvg();
    const preFailureTakeovers = 0;
    const t0 = now();
    const again = await startLb(bl, impl, 'a', s, MASTER_PRIO);
    lbs.push(again);
    const until = t0 + mdA + 8000;
    while (!vipAts.events.some((e) => e.op === 'add' && e.t >= t0) && now() < until) await sleep(5);
    const onA = vipAts.events.find((e) => e.op === 'add' && e.t >= t0);
    const tEnd = (onA?.t ?? now()) + 1000;
    await sleep(Math.max(0, tEnd - now()) + 1000);
    const offB = vipBts.events.find((e) => e.op === 'del' && e.t >= t0);
    const A = hostIp(bl, 'a');
    const B = hostIp(bl, 'b');
    const lastB = adv.adverts.filter((a) => a.src === B && a.prio > 0 && a.t <= (onA?.t ?? now())).at(-1);
    return {
      impl,
      setting: s.name,
      failure: 'preempt',
      run,
      vipOnBackupMs: onA ? round1(onA.t - t0) : null,
      vipOnBackupArrivalMs: msAfter(vipA.events.find((e) => e.op === 'add' && e.t >= t0)?.t, t0),
      vipOffMasterMs: offB ? round1(offB.t - t0) : null,
      backupFirstAdvertMs: msAfter(adv.adverts.find((a) => a.src === A && a.t >= t0)?.t, t0),
      sinceLastAdvertMs: null,
      prio0Ms: null,
      client: clientStats(probe.samples, t0 - 1000, tEnd),
      load,
      preFailureTakeovers,
      baselineGapMs: clientStats(probe.samples, t0 - 1000, t0).outageMs,
      samples: probe.samples.filter((x) => x.t >= t0 - 1000 && x.t <= tEnd).sort((x, y) => x.t - y.t).map((x) => [round1(x.t - t0), x.by]),
      steps: stepsOf({ t0, newHolder: again, newIp: A, lastMaster: lastB?.t ?? null, vipStamped: onA?.t ?? null, vipArrival: null, adverts: adv.adverts, garps: garps.garps, samples: probe.samples }),
      ...(onA ? {} : { error: `no VIP back on a within ${Math.round(mdA + 8000)} ms of its restart` }),
    };
  } finally {
    probe?.stop();
    vipAts.stop();
    vipBts.stop();
    vipA.stop();
    garps.stop();
    adv.stop();
    await resetLab(bl, lbs);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);
}

/** The goal/bound column: RFC bound for hard failures; for the planned stop, keepalived waits Skew. */
export function boundText(s: Setting, failure: Failure): string {
  if (failure === 'preempt') return `Master_Down at start (prio 150) ${masterDownMs(s, MASTER_PRIO).toFixed(1)} ms + daemon start`;
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

const HARD: readonly Failure[] = ['freeze', 'kill9', 'linkdown'];

/**
 * Where the time goes, per case: each step's median (min–max) in ms, counted from the master's
 * last advert for a hard failure (what the RFC bound describes), from the SIGTERM or the restart
 * otherwise. `ip -ts` minus arrival = what stamping the VIP on arrival here added (the old measure).
 */
export function stepsRows(runs: FailoverRun[]): string[] {
  const rows: string[] = [];
  const keys = [...new Set(runs.filter((r) => r.steps).map((r) => `${r.setting}|${r.failure}|${r.impl}`))];
  for (const k of keys) {
    const [setting = '', failure = '', impl = ''] = k.split('|');
    const ok = runs.filter((r) => r.setting === setting && r.failure === failure && r.impl === impl && !r.error && r.steps);
    const hard = HARD.includes(failure as Failure);
    const s = SETTINGS[setting] as Setting;
    const md = masterDownMs(s, BACKUP_PRIO);
    const base = (r: FailoverRun): number | null => (hard ? (r.steps?.lastMasterAdvert ?? null) : 0);
    const col = (f: (st: TakeoverSteps) => number | null, minus = 0): string =>
      fmt(summarize(ok.map((r) => { const b = base(r); const v = r.steps ? f(r.steps) : null; return b === null || v === null ? NaN : v - b - minus; })));
    const artefact = fmt(summarize(ok.map((r) => (r.steps?.vip != null && r.steps.vipArrival != null ? r.steps.vipArrival - r.steps.vip : NaN))));
    rows.push(
      `| ${setting} | ${failure} | ${impl} | ${ok.length} | ${hard ? `last advert (bound ${md.toFixed(1)})` : failure === 'term' ? 'SIGTERM' : 'restart'} | ${col((st) => st.decided)} | ${hard ? col((st) => st.decided, md) : '—'} | ${col((st) => st.advert)} | ${col((st) => st.vip)} | ${fmt(summarize(ok.map((r) => r.steps?.ipAddMs ?? NaN)))} | ${col((st) => st.garp)} | ${col((st) => st.served)} | ${artefact} | ${fmt(summarize(ok.map((r) => r.load)), '', 2)} |`,
    );
  }
  return rows;
}

export const STEPS_HEADER = [
  '| setting | failure | impl | runs | counted from | decision (haupd log) | decision − bound | first advert on the wire | VIP added (`ip -ts`) | `ip addr add` took (haupd) | first GARP at the client | first request served by the new holder (sent) | VIP stamp: arrival here − `ip -ts` | load (1 min) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];

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
      prefix: { type: 'string', default: 'bvf' },
      subnet: { type: 'string', default: '181' },
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
  const bl = await createBenchLab({ prefix: values.prefix, subnet: Number(values.subnet), client: true, dir, bundleDir });
  const results: FailoverRun[] = [];
  const started = Date.now();
  const name = values.out ?? `failover-${impls.join('-')}`;
  // Written after every run: a batch killed by a timeout or Ctrl-C keeps the runs it made.
  const save = (complete: boolean): Promise<string> => writeResults(name, { bench: 'failover', machine, seconds: Math.round((Date.now() - started) / 1000), runsPerCase: runs, complete, results });
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
            await save(false);
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
  const file = await save(true);
  process.stdout.write(`\n${[...TABLE_HEADER, ...tableRows(results)].join('\n')}\n\n${[...STEPS_HEADER, ...stepsRows(results)].join('\n')}\n\nresults: ${file}\n`);
}

if (process.argv[1]?.endsWith('failover.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
