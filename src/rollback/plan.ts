// Rollback planning, pure: the deploy journals of one host (pre-images, after-images, rollback
// marks) + the host's current state -> what to put back, in which order, or a refusal listing
// the managed files someone changed since haup last wrote them.
//
// Semantics: `rollback` undoes the latest deploy that is not rolled back yet; `--to ID` undoes ID
// and every later deploy (the hosts return to the state right before ID). For each path the
// pre-image of the OLDEST undone deploy that journaled it is what comes back.
import type { PathState } from '../engine/after.ts';
import type { AfterRecord } from '../engine/after.ts';
import type { JournalRecord, PreImage } from '../engine/journal.ts';
import type { ServiceFact } from '../facts/types.ts';

export interface RollbackMark {
  /** When the rollback that undid this deploy finished (ISO). */
  at: string;
  /** The managed paths as that rollback left them (the next rollback's drift reference). */
  files: PathState[];
}

export interface DeployEntry {
  record: JournalRecord;
  after: AfterRecord | null;
  rolledBack: RollbackMark | null;
}

export interface HostJournals {
  host: string;
  /** Sorted by deploy id (= time). */
  deploys: DeployEntry[];
}

export type FileAction =
  | { kind: 'write'; path: string; pre: Extract<PreImage, { state: 'file' }> }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'remove'; path: string }
  | { kind: 'remove-dir'; path: string }
  | { kind: 'dir-attrs'; path: string; mode: number; owner: string; group: string }
  | { kind: 'leave'; path: string; why: string };

export interface Drift {
  path: string;
  /** What haup left there (null: unknown, see why). */
  expected: PathState | null;
  actual: PathState;
  why: string;
}

export interface ServiceAction {
  name: string;
  enable?: boolean;
  /** Final state: started (and reloaded/restarted when its files came back), or stopped. */
  state: 'started' | 'stopped' | 'reloaded' | 'restarted' | 'unchanged';
}

export interface HostRollbackPlan {
  host: string;
  /** Deploy ids undone on this host, newest first. */
  undo: string[];
  files: FileAction[];
  /** Paths already as they were before: nothing to do. */
  unchanged: string[];
  drift: Drift[];
  /** Services that did not run before the deploy: stopped before their files go. */
  stopFirst: string[];
  daemonReload: boolean;
  packages: string[];
  /** --packages: what was looked at and kept, with why; notes (e.g. dependencies unknown). */
  packagesKept: { name: string; why: string }[];
  packageNotes: string[];
  services: ServiceAction[];
  /** A deploy older than the target is still in force here (verify makes sense afterwards). */
  deployRemains: boolean;
}

/** Which files make a running service reload or restart when they come back. */
export interface ServiceFiles {
  service: string;
  restart: string[];
  reload: string[];
}

const ENABLED = ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated'];
const isActive = (s: string) => s === 'active' || s === 'activating' || s === 'reloading';
const under = (path: string, prefix: string) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

export function isRolledBack(h: HostJournals, id: string): boolean {
  return h.deploys.some((d) => d.record.deployId === id && d.rolledBack !== null);
}

/** The deploy ids known on any host, oldest first. */
export function deployIds(hosts: HostJournals[]): string[] {
  return [...new Set(hosts.flatMap((h) => h.deploys.map((d) => d.record.deployId)))].sort();
}

/** The default target: the newest deploy some host has not rolled back yet (undefined: none). */
export function latestActive(hosts: HostJournals[]): string | undefined {
  return deployIds(hosts)
    .reverse()
    .find((id) => hosts.some((h) => h.deploys.some((d) => d.record.deployId === id && d.rolledBack === null)));
}

/** Pure equality of two path states (what drift means). */
export function sameState(a: PathState, b: PathState): boolean {
  if (a.state !== b.state) return false;
  switch (a.state) {
    case 'file': {
      const x = b as typeof a;
      return a.sha256 === x.sha256 && a.mode === x.mode && a.owner === x.owner && a.group === x.group;
    }
    case 'directory': {
      const x = b as typeof a;
      return a.mode === x.mode && a.owner === x.owner && a.group === x.group;
    }
    case 'symlink':
      return a.target === (b as typeof a).target;
    default:
      return true;
  }
}

/**
 * What differs between what haup left and what is there, without any hash or content (a secret
 * file's short hash could be brute-forced): "content", "mode 0644 -> 0666", "absent", ...
 */
export function describeDrift(expected: PathState | null, actual: PathState): string {
  if (!expected) return `now ${describeState(actual)}`;
  if (expected.state !== actual.state) return `${describeState(expected)} -> ${describeState(actual)}`;
  const parts: string[] = [];
  const mode = (m: number) => m.toString(8).padStart(4, '0');
  if (expected.state === 'file' && actual.state === 'file' && expected.sha256 !== actual.sha256) parts.push('content');
  if (expected.state === 'symlink' && actual.state === 'symlink') parts.push(`target ${expected.target} -> ${actual.target}`);
  if ((expected.state === 'file' || expected.state === 'directory') && (actual.state === 'file' || actual.state === 'directory')) {
    if (expected.mode !== actual.mode) parts.push(`mode ${mode(expected.mode)} -> ${mode(actual.mode)}`);
    if (expected.owner !== actual.owner || expected.group !== actual.group) parts.push(`owner ${expected.owner}:${expected.group} -> ${actual.owner}:${actual.group}`);
  }
  return parts.join(', ');
}

export function describeState(s: PathState | null): string {
  if (!s) return 'unknown';
  switch (s.state) {
    case 'file':
      return `file ${s.mode.toString(8).padStart(4, '0')} ${s.owner}:${s.group}`;
    case 'directory':
      return `directory ${s.mode.toString(8).padStart(4, '0')} ${s.owner}:${s.group}`;
    case 'symlink':
      return `symlink -> ${s.target}`;
    default:
      return s.state;
  }
}

function preAsState(p: PreImage): PathState {
  switch (p.state) {
    case 'file':
      return { path: p.path, state: 'file', sha256: p.sha256, mode: p.mode, owner: p.owner, group: p.group };
    case 'directory':
      return { path: p.path, state: 'directory', mode: p.mode, owner: p.owner, group: p.group };
    case 'symlink':
      return { path: p.path, state: 'symlink', target: p.target };
    default:
      return { path: p.path, state: p.state };
  }
}

/**
 * What haup last left at `path`: the latest event touching it — a deploy (its after-image) or a
 * rollback (its mark). A deploy that journaled the path but recorded no after-image (it was cut
 * short, or predates after-images) makes it unknown.
 */
export function expectedState(h: HostJournals, path: string): { state: PathState | null; why: string } {
  type Ev = { time: string; state: PathState | null; why: string };
  const events: Ev[] = [];
  for (const d of h.deploys) {
    if (!d.record.files.some((f) => f.path === path)) continue;
    const a = d.after?.files.find((f) => f.path === path) ?? null;
    events.push({ time: d.after?.capturedAt ?? d.record.createdAt, state: a, why: a ? `as deploy ${d.record.deployId} left it` : `deploy ${d.record.deployId} recorded no after-image` });
    if (d.rolledBack) {
      const m = d.rolledBack.files.find((f) => f.path === path) ?? null;
      events.push({ time: d.rolledBack.at, state: m, why: m ? `as the rollback of ${d.record.deployId} left it` : `the rollback of ${d.record.deployId} recorded no state` });
    }
  }
  events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const last = events[events.length - 1];
  return last ? { state: last.state, why: last.why } : { state: null, why: 'never deployed' };
}

export interface PlanInput {
  journals: HostJournals;
  /** Undo this deploy and every later one on this host. */
  target: string;
  /** Current state of every path the undone deploys journaled. */
  current: PathState[];
  /** Current systemd state of the journaled services. */
  services: Record<string, ServiceFact>;
  packages: boolean;
  /**
   * With `packages`: the purge decided from apt's state (rollback/packages.ts). Without it the
   * journaled packages alone (their dependencies are not known here).
   */
  purge?: { purge: string[]; kept: { name: string; why: string }[]; notes: string[] };
  serviceFiles: ServiceFiles[];
}

export function planHostRollback(i: PlanInput): HostRollbackPlan {
  const h = i.journals;
  const undone = h.deploys.filter((d) => d.record.deployId >= i.target && d.rolledBack === null);
  const plan: HostRollbackPlan = {
    host: h.host,
    undo: undone.map((d) => d.record.deployId).reverse(),
    files: [],
    unchanged: [],
    drift: [],
    stopFirst: [],
    daemonReload: false,
    packages: [],
    packagesKept: [],
    packageNotes: [],
    services: [],
    deployRemains: h.deploys.some((d) => d.record.deployId < i.target && d.rolledBack === null),
  };
  if (undone.length === 0) return plan;

  // The oldest undone deploy's pre-image of each path wins.
  const restore = new Map<string, PreImage>();
  for (const d of undone) for (const f of d.record.files) if (!restore.has(f.path)) restore.set(f.path, f);
  const current = new Map(i.current.map((c) => [c.path, c]));

  const dirRemovals: string[] = [];
  const changedPaths: string[] = [];
  for (const [path, pre] of restore) {
    const now = current.get(path) ?? { path, state: 'absent' as const };
    const exp = expectedState(h, path);
    if (!exp.state) plan.drift.push({ path, expected: null, actual: now, why: exp.why });
    else if (!sameState(exp.state, now)) plan.drift.push({ path, expected: exp.state, actual: now, why: `changed since haup wrote it (${exp.why})` });

    if (sameState(preAsState(pre), now)) {
      plan.unchanged.push(path);
      continue;
    }
    changedPaths.push(path);
    switch (pre.state) {
      case 'file':
        plan.files.push({ kind: 'write', path, pre });
        break;
      case 'symlink':
        plan.files.push({ kind: 'symlink', path, target: pre.target });
        break;
      case 'directory':
        plan.files.push({ kind: 'dir-attrs', path, mode: pre.mode, owner: pre.owner, group: pre.group });
        break;
      case 'absent':
        if (now.state === 'directory') dirRemovals.push(path);
        else plan.files.push({ kind: 'remove', path });
        break;
      default:
        plan.files.push({ kind: 'leave', path, why: 'was neither a file, a directory nor a symlink before the deploy' });
    }
  }
  // Directories haup created go last, deepest first (their files are gone by then).
  dirRemovals.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
  for (const d of dirRemovals) plan.files.push({ kind: 'remove-dir', path: d });
  plan.daemonReload = changedPaths.some((p) => p.startsWith('/etc/systemd/') || p.startsWith('/lib/systemd/') || p.startsWith('/usr/lib/systemd/'));

  if (i.packages && i.purge) {
    plan.packages = i.purge.purge;
    plan.packagesKept = i.purge.kept;
    plan.packageNotes = i.purge.notes;
  } else if (i.packages) plan.packages = [...new Set(undone.flatMap((d) => d.record.packagesInstalled))].sort();
  const removedPkgs = new Set(plan.packages);

  // Services: back to the state the oldest undone deploy found.
  const before = new Map<string, ServiceFact>();
  for (const d of undone) for (const s of d.record.services) if (!before.has(s.name)) before.set(s.name, { enabled: s.enabled, active: s.active });
  for (const [name, pre] of before) {
    const now = i.services[name] ?? { enabled: 'not-found', active: 'inactive' };
    const wasActive = isActive(pre.active);
    if (!wasActive && isActive(now.active)) plan.stopFirst.push(name);
    if (removedPkgs.has(name.replace(/\.service$/, '')) && pre.enabled === 'not-found') continue; // purged with its package
    const action: ServiceAction = { name, state: 'unchanged' };
    const wasEnabled = ENABLED.includes(pre.enabled);
    const isEnabled = ENABLED.includes(now.enabled);
    if (wasEnabled && !isEnabled) action.enable = true;
    if (!wasEnabled && now.enabled === 'enabled') action.enable = false;
    if (wasActive) {
      const files = i.serviceFiles.find((f) => f.service === name || `${f.service}.service` === name || f.service === `${name}.service`);
      const restart = files?.restart.some((p) => changedPaths.some((c) => under(c, p))) ?? false;
      const reload = files?.reload.some((p) => changedPaths.some((c) => under(c, p))) ?? false;
      action.state = !isActive(now.active) ? 'started' : restart ? 'restarted' : reload ? 'reloaded' : 'unchanged';
    }
    // A service that did not run before was stopped first (stopFirst), before its files went.
    if (action.enable !== undefined || action.state !== 'unchanged') plan.services.push(action);
  }
  return plan;
}

/** One line per deploy for `rollback --list`. */
export interface DeployListing {
  id: string;
  createdAt: string;
  hosts: { host: string; files: number; created: number; packages: string[]; rolledBackAt: string | null }[];
}

export function listDeploys(hosts: HostJournals[]): DeployListing[] {
  return deployIds(hosts).map((id) => {
    const rows = hosts.flatMap((h) =>
      h.deploys
        .filter((d) => d.record.deployId === id)
        .map((d) => ({
          host: h.host,
          createdAt: d.record.createdAt,
          files: d.record.files.length,
          created: d.record.files.filter((f) => f.state === 'absent').length,
          packages: d.record.packagesInstalled,
          rolledBackAt: d.rolledBack?.at ?? null,
        })),
    );
    const createdAt = rows.map((r) => r.createdAt).sort()[0] ?? '';
    return { id, createdAt, hosts: rows.map(({ createdAt: _c, ...r }) => r) };
  });
}
