// Rollback's effects on one host: read the deploy journals (with after-images and rollback
// marks) from /var/lib/haup/journal, read the current state of services, and apply a plan.
import { shq, type Connection } from '../connectors/connection.ts';
import { capturePathStates, serializeAfter, type PathState } from '../engine/after.ts';
import { restorePreImage } from '../engine/files.ts';
import { REMOTE_JOURNAL_ROOT } from '../engine/journal.ts';
import type { ServiceFact } from '../facts/types.ts';
import { HostError } from '../util/errors.ts';
import type { HostJournals, HostRollbackPlan } from './plan.ts';
import { decidePurge, extraRemovals, installedByDeploys, packageStateScript, parseAptSimulation, parsePackageState, type DeployWindow, type PurgeDecision } from './packages.ts';
import { noCopies, resolveHostJournals, type CopyKind, type CopyTexts } from './sources.ts';

export const ROLLBACK_MARK = 'rollback.json';
const MARK = '@@haup';

/** Pure: the script that prints every deploy directory and its journal, after-image and rollback mark (base64, one per line). */
export function readJournalsScript(root = REMOTE_JOURNAL_ROOT): string {
  return [
    `root=${shq(root)}`,
    `if [ -d "$root" ]; then for d in "$root"/*/; do`,
    '  [ -d "$d" ] || continue; id=$(basename "$d")',
    `  echo "${MARK} dir $id"`,
    `  for f in journal after ${ROLLBACK_MARK.replace('.json', '')}; do`,
    `    if [ -f "$d/$f.json" ]; then echo "${MARK} $f $id"; base64 -w0 "$d/$f.json" || exit 1; echo; fi`,
    '  done',
    'done; fi',
    `echo '${MARK} end'`,
  ].join('\n');
}

/** Pure: the raw texts per deploy directory on the host (a directory without files has all null). */
export function parseJournalListing(host: string, out: string): Map<string, CopyTexts> {
  const lines = out.split('\n');
  if (!lines.includes(`${MARK} end`)) throw new HostError(host, 'the journal listing is truncated');
  const byId = new Map<string, CopyTexts>();
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^${MARK} (dir|journal|after|rollback) (\\S+)$`).exec(lines[i]!);
    if (!m) continue;
    const e = byId.get(m[2]!) ?? noCopies();
    byId.set(m[2]!, e);
    if (m[1] === 'dir') continue;
    e[m[1] as CopyKind] = Buffer.from(lines[++i] ?? '', 'base64').toString('utf8');
  }
  return byId;
}

/** The host's copies only (no control machine copy): what the host alone says. Pure. */
export function parseJournalsOutput(host: string, out: string, root = REMOTE_JOURNAL_ROOT): HostJournals {
  const copies = [...parseJournalListing(host, out)].map(([id, texts]) => ({ id, host: texts, control: noCopies() }));
  const r = resolveHostJournals(host, copies, { remoteRoot: root, controlDir: '(none)' });
  if (r.problems.length > 0) throw new HostError(host, r.problems.map((p) => `deploy ${p.deployId}: ${p.message}`).join('; '));
  return r.journals;
}

export async function readHostCopies(conn: Connection, root = REMOTE_JOURNAL_ROOT): Promise<Map<string, CopyTexts>> {
  const r = await conn.exec('sh -s', { stdin: readJournalsScript(root), timeoutMs: 120_000 });
  if (r.code !== 0) throw new HostError(conn.host, `cannot read the deploy journals in ${root}: ${r.stderr.toString().trim()}`);
  return parseJournalListing(conn.host, r.stdout.toString('latin1'));
}

export async function readJournals(conn: Connection, root = REMOTE_JOURNAL_ROOT): Promise<HostJournals> {
  const r = await conn.exec('sh -s', { stdin: readJournalsScript(root), timeoutMs: 120_000 });
  if (r.code !== 0) throw new HostError(conn.host, `cannot read the deploy journals in ${root}: ${r.stderr.toString().trim()}`);
  return parseJournalsOutput(conn.host, r.stdout.toString('latin1'), root);
}

export async function serviceStates(conn: Connection, names: string[]): Promise<Record<string, ServiceFact>> {
  if (names.length === 0) return {};
  const script = names.map((n) => `printf '%s|%s|%s\\n' ${shq(n)} "$(systemctl is-enabled ${shq(n)} 2>/dev/null)" "$(systemctl is-active ${shq(n)} 2>/dev/null)"`).join('\n');
  const r = await conn.exec(script);
  const out: Record<string, ServiceFact> = {};
  for (const line of r.stdout.toString().split('\n')) {
    const [name, enabled, active] = line.split('|');
    if (name) out[name] = { enabled: enabled || 'not-found', active: active || 'inactive' };
  }
  return out;
}

export interface HostOutcome {
  host: string;
  ok: boolean;
  /** What was done, in order (for the report). */
  done: string[];
  error?: string;
  /** The rollback marks written on the host, per deploy id (the control machine keeps a copy). */
  marks?: Record<string, string>;
}

async function must(conn: Connection, cmd: string, done: string[], timeoutMs = 120_000): Promise<void> {
  const r = await conn.exec(cmd, { timeoutMs });
  if (r.code !== 0) throw new HostError(conn.host, `\`${cmd}\` exited ${r.code}: ${(r.stderr.toString().trim() || r.stdout.toString().trim()).split('\n').slice(-5).join(' ')}`);
  done.push(cmd);
}

/** Apply one host's plan, then mark its undone deploys as rolled back (with the state left). */
export async function applyHostRollback(conn: Connection, plan: HostRollbackPlan, rollbackId: string, root = REMOTE_JOURNAL_ROOT): Promise<HostOutcome> {
  const done: string[] = [];
  try {
    for (const s of plan.stopFirst) await must(conn, `systemctl stop ${shq(s)}`, done);
    // Disable while the unit file is still there (the files step may remove it).
    for (const s of plan.services) if (s.enable === false) await must(conn, `systemctl disable ${shq(s.name)}`, done);
    for (const a of plan.files) {
      switch (a.kind) {
        case 'write':
        case 'symlink': {
          const pre = a.kind === 'write' ? a.pre : { path: a.path, state: 'symlink' as const, target: a.target };
          const out = await restorePreImage(conn, pre, rollbackId);
          if (!out.ok) throw new HostError(conn.host, `cannot restore ${a.path}: ${out.message}`);
          done.push(a.kind === 'write' ? `restored ${a.path} (${a.pre.mode.toString(8).padStart(4, '0')} ${a.pre.owner}:${a.pre.group})` : `restored ${a.path} -> ${a.target}`);
          break;
        }
        case 'remove':
          await must(conn, `rm -f -- ${shq(a.path)}`, done);
          break;
        case 'remove-dir': {
          const r = await conn.exec(`rmdir -- ${shq(a.path)}`);
          done.push(r.code === 0 ? `rmdir ${a.path}` : `left ${a.path}: not empty (files haup does not manage)`);
          break;
        }
        case 'dir-attrs':
          await must(conn, `chmod ${a.mode.toString(8).padStart(4, '0')} ${shq(a.path)} && chown ${shq(a.owner)}:${shq(a.group)} ${shq(a.path)}`, done);
          break;
        case 'leave':
          done.push(`left ${a.path}: ${a.why}`);
          break;
      }
    }
    if (plan.daemonReload) await must(conn, 'systemctl daemon-reload', done);
    if (plan.packages.length > 0) {
      const apt = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120';
      // Exactly the planned list (deploy's packages + the dependencies they pulled in), never a
      // blanket autoremove: that would also take packages orphaned before haup came.
      await must(conn, `${apt} purge -y -q ${plan.packages.map(shq).join(' ')}`, done, 600_000);
    }
    for (const s of plan.services) {
      const n = shq(s.name);
      if (s.enable === true) await must(conn, `systemctl enable ${n}`, done);
      if (s.state === 'started') await must(conn, `systemctl start ${n}`, done);
      if (s.state === 'stopped') await must(conn, `systemctl stop ${n}`, done);
      if (s.state === 'reloaded') await must(conn, `systemctl reload ${n}`, done);
      if (s.state === 'restarted') await must(conn, `systemctl restart ${n}`, done);
    }
    const marks = await markRolledBack(conn, plan, root);
    return { host: conn.host, ok: true, done, marks };
  } catch (e) {
    return { host: conn.host, ok: false, done, error: (e as Error).message };
  }
}

async function markRolledBack(conn: Connection, plan: HostRollbackPlan, root: string): Promise<Record<string, string>> {
  const paths = [...new Set([...plan.files.map((f) => f.path), ...plan.unchanged])];
  const files: PathState[] = await capturePathStates(conn, paths);
  const at = new Date().toISOString();
  const marks: Record<string, string> = {};
  for (const id of plan.undo) {
    const text = serializeAfter({ deployId: id, host: conn.host, capturedAt: at, files });
    const dir = `${root}/${id}`;
    // mkdir: the host's journal directory may be gone (the journal came from the control machine).
    const r = await conn.exec('sh -s', { stdin: `umask 077 && mkdir -p ${shq(dir)} && cat > ${shq(`${dir}/${ROLLBACK_MARK}`)} <<'HAUP_MARK_EOF'\n${text}HAUP_MARK_EOF\n` });
    if (r.code !== 0) throw new HostError(conn.host, `cannot mark deploy ${id} as rolled back: ${r.stderr.toString().trim()}`);
    marks[id] = text;
  }
  return marks;
}

export interface PackagePlan extends PurgeDecision {
  /** Packages the final purge would remove beyond the decided list (the rollback must refuse). */
  extra: string[];
}

async function simulate(conn: Connection, args: string): Promise<string[]> {
  const r = await conn.exec(`LC_ALL=C apt-get -s -q ${args}`, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new HostError(conn.host, `\`apt-get -s ${args}\` exited ${r.code}: ${r.stderr.toString().trim().split('\n').slice(-3).join(' ')}`);
  return parseAptSimulation(r.stdout.toString());
}

/**
 * What `--packages` purges on this host (see packages.ts): apt's state and history read, the
 * decision made, and the final purge simulated. Changes nothing.
 */
export async function planPackages(conn: Connection, journaled: string[], windows: DeployWindow[], presentBefore: Set<string> | null = null): Promise<PackagePlan> {
  const r = await conn.exec('sh -s', { stdin: packageStateScript(), timeoutMs: 120_000 });
  if (r.code !== 0) throw new HostError(conn.host, `cannot read the package state: ${r.stderr.toString().trim()}`);
  const { state, history } = parsePackageState(r.stdout.toString('latin1'));
  const fromHistory = installedByDeploys(history, windows);
  const present = [...new Set(journaled)].filter((p) => p in state.installed).sort();
  const candidates = [...fromHistory.pulledIn].some((p) => p in state.installed);
  const autoremoveSim = present.length > 0 ? await simulate(conn, `purge --autoremove ${present.map(shq).join(' ')}`) : candidates ? await simulate(conn, 'autoremove --purge') : [];
  const decision = decidePurge({ journaled, fromHistory, presentBefore, state, autoremoveSim });
  const extra = decision.purge.length > 0 ? extraRemovals(decision.purge, await simulate(conn, `purge ${decision.purge.map(shq).join(' ')}`)) : [];
  return { ...decision, extra };
}
