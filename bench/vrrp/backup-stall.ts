/**
 * A stalled backup must not take over from a live master. On a loaded machine a process can be
 * off the CPU for longer than Master_Down (36 ms at 0.01 s adverts); the master kept advertising
 * meanwhile, so the adverts wait in the backup's socket buffer. A backup that looks at its expired
 * timer before reading them becomes master for nothing: it adds the VIP and sends gratuitous ARP,
 * the clients flip to it, then it sees the master's advert and yields.
 *
 * This reproduces the stall deterministically: SIGSTOP the backup for STALL ms (> Master_Down),
 * SIGCONT, then watch 1 s. Counted per run: did the backup enter Master, add the VIP, send a
 * gratuitous ARP (tcpdump in the master's namespace, which sees the backup's broadcasts)?
 *
 *   node --import tsx bench/vrrp/backup-stall.ts [--impl both] [--runs 5] [--setting v3-10ms] [--stall 100]
 *        [--out NAME] [--prefix bvb] [--subnet 192]
 *
 * ~10 s per run. Namespaces haup-PREFIX-* on 198.18.SUBNET.0/24 (default bvb, 192).
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  IMPLS,
  SETTINGS,
  buildBundle,
  createBenchLab,
  machineInfo,
  now,
  resetLab,
  round1,
  sleep,
  startPair,
  watchVip,
  writeResults,
  type BenchLab,
  type Impl,
  type Lb,
  type Setting,
} from './harness.ts';

export interface StallRun {
  impl: Impl;
  setting: string;
  stallMs: number;
  run: number;
  /** The backup entered Master after the stall (it should not: the master is alive). */
  backupTookOver: boolean;
  /** The VIP appeared on the backup: ms after SIGCONT, and how long it stayed. */
  vipOnBackupMs: number | null;
  vipHeldMs: number | null;
  /** Gratuitous ARPs for the VIP sent by the backup after SIGCONT. */
  backupGarps: number;
  /** The backup's log lines after SIGCONT (first 10): why it took over. */
  backupLog: string[];
  error?: string;
}

function watchBackupGarp(bl: BenchLab): { times: number[]; stop: () => void } {
  const times: number[] = [];
  const mac = bl.lab.host('b').mac.toLowerCase();
  const child = bl.lab.spawn('a', 'tcpdump', ['-i', 'eth0', '-n', '-e', '-tt', '-l', 'arp']);
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.split(' ')[1] === mac && l.includes(`tell ${bl.vip}`)) times.push(Number(l.split(' ')[0]) * 1000);
  });
  child.stderr?.resume();
  return { times, stop: () => void child.kill('SIGKILL') };
}

async function oneRun(bl: BenchLab, impl: Impl, s: Setting, stallMs: number, run: number): Promise<StallRun> {
  const vipB = watchVip(bl, 'b');
  const garp = watchBackupGarp(bl);
  const lbs: Lb[] = [];
  try {
    const { master, backup } = await startPair(bl, impl, s);
    lbs.push(master, backup);
    await sleep(500);
    const before = backup.masterEntries();
    const logMark = backup.log().length;
    backup.signal('SIGSTOP');
    await sleep(stallMs);
    const t0 = now();
    backup.signal('SIGCONT');
    await sleep(1000);
    const add = vipB.events.find((e) => e.op === 'add' && e.t >= t0);
    const del = add ? vipB.events.find((e) => e.op === 'del' && e.t >= add.t) : undefined;
    return {
      impl,
      setting: s.name,
      stallMs,
      run,
      backupTookOver: backup.masterEntries() > before,
      vipOnBackupMs: add ? round1(add.t - t0) : null,
      vipHeldMs: add ? (del ? round1(del.t - add.t) : null) : null,
      backupGarps: garp.times.filter((t) => t >= t0).length,
      backupLog: backup.log().slice(logMark).split('\n').filter((l) => l.trim()).slice(0, 10),
    };
  } finally {
    vipB.stop();
    garp.stop();
    await resetLab(bl, lbs);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { impl: { type: 'string', default: 'both' }, runs: { type: 'string', default: '5' }, setting: { type: 'string', default: 'v3-10ms' }, stall: { type: 'string', default: '100' }, out: { type: 'string', default: 'backup-stall' }, prefix: { type: 'string', default: 'bvb' }, subnet: { type: 'string', default: '192' } } });
  const impls = values.impl === 'both' ? [...IMPLS] : [values.impl as Impl];
  const s = SETTINGS[values.setting];
  if (!s) throw new Error(`--setting: unknown ${values.setting}`);
  const dir = `/tmp/haup-bench-stall-${process.pid}`;
  const bundleDir = await buildBundle(`${dir}/bundle`);
  const machine = await machineInfo(); // at build time: names the haupd source measured
  const bl = await createBenchLab({ prefix: values.prefix, subnet: Number(values.subnet), client: false, dir, bundleDir });
  const results: StallRun[] = [];
  const started = Date.now();
  try {
    for (let run = 1; run <= Number(values.runs); run++) {
      for (const impl of impls) {
        let r: StallRun;
        try {
          r = await oneRun(bl, impl, s, Number(values.stall), run);
        } catch (err) {
          r = { impl, setting: s.name, stallMs: Number(values.stall), run, backupTookOver: false, vipOnBackupMs: null, vipHeldMs: null, backupGarps: 0, backupLog: [], error: (err as Error).message.slice(0, 3000) };
        }
        results.push(r);
        process.stdout.write(`${s.name} stall ${values.stall} ms ${impl} #${run}: backup took over ${r.backupTookOver}, VIP on backup +${r.vipOnBackupMs} ms for ${r.vipHeldMs} ms, backup GARPs ${r.backupGarps}${r.error ? ` ERROR ${r.error.split('\n')[0]}` : ''}\n`);
      }
    }
  } finally {
    await bl.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  const file = await writeResults(values.out, { bench: 'backup-stall', machine, seconds: Math.round((Date.now() - started) / 1000), results });
  process.stdout.write(`\n${[...STALL_HEADER, ...stallRows(results)].join('\n')}\n\nresults: ${file}\n`);
}

export const STALL_HEADER = ['| setting | stall | impl | runs ok | backup took over | VIP on backup | backup sent gratuitous ARP |', '|---|---|---|---|---|---|---|'];

export function stallRows(runs: StallRun[]): string[] {
  const keys = [...new Set(runs.map((r) => `${r.setting}|${r.stallMs}|${r.impl}`))];
  return keys.map((k) => {
    const [setting = '', stall = '', impl = ''] = k.split('|');
    const ok = runs.filter((r) => r.setting === setting && String(r.stallMs) === stall && r.impl === impl && !r.error);
    const n = runs.filter((r) => r.setting === setting && String(r.stallMs) === stall && r.impl === impl).length;
    const held = ok.filter((r) => r.vipOnBackupMs !== null).map((r) => `${r.vipHeldMs ?? '?'} ms`);
    return `| ${setting} | ${stall} ms | ${impl} | ${ok.length}/${n} | ${ok.filter((r) => r.backupTookOver).length}/${ok.length} | ${held.length}/${ok.length}${held.length ? ` (held ${held.join(', ')})` : ''} | ${ok.filter((r) => r.backupGarps > 0).length}/${ok.length} |`;
  });
}

if (process.argv[1]?.endsWith('backup-stall.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
