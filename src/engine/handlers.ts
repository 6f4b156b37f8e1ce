// Handlers: notified by changed tasks, run once at the end of the host, in declaration order
// (reload nginx only when its config changed). A failing handler with restoreOnFailure puts back
// the files of the tasks that notified it (from the journal's pre-images), runs once more on the
// old files, and fails the host.
import { performance } from 'node:perf_hooks';
import { run, shq, type Connection } from '../connectors/connection.ts';
import type { Facts } from '../facts/types.ts';
import { planOperation } from '../operations/index.ts';
import type { HostReporter } from './apply.ts';
import { failed, taskErrorText } from './results.ts';
import { atomicWrite, restorePreImage } from './files.ts';
import type { PreImage } from './journal.ts';
import type { HostPlan } from './plan.ts';
import type { HandlerSpec, TaskResult } from './types.ts';

export async function runHandlers(
  conn: Connection,
  host: string,
  deployId: string,
  rep: HostReporter,
  plan: HostPlan,
  facts: Facts,
  pre: Map<string, PreImage>,
  push: (r: TaskResult) => void,
): Promise<void> {
  for (const h of plan.notified) {
    rep.note(host, `handler: ${h.name}`);
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const guard = handlerGuardSkip(h, facts);
    if (guard !== undefined) {
      // notified, but its own guard says there is nothing to do (e.g. haupd was not running):
      // reported like a task its guard skipped, not as a handler that ran
      push({ name: h.name, handler: true, status: 'ok', summary: guard, durationMs: ms() });
      continue;
    }
    const error = await runHandlerOnce(conn, h, facts);
    if (!error) {
      push({ name: h.name, handler: true, status: 'changed', summary: 'ran (notified)', durationMs: ms() });
      continue;
    }
    let message = error;
    if (h.restoreOnFailure) message += await restoreFor(conn, h, deployId, plan, facts, pre);
    push(failed(h.name, message, ms(), true));
    return; // the host failed: later handlers would act on a half-restored host
  }
}

/** Pure: the summary of a notified handler whose plan does nothing (a guard skipped it), else undefined. */
export function handlerGuardSkip(h: HandlerSpec, facts: Facts): string | undefined {
  try {
    const c = planOperation(h.op, facts);
    return c.status === 'ok' ? c.summary : undefined;
  } catch {
    return undefined; // runHandlerOnce reports the plan error
  }
}

async function runHandlerOnce(conn: Connection, h: HandlerSpec, facts: Facts): Promise<string | undefined> {
  try {
    const c = planOperation(h.op, facts);
    for (const step of c.steps) {
      // a script (several lines) is named by its handler; a one-liner by itself
      if (step.kind === 'exec') await run(conn, step.command, step.command.includes('\n') ? h.name : step.command);
      else if (step.kind === 'remove') await run(conn, `rm -f -- ${shq(step.path)}`, `removing ${step.path}`);
      else {
        const out = await atomicWrite(conn, step, 'handler');
        if (!out.ok) return out.message;
      }
    }
    return undefined;
  } catch (e) {
    return taskErrorText(conn.host, e);
  }
}

/** Put back the files of the tasks that notified `h`, then run `h` once more on the old files. */
async function restoreFor(conn: Connection, h: HandlerSpec, deployId: string, plan: HostPlan, facts: Facts, pre: Map<string, PreImage>): Promise<string> {
  const paths = plan.tasks.filter((p) => p.change?.status === 'changed' && p.change.file && (p.task.notify ?? []).includes(h.name)).map((p) => p.change!.file!.path);
  const problems: string[] = [];
  for (const path of paths) {
    const image = pre.get(path);
    if (!image) {
      problems.push(`${path}: no pre-image`);
      continue;
    }
    const out = await restorePreImage(conn, image, deployId);
    if (!out.ok) problems.push(`${path}: ${out.message}`);
  }
  const again = await runHandlerOnce(conn, h, facts);
  const lines = [`\nrestored the previous ${paths.length === 1 ? 'file' : 'files'}: ${paths.join(', ') || '(none)'}`];
  if (problems.length > 0) lines.push(`restore problems: ${problems.join('; ')}`);
  lines.push(again ? `${h.name} failed again on the restored files: ${again}` : `${h.name} succeeded on the restored files`);
  return lines.join('\n');
}
