// Pure planning: facts + desired tasks -> changes. No I/O here; --check is this plus printing.
import type { FactRequest, Facts } from '../facts/types.ts';
import { PlanError } from '../operations/errors.ts';
import { factRequestFor, planOperation } from '../operations/index.ts';
import type { Change } from '../operations/types.ts';
import type { HandlerSpec, TaskSpec } from './types.ts';

export interface PlannedTask {
  task: TaskSpec;
  change?: Change;
  /** The plan could not be made (e.g. no systemd): the task and the host fail. */
  error?: string;
}

export interface HostPlan {
  tasks: PlannedTask[];
  changed: number;
  failed: number;
  /** Handlers that changed tasks notify, in handler declaration order. */
  notified: HandlerSpec[];
  /** Every path the plan manages (files and directories): the journal records them all. */
  managedPaths: string[];
  services: string[];
  installs: string[];
}

export function factRequestForHost(tasks: TaskSpec[], handlers: HandlerSpec[] = []): FactRequest {
  const req = factRequestFor([...tasks.map((t) => t.op), ...handlers.map((h) => h.op)]);
  const probes = tasks.flatMap((t) => (t.beforePhaseUnless === undefined ? [] : [t.beforePhaseUnless]));
  return { ...req, probes: [...new Set([...req.probes, ...probes])] };
}

export function planHost(tasks: TaskSpec[], handlers: HandlerSpec[], facts: Facts): HostPlan {
  const planned: PlannedTask[] = tasks.map((task) => {
    try {
      return { task, change: planOperation(task.op, facts) };
    } catch (e) {
      if (e instanceof PlanError) return { task, error: e.message };
      throw e;
    }
  });
  const notifiedNames = new Set(planned.filter((p) => p.change?.status === 'changed').flatMap((p) => p.task.notify ?? []));
  const managedPaths = tasks.flatMap((t) => (t.op.op === 'file' || t.op.op === 'directory' || t.op.op === 'absent' ? [t.op.path] : []));
  const services = [...tasks, ...handlers].flatMap((t) => (t.op.op === 'service' ? [t.op.name] : []));
  return {
    tasks: planned,
    changed: planned.filter((p) => p.change?.status === 'changed').length,
    failed: planned.filter((p) => p.error !== undefined).length,
    notified: handlers.filter((h) => notifiedNames.has(h.name)),
    managedPaths: [...new Set(managedPaths)],
    services: [...new Set(services)],
    installs: planned.flatMap((p) => p.change?.installs ?? []),
  };
}

/** Handler names that no handler declares: a role bug, reported before anything runs. */
export function unknownNotifications(tasks: TaskSpec[], handlers: HandlerSpec[]): string[] {
  const known = new Set(handlers.map((h) => h.name));
  return [...new Set(tasks.flatMap((t) => t.notify ?? []).filter((n) => !known.has(n)))];
}
