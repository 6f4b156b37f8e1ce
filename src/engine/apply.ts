// One host, start to end: connect, facts (one round trip), pure plan, then either report
// (--check) or journal + apply + handlers. Failures never escape: they become the HostResult.
import { performance } from 'node:perf_hooks';
import { run, shq, type Connection } from '../connectors/connection.ts';
import { gatherFacts } from '../facts/gather.ts';
import { describeSteps, type Change, type Step } from '../operations/types.ts';
import { fileDiff } from './diff.ts';
import { atomicWrite, runTreeCheck, underRoot, type WriteStep } from './files.ts';
import { runHandlers } from './handlers.ts';
import { errorText, failed } from './results.ts';
import { capturePreImages, writeJournal, type PreImage } from './journal.ts';
import { factRequestForHost, planHost, type HostPlan, type PlannedTask } from './plan.ts';
import type { HostResult, HostSpec, TaskResult } from './types.ts';

export interface HostContext {
  deployId: string;
  check: boolean;
  diff: boolean;
  verbose: boolean;
  journalDir: string;
  /** Tests point this into a temp directory; hosts use /var/lib/haup/journal. */
  remoteJournalRoot?: string;
}

export interface HostReporter {
  /** What the host is doing now (connecting, gathering facts, ...). */
  note(host: string, text: string): void;
  task(host: string, result: TaskResult): void;
}

export const silentReporter: HostReporter = { note() {}, task() {} };


export async function runHost(spec: HostSpec, ctx: HostContext, rep: HostReporter): Promise<HostResult> {
  const start = performance.now();
  const timings: Record<string, number> = {};
  let mark = start;
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - mark);
    mark = now;
  };
  const result: HostResult = { host: spec.name, phase: spec.phase, status: 'ok', counts: { ok: 0, changed: 0, failed: 0, skipped: 0 }, tasks: [], durationMs: 0, timings };
  const push = (r: TaskResult) => {
    result.tasks.push(r);
    result.counts[r.status]++;
    rep.task(spec.name, r);
  };
  const finish = (): HostResult => {
    result.durationMs = Math.round(performance.now() - start);
    if (result.status !== 'unreachable') result.status = result.counts.failed > 0 || result.error ? 'failed' : result.counts.changed > 0 ? 'changed' : 'ok';
    return result;
  };

  let conn: Connection;
  rep.note(spec.name, 'connecting');
  try {
    conn = await spec.connect();
  } catch (e) {
    result.status = 'unreachable';
    result.error = errorText(e);
    return finish();
  }
  lap('connect');
  try {
    await deployHost(conn, spec, ctx, rep, push, result, lap);
  } catch (e) {
    result.error = errorText(e);
  } finally {
    await conn.close().catch(() => {});
  }
  return finish();
}

async function deployHost(
  conn: Connection,
  spec: HostSpec,
  ctx: HostContext,
  rep: HostReporter,
  push: (r: TaskResult) => void,
  result: HostResult,
  lap: (name: string) => void,
): Promise<void> {
  const handlers = spec.handlers ?? [];
  rep.note(spec.name, 'gathering facts');
  const facts = await gatherFacts(conn, factRequestForHost(spec.tasks, handlers));
  lap('facts');
  const plan = planHost(spec.tasks, handlers, facts);
  lap('plan');

  if (plan.failed > 0) {
    for (const p of plan.tasks) push(p.error !== undefined ? failed(p.task.name, p.error, 0) : skipped(p.task.name, 'not run: the plan failed'));
    return;
  }

  const changedFiles = plan.tasks.filter((p) => p.change?.status === 'changed' && p.change.file).map((p) => p.change!.file!.path);
  let pre = new Map<string, PreImage>();
  if (!ctx.check && plan.changed > 0) {
    // The journal comes before the FIRST write of this deploy on this host.
    rep.note(spec.name, 'journal');
    const images = await capturePreImages(conn, plan.managedPaths);
    pre = new Map(images.map((i) => [i.path, i]));
    result.journal = await writeJournal(
      conn,
      {
        deployId: ctx.deployId,
        host: spec.name,
        createdAt: new Date().toISOString(),
        files: images,
        services: plan.services.map((name) => ({ name, ...(facts.services[name] ?? { enabled: 'not-found', active: 'inactive' }) })),
        packagesInstalled: plan.installs,
      },
      ctx.journalDir,
      ctx.remoteJournalRoot,
    );
    lap('journal');
  } else if (ctx.diff && changedFiles.length > 0) {
    pre = new Map((await capturePreImages(conn, changedFiles)).map((i) => [i.path, i]));
    lap('diff');
  }

  const describe = (p: PlannedTask, status: TaskResult['status'], ms: number): TaskResult => {
    const c = p.change!;
    const r: TaskResult = { name: p.task.name, status, summary: c.summary, durationMs: ms };
    if (ctx.verbose && c.steps.length > 0) r.commands = describeSteps(c.steps);
    if (ctx.diff && c.file && c.status === 'changed') r.diff = diffOf(c, pre.get(c.file.path));
    return r;
  };

  if (ctx.check) {
    for (const p of plan.tasks) push(describe(p, p.change!.status, 0));
    for (const h of plan.notified) push({ name: h.name, handler: true, status: 'changed', summary: 'would run (notified)', durationMs: 0 });
    return;
  }

  const ok = await applyTasks(conn, spec, ctx, rep, plan, push, describe);
  lap('apply');
  if (ok && plan.notified.length > 0) {
    await runHandlers(conn, spec.name, ctx.deployId, rep, plan, facts, pre, push);
    lap('handlers');
  }
}

function diffOf(c: Change, before: PreImage | undefined): string {
  const write = c.steps.find((s): s is WriteStep => s.kind === 'write');
  const removal = c.steps.some((s) => s.kind === 'remove');
  const file = c.file!;
  if (!write && !removal) return ''; // mode/owner only: the summary says it
  const old = before && before.state === 'file' ? before.content : null;
  if (removal && before?.state === 'symlink') return `--- ${file.path}\n+++ /dev/null\nsymlink -> ${before.target} removed\n`;
  return fileDiff(file.path, old, write ? write.content : null, file.secret);
}


function skipped(name: string, why: string): TaskResult {
  return { name, status: 'skipped', summary: why, durationMs: 0 };
}

async function applyTasks(
  conn: Connection,
  spec: HostSpec,
  ctx: HostContext,
  rep: HostReporter,
  plan: HostPlan,
  push: (r: TaskResult) => void,
  describe: (p: PlannedTask, status: TaskResult['status'], ms: number) => TaskResult,
): Promise<boolean> {
  const checksDone = new Set<string>();
  let failedAt = -1;
  for (const [i, p] of plan.tasks.entries()) {
    const c = p.change!;
    if (failedAt >= 0) {
      push(skipped(p.task.name, 'not run: an earlier task failed'));
      continue;
    }
    if (c.status === 'ok') {
      push(describe(p, 'ok', 0));
      continue;
    }
    rep.note(spec.name, p.task.name);
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    try {
      // Staged-tree checks run once, right before the first write under their root, over every
      // write under that root left in the plan (earlier tasks may have installed the package).
      const error = await treeChecksBefore(conn, spec, ctx, plan, i, c, checksDone);
      if (error) throw new StepFailure(error);
      for (const step of c.steps) {
        if (step.kind === 'exec') await run(conn, step.command, step.command.split('\n')[0] ?? 'command');
        else if (step.kind === 'remove') await run(conn, `rm -f -- ${shq(step.path)}`, `removing ${step.path}`);
        else {
          const out = await atomicWrite(conn, step, ctx.deployId);
          if (!out.ok) throw new StepFailure(out.message);
        }
      }
      push(describe(p, 'changed', ms()));
    } catch (e) {
      const r = describe(p, 'failed', ms());
      r.error = e instanceof StepFailure ? e.message : errorText(e).message;
      push(r);
      failedAt = i;
    }
  }
  return failedAt < 0;
}

class StepFailure extends Error {}

async function treeChecksBefore(conn: Connection, spec: HostSpec, ctx: HostContext, plan: HostPlan, index: number, change: Change, done: Set<string>): Promise<string | undefined> {
  for (const check of spec.treeChecks ?? []) {
    if (done.has(check.name)) continue;
    const touches = (s: Step) => (s.kind === 'write' || s.kind === 'remove') && underRoot(s.path, check.root);
    if (!change.steps.some(touches)) continue;
    done.add(check.name);
    const steps = plan.tasks.slice(index).flatMap((p) => p.change?.steps ?? []);
    const writes = steps.filter((s): s is WriteStep => s.kind === 'write' && underRoot(s.path, check.root));
    const removals = steps.flatMap((s) => (s.kind === 'remove' && underRoot(s.path, check.root) ? [s.path] : []));
    const out = await runTreeCheck(conn, check, writes, ctx.deployId, removals);
    if (!out.ok) return out.message;
  }
  return undefined;
}
