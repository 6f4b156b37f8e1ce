// Markdown from a results file of bench/deploy/run.ts: the summary table, the ratios against
// haup, haup's own time split and every raw run.
//   node --import tsx bench/deploy/report.ts bench/deploy/results/FILE.json
import { readFileSync } from 'node:fs';
import { formatSummary, summarize } from './stats.ts';

interface DeployRun {
  ms: number;
  changed: number;
  inner?: { durationMs: number; hosts: Record<string, Record<string, number>> };
}
interface ToolRun {
  tool: string;
  run: number;
  labUpMs: number;
  pythonMs?: number;
  cold: DeployRun;
  servedAfterMs: number;
  noops: DeployRun[];
  load?: [number, number];
}
interface Results {
  date: string;
  versions: Record<string, string>;
  runs: number;
  noopsPerRun: number;
  stopped?: string;
  results: ToolRun[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: report.ts RESULTS.json');
const res = JSON.parse(readFileSync(file, 'utf8')) as Results;
const tools = [...new Set(res.results.map((r) => r.tool))];
const of = (tool: string) => res.results.filter((r) => r.tool === tool);
const cold = (tool: string) => summarize(of(tool).map((r) => r.cold.ms));
const noop = (tool: string) => summarize(of(tool).flatMap((r) => r.noops.map((n) => n.ms)));
const s = (ms: number, d = 2) => (ms / 1000).toFixed(d);
const out: string[] = [];

out.push('| tool / profile | cold deploy | no-op re-deploy | runs (cold / no-op) |', '|---|---|---|---|');
for (const t of tools) out.push(`| ${t} | ${formatSummary(cold(t))} | ${formatSummary(noop(t), 2)} | ${cold(t)?.n ?? 0} / ${noop(t)?.n ?? 0} |`);

const h = { cold: cold('haup'), noop: noop('haup') };
if (h.cold && h.noop) {
  out.push('', '| Ansible profile | cold: Ansible / haup (medians) | no-op: Ansible / haup (medians) |', '|---|---|---|');
  for (const t of tools.filter((x) => x !== 'haup')) {
    const c = cold(t);
    const n = noop(t);
    if (c && n) out.push(`| ${t} | ${(c.median / h.cold.median).toFixed(1)}× | ${(n.median / h.noop.median).toFixed(1)}× |`);
  }
  // haup's own split: wall clock (process start-up included) vs the deploy it reports.
  const inner = of('haup').flatMap((r) => r.noops.map((x) => x.inner?.durationMs ?? NaN)).filter((x) => !Number.isNaN(x));
  const innerCold = of('haup').map((r) => r.cold.inner?.durationMs ?? NaN).filter((x) => !Number.isNaN(x));
  const phases = new Map<string, number[]>();
  for (const r of of('haup')) {
    for (const n of r.noops) {
      for (const timings of Object.values(n.inner?.hosts ?? {})) {
        for (const [k, v] of Object.entries(timings)) phases.set(k, [...(phases.get(k) ?? []), v]);
      }
    }
  }
  out.push(
    '',
    `haup no-op: wall ${formatSummary(h.noop, 2)}, of which the deploy itself (haup's durationMs: connect, facts, plan for all 4 hosts) ${formatSummary(summarize(inner), 2)}; cold: deploy itself ${formatSummary(summarize(innerCold))}.`,
    `haup no-op per host, median ms: ${[...phases].map(([k, v]) => `${k} ${summarize(v)!.median.toFixed(0)}`).join(', ')}.`,
  );
}

out.push('', '| tool | run | cold (s) | no-op (s) | changed cold / no-op | fresh hosts (s) | python3 (s) | served after (s) | load 1 min (start → end) |', '|---|---|---|---|---|---|---|---|---|');
for (const r of res.results) {
  out.push(
    `| ${r.tool} | ${r.run} | ${s(r.cold.ms)} | ${r.noops.map((n) => s(n.ms)).join(', ')} | ${r.cold.changed} / ${r.noops.map((n) => n.changed).join(',')} | ${s(r.labUpMs, 1)} | ${r.pythonMs === undefined ? '—' : s(r.pythonMs, 1)} | ${s(r.servedAfterMs, 1)} | ${r.load ? r.load.map((l) => l.toFixed(1)).join(' → ') : '—'} |`,
  );
}
out.push('', `Versions: ${Object.entries(res.versions).map(([k, v]) => `${k}: ${v}`).join('; ')}. Date ${res.date}.${res.stopped ? ` Stopped early: ${res.stopped}.` : ''}`);
process.stdout.write(out.join('\n') + '\n');
