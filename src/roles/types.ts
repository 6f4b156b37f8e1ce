// What a role contributes to one host's HostSpec (the engine's contract, src/engine/types.ts).
import type { HandlerSpec, TaskSpec, TreeCheck } from '../engine/types.ts';
import type { PackageSpec } from '../operations/types.ts';

export interface RoleTasks {
  tasks: TaskSpec[];
  handlers: HandlerSpec[];
  treeChecks: TreeCheck[];
}

const installs = (t: TaskSpec): t is TaskSpec & { op: PackageSpec } => t.op.op === 'package' && (t.op.state ?? 'present') === 'present';

/**
 * Several roles on one host: tasks in role order, handlers and checks once each (first wins).
 * Every package install becomes ONE task where the first one was: one `apt-get update` and one
 * `apt-get install` per host instead of one per role (on a cold deploy that is seconds).
 */
export function mergeRoles(...roles: RoleTasks[]): RoleTasks {
  const handlers = new Map<string, HandlerSpec>();
  const checks = new Map<string, TreeCheck>();
  for (const r of roles) {
    for (const h of r.handlers) if (!handlers.has(h.name)) handlers.set(h.name, h);
    for (const c of r.treeChecks) if (!checks.has(c.name)) checks.set(c.name, c);
  }
  const all = roles.flatMap((r) => r.tasks);
  const pkgTasks = all.filter(installs);
  let tasks = all;
  if (pkgTasks.length > 1) {
    const names = [...new Set(pkgTasks.flatMap((t) => t.op.names))];
    const merged: TaskSpec = {
      name: `packages installed: ${names.join(', ')}`,
      op: { op: 'package', names, update: pkgTasks.some((t) => t.op.update === true) },
      notify: [...new Set(pkgTasks.flatMap((t) => t.notify ?? []))],
    };
    if (merged.notify!.length === 0) delete merged.notify;
    const first = all.indexOf(pkgTasks[0]!);
    tasks = all.flatMap((t, i) => (i === first ? [merged] : installs(t) ? [] : [t]));
  }
  return { tasks, handlers: [...handlers.values()], treeChecks: [...checks.values()] };
}
