// One host, start to end: connect, facts (one round trip), pure plan, then either report
// (--check) or journal + apply + handlers. Failures never escape: they become the HostResult.
import { performance } from 'node:perf_hooks';
import { run, shq, type Connection } from '../connectors/connection.ts';
import { gatherFacts } from '../facts/gather.ts';
import type { Facts } from '../facts/types.ts';
import { describeSteps, type Change, type Step } from '../operations/types.ts';
import { fileDiff } from './diff.ts';
import { atomicWrite, runTreeCheck, underRoot, type WriteStep } from './files.ts';
import { handlerGuardSkip, runHandlers } from './handlers.ts';
import { errorText, failed, taskErrorText } from './results.ts';
import { recordAfterImages } from './after.ts';
import { capturePreImages, REMOTE_JOURNAL_ROOT, writeJournal, type PreImage } from './journal.ts';
import { DEFAULT_KEEP_JOURNALS, journalsToPrune, localJournalEntries, parseJournalListing, pruneLocalJournals, pruneRemoteJournals } from './retention.ts';
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


/**
 * A host between its two stages. Stage 1 (prepareHost: connect, facts, pure plan) runs for every
 * host at once, before any phase; stage 2 (finishHost: report, or journal + apply + handlers) runs
 * phase by phase. A no-op deploy thus costs one round of connect+facts, not one per phase.
 */
export interface HostSession {
  spec: HostSpec;
  result: HostResult;
  conn?: Connection;
  facts?: Facts;
  plan?: HostPlan;
  /** Time actually spent on this host (waiting for earlier phases is not counted). */
  activeMs: number;
  lap: (name: string) => void;
  /** Restart the lap clock after waiting for earlier phases. */
  resume: () => void;
  push: (r: TaskResult) => void;
  /** Set once the journal is written (by the package stage or by the host's phase). */
  pre?: Map<string, PreImage>;
  /** Results of the tasks the package stage ran early, by task index. */
  early?: Map<number, TaskResult>;
}

function newSession(spec: HostSpec, rep: HostReporter): HostSession {
  const timings: Record<string, number> = {};
  const result: HostResult = { host: spec.name, phase: spec.phase, status: 'ok', counts: { ok: 0, changed: 0, failed: 0, skipped: 0 }, tasks: [], durationMs: 0, timings };
  let mark = performance.now();
  const session: HostSession = {
    spec,
    result,
    activeMs: 0,
    lap: (name: string) => {
      const now = performance.now();
      timings[name] = Math.round(now - mark);
      session.activeMs += now - mark;
      mark = now;
    },
    resume: () => {
      mark = performance.now();
    },
    push: (r: TaskResult) => {
      result.tasks.push(r);
      result.counts[r.status]++;
      rep.task(spec.name, r);
    },
  };
  return session;
}

function settle(session: HostSession): HostResult {
  const r = session.result;
  r.durationMs = Math.round(session.activeMs);
  if (r.status !== 'unreachable') r.status = r.counts.failed > 0 || r.error ? 'failed' : r.counts.changed > 0 ? 'changed' : 'ok';
  return r;
}

async function closeSession(session: HostSession): Promise<void> {
  const conn = session.conn;
  delete session.conn;
  if (conn) await conn.close().catch(() => {});
}

/** Stage 1: connect, gather facts (one round trip), plan (pure). Never throws. */
export async function prepareHost(spec: HostSpec, rep: HostReporter): Promise<HostSession> {
  const session = newSession(spec, rep);
  rep.note(spec.name, 'connecting');
  try {
    session.conn = await spec.connect();
  } catch (e) {
    session.lap('connect');
    session.result.status = 'unreachable';
    session.result.error = errorText(e);
    return session;
  }
  session.lap('connect');
  try {
    const handlers = spec.handlers ?? [];
    rep.note(spec.name, 'gathering facts');
    session.facts = await gatherFacts(session.conn, factRequestForHost(spec.tasks, handlers));
    session.lap('facts');
    session.plan = planHost(spec.tasks, handlers, session.facts);
    session.lap('plan');
  } catch (e) {
    session.result.error = errorText(e);
    await closeSession(session);
  }
  return session;
}

/** Stage 2: report (--check) or journal + apply + handlers; closes the connection. Never throws. */
export async function finishHost(session: HostSession, ctx: HostContext, rep: HostReporter): Promise<HostResult> {
  session.resume();
  try {
    if (session.conn && session.plan && session.facts) await deployHost(session, session.conn, session.plan, session.facts, ctx, rep);
  } catch (e) {
    session.result.error = errorText(e);
  } finally {
    await closeSession(session);
  }
  return settle(session);
}

/**
 * A host that will not be deployed (an earlier phase failed): close and report why. Packages the
 * package stage already installed are reported as changed (the journal lists them for rollback).
 */
export async function skipHost(session: HostSession, why: string, ctx?: HostContext): Promise<HostResult> {
  const r = session.result;
  const early = session.early;
  if (early && early.size > 0 && session.conn && ctx && r.journal) {
    await recordAfterImages(session.conn, { deployId: ctx.deployId, host: session.spec.name }, session.plan?.managedPaths ?? [], ctx.journalDir, ctx.remoteJournalRoot).catch(() => {});
  }
  await closeSession(session);
  if (r.status !== 'unreachable' && !r.error) {
    const done = [...(early ?? new Map<number, TaskResult>()).entries()].sort(([a], [b]) => a - b).map(([, t]) => t);
    r.tasks.push(...done);
    for (const t of done) r.counts[t.status]++;
    r.counts.skipped += session.spec.tasks.length - done.length;
    r.status = 'skipped';
    r.error = { message: why };
    r.durationMs = Math.round(session.activeMs);
    return r;
  }
  return settle(session);
}

/** Both stages for one host (tests, and callers without phases). */
export async function runHost(spec: HostSpec, ctx: HostContext, rep: HostReporter): Promise<HostResult> {
  return finishHost(await prepareHost(spec, rep), ctx, rep);
}

/**
 * Pure: what the package stage runs before the phases, in this order: the package installs
 * (state present), then the files and directories whose `beforePhaseUnless` probe failed on the
 * host (facts), in task order. A file under a staged-tree check root is never run early.
 */
export function earlyTaskIndexes(plan: HostPlan, facts?: Facts, treeRoots: string[] = []): number[] {
  const installs: number[] = [];
  const files: number[] = [];
  plan.tasks.forEach((p, i) => {
    const op = p.task.op;
    if (p.change?.status !== 'changed') return;
    if (op.op === 'package' && (op.state ?? 'present') === 'present') installs.push(i);
    const probe = p.task.beforePhaseUnless;
    if (probe === undefined || facts?.probes[probe] === undefined || facts.probes[probe] === 0) return;
    if (op.op === 'directory' || (op.op === 'file' && !treeRoots.some((r) => underRoot(op.path, r)))) files.push(i);
  });
  return [...installs, ...files];
}

function earlyIndexesOf(session: HostSession): number[] {
  return session.plan ? earlyTaskIndexes(session.plan, session.facts, (session.spec.treeChecks ?? []).map((t) => t.root)) : [];
}

/** Whether the package stage has anything to do on this host (never with --check). */
export function hasEarlyWork(session: HostSession, ctx: HostContext): boolean {
  const plan = session.plan;
  return !ctx.check && session.conn !== undefined && plan !== undefined && plan.failed === 0 && earlyIndexesOf(session).length > 0;
}

/**
 * The package stage, for every selected host at once right after planning: journal, then the
 * host's package installs, in task order. Installing a package moves no VIP, so the phases need
 * not wait for it; their order still governs configuration, services and handlers. The results
 * are reported in the host's phase, in task order. Never throws.
 */
export async function installPackagesEarly(session: HostSession, ctx: HostContext, rep: HostReporter): Promise<HostResult> {
  session.resume();
  const { conn, plan, facts, spec } = session;
  if (!hasEarlyWork(session, ctx) || !conn || !plan || !facts) return session.result;
  const early = new Map<number, TaskResult>();
  session.early = early;
  try {
    await ensureJournal(session, conn, plan, facts, ctx, rep);
    let installing = true;
    for (const i of earlyIndexesOf(session)) {
      const p = plan.tasks[i]!;
      if (installing && p.task.op.op !== 'package') {
        installing = false;
        session.lap('packages');
      }
      rep.note(spec.name, p.task.name);
      const t0 = performance.now();
      const r = describeTask(p, 'changed', 0, ctx, session.pre ?? new Map());
      try {
        for (const step of p.change!.steps) {
          if (step.kind === 'exec') await run(conn, step.command, step.command.split('\n')[0] ?? 'command');
          else if (step.kind === 'write') {
            const out = await atomicWrite(conn, step, ctx.deployId);
            if (!out.ok) throw new StepFailure(out.message);
          } else throw new StepFailure(`${step.path}: a removal is never run before the phase`);
        }
        r.durationMs = Math.round(performance.now() - t0);
        early.set(i, r);
      } catch (e) {
        const error = e instanceof StepFailure ? e.message : taskErrorText(spec.name, e);
        early.set(i, { ...r, status: 'failed', summary: 'failed', error, durationMs: Math.round(performance.now() - t0) });
        break; // the host's phase reports it and runs nothing more (see applyTasks)
      }
    }
    session.lap(installing ? 'packages' : 'before phase');
    if (![...early.values()].some((t) => t.status === 'failed')) await replanAfterPackages(session, conn, plan, early);
  } catch (e) {
    session.result.error = errorText(e);
    await closeSession(session);
  }
  return session.result;
}

/**
 * The packages just installed changed the host (Debian's postinst enables and starts nginx and
 * creates its default site): facts again (one round trip) and a new plan, so the phase does not
 * enable/start what already runs and sees the files the packages made. The journal, written from
 * the first plan, stays right: the same tasks manage the same paths and services. Handlers the
 * installs notified stay notified. A plan that now fails keeps the first one (the phase reports).
 */
async function replanAfterPackages(session: HostSession, conn: Connection, first: HostPlan, early: Map<number, TaskResult>): Promise<void> {
  const handlers = session.spec.handlers ?? [];
  const facts = await gatherFacts(conn, factRequestForHost(session.spec.tasks, handlers));
  const plan = planHost(session.spec.tasks, handlers, facts);
  if (plan.failed > 0) return;
  const notified = new Set([...plan.notified.map((h) => h.name), ...[...early.keys()].flatMap((i) => first.tasks[i]!.task.notify ?? [])]);
  session.facts = facts;
  session.plan = { ...plan, installs: first.installs, notified: handlers.filter((h) => notified.has(h.name)) };
  session.lap('replan');
}

/** The journal comes before the FIRST write of this deploy on a host: written once, by whichever stage writes first. */
async function ensureJournal(session: HostSession, conn: Connection, plan: HostPlan, facts: Facts, ctx: HostContext, rep: HostReporter): Promise<void> {
  if (session.pre) return;
  const { spec, result } = session;
  rep.note(spec.name, 'journal');
  let listing = '';
  const images = await capturePreImages(conn, plan.managedPaths);
  session.pre = new Map(images.map((i) => [i.path, i]));
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
    (out) => (listing = out),
  );
  session.lap('journal');
  await pruneOldJournals(session, conn, ctx, listing);
}

/**
 * Retention, right after this deploy's journal is written (on a cold deploy that is the package
 * stage, off the ordered path): older deploys beyond the host's keep count go, on the host and on
 * this machine. A failure to prune never fails the deploy: it is noted and retried next time.
 */
async function pruneOldJournals(session: HostSession, conn: Connection, ctx: HostContext, listing: string): Promise<void> {
  const spec = session.spec;
  const keep = spec.keepJournals ?? DEFAULT_KEEP_JOURNALS;
  const remoteRoot = ctx.remoteJournalRoot ?? REMOTE_JOURNAL_ROOT;
  try {
    await pruneRemoteJournals(conn, remoteRoot, journalsToPrune(parseJournalListing(listing), keep, ctx.deployId));
    await pruneLocalJournals(ctx.journalDir, spec.name, journalsToPrune(await localJournalEntries(ctx.journalDir, spec.name), keep, ctx.deployId));
  } catch (e) {
    (session.result.warnings ??= []).push(`journal retention: ${errorText(e).message}`);
  }
}

function describeTask(p: PlannedTask, status: TaskResult['status'], ms: number, ctx: HostContext, pre: Map<string, PreImage>): TaskResult {
  const c = p.change!;
  const r: TaskResult = { name: p.task.name, status, summary: c.summary, durationMs: ms };
  if (ctx.verbose && c.steps.length > 0) r.commands = describeSteps(c.steps);
  if (ctx.diff && c.file && c.status === 'changed') r.diff = diffOf(c, pre.get(c.file.path));
  return r;
}

async function deployHost(session: HostSession, conn: Connection, plan: HostPlan, facts: Facts, ctx: HostContext, rep: HostReporter): Promise<void> {
  const { spec, push, result, lap } = session;
  if (plan.failed > 0) {
    for (const p of plan.tasks) push(p.error !== undefined ? failed(p.task.name, p.error, 0) : skipped(p.task.name, 'not run: the plan failed'));
    return;
  }

  const changedFiles = plan.tasks.filter((p) => p.change?.status === 'changed' && p.change.file).map((p) => p.change!.file!.path);
  let pre = session.pre ?? new Map<string, PreImage>();
  if (!ctx.check && plan.changed > 0) {
    await ensureJournal(session, conn, plan, facts, ctx, rep);
    pre = session.pre!;
  } else if (ctx.diff && changedFiles.length > 0) {
    pre = new Map((await capturePreImages(conn, changedFiles)).map((i) => [i.path, i]));
    lap('diff');
  }

  const describe = (p: PlannedTask, status: TaskResult['status'], ms: number): TaskResult => describeTask(p, status, ms, ctx, pre);

  if (ctx.check) {
    for (const p of plan.tasks) push(describe(p, p.change!.status, 0));
    for (const h of plan.notified) {
      const guard = handlerGuardSkip(h, facts);
      push({ name: h.name, handler: true, status: guard === undefined ? 'changed' : 'ok', summary: guard ?? 'would run (notified)', durationMs: 0 });
    }
    return;
  }

  // What a handler failure restores: the files as they were right before OUR write. Usually the
  // journal's pre-images; re-read when a package or command ran first (a package may have just
  // created the file we replace, and the journal, taken before everything, says "absent").
  const beforeWrite = new Map(pre);
  const ok = await applyTasks(conn, spec, ctx, rep, plan, push, describe, beforeWrite, session.early);
  lap('apply');
  if (ok && plan.notified.length > 0) {
    await runHandlers(conn, spec.name, ctx.deployId, rep, plan, facts, beforeWrite, push);
    lap('handlers');
  }
  if (result.journal) {
    // What this deploy left behind: `haup rollback` compares it with the host to find hand edits.
    await recordAfterImages(conn, { deployId: ctx.deployId, host: spec.name }, plan.managedPaths, ctx.journalDir, ctx.remoteJournalRoot);
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
  beforeWrite: Map<string, PreImage>,
  early: Map<number, TaskResult> = new Map(),
): Promise<boolean> {
  const checksDone = new Set<string>();
  let failedAt = -1;
  // A task the package stage ran failed: the phase runs nothing, not even the tasks before it
  // in task order (they would configure a host that is already known to fail).
  const earlyFailure = [...early.entries()].find(([, t]) => t.status === 'failed')?.[0] ?? -1;
  let stale = early.size > 0; // an exec step ran since beforeWrite was read (the package stage's count)
  const refresh = async (from: number) => {
    const paths = plan.tasks.slice(from).flatMap((p) => (p.change?.status === 'changed' && p.change.file ? [p.change.file.path] : []));
    for (const image of await capturePreImages(conn, paths)) beforeWrite.set(image.path, image);
    stale = false;
  };
  const plainWrite = (i: number): WriteStep | undefined => {
    const p = plan.tasks[i];
    const c = p?.change;
    if (!p || !c || c.status !== 'changed' || early.has(i) || c.steps.length !== 1) return undefined;
    const step = c.steps[0]!;
    if (step.kind !== 'write' || step.validate !== undefined) return undefined;
    if ((spec.treeChecks ?? []).some((t) => underRoot(step.path, t.root))) return undefined;
    return step;
  };
  for (let i = 0; i < plan.tasks.length; i++) {
    const p = plan.tasks[i]!;
    const c = p.change!;
    if (failedAt >= 0) {
      push(skipped(p.task.name, 'not run: an earlier task failed'));
      continue;
    }
    if (earlyFailure >= 0 && i < earlyFailure && !early.has(i)) {
      push(skipped(p.task.name, `not run: "${plan.tasks[earlyFailure]!.task.name}" failed before the phase`));
      continue;
    }
    // Consecutive plain file writes (no validate, no staged-tree check, nothing run between
    // them) are independent: they go at once over the connection's channels, one round trip
    // instead of one each (the haupd artifact is 7 files). Results are reported in task order;
    // a failure among them fails the host like any other (the others were written: journaled).
    let end = i;
    while (plainWrite(end) !== undefined) end++;
    if (end - i >= 2) {
      if (stale) await refresh(i);
      for (let k = i; k < end; k++) rep.note(spec.name, plan.tasks[k]!.task.name);
      const t0 = performance.now();
      const outs = await Promise.all(
        plan.tasks.slice(i, end).map((_, k) => atomicWrite(conn, plainWrite(i + k)!, ctx.deployId).catch((e: unknown) => ({ ok: false, message: taskErrorText(spec.name, e) }))),
      );
      const ms = Math.round(performance.now() - t0);
      outs.forEach((out, k) => {
        const r = describe(plan.tasks[i + k]!, out.ok ? 'changed' : 'failed', ms);
        if (!out.ok) {
          r.error = out.message;
          if (failedAt < 0) failedAt = i + k;
        }
        push(r);
      });
      i = end - 1;
      continue;
    }
    const done = early.get(i);
    if (done) {
      // run by the package stage, before the phases: reported here, in task order
      push(done);
      if (done.status === 'failed') failedAt = i;
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
        if (step.kind === 'exec') {
          await run(conn, step.command, step.command.split('\n')[0] ?? 'command');
          // a directory's mkdir/chmod/chown changes no file's bytes: no pre-image to re-read
          if (p.task.op.op !== 'directory') stale = true;
          continue;
        }
        if (stale) await refresh(i);
        if (step.kind === 'remove') await run(conn, `rm -f -- ${shq(step.path)}`, `removing ${step.path}`);
        else {
          const out = await atomicWrite(conn, step, ctx.deployId);
          if (!out.ok) throw new StepFailure(out.message);
        }
      }
      push(describe(p, 'changed', ms()));
    } catch (e) {
      const r = describe(p, 'failed', ms());
      r.error = e instanceof StepFailure ? e.message : taskErrorText(spec.name, e);
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
