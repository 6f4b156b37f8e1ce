// Human output that does not depend on the renderer: task lines, the recap, the JSON result.
import { EXIT } from '../util/errors.ts';
import type { DeployResult, HostResult, TaskResult } from './types.ts';

export function taskLine(host: string, r: TaskResult, verbose: boolean): string {
  const tag = r.status === 'failed' ? 'FAILED' : r.status;
  const what = r.handler ? `handler ${r.name}` : r.name;
  const lines = [`[${host}] ${tag}: ${what}${r.summary && r.status !== 'failed' ? ` — ${r.summary}` : ''}`];
  if (r.error) lines.push(...r.error.split('\n').map((l) => `[${host}]   ${l}`));
  if (verbose && r.commands) lines.push(...r.commands.map((c) => `[${host}]   $ ${c.split('\n')[0]}`));
  if (r.diff) lines.push(r.diff.trimEnd());
  return lines.join('\n');
}

export function countsText(h: HostResult): string {
  const unreachable = h.status === 'unreachable' ? 1 : 0;
  return `ok=${h.counts.ok} changed=${h.counts.changed} failed=${h.counts.failed} skipped=${h.counts.skipped} unreachable=${unreachable}`;
}

export function recap(result: DeployResult): string {
  const width = Math.max(4, ...result.hosts.map((h) => h.host.length));
  const lines = [`RECAP  deploy ${result.deployId}${result.check ? '  (check: nothing was changed)' : ''}`];
  for (const h of result.hosts) {
    lines.push(`${h.host.padEnd(width)} : ${countsText(h)}  ${(h.durationMs / 1000).toFixed(2)} s`);
    const pad = ' '.repeat(width);
    if (h.error) {
      lines.push(`${pad}   error: ${h.error.message}`);
      if (h.error.hint) lines.push(`${pad}   hint: ${h.error.hint}`);
    }
    for (const w of h.warnings ?? []) lines.push(`${pad}   warning: ${w}`);
    for (const t of h.tasks.filter((t) => t.status === 'failed')) {
      const [first, ...rest] = (t.error ?? 'failed').split('\n');
      lines.push(`${pad}   failed: ${t.handler ? 'handler ' : ''}${t.name}: ${first}`);
      for (const l of rest.slice(0, 10)) lines.push(`${pad}     ${l}`);
    }
  }
  lines.push(`${result.ok ? 'ok' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(2)} s`);
  return lines.join('\n');
}

/** 0 when every selected host is ok or changed, 1 otherwise (usage errors throw InputError: 2). */
export function exitCodeFor(result: DeployResult): number {
  return result.ok ? EXIT.ok : EXIT.failed;
}

/** The machine-readable result (--json): stable keys, secrets already absent from diffs. */
export function toJson(result: DeployResult): string {
  return JSON.stringify(result, null, 2);
}
