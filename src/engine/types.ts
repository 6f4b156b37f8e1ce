// The engine's contract with roles and with `haup deploy`.
//
// A role turns the inventory into HostSpecs: per host, an ordered list of tasks (each one
// operation, optionally notifying handlers by name), the handlers, the phase the host belongs to,
// optional staged-tree checks (nginx -t against a staged copy of /etc/nginx), and how to connect.
// `runDeploy` (runner.ts) does the rest: facts, pure plan, --check/--diff, journal, apply, handlers,
// output, and a JSON-able DeployResult.
import type { Connection } from '../connectors/connection.ts';
import type { OperationSpec } from '../operations/types.ts';

export interface TaskSpec {
  name: string;
  op: OperationSpec;
  /** Handler names to run once at the end of the host, if this task changed something. */
  notify?: string[];
  /**
   * A probe (shell command, run in the facts round trip). When it FAILS on the host, this task
   * may run before the host's phase, in the package stage right after the installs: for files
   * that nothing reads until a later task of the phase starts their service (haupd's files on a
   * host where haupd is not enabled, active or restarting). Files and directories only, never
   * under a staged-tree check root; activation (enable, start, handlers) stays in the phase.
   */
  beforePhaseUnless?: string;
}

export interface HandlerSpec {
  name: string;
  /** Usually a service op with state reloaded/restarted. */
  op: OperationSpec;
  /** When this handler fails: put back the pre-images of the files whose tasks notified it,
   * run the handler once more (so the service is back on the old files), and fail the host. */
  restoreOnFailure?: boolean;
}

/**
 * Validate a whole directory tree before any of its files is replaced: the engine copies `root`
 * to a staging directory next to it, re-points absolute paths and symlinks into the stage,
 * writes the new files there, and runs `command` with `{stage}` replaced by the staging path.
 * If it fails, nothing live was touched and the host fails with the command's output.
 */
export interface TreeCheck {
  name: string;
  root: string;
  command: string;
}

export interface HostSpec {
  name: string;
  groups: string[];
  /** Phases run in the order given to runDeploy; all hosts of a phase finish before the next. */
  phase: string;
  tasks: TaskSpec[];
  handlers?: HandlerSpec[];
  treeChecks?: TreeCheck[];
  /** Opens THE connection for this host (called once per deploy). */
  connect: () => Promise<Connection>;
  /** Deploy journals kept on the host and on this machine (default 20; retention.ts). */
  keepJournals?: number;
}

export interface PhaseSpec {
  name: string;
  /** Skip this phase (hosts reported as skipped) when any host of an earlier phase failed. */
  requirePreviousSuccess?: boolean;
}

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface TaskResult {
  name: string;
  handler?: boolean;
  status: TaskStatus;
  summary: string;
  /** With verbose: the commands run (or that would run with --check). */
  commands?: string[];
  /** With --diff: a unified diff (secret files: a notice, never content). */
  diff?: string;
  error?: string;
  durationMs: number;
}

export interface HostResult {
  host: string;
  phase: string;
  status: 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';
  counts: { ok: number; changed: number; failed: number; skipped: number };
  tasks: TaskResult[];
  error?: { message: string; hint?: string };
  /** Where the journal of this host was written (control machine), when anything changed. */
  journal?: string;
  durationMs: number;
  /** Where the time went (connect, facts, plan, journal, apply, handlers). */
  timings: Record<string, number>;
  /** Non-fatal problems (e.g. old journals that could not be pruned: retried next deploy). */
  warnings?: string[];
}

export interface DeployResult {
  deployId: string;
  check: boolean;
  ok: boolean;
  hosts: HostResult[];
  durationMs: number;
}
