// Several roles contribute to one host (an LB gets the lb and vrrp roles): composeHost merges
// their tasks in order into THE HostSpec of that host, and refuses contradictions a deploy would
// otherwise resolve silently by "last write wins".
import { isDeepStrictEqual } from 'node:util';
import type { Connection } from '../connectors/connection.ts';
import { InputError } from '../util/errors.ts';
import type { HandlerSpec, HostSpec, TaskSpec, TreeCheck } from './types.ts';

export interface RoleContribution {
  /** For messages: which role this came from. */
  role: string;
  tasks: TaskSpec[];
  handlers?: HandlerSpec[];
  treeChecks?: TreeCheck[];
}

export interface HostBase {
  name: string;
  groups: string[];
  phase: string;
  connect: () => Promise<Connection>;
}

export function composeHost(base: HostBase, parts: RoleContribution[]): HostSpec {
  const tasks: TaskSpec[] = [];
  const handlers = new Map<string, { h: HandlerSpec; role: string }>();
  const checks = new Map<string, { c: TreeCheck; role: string }>();
  const paths = new Map<string, { task: TaskSpec; role: string }>();
  const problems: string[] = [];

  for (const part of parts) {
    for (const task of part.tasks) {
      const op = task.op;
      if (op.op === 'file' || op.op === 'directory' || op.op === 'absent') {
        const prev = paths.get(op.path);
        if (prev && !isDeepStrictEqual(prev.task.op, op)) {
          problems.push(`${op.path} is managed differently by "${prev.task.name}" (${prev.role}) and "${task.name}" (${part.role})`);
          continue;
        }
        if (prev) continue; // the same desired state twice: keep the first
        paths.set(op.path, { task, role: part.role });
      }
      tasks.push(task);
    }
    for (const h of part.handlers ?? []) {
      const prev = handlers.get(h.name);
      if (prev && !isDeepStrictEqual(prev.h, h)) problems.push(`handler "${h.name}" is defined differently by ${prev.role} and ${part.role}`);
      else if (!prev) handlers.set(h.name, { h, role: part.role });
    }
    for (const c of part.treeChecks ?? []) {
      const prev = checks.get(c.name);
      if (prev && !isDeepStrictEqual(prev.c, c)) problems.push(`tree check "${c.name}" is defined differently by ${prev.role} and ${part.role}`);
      else if (!prev) checks.set(c.name, { c, role: part.role });
    }
  }
  if (problems.length > 0) throw new InputError(`host ${base.name}: roles contradict each other:\n  ${problems.join('\n  ')}`);
  return { ...base, tasks, handlers: [...handlers.values()].map((x) => x.h), treeChecks: [...checks.values()].map((x) => x.c) };
}
