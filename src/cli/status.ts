// `haup status INVENTORY`: the cluster as every haupd sees it (its status socket, read over SSH).
// Exit 0 when every LB answered; 1 when one did not.
import type { Command } from 'commander';
import { errorText } from '../engine/results.ts';
import { loadInventory } from '../inventory/load.ts';
import type { Inventory } from '../inventory/model.ts';
import { EXIT } from '../util/errors.ts';
import { Cluster, haupdStatusOf, type HaupdStatusDoc } from '../verify/cluster.ts';
import { table } from '../verify/report.ts';

export interface StatusRow {
  lb: string;
  instance: string;
  state: string;
  priority: number | null;
  effectivePriority: number | null;
  /** Inventory name of the master this LB sees (or its address, or "self"). */
  masterSeen: string | null;
  lastTransition: { at: string | null; from: string; to: string; reason: string } | null;
  vipsHeld: boolean | null;
  faults: string[];
  error?: string;
}

/** Pure: status documents -> one row per LB and instance. */
export function statusRows(inv: Inventory, docs: Record<string, HaupdStatusDoc | { error: string }>): StatusRow[] {
  const nameOf = new Map(inv.lb.map((h) => [h.address, h.name]));
  const rows: StatusRow[] = [];
  for (const lb of inv.lb) {
    const doc = docs[lb.name];
    const instances = inv.vrrp.instances.filter((i) => i.members.some((m) => m.host === lb.name));
    for (const inst of instances) {
      const base = { lb: lb.name, instance: inst.name };
      if (!doc || 'error' in doc) {
        rows.push({ ...base, state: 'unknown', priority: null, effectivePriority: null, masterSeen: null, lastTransition: null, vipsHeld: null, faults: [], error: doc && 'error' in doc ? doc.error : 'no answer' });
        continue;
      }
      const i = doc.instances.find((x) => x.name === inst.name);
      if (!i) {
        rows.push({ ...base, state: 'not running', priority: null, effectivePriority: null, masterSeen: null, lastTransition: null, vipsHeld: null, faults: [], error: `haupd runs no instance ${inst.name}` });
        continue;
      }
      const seen = i.masterSeen ? (i.masterSeen.self ? 'self' : (nameOf.get(i.masterSeen.address) ?? i.masterSeen.address)) : null;
      rows.push({
        ...base,
        state: i.state,
        priority: i.priority,
        effectivePriority: i.effectivePriority,
        masterSeen: seen,
        lastTransition: i.lastTransition ? { at: i.lastTransition.at ?? null, from: i.lastTransition.from, to: i.lastTransition.to, reason: i.lastTransition.reason } : null,
        vipsHeld: i.vipsHeld,
        faults: i.faults.map((f) => `${f.source}: ${f.reason}`),
      });
    }
  }
  return rows;
}

export function renderStatus(rows: StatusRow[], now = Date.now()): string {
  const ago = (at: string | null) => {
    if (!at) return '';
    const s = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
    return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  };
  const body = [['LB', 'INSTANCE', 'STATE', 'PRIO', 'EFFECTIVE', 'MASTER SEEN', 'VIPS', 'LAST TRANSITION']];
  for (const r of rows) {
    body.push([
      r.lb,
      r.instance,
      r.state,
      r.priority === null ? '-' : String(r.priority),
      r.effectivePriority === null ? '-' : String(r.effectivePriority),
      r.masterSeen ?? '-',
      r.vipsHeld === null ? '-' : r.vipsHeld ? 'held' : '-',
      r.error ? r.error : r.lastTransition ? `${r.lastTransition.from} -> ${r.lastTransition.to} ${ago(r.lastTransition.at)}: ${r.lastTransition.reason}` : '-',
    ]);
  }
  const lines = [table(body)];
  for (const r of rows) for (const f of r.faults) lines.push(`${r.lb} ${r.instance} fault: ${f}`);
  return lines.join('\n');
}

export async function status(file: string, o: { json?: boolean; out?: NodeJS.WritableStream } = {}): Promise<{ rows: StatusRow[]; code: number }> {
  const out = o.out ?? process.stdout;
  const inv = await loadInventory(file, { secrets: 'require' });
  const cluster = new Cluster(inv);
  try {
    const docs: Record<string, HaupdStatusDoc | { error: string }> = {};
    await Promise.all(inv.lb.map(async (lb) => (docs[lb.name] = await haupdStatusOf(cluster, lb.name).catch((e) => ({ error: errorText(e).message })))));
    const rows = statusRows(inv, docs);
    out.write((o.json ? JSON.stringify({ lbs: rows }, null, 2) : renderStatus(rows)) + '\n');
    return { rows, code: rows.some((r) => r.error) ? EXIT.failed : EXIT.ok };
  } finally {
    await cluster.close();
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("every LB's haupd: per instance its state, priority, effective priority, master seen, last transition and why")
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExit codes: 0 every LB answered, 1 an LB did not (or haupd is not running), 2 bad input.')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { code } = await status(file, opts);
      process.exitCode = code;
    });
}
