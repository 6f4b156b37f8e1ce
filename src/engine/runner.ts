// runDeploy: --limit, ordered phases, --forks hosts in parallel, --check/--diff/-v, output
// (listr2 tree per host and task in a TTY; plain lines when not a TTY or CI=true), recap data.
import { performance } from 'node:perf_hooks';
import { Listr } from 'listr2';
import { InputError } from '../util/errors.ts';
import { finishHost, hasEarlyWork, installPackagesEarly, prepareHost, skipHost, type HostContext, type HostReporter, type HostSession } from './apply.ts';
import { newDeployId } from './deploy-id.ts';
import { defaultJournalDir } from './journal.ts';
import { unknownNotifications } from './plan.ts';
import { countsText, taskLine } from './recap.ts';
import type { DeployResult, HostResult, HostSpec, PhaseSpec } from './types.ts';

export interface DeployOptions {
  hosts: HostSpec[];
  /** Phase order; every host's phase must be listed. */
  phases: PhaseSpec[];
  check?: boolean;
  diff?: boolean;
  verbose?: boolean;
  /** Host names and/or group names; empty or undefined = all. */
  limit?: string[];
  /** Hosts in parallel within a phase (default 10). */
  forks?: number;
  deployId?: string;
  journalDir?: string;
  remoteJournalRoot?: string;
  output?: 'auto' | 'tty' | 'plain' | 'silent';
  /** Where progress goes (default process.stdout; use stderr when stdout carries --json). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** Pure: the hosts `limit` selects. Unknown names are a usage error (a typo must not deploy nothing). */
export function selectHosts(hosts: HostSpec[], limit: string[] | undefined): HostSpec[] {
  const wanted = (limit ?? []).flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean);
  if (wanted.length === 0 || wanted.includes('all')) return hosts;
  const known = new Set([...hosts.map((h) => h.name), ...hosts.flatMap((h) => h.groups)]);
  const unknown = wanted.filter((w) => !known.has(w));
  if (unknown.length > 0) {
    throw new InputError(`--limit: unknown host or group: ${unknown.join(', ')}`, [], `known: ${[...known].sort().join(', ')}`);
  }
  return hosts.filter((h) => wanted.includes(h.name) || h.groups.some((g) => wanted.includes(g)));
}

function useTty(o: DeployOptions, stream: NodeJS.WritableStream & { isTTY?: boolean }): boolean {
  if (o.output === 'tty') return true;
  if (o.output === 'plain' || o.output === 'silent') return false;
  const env = o.env ?? process.env;
  return stream.isTTY === true && !(env.CI && env.CI !== 'false' && env.CI !== '0');
}

export async function runDeploy(o: DeployOptions): Promise<DeployResult> {
  const start = performance.now();
  const phaseNames = o.phases.map((p) => p.name);
  const seen = new Set<string>();
  for (const h of o.hosts) {
    if (seen.has(h.name)) throw new InputError(`host ${h.name} is listed twice: one HostSpec per host (merge the roles' tasks)`);
    seen.add(h.name);
    if (!phaseNames.includes(h.phase)) throw new InputError(`host ${h.name}: phase "${h.phase}" is not in the phase order (${phaseNames.join(', ')})`);
    const unknown = unknownNotifications(h.tasks, h.handlers ?? []);
    if (unknown.length > 0) throw new InputError(`host ${h.name}: tasks notify unknown handlers: ${unknown.join(', ')}`);
  }
  const selected = selectHosts(o.hosts, o.limit);
  const forks = Math.max(1, o.forks ?? 10);
  const stream = o.stream ?? process.stdout;
  const ctx: HostContext = {
    deployId: o.deployId ?? newDeployId(),
    check: o.check === true,
    diff: o.diff === true,
    verbose: o.verbose === true,
    journalDir: o.journalDir ?? defaultJournalDir(o.env ?? process.env),
  };
  if (o.remoteJournalRoot) ctx.remoteJournalRoot = o.remoteJournalRoot;

  // Stage 1 for every selected host at once: connect, facts, plan. Stage 2 phase by phase.
  const sessions = new Map<string, HostSession>();
  await renderStage(o, stream, ctx, 'facts', selected, forks, async (h, rep) => {
    const s = await prepareHost(h, rep);
    sessions.set(h.name, s);
    return s.result;
  });

  // Stage 1b: every selected host's package installs start at once (journal first), in the
  // background: a cold deploy pays for the slowest host's apt-get, not for the sum over the
  // phases. Each phase waits only for ITS hosts' installs (and, as always, for the phases before
  // it), so the webs are configured while the LBs still install, and a backup LB whose apt-get is
  // done is rolled out while the master's still runs. Installing a package moves no VIP; the
  // phases' order still governs every configuration file, service and handler.
  const installing = new Map<string, Promise<unknown>>();
  const quiet = o.output === 'silent' || useTty(o, stream);
  const packageRep: HostReporter = { note: (host, text) => (!quiet && ctx.verbose ? stream.write(`[${host}] ${text}\n`) : undefined), task() {} };
  for (const h of selected) {
    const session = sessions.get(h.name)!;
    if (hasEarlyWork(session, ctx)) installing.set(h.name, installPackagesEarly(session, ctx, packageRep));
  }
  const packagesOf = async (h: HostSpec, rep: HostReporter): Promise<void> => {
    const p = installing.get(h.name);
    if (!p) return;
    rep.note(h.name, 'installing packages');
    await p;
  };

  const results: HostResult[] = [];
  let earlierFailed = false;
  for (const phase of o.phases) {
    const hosts = selected.filter((h) => h.phase === phase.name);
    if (hosts.length === 0) continue;
    if (phase.requirePreviousSuccess && earlierFailed) {
      for (const h of hosts) {
        await packagesOf(h, { note() {}, task() {} }); // never close a connection under a running apt-get
        results.push(await skipHost(sessions.get(h.name)!, `not deployed: a host of an earlier phase failed (phase ${phase.name} requires them all)`, ctx));
      }
      if (o.output !== 'silent') stream.write(`phase ${phase.name}: skipped (an earlier phase failed)\n`);
      continue;
    }
    const phaseResults = await renderStage(o, stream, ctx, phase.name, hosts, forks, async (h, rep) => {
      await packagesOf(h, rep);
      return finishHost(sessions.get(h.name)!, ctx, rep);
    }, true);
    results.push(...phaseResults);
    if (phaseResults.some((r) => r.status === 'failed' || r.status === 'unreachable')) earlierFailed = true;
  }
  // A host in no phase (cannot happen: checked above) would still have its install awaited here.
  await Promise.all(installing.values());
  return {
    deployId: ctx.deployId,
    check: ctx.check,
    ok: results.every((r) => r.status === 'ok' || r.status === 'changed'),
    hosts: results,
    durationMs: Math.round(performance.now() - start),
  };
}

type StageWork = (h: HostSpec, rep: HostReporter) => Promise<HostResult>;

/** Runs one stage over hosts with the renderer the options ask for. */
function renderStage(o: DeployOptions, stream: NodeJS.WritableStream & { isTTY?: boolean }, ctx: HostContext, title: string, hosts: HostSpec[], forks: number, work: StageWork, final = false, doneText: (h: HostSpec) => string = () => 'planned'): Promise<HostResult[]> {
  if (o.output === 'silent') return pool(hosts, forks, (h) => work(h, { note() {}, task() {} }));
  if (useTty(o, stream)) return runStageTty(title, hosts, forks, ctx, work, final, doneText);
  return runStagePlain(hosts, forks, ctx, stream, work, final);
}


/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function runStagePlain(hosts: HostSpec[], forks: number, ctx: HostContext, stream: NodeJS.WritableStream, work: StageWork, final: boolean): Promise<HostResult[]> {
  const rep: HostReporter = {
    note: (host, text) => {
      if (ctx.verbose) stream.write(`[${host}] ${text}\n`);
    },
    task: (host, r) => {
      // ok tasks only with -v: a no-op deploy prints the recap, not a wall of "ok".
      if (r.status !== 'ok' || ctx.verbose) stream.write(taskLine(host, r, ctx.verbose) + '\n');
    },
  };
  return pool(hosts, forks, async (h) => {
    const r = await work(h, rep);
    // host-level errors of stage 1 are reported once, with the host's final line
    if (final) stream.write(`[${h.name}] ${r.status.toUpperCase()} ${countsText(r)}${r.error ? `: ${r.error.message}` : ''}\n`);
    return r;
  });
}

// listr2 renders to process.stdout: with --json on stdout, the deploy command uses plain output on stderr.
async function runStageTty(stage: string, hosts: HostSpec[], forks: number, ctx: HostContext, work: StageWork, final: boolean, doneText: (h: HostSpec) => string): Promise<HostResult[]> {
  const results = new Map<string, HostResult>();
  const list = new Listr(
    hosts.map((h) => ({
      title: `${h.name} (${stage})`,
      task: async (_: unknown, task: { title: string; output: string }) => {
        const r = await work(h, {
          note: (_host, text) => {
            task.title = `${h.name}: ${text}`;
          },
          task: (_host, tr) => {
            if (tr.status !== 'ok' || ctx.verbose) task.output = taskLine(h.name, tr, ctx.verbose).replaceAll(`[${h.name}] `, '');
          },
        });
        results.set(h.name, r);
        if (!final) {
          // reported (and failed, in listr's sense) once, in the host's phase
          task.title = `${h.name}: ${r.error ? `${r.status === 'unreachable' ? 'unreachable' : 'failed'} (see below)` : doneText(h)}`;
          return;
        }
        task.title = `${h.name}  ${countsText(r)}`;
        if (r.status === 'failed' || r.status === 'unreachable' || r.error) {
          throw new Error(r.error?.message ?? r.tasks.find((t) => t.status === 'failed')?.error ?? 'failed');
        }
      },
      rendererOptions: { persistentOutput: true, outputBar: Infinity },
    })),
    {
      concurrent: forks,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { collapseErrors: false },
      fallbackRenderer: 'simple',
    },
  );
  await list.run();
  return hosts.map((h) => results.get(h.name)!);
}
