// What a role contributes to one host; src/engine/compose.ts merges the contributions of a host
// (refusing contradictions) into its HostSpec.
import type { RoleContribution } from '../engine/compose.ts';
import type { HandlerSpec, TaskSpec, TreeCheck } from '../engine/types.ts';
import type { PackageSpec } from '../operations/types.ts';

export interface RoleTasks {
  tasks: TaskSpec[];
  handlers: HandlerSpec[];
  treeChecks: TreeCheck[];
}

const installs = (t: TaskSpec): t is TaskSpec & { op: PackageSpec } => t.op.op === 'package' && (t.op.state ?? 'present') === 'present';

/**
 * Every package install of a host's roles becomes ONE task, in the first role that installs
 * anything, where its first install was: one `apt-get update` and one `apt-get install` per host
 * instead of one per role (on a cold deploy that is seconds).
 */
export function mergePackageTasks(parts: RoleContribution[]): RoleContribution[] {
  const pkgTasks = parts.flatMap((p) => p.tasks.filter(installs));
  if (pkgTasks.length < 2) return parts;
  const names = [...new Set(pkgTasks.flatMap((t) => t.op.names))];
  const notify = [...new Set(pkgTasks.flatMap((t) => t.notify ?? []))];
  const merged: TaskSpec = {
    name: `packages installed: ${names.join(', ')}`,
    op: mergedPackageOp(pkgTasks.map((t) => t.op), names),
    ...(notify.length > 0 ? { notify } : {}),
  };
  const first = pkgTasks[0]!;
  return parts.map((p) => ({ ...p, tasks: p.tasks.flatMap((t) => (t === first ? [merged] : installs(t) ? [] : [t])) }));
}

/**
 * The merged install's options: update if any asks for it; services not started only if EVERY
 * role says its services are started by the role (one relying on the postinst wins); the
 * shortest index validity asked for.
 */
function mergedPackageOp(ops: PackageSpec[], names: string[]): PackageSpec {
  const op: PackageSpec = { op: 'package', names, update: ops.some((o) => o.update === true) };
  if (ops.every((o) => o.noStart === true)) op.noStart = true;
  const valid = ops.flatMap((o) => (o.cacheValidSeconds === undefined ? [] : [o.cacheValidSeconds]));
  if (valid.length > 0) op.cacheValidSeconds = Math.min(...valid);
  return op;
}
