// Rendering of verify's results: the check list, the failover table, and JSON. Pure.
import type { CheckResult } from './checks.ts';
import type { ScenarioResult } from './scenarios.ts';

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function renderChecks(checks: CheckResult[]): string {
  const lines = checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.evidence}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? `verify: all ${checks.length} checks passed` : `verify: ${failed} of ${checks.length} checks FAILED`);
  return lines.join('\n');
}

export const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);

function movedCell(r: ScenarioResult): string {
  if (r.id === 'split-brain') return r.vipMovedAfterMs === null ? '-' : `single ${ms(r.vipMovedAfterMs)} after heal`;
  if (!r.expectTo) return r.probe ? 'stayed' : '-';
  return r.vipMovedAfterMs === null ? `not on ${r.expectTo}` : `${ms(r.vipMovedAfterMs)} -> ${r.expectTo}`;
}

function boundCell(r: ScenarioResult): string {
  const b = r.bound;
  const parts: string[] = [];
  if (b.vipMs !== null) parts.push(`move <= ${ms(b.vipMs)}`);
  if (b.gapMs !== null) parts.push(`gap <= ${ms(b.gapMs)}`);
  if (b.failedMax !== null) parts.push(`failed <= ${b.failedMax}`);
  if (r.expectTo === null && r.id !== 'split-brain' && r.probe) parts.unshift('stay');
  return parts.join(', ') || '-';
}

export function renderFailover(results: ScenarioResult[]): string {
  const rows = [['SCENARIO', 'VIP MOVED AFTER', 'LONGEST GAP', 'FAILED/TOTAL', 'BOUND', 'VERDICT']];
  for (const r of results) {
    rows.push([
      `${r.id}${results.some((x) => x.instance !== r.instance) ? ` (${r.instance})` : ''}`,
      movedCell(r),
      r.probe ? ms(r.probe.longestGapMs) : '-',
      r.probe ? `${r.probe.failed}/${r.probe.total}${r.switchResets ? ` (${r.switchResets} at switch)` : ''}` : '-',
      boundCell(r),
      r.ok ? 'pass' : 'FAIL',
    ]);
  }
  const lines = [table(rows)];
  for (const r of results) {
    for (const reason of r.reasons) lines.push(`  ${r.id}: FAIL: ${reason}`);
    if (r.perVip.length > 1) lines.push(`  ${r.id}: per VIP: ${r.perVip.map((p) => `${p.vip} ${r.expectTo ? `moved ${ms(p.movedAfterMs)}, ` : ''}${p.probe ? `gap ${ms(p.probe.longestGapMs)}, ${p.probe.failed}/${p.probe.total} failed` : 'no probe'}`).join('; ')}`);
    for (const n of r.notes) lines.push(`  ${r.id}: ${n}`);
  }
  const probeFrom = results.find((r) => r.probe)?.probeFrom;
  if (probeFrom) lines.push(`client: one request every 20 ms through ${results.some((r) => r.perVip.length > 1) ? 'each VIP' : 'the VIP'} from ${probeFrom}; VIP changes timed by \`ip monitor\` on every LB (polling \`ip addr\` every 100 ms where it gave no timeline)${results.some((r) => r.perVip.length > 1) ? ' (moved = when the new holder had every VIP)' : ''}`);
  const failed = results.filter((r) => !r.ok).length;
  lines.push(failed === 0 ? `failover: all ${results.length} scenarios passed` : `failover: ${failed} of ${results.length} scenarios FAILED`);
  return lines.join('\n');
}
