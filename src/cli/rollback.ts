// `haup rollback INVENTORY [--to ID] [--list] [--packages] [--force] [--json]`: put the hosts
// back as they were before a deploy, from the journals the deploy left on each host
// (/var/lib/haup/journal) or, when a host's is missing or differs, this machine's copy
// (--journal-dir; see rollback/sources.ts). Every host is planned before any changes. BACKUP LBs first, the MASTER LB after them, webs last; then verify.
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
import { applyHostRollback, planPackages, readHostCopies, serviceStates, type HostOutcome } from '../rollback/remote.ts';
import { readControlCopies, writeControlMark } from '../rollback/control.ts';
import { describeProblems, noCopies, resolveHostJournals, type JournalNote, type JournalProblem } from '../rollback/sources.ts';
import type { DeployWindow } from '../rollback/packages.ts';
import { defaultJournalDir, REMOTE_JOURNAL_ROOT } from '../engine/journal.ts';
import { deployIds, describeDrift, latestActive, listDeploys, planHostRollback, type HostJournals, type HostRollbackPlan, type ServiceFiles } from '../rollback/plan.ts';
import { Cluster } from '../verify/cluster.ts';
import { table } from '../verify/report.ts';
import { waitSettled } from '../verify/settle.ts';
import { verifyCluster, type VerifyResult } from './verify.ts';
import { newDeployId } from '../engine/deploy-id.ts';

export const SERVICE_FILES: ServiceFiles[] = [
  { service: 'nginx', restart: [], reload: [NGINX_ROOT] },
  { service: 'haupd.service', restart: [HAUPD_ROOT, HAUPD_UNIT], reload: [HAUPD_ETC] },
];

/** How long the final verify waits for restarted services to agree again. */
const SETTLE_MS = 60_000;

export interface RollbackCliOptions {
  to?: string;
  list?: boolean;
  packages?: boolean;
  force?: boolean;
  json?: boolean;
  /** The control machine's journal directory (default: deploy's default). */
  journalDir?: string;
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
  /** Which journal copies were used where it matters (the control machine's, a mismatch). */
  journalNotes: JournalNote[];
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
    // Both copies of every journal: the host's and this machine's (see rollback/sources.ts).
    const controlDir = o.journalDir ?? defaultJournalDir();
    const places = { remoteRoot: REMOTE_JOURNAL_ROOT, controlDir };
    const resolved = await Promise.all(
      hosts.map(async (h) => {
        const [onHost, here] = await Promise.all([readHostCopies(await cluster.conn(h.name)), readControlCopies(controlDir, h.name)]);
        const ids = [...new Set([...onHost.keys(), ...here.keys()])];
        return resolveHostJournals(h.name, ids.map((id) => ({ id, host: onHost.get(id) ?? noCopies(), control: here.get(id) ?? noCopies() })), places);
      }),
    );
    const journals: HostJournals[] = resolved.map((r) => r.journals);
    const journalNotes = resolved.flatMap((r) => r.notes);
    const journalProblems = resolved.flatMap((r) => r.problems);
    const log = o.json ? process.stderr : out;

    if (o.list) {
      const listing = listDeploys(journals);
      for (const n of journalNotes) log.write(`journal: ${n.text}\n`);
      for (const p of journalProblems) log.write(`journal: ${p.host}: deploy ${p.deployId}: no usable journal: ${p.message}\n`);
      if (o.json) out.write(JSON.stringify({ deploys: listing, journalNotes, journalProblems }, null, 2) + '\n');
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
      return { result: { target: null, plans: [], outcomes: [], verify: null, ok: true, journalNotes }, code: EXIT.ok };
    }

    const known = [...new Set([...deployIds(journals), ...journalProblems.map((p) => p.deployId)])].sort();
    if (o.to && !known.includes(o.to)) throw new InputError(`--to: no deploy ${o.to} in the journals of ${hosts.map((h) => h.name).join(', ')}`, [], known.length ? `known: ${known.join(', ')} (see --list)` : 'no deploy journals at all');
    // A deploy whose journal is lost everywhere still counts: it is newer than what the rest say.
    const newestLost = journalProblems.map((p) => p.deployId).sort().at(-1);
    const latest = latestActive(journals);
    const target = o.to ?? (newestLost && (!latest || newestLost > latest) ? newestLost : latest);
    if (!target) throw new HaupError('nothing to roll back: every deploy in the journals is rolled back already (or there is none)', EXIT.failed, 'see `haup rollback INVENTORY --list`');
    const blocking: JournalProblem[] = journalProblems.filter((p) => p.deployId >= target);
    if (o.to && blocking.length === 0 && !journals.some((h) => h.deploys.some((d) => d.record.deployId >= target && d.rolledBack === null))) {
      throw new HaupError(`deploy ${target} and every later one are rolled back already`, EXIT.failed, 'see --list');
    }

    // Plan every host before touching any: a refusal must leave the whole cluster untouched.
    if (blocking.length > 0) {
      const d = describeProblems(blocking, controlDir);
      throw new HaupError(d.message, EXIT.failed, d.hint);
    }
    const plans: HostRollbackPlan[] = [];
    const packageProblems: string[] = [];
    for (const j of journals) {
      const undone = j.deploys.filter((d) => d.record.deployId >= target && d.rolledBack === null);
      if (undone.length === 0) continue;
      const conn = await cluster.conn(j.host);
      const paths = [...new Set(undone.flatMap((d) => d.record.files.map((f) => f.path)))];
      const services = [...new Set(undone.flatMap((d) => d.record.services.map((s) => s.name)))];
      let purge: Parameters<typeof planHostRollback>[0]['purge'];
      if (o.packages) {
        const journaled = [...new Set(undone.flatMap((d) => d.record.packagesInstalled))];
        const p = await planPackages(await cluster.conn(j.host), journaled, deployWindows(j, undone.map((d) => d.record.deployId)));
        if (p.extra.length > 0) packageProblems.push(`  ${j.host}: purging ${p.purge.join(' ')} would also remove ${p.extra.join(' ')}, which the deploy did not install`);
        purge = p;
      }
      plans.push(
        planHostRollback({
          journals: j,
          target,
          current: await capturePathStates(conn, paths),
          services: await serviceStates(conn, services),
          packages: o.packages === true,
          ...(purge ? { purge } : {}),
          serviceFiles: SERVICE_FILES,
        }),
      );
    }
    if (packageProblems.length > 0) {
      throw new HaupError(`refusing to roll back ${target} with --packages (nothing was changed on any host):\n${packageProblems.join('\n')}`, EXIT.failed, 'remove those packages first, or roll back without --packages');
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
    // Said for the deploys undone now (the others only matter to --list).
    const undoneNotes = journalNotes.filter((n) => plans.some((p) => p.host === n.host && p.undo.includes(n.deployId)));
    for (const n of undoneNotes) log.write(`journal: ${n.text}\n`);
    log.write(`rolling back to the state before ${target}${drift.length ? ` (--force: overwriting ${drift.length} changed ${drift.length === 1 ? 'file' : 'files'})` : ''}\n`);
    for (const p of plans) {
      const r = await applyHostRollback(await cluster.conn(p.host), p, rollbackId);
      // This machine keeps a copy of the marks too: a host whose journal directory is lost later
      // still reads as rolled back.
      for (const [id, text] of Object.entries(r.marks ?? {})) await writeControlMark(controlDir, id, p.host, text).catch((e: unknown) => log.write(`warning: cannot keep a copy of the rollback mark of ${id} for ${p.host} in ${controlDir}: ${errorText(e).message}\n`));
      delete r.marks;
      outcomes.push(r);
      const counts = `${p.files.filter((f) => f.kind === 'write' || f.kind === 'symlink').length} restored, ${p.files.filter((f) => f.kind === 'remove' || f.kind === 'remove-dir').length} removed, ${p.unchanged.length} unchanged${p.stopFirst.length ? `, stopped first: ${p.stopFirst.join(' ')}` : ''}${p.packages.length ? `, packages purged: ${p.packages.join(' ')}` : ''}${p.services.length ? `, services: ${p.services.map((s) => `${s.name} ${[s.enable === true ? 'enabled' : s.enable === false ? 'disabled' : '', s.state === 'unchanged' ? '' : s.state].filter(Boolean).join(' ')}`).join(', ')}` : ''}`;
      log.write(`[${p.host}] ${r.ok ? 'ROLLED BACK' : 'FAILED'} (${p.undo.join(', ')}): ${counts}${r.error ? `\n  error: ${r.error}` : ''}\n`);
      if (p.packagesKept.length) log.write(`  packages kept: ${p.packagesKept.map((k) => `${k.name} (${k.why})`).join(', ')}\n`);
      for (const n of p.packageNotes) log.write(`  ${n}\n`);
      if (!r.ok) break;
    }
    const ok = outcomes.length === plans.length && outcomes.every((x) => x.ok);
    let verifyResult: VerifyResult | null = null;
    const remains = journals.some((j) => inv.lb.some((l) => l.name === j.host) && j.deploys.some((d) => d.record.deployId < target && d.rolledBack === null));
    if (ok && o.verify !== false) {
      if (remains) {
        // Services the rollback restarted need a moment to agree again (bounded wait, then verify).
        if (plans.some((p) => p.services.length > 0 || p.stopFirst.length > 0)) {
          const s = await waitSettled(cluster, SETTLE_MS);
          log.write(s === null ? `\nthe cluster did not settle within ${SETTLE_MS / 1000} s; verify reports its state now\n` : s > 0 ? `\nsettled after ${s} s\n` : '');
        }
        log.write('\nverify:\n');
        verifyResult = await verifyCluster(cluster, { json: false, out: log });
      } else log.write('verify skipped: no earlier deploy is in force on the LBs (the first deploy was undone)\n');
    }
    const result: RollbackResult = { target, plans, outcomes, verify: verifyResult, ok: ok && (verifyResult?.ok ?? true), journalNotes: undoneNotes };
    if (o.json) out.write(JSON.stringify({ ...result, plans: plans.map(planJson) }, null, 2) + '\n');
    return { result, code: result.ok ? EXIT.ok : EXIT.failed };
  } finally {
    await cluster.close();
  }
}

/** Each undone deploy's time window on this host: from its journal until its after-image (else the next deploy, else now). */
function deployWindows(h: HostJournals, ids: string[]): DeployWindow[] {
  return h.deploys
    .map((d, i) => ({ d, next: h.deploys[i + 1] }))
    .filter(({ d }) => ids.includes(d.record.deployId))
    .map(({ d, next }) => ({
      deployId: d.record.deployId,
      fromMs: Date.parse(d.record.createdAt),
      toMs: d.after ? Date.parse(d.after.capturedAt) : next ? Date.parse(next.record.createdAt) : Date.now(),
      packages: d.record.packagesInstalled,
    }));
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
    .description('put the hosts back as they were before the last deploy (or before --to ID), from the deploy journals (the host\'s, or this machine\'s copy when the host\'s is missing or differs); then verify')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--to <id>', 'undo this deploy and every later one (see --list)')
    .option('--list', 'list the deploys in the journals: id, time, hosts, files, whether rolled back')
    .option('--packages', 'also purge the packages the undone deploys installed')
    .option('--journal-dir <dir>', "this machine's copies of the deploy journals, used when a host's is missing or differs (default: deploy's, $XDG_STATE_HOME/haup/journal)")
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
