/**
 * Markdown tables for docs/benchmarks.md from the committed results (bench/vrrp/results/*.json).
 *
 *   node --import tsx bench/vrrp/report.ts
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { STEPS_HEADER, TABLE_HEADER, stepsRows, tableRows, type FailoverRun } from './failover.ts';
import { repoRoot } from './harness.ts';
import { IDLE_HEADER, idleRows, type IdleRun } from './idle.ts';
import { growthSummary, type GrowthSample } from './rss-growth.ts';
import { SPLIT_HEADER, splitRows, type SplitRun } from './split-brain.ts';
import { STALL_HEADER, stallRows, type StallRun } from './backup-stall.ts';

interface ResultsFile {
  bench: string;
  machine: Record<string, string>;
  seconds: number;
  results: unknown[];
}

async function main(): Promise<void> {
  const dir = path.join(repoRoot, 'bench/vrrp/results');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const all: (ResultsFile & { file: string })[] = [];
  for (const f of files) all.push({ ...(JSON.parse(await readFile(path.join(dir, f), 'utf8')) as ResultsFile), file: f });
  const of = <T>(bench: string): T[] => all.filter((r) => r.bench === bench).flatMap((r) => r.results as T[]);
  const out: string[] = [];
  for (const r of all) out.push(`- ${r.file}: ${r.bench}, ${r.results.length} runs, ${r.seconds} s, ${Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  // Takeover, split brain and stall: one table per results file. The files are rounds measured on
  // different haupd builds (machine.haupd), and pooling them would mix before and after a fix.
  const perFile = <T>(bench: string, title: string, render: (runs: T[]) => string[]): void => {
    for (const r of all.filter((x) => x.bench === bench)) out.push('', `### ${title}: ${r.file} (haupd ${r.machine.haupd ?? '?'}, ${r.machine.date ?? ''})`, '', ...render(r.results as T[]));
  };
  perFile<FailoverRun>('failover', 'Takeover', (runs) => {
    const steps = stepsRows(runs);
    return [...TABLE_HEADER, ...tableRows(runs), ...(steps.length ? ['', ...STEPS_HEADER, ...steps] : [])];
  });
  const idle = of<IdleRun>('idle');
  if (idle.length) out.push('', '### Idle', '', ...IDLE_HEADER, ...idleRows(idle));
  perFile<SplitRun>('split-brain', 'Split brain healed', (runs) => [...SPLIT_HEADER, ...splitRows(runs)]);
  perFile<StallRun>('backup-stall', 'Stalled backup (the master stays alive)', (runs) => [...STALL_HEADER, ...stallRows(runs)]);
  const growth = of<{ impl: string; samples: GrowthSample[] }>('rss-growth');
  if (growth.length) {
    out.push('', '### RSS growth (v3 0.01 s)', '', '| impl | samples | first | last | max | slope (all) | slope (last half) | master CPU median |', '|---|---|---|---|---|---|---|---|');
    for (const g of growth) {
      const s = growthSummary(g.samples);
      const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
      out.push(`| ${g.impl} | ${g.samples.length} over ${g.samples.at(-1)?.s ?? 0} s | ${mb(s.firstKb)} | ${mb(s.lastKb)} | ${mb(s.maxKb)} | ${s.slopeKbPerMin} kB/min | ${s.slopeLastHalfKbPerMin} kB/min | ${s.cpuMedianPct.toFixed(2)} % |`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
