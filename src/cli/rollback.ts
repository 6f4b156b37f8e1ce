// `haup rollback INVENTORY [--to ID] [--list] [--packages] [--force] [--json]`: put the hosts
// back as they were before a deploy, from the journals the deploy left on each host
// (/var/lib/haup/journal). BACKUP LBs first, the MASTER LB after them, webs last; then verify.
// Exit 0: rolled back (and verify passed); 1: refused (hand-edited files), a host failed, or
// verify failed; 2: bad input.
import type { Command } from 'commander';
import { errorText } from '../engine/results.ts';
import { capturePathStates } from '../engine/after.ts';
import { loadInventory } from '../inventory/load.ts';
import type { Host } from '../inventory/model.ts';
import { NGINX_ROOT } from '../roles/nginx.ts';
import { lbRolloutOrder } from '../roles/index.ts';
import { HAUPD_ETC, HAUPD_ROOT, HAUPD_UNIT } from '../roles/vrrp.ts';
import { EXIT, HaupError, InputError } from '../util/errors.ts';
import { applyHostRollback, readJournals, serviceStates, type HostOutcome } from '../rollback/remote.ts';
import { deployIds, describeDrift, latestActive, listDeploys, planHostRollback, type HostJournals, type HostRollbackPlan, type ServiceFiles } from '../rollback/plan.ts';
import { Cluster } from '../verify/cluster.ts';
import { table } from '../verify/report.ts';
import { verifyCluster, type VerifyResult } from './verify.ts';
import { newDeployId } from '../engine/deploy-id.ts';

export const SERVICE_FILES: ServiceFiles[] = [
  { service: 'nginx', restart: [], reload: [NGINX_ROOT] },
  { service: 'haupd.service', restart: [HAUPD_ROOT, HAUPD_UNIT], reload: [HAUPD_ETC] },
];

export interface RollbackCliOptions {
  to?: string;
  list?: boolean;
  packages?: boolean;
  force?: boolean;
  json?: boolean;
  /** false: do not run verify afterwards (tests of the first deploy's rollback). */
  verify?: boolean;
  out?: NodeJS.WritableStream;
}

export interface RollbackResult {
  target: string | null;
  plans: HostRollbackPlan[];
  outcomes: HostOutcome[];
  verify: VerifyResult | null;
  ok: boolean;
}

/** Rollback order: BACKUP LBs (lowest priority first), the MASTER LBs, then the webs. */
function orderedHosts(inv: Cluster['inv']): Host[] {
  return [...lbRolloutOrder(inv), ...inv.web];
}

export async function rollback(file: string, o: RollbackCliOptions = {}): Promise<{ result: RollbackResult; code: number }> {
  const out = o.out ?? process.stdout;
  const inv = await loadInventory(file, { secrets: 'require' });
  const cluster = new Cluster(inv);
  try {
    const hosts = orderedHosts(inv);
    const journals: HostJournals[] = await Promise.all(hosts.map(async (h) => readJournals(await cluster.conn(h.name))));

    if (o.list) {
      const listing = listDeploys(journals);
      if (o.json) out.write(JSON.stringify({ deploys: listing }, null, 2) + '\n');
      else if (listing.length === 0) out.write('no deploy journals on any host\n');
      else {
        const rows = [['DEPLOY ID', 'TIME', 'HOSTS (files managed / created, packages installed)', 'STATE']];
        for (const d of listing) {
          const hostsText = d.hosts.map((h) => `${h.host} ${h.files}/${h.created}${h.packages.length ? ` +${h.packages.join(',')}` : ''}`).join('  ');
          const rolled = d.hosts.filter((h) => h.rolledBackAt);
          rows.push([d.id, d.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), hostsText, rolled.length === 0 ? 'in force' : rolled.length === d.hosts.length ? `rolled back ${rolled[0]!.rolledBackAt!.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : `partly rolled back (${rolled.map((h) => h.host).join(', ')})`]);
        }
        out.write(table(rows) + '\n`haup rollback INVENTORY --to ID` puts the hosts back as they were right before ID.\n');
      }
      return { result: { target: null, plans: [], outcomes: [], verify: null, ok: true }, code: EXIT.ok };
    }

    const known = deployIds(journals);
    if (o.to && !known.includes(o.to)) throw new InputError(`--to: no deploy ${o.to} in the journals of ${hosts.map((h) => h.name).join(', ')}`, [], known.length ? `known: ${known.join(', ')} (see --list)` : 'no deploy journals at all');
    const target = o.to ?? latestActive(journals);
    if (!target) throw new HaupError('nothing to roll back: every deploy in the journals is rolled back already (or there is none)', EXIT.failed, 'see `haup rollback INVENTORY --list`');
    if (o.to && !journals.some((h) => h.deploys.some((d) => d.record.deployId >= target && d.rolledBack === null))) {
      throw new HaupError(`deploy ${target} and every later one are rolled back already`, EXIT.failed, 'see --list');
    }

    // Plan every host before touching any: a refusal must leave the whole cluster untouched.
    const plans: HostRollbackPlan[] = [];
    for (const j of journals) {
      const undone = j.deploys.filter((d) => d.record.deployId >= target && d.rolledBack === null);
      if (undone.length === 0) continue;
      const conn = await cluster.conn(j.host);
      const paths = [...new Set(undone.flatMap((d) => d.record.files.map((f) => f.path)))];
      const services = [...new Set(undone.flatMap((d) => d.record.services.map((s) => s.name)))];
      plans.push(
        planHostRollback({
          journals: j,
          target,
          current: await capturePathStates(conn, paths),
          services: await serviceStates(conn, services),
          packages: o.packages === true,
          serviceFiles: SERVICE_FILES,
        }),
      );
    }
    const drift = plans.flatMap((p) => p.drift.map((d) => ({ host: p.host, ...d })));
    if (drift.length > 0 && !o.force) {
      const lines = drift.map((d) => `  ${d.host}: ${d.path}: ${d.why}: ${describeDrift(d.expected, d.actual)}`);
      throw new HaupError(
        `refusing to roll back ${target}: ${drift.length} managed ${drift.length === 1 ? 'file was' : 'files were'} changed since haup wrote ${drift.length === 1 ? 'it' : 'them'}:\n${lines.join('\n')}`,
        EXIT.failed,
        'a rollback would overwrite these changes; keep a copy, then run again with --force',
      );
    }

    const rollbackId = newDeployId();
    const outcomes: HostOutcome[] = [];
    const log = o.json ? process.stderr : out;
    log.write(`rolling back to the state before ${target}${drift.length ? ` (--force: overwriting ${drift.length} changed ${drift.length === 1 ? 'file' : 'files'})` : ''}\n`);
    for (const p of plans) {
      const r = await applyHostRollback(await cluster.conn(p.host), p, rollbackId);
      outcomes.push(r);
      const counts = `${p.files.filter((f) => f.kind === 'write' || f.kind === 'symlink').length} restored, ${p.files.filter((f) => f.kind === 'remove' || f.kind === 'remove-dir').length} removed, ${p.unchanged.length} unchanged${p.stopFirst.length ? `, stopped first: ${p.stopFirst.join(' ')}` : ''}${p.packages.length ? `, packages purged: ${p.packages.join(' ')}` : ''}${p.services.length ? `, services: ${p.services.map((s) => `${s.name} ${[s.enable === true ? 'enabled' : s.enable === false ? 'disabled' : '', s.state === 'unchanged' ? '' : s.state].filter(Boolean).join(' ')}`).join(', ')}` : ''}`;
      log.write(`[${p.host}] ${r.ok ? 'ROLLED BACK' : 'FAILED'} (${p.undo.join(', ')}): ${counts}${r.error ? `\n  error: ${r.error}` : ''}\n`);
      if (!r.ok) break;
    }
    const ok = outcomes.length === plans.length && outcomes.every((x) => x.ok);
    let verifyResult: VerifyResult | null = null;
    const remains = journals.some((j) => inv.lb.some((l) => l.name === j.host) && j.deploys.some((d) => d.record.deployId < target && d.rolledBack === null));
    if (ok && o.verify !== false) {
      if (remains) {
        log.write('\nverify:\n');
        verifyResult = await verifyCluster(cluster, { json: false, out: log });
      } else log.write('verify skipped: no earlier deploy is in force on the LBs (the first deploy was undone)\n');
    }
    const result: RollbackResult = { target, plans, outcomes, verify: verifyResult, ok: ok && (verifyResult?.ok ?? true) };
    if (o.json) out.write(JSON.stringify({ ...result, plans: plans.map(planJson) }, null, 2) + '\n');
    return { result, code: result.ok ? EXIT.ok : EXIT.failed };
  } finally {
    await cluster.close();
  }
}

/** The plan without bytes or hashes (a secret's pre-image or its short hash must not leak). */
function planJson(p: HostRollbackPlan) {
  return {
    ...p,
    files: p.files.map((f) => (f.kind === 'write' ? { kind: f.kind, path: f.path, mode: f.pre.mode.toString(8).padStart(4, '0'), owner: f.pre.owner, group: f.pre.group } : f)),
    drift: p.drift.map((d) => ({ path: d.path, why: d.why, what: describeDrift(d.expected, d.actual) })),
  };
}

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description('put the hosts back as they were before the last deploy (or before --to ID), from the journals on the hosts; then verify')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--to <id>', 'undo this deploy and every later one (see --list)')
    .option('--list', 'list the deploys in the journals: id, time, hosts, files, whether rolled back')
    .option('--packages', 'also purge the packages the undone deploys installed')
    .option('--force', 'roll back even when managed files were changed by hand since the deploy (they are overwritten)')
    .option('--json', 'machine-readable result on stdout (progress on stderr)')
    .addHelpText('after', '\nExit codes: 0 rolled back and verified, 1 refused / a host failed / verify failed, 2 bad input.')
    .action(async (file: string, opts: RollbackCliOptions) => {
      try {
        const { code } = await rollback(file, opts);
        process.exitCode = code;
      } catch (e) {
        if (e instanceof HaupError) throw e;
        throw new HaupError(errorText(e).message);
      }
    });
}
