/**
 * Split brain, then healed: VRRP (IP protocol 112) is dropped both ways with nft in both LB
 * namespaces until the backup has taken the VIP too (two holders; the client follows the last
 * gratuitous ARP, i.e. the backup), then the rules are removed. Measured after the heal:
 *   - time until a single holder (the loser's VIP removal, ip monitor),
 *   - the client's outage after the heal (keepalived: its surviving master sends no gratuitous
 *     ARP, so the client keeps the loser's MAC until its ARP entry expires: DESIGN.md §5, 45 s),
 *   - gratuitous ARPs for the VIP seen by the client after the heal, and who sent them.
 *
 *   node --import tsx bench/vrrp/split-brain.ts [--impl keepalived|haupd|both] [--runs 5]
 *        [--setting v2-1s|v3-100ms|v3-10ms] [--max-black-hole 75] [--out NAME] [--prefix bvs] [--subnet 182]
 *
 * Each run ends 3 s after the client is served again, or --max-black-hole seconds after the heal.
 * keepalived runs take ~1.5 min each. Namespaces haup-PREFIX-* on 198.18.SUBNET.0/24 (default bvs, 182).
 */
import { rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  IMPLS,
  SETTINGS,
  buildBundle,
  clientStats,
  createBenchLab,
  fmt,
  loadAvg,
  machineInfo,
  masterDownMs,
  BACKUP_PRIO,
  now,
  resetLab,
  round1,
  sleep,
  startPair,
  startProbe,
  summarize,
  watchAdverts,
  watchVip,
  writeResults,
  type BenchLab,
  type Impl,
  type Lb,
  type Setting,
} from './harness.ts';

const BLOCK_RULES = `table inet bvblock {
  chain in { type filter hook input priority 0; policy accept; ip protocol 112 drop; }
  chain out { type filter hook output priority 0; policy accept; ip protocol 112 drop; }
}
`;

export interface SplitRun {
  impl: Impl;
  setting: string;
  run: number;
  /** Both held the VIP during the split (the backup took it). */
  bothHeld: boolean;
  /** Who answered the client just before the heal. */
  servedBeforeHeal: string | null;
  /** ms after the heal until one holder is left; who it is. */
  singleHolderMs: number | null;
  survivor: string | null;
  /** Longest gap between successful requests after the heal (ms), failed requests after the heal. */
  outageAfterHealMs: number;
  failedAfterHeal: number;
  /** The client was served again (false: still black-holed when the run gave up). */
  recovered: boolean;
  /** Gratuitous ARPs for the VIP seen by the client after the heal: [ms after heal, sender]. */
  garpsAfterHeal: [number, string][];
  /** The client's other ARP traffic about the VIP after the heal (first 10 lines, ms after heal). */
  otherArpAfterHeal: [number, string][];
  load: number;
  /** Each daemon's log lines from the heal on (first 15): which advert crossed first, who GARPed. */
  logsAfterHeal: { a: string[]; b: string[] };
  /** b's adverts captured in a's namespace after the heal (first 12): [ms after heal, src, prio]. */
  advertsInAAfterHeal?: [number, string, number][];
  /** haupd only: each daemon's status counters after the run (drops by reason, split-brain GARPs). */
  countersAfter?: { a: unknown; b: unknown };
  error?: string;
}

/** haupd's status document (its unix socket answers one JSON line on connect), or null. */
function readStatus(socketPath: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    let body = '';
    const conn = createConnection(socketPath);
    const timer = setTimeout(() => {
      conn.destroy();
      resolve(null);
    }, 2000);
    conn.on('data', (d) => (body += d.toString()));
    conn.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(body) as Record<string, unknown>);
      } catch {
        resolve(null);
      }
    });
  });
}

function countersOf(status: Record<string, unknown> | null): unknown {
  if (!status) return null;
  const inst = (status.instances as { state?: unknown; counters?: unknown }[] | undefined)?.[0];
  return { state: inst?.state ?? null, counters: inst?.counters ?? null, interfaces: (status.interfaces as { counters?: unknown }[] | undefined)?.map((i) => i.counters) ?? null };
}

interface ArpSeen {
  t: number;
  from: string;
  line: string;
}

/** Gratuitous ARP for the VIP (broadcast, sender IP = VIP) seen in the client namespace. */
function watchGarp(bl: BenchLab, host: string): { garps: ArpSeen[]; other: ArpSeen[]; stop: () => void } {
  const garps: ArpSeen[] = [];
  /** Other ARP traffic about the VIP (the client's own who-has and the answers). */
  const other: ArpSeen[] = [];
  const byMac = new Map(bl.lab.hosts.map((h) => [h.mac.toLowerCase(), h.name]));
  const child = bl.lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-e', '-tt', '-l', 'arp']);
  const vip = bl.vip.replace(/\./g, '\\.');
  const re = new RegExp(`^(\\d+\\.\\d+) ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff, .*(?:Request who-has ${vip}(?: \\([0-9a-f:]+\\))? tell ${vip}|Reply ${vip} is-at)`);
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      const m = re.exec(l);
      if (m) garps.push({ t: Number(m[1]) * 1000, from: byMac.get(m[2] ?? '') ?? m[2] ?? '?', line: l });
      else if (l.includes(bl.vip)) other.push({ t: Number(l.split(' ')[0]) * 1000, from: '', line: l });
    }
  });
  child.stderr?.resume();
  return { garps, other, stop: () => void child.kill('SIGKILL') };
}

async function block(bl: BenchLab, on: boolean): Promise<void> {
  for (const h of ['a', 'b']) {
    const r = on ? await bl.lab.exec(h, 'nft', ['-f', '-'], { input: BLOCK_RULES }) : await bl.lab.exec(h, 'nft', ['delete', 'table', 'inet', 'bvblock']);
    if (r.code !== 0) throw new Error(`nft ${on ? 'block' : 'heal'} in ${h}: ${r.stderr}`);
  }
}

async function oneRun(bl: BenchLab, impl: Impl, s: Setting, run: number, maxBlackHoleS: number): Promise<SplitRun> {
  const vipA = watchVip(bl, 'a');
  const vipB = watchVip(bl, 'b');
  const arp = watchGarp(bl, 'c');
  const advA = watchAdverts(bl, 'a');
  const lbs: Lb[] = [];
  let probe: ReturnType<typeof startProbe> | null = null;
  const md = masterDownMs(s, BACKUP_PRIO);
  try {
    const { master, backup } = await startPair(bl, impl, s);
    lbs.push(master, backup);
    probe = startProbe(bl, 1000 + md + 8000 + maxBlackHoleS * 1000 + 10_000);
    await withTimeout(probe.ready, 15_000, 'first successful client request');
    await sleep(1000);
    const tBlock = now();
    await block(bl, true);
    // The backup takes over after Master_Down: two holders.
    const deadline = tBlock + md + 5000;
    while (!vipB.events.some((e) => e.op === 'add' && e.t >= tBlock) && now() < deadline) await sleep(10);
    const bTook = vipB.events.find((e) => e.op === 'add' && e.t >= tBlock);
    const bothHeld = bTook !== undefined && !vipA.events.some((e) => e.op === 'del' && e.t >= tBlock);
    // Past every gratuitous ARP of the backup's takeover: the second burst starts 5 s after it, and
    // haupd's arping sends one per second (5 s per burst), keepalived's all at once.
    await sleep(Math.max(0, (bTook?.t ?? now()) + 12_000 - now()));
    const servedBeforeHeal = probe.samples.filter((x) => x.by !== null).sort((x, y) => x.t - y.t).at(-1)?.by ?? null;
    const load = await loadAvg();
    const logMark = { a: master.log().length, b: backup.log().length };
    const tHeal = now();
    await block(bl, false);
    // Until one holder is left and the client has been served for 3 s without a failure.
    const giveUp = tHeal + maxBlackHoleS * 1000;
    let single: { t: number; survivor: string } | null = null;
    let recovered = false;
    while (now() < giveUp) {
      await sleep(100);
      if (!single) {
        const delA = vipA.events.find((e) => e.op === 'del' && e.t >= tHeal);
        const delB = vipB.events.find((e) => e.op === 'del' && e.t >= tHeal);
        if (delA || delB) single = { t: (delA ?? delB)?.t ?? NaN, survivor: delA ? 'b' : 'a' };
      }
      const after = probe.samples.filter((x) => x.t >= tHeal).sort((x, y) => x.t - y.t);
      const lastFail = after.filter((x) => x.by === null).at(-1)?.t ?? tHeal;
      const okSince = after.filter((x) => x.by !== null && x.t > lastFail);
      if (single && okSince.length > 0 && (okSince.at(-1)?.t ?? 0) - (okSince[0]?.t ?? 0) >= 3000) {
        recovered = true;
        break;
      }
    }
    await sleep(1000); // requests still in flight
    const sock = (h: string): string => path.join(bl.dir, `${bl.lab.net}-${h}.sock`);
    const countersAfter = impl === 'haupd' ? { a: countersOf(await readStatus(sock('a'))), b: countersOf(await readStatus(sock('b'))) } : undefined;
    const after = clientStats(probe.samples, tHeal, now() - 1000);
    // A black hole still open at the end counts up to the end of the window.
    const lastOk = probe.samples.filter((x) => x.by !== null && x.t >= tHeal).sort((x, y) => x.t - y.t).at(-1)?.t;
    const openGap = recovered ? 0 : now() - 1000 - (lastOk ?? tHeal);
    return {
      impl,
      setting: s.name,
      run,
      bothHeld,
      servedBeforeHeal,
      singleHolderMs: single ? round1(single.t - tHeal) : null,
      survivor: single?.survivor ?? null,
      outageAfterHealMs: round1(Math.max(after.outageMs, openGap)),
      failedAfterHeal: after.failed,
      recovered,
      garpsAfterHeal: arp.garps.filter((g) => g.t >= tHeal).map((g) => [round1(g.t - tHeal), g.from]),
      otherArpAfterHeal: arp.other.filter((g) => g.t >= tHeal).slice(0, 10).map((g) => [round1(g.t - tHeal), g.line.replace(/^\S+ /, '')]),
      load,
      logsAfterHeal: { a: linesFrom(master.log(), logMark.a), b: linesFrom(backup.log(), logMark.b) },
      advertsInAAfterHeal: advA.adverts.filter((x) => x.t >= tHeal && x.src !== bl.lab.host('a').ip).slice(0, 12).map((x) => [round1(x.t - tHeal), x.src, x.prio]),
      ...(countersAfter ? { countersAfter } : {}),
    };
  } finally {
    probe?.stop();
    vipA.stop();
    vipB.stop();
    arp.stop();
    advA.stop();
    await block(bl, false).catch(() => undefined);
    await resetLab(bl, lbs);
  }
}

function linesFrom(log: string, offset: number): string[] {
  return log.slice(offset).split('\n').filter((l) => l.trim()).slice(0, 15);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);
}

export function splitRows(runs: SplitRun[]): string[] {
  const keys = [...new Set(runs.map((r) => `${r.setting}|${r.impl}`))];
  return keys.map((k) => {
    const [setting = '', impl = ''] = k.split('|');
    const rs = runs.filter((r) => r.setting === setting && r.impl === impl);
    const ok = rs.filter((r) => !r.error && r.bothHeld);
    const garps = ok.map((r) => r.garpsAfterHeal.filter((g) => g[0] < 1000).length);
    // The median hides the point: a black hole happens in some runs only (a race), so list them.
    const holes = ok.filter((r) => r.outageAfterHealMs > 1000).map((r) => `${(r.outageAfterHealMs / 1000).toFixed(1)} s`);
    return `| ${setting} | ${impl} | ${ok.length}/${rs.length} | ${fmt(summarize(ok.map((r) => r.singleHolderMs ?? NaN)))} | ${fmt(summarize(ok.map((r) => r.outageAfterHealMs)))} | ${holes.length}/${ok.length}${holes.length ? `: ${holes.join(', ')}` : ''} | ${fmt(summarize(ok.map((r) => r.failedAfterHeal)), '', 0)} | ${ok.filter((r) => r.recovered).length}/${ok.length} | ${fmt(summarize(garps), '', 0)} |`;
  });
}

export const SPLIT_HEADER = [
  '| setting | impl | runs ok | single holder after heal | client outage after heal | runs with a black hole > 1 s | failed after heal | client recovered | GARPs within 1 s of heal |',
  '|---|---|---|---|---|---|---|---|---|',
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { impl: { type: 'string', default: 'both' }, runs: { type: 'string', default: '5' }, setting: { type: 'string', default: 'v2-1s' }, 'max-black-hole': { type: 'string', default: '75' }, out: { type: 'string' }, prefix: { type: 'string', default: 'bvs' }, subnet: { type: 'string', default: '182' } } });
  const impls = values.impl === 'both' ? [...IMPLS] : [values.impl as Impl];
  for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl: ${i}`);
  const s = SETTINGS[values.setting];
  if (!s) throw new Error(`--setting: unknown ${values.setting}`);
  const runs = Number(values.runs);
  const dir = `/tmp/haup-bench-split-${process.pid}`;
  const bundleDir = await buildBundle(`${dir}/bundle`);
  const machine = await machineInfo(); // at build time: names the haupd source measured
  const bl = await createBenchLab({ prefix: values.prefix, subnet: Number(values.subnet), client: true, dir, bundleDir });
  const results: SplitRun[] = [];
  const started = Date.now();
  try {
    for (const impl of impls) {
      for (let run = 1; run <= runs; run++) {
        let r: SplitRun;
        try {
          r = await oneRun(bl, impl, s, run, Number(values['max-black-hole']));
        } catch (err) {
          r = { impl, setting: s.name, run, bothHeld: false, servedBeforeHeal: null, singleHolderMs: null, survivor: null, outageAfterHealMs: NaN, failedAfterHeal: NaN, recovered: false, garpsAfterHeal: [], otherArpAfterHeal: [], load: NaN, logsAfterHeal: { a: [], b: [] }, error: (err as Error).message.slice(0, 3000) };
        }
        results.push(r);
        process.stdout.write(`${s.name} ${impl} #${run}: both held ${r.bothHeld}, served by ${r.servedBeforeHeal} before heal; single holder (${r.survivor}) +${r.singleHolderMs} ms; client outage after heal ${r.outageAfterHealMs} ms, ${r.failedAfterHeal} failed, recovered ${r.recovered}; GARPs after heal ${JSON.stringify(r.garpsAfterHeal.slice(0, 6))}${r.error ? ` ERROR ${r.error.split('\n')[0]}` : ''}\n`);
      }
    }
  } finally {
    await bl.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  const file = await writeResults(values.out ?? `split-brain-${impls.join('-')}`, { bench: 'split-brain', machine, seconds: Math.round((Date.now() - started) / 1000), runsPerCase: runs, results });
  process.stdout.write(`\n${[...SPLIT_HEADER, ...splitRows(results)].join('\n')}\n\nresults: ${file}\n`);
}

if (process.argv[1]?.endsWith('split-brain.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
