// `verify --failover`: fault scenarios run one after another, each measured by a client probe
// through the VIP and VIP polling on every LB, each followed by a restore of the cluster (VIP on
// the expected master, haupd agreeing) before the next one starts.
import { randomBytes } from 'node:crypto';
import type { Connection } from '../connectors/connection.ts';
import type { TrackCheck, VrrpInstance } from '../inventory/model.ts';
import { errorText } from '../engine/results.ts';
import {
  backendFailureBound,
  backupPriority,
  hardFailureBound,
  masterDownMs,
  masterPriority,
  nginxFailureBound,
  plannedStopBound,
  recoveryBound,
  recoveryBoundWithStart,
  splitBrainBound,
  STARTUP_MS,
  type Bound,
} from './bounds.ts';
import { backendOf, evaluateHaupd, evaluateVip } from './checks.ts';
import { CONTROL, addressesOn, haupdStatusOf, httpGets, sleep, within, type Cluster, type HaupdStatusDoc } from './cluster.ts';
import type { FaultDriver } from './faults.ts';
import { PROBE_COMMAND, brokenAcrossSwitch, describeFailures, mergeStats, parseProbeOutput, probeScript, probeStats, type ProbeStats, type SwitchWindow } from './probe.ts';
import { takeoverBackup, type MemberNow, type Takeover } from './takeover.ts';
import { POLL_MS, VipWatch } from './watch.ts';

export type ScenarioId = 'planned-stop' | 'freeze' | 'link-down' | 'nginx-dies' | 'backend-dies' | 'recovery' | 'split-brain';

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
  'planned-stop': 'planned stop of haupd on the master',
  freeze: 'master frozen (haupd SIGSTOP)',
  'link-down': "master's link down",
  'nginx-dies': 'nginx dies on the master',
  'backend-dies': 'a web backend dies',
  recovery: 'recovery: the master returns',
  'split-brain': 'split brain (VRRP blocked), then healed',
};

export interface ScenarioResult {
  id: ScenarioId;
  title: string;
  instance: string;
  /** The instance's VIPs, space separated (every one is probed and watched). */
  vip: string;
  /** Per VIP (several VIPs only): when it reached the expected holder, and its own probe figures. */
  perVip: { vip: string; movedAfterMs: number | null; probe: ProbeStats | null }[];
  /** The LB the fault hit. */
  target: string;
  /** Where the expected new holder is; null when the VIP must stay. */
  expectTo: string | null;
  /** ms from the fault until EVERY VIP was seen on the expected holder (null: not seen / not expected). */
  vipMovedAfterMs: number | null;
  probe: ProbeStats | null;
  /**
   * Of `probe.failed`: connections reset in flight across the ARP switch (see
   * brokenAcrossSwitch), reported but not counted against `bound.failedMax`.
   */
  switchResets: number;
  probeFrom: string;
  bound: Bound;
  ok: boolean;
  reasons: string[];
  notes: string[];
}

export interface FailoverOptions {
  splitBrain?: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  only?: ScenarioId[];
}

const HEALTH_TIMEOUT_MS = 45_000;
const TAIL_MS = 1500;
const WARMUP_MS = 800;

interface Ctx {
  cluster: Cluster;
  driver: FaultDriver;
  log: (l: string) => void;
  probeHost: string;
}

export async function runFailover(cluster: Cluster, driver: FaultDriver, o: FailoverOptions = {}): Promise<ScenarioResult[]> {
  const log = o.log ?? (() => {});
  const ctx: Ctx = { cluster, driver, log, probeHost: cluster.inv.probe[0]?.name ?? CONTROL };
  const results: ScenarioResult[] = [];
  const ids: ScenarioId[] = ['planned-stop', 'freeze', 'link-down', 'nginx-dies', 'backend-dies', 'recovery', ...(o.splitBrain ? (['split-brain'] as const) : [])];
  for (const inst of cluster.inv.vrrp.instances) {
    const vip = inst.vips.map((v) => v.address).join(' ');
    let healthy = await waitHealthy(ctx, inst, HEALTH_TIMEOUT_MS);
    for (const id of ids.filter((x) => !o.only || o.only.includes(x))) {
      if (healthy.problem !== null) {
        results.push(skipped(id, inst, vip, ctx.probeHost, `not run: the cluster is not healthy (${healthy.problem})`));
        continue;
      }
      // nopreempt: after a failover another LB may be the master; the faults hit the master now.
      const view = asCurrentMaster(inst, healthy.holder);
      log(`${inst.name}: ${SCENARIO_TITLES[id]}`);
      let r: ScenarioResult;
      try {
        r = await SCENARIOS[id](ctx, view, vip);
      } catch (e) {
        r = skipped(id, view, vip, ctx.probeHost, `error: ${errorText(e).message}`);
      }
      if (view.master !== inst.master) r.notes.unshift(`nopreempt: ${view.master} is the master now (${inst.master} stayed backup after an earlier failover): the fault hits ${view.master}`);
      results.push(r);
      log(`${inst.name}: ${id}: ${r.ok ? 'pass' : 'FAIL'}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}; restoring`);
      healthy = await waitHealthy(ctx, inst, HEALTH_TIMEOUT_MS);
      if (healthy.problem !== null) r.notes.push(`restore failed: ${healthy.problem}`);
    }
  }
  return results;
}

function skipped(id: ScenarioId, inst: VrrpInstance, vip: string, probeFrom: string, why: string): ScenarioResult {
  return { id, title: SCENARIO_TITLES[id], instance: inst.name, vip, perVip: [], target: inst.master, expectTo: null, vipMovedAfterMs: null, probe: null, switchResets: 0, probeFrom, bound: { vipMs: null, gapMs: null, failedMax: null, basis: '' }, ok: false, reasons: [why], notes: [] };
}

const vipsOf = (inst: VrrpInstance) => inst.vips.map((v) => v.address);

/** haupd's view of every member now (effective priority, state); unknown for one that does not answer. */
async function membersNow(ctx: Ctx, inst: VrrpInstance): Promise<Record<string, MemberNow>> {
  const out: Record<string, MemberNow> = {};
  await Promise.all(
    inst.members.map(async (m) => {
      const doc = await within(haupdStatusOf(ctx.cluster, m.host).catch(() => null), 8000, null);
      const i = doc?.instances.find((x) => x.name === inst.name);
      out[m.host] = i ? { effectivePriority: i.effectivePriority, state: i.state } : {};
    }),
  );
  return out;
}

/** The backup that should take over from the master now (highest effective priority). */
async function takeoverNow(ctx: Ctx, inst: VrrpInstance): Promise<Takeover | null> {
  return takeoverBackup(inst, await membersNow(ctx, inst));
}

const noTakeover = (id: ScenarioId, inst: VrrpInstance, vip: string, ctx: Ctx) => skipped(id, inst, vip, ctx.probeHost, `no backup of ${inst.name} can take over from ${inst.master} (every other member is in Fault)`);

async function mustExec(ctx: Ctx, host: string, cmd: string, timeoutMs = 30_000): Promise<void> {
  const r = await ctx.cluster.exec(host, cmd, { timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: \`${cmd}\` exited ${r.code}: ${r.stderr.toString().trim()}`);
}

/** One probe loop through one VIP, running on the probe host until its stop file appears. */
async function startProbe(ctx: Ctx, probeConn: Connection, vip: string, maxSeconds: number) {
  const url = `http://${vip}:${ctx.cluster.inv.nginx.listen}/`;
  const stopFile = `/tmp/.haup-probe-${randomBytes(4).toString('hex')}`;
  const run = probeConn.exec(PROBE_COMMAND, { stdin: probeScript({ url, maxSeconds, stopFile }), timeoutMs: (maxSeconds + 15) * 1000 });
  // The probe must be running before the fault: wait for its start marker (bounded).
  for (let i = 0; i < 50; i++) {
    const r = await within(probeConn.exec(`test -e ${stopFile}.started`, { timeoutMs: 3000 }), 3500, null);
    if (r?.code === 0) break;
    await sleep(100);
  }
  return {
    vip,
    async finish(): Promise<{ stats: ProbeStats; clean: boolean }> {
      await within(probeConn.exec(`touch ${stopFile}`, { timeoutMs: 5000 }), 6000, null);
      const out = await within(run, 20_000, null);
      const parsed = out ? parseProbeOutput(out.stdout.toString()) : { samples: [], complete: false };
      return { stats: probeStats(parsed.samples), clean: out !== null && parsed.complete };
    },
  };
}

/** One measured scenario: a probe through every VIP + a VIP watch around `inject`. */
async function measure(
  ctx: Ctx,
  inst: VrrpInstance,
  vip: string,
  s: {
    id: ScenarioId;
    target: string;
    expectTo: string | null;
    bound: Bound;
    inject: () => Promise<void>;
    windowMs: number;
    /** Must keep the VIPs when expectTo is null. */
    stays?: string;
    /** The bound with what was measured during the run folded in (before the verdict). */
    refineBound?: (faultEpochMs: number) => Promise<Bound>;
    /** Time the scenario from the end of `inject` (the fault is its last step), not its start. */
    fromInjectEnd?: boolean;
  },
): Promise<ScenarioResult> {
  const { cluster } = ctx;
  const vips = vipsOf(inst);
  const probeConn: Connection = ctx.probeHost === CONTROL ? cluster.local : await cluster.conn(ctx.probeHost);
  const maxSeconds = (WARMUP_MS + s.windowMs + TAIL_MS + 8000) / 1000;
  const probes = await Promise.all(vips.map((v) => startProbe(ctx, probeConn, v, maxSeconds)));
  const watch = new VipWatch(cluster, inst, vips).start();
  await sleep(WARMUP_MS);
  watch.mark();
  let faultEpochMs = Date.now();
  const injected = s.inject().then(
    () => null,
    (e: unknown) => errorText(e).message,
  );
  let injectNote: string | null = null;
  if (s.fromInjectEnd) {
    // The fault is the command's last step (a signal, a link change): its end is when the
    // fault took effect, and the command's own start-up (process spawns, slow on a loaded
    // machine) is not the cluster's time. Times restart from there.
    const err = await within(injected, 30_000, 'the fault command did not finish within 30 s');
    const took = Math.round(watch.now());
    if (err === null) {
      watch.mark();
      faultEpochMs = Date.now();
      injectNote = `the fault command took ${took} ms; times are from its end (the fault is its last step)`;
    }
  }
  // Wait for the expected move of every VIP (or the whole window when the VIPs must stay).
  const deadline = s.windowMs;
  while (watch.now() < deadline) {
    if (s.expectTo && watch.firstHeld(s.expectTo) !== null) break;
    await sleep(25);
  }
  const injectError = await within(injected, 30_000, 'the fault command did not finish within 30 s');
  await sleep(TAIL_MS);
  await watch.stop();
  const finished = await Promise.all(probes.map((p) => p.finish()));
  const stats = mergeStats(finished.map((f) => f.stats));
  const perVip = s.expectTo ? watch.heldPerVip(s.expectTo) : {};

  const r: ScenarioResult = {
    id: s.id,
    title: SCENARIO_TITLES[s.id],
    instance: inst.name,
    vip,
    perVip: vips.length > 1 ? vips.map((v, i) => ({ vip: v, movedAfterMs: perVip[v] === undefined || perVip[v] === null ? null : Math.round(perVip[v]!), probe: finished[i]!.stats })) : [],
    target: s.target,
    expectTo: s.expectTo,
    // A move is complete only when the new holder has every VIP.
    vipMovedAfterMs: s.expectTo ? watch.firstHeld(s.expectTo) : null,
    probe: stats,
    switchResets: 0,
    probeFrom: ctx.probeHost,
    bound: s.bound,
    ok: true,
    reasons: [],
    notes: [],
  };
  if (r.vipMovedAfterMs !== null) r.vipMovedAfterMs = Math.round(r.vipMovedAfterMs);
  if (injectError) r.reasons.push(`fault injection failed: ${injectError}`);
  if (finished.some((f) => !f.clean)) r.reasons.push('the probe did not finish cleanly');
  if (stats.total === 0) r.reasons.push('the probe made no request');
  if (s.refineBound) r.bound = await s.refineBound(faultEpochMs);
  // Per VIP: the switch from the LB that held it before the fault to the expected new holder.
  const oldHolder = s.stays ?? s.target;
  const windows: (SwitchWindow | null)[] = vips.map((v) => {
    const moved = s.expectTo ? watch.firstHeld(s.expectTo, 0, [v]) : null;
    if (moved === null) return null;
    const released = watch.firstReleased(oldHolder, 0, [v]);
    return { fromEpochMs: faultEpochMs + moved, toEpochMs: faultEpochMs + Math.max(moved, released ?? moved) };
  });
  r.switchResets = finished.reduce((n, f, i) => n + f.stats.failures.filter((x) => windows[i] && brokenAcrossSwitch(x, windows[i]!)).length, 0);
  judge(r, watch, oldHolder);
  r.ok = r.reasons.length === 0;
  if (injectNote) r.notes.push(injectNote);
  if (s.expectTo && !watch.exact.has(s.expectTo)) r.notes.push(`${s.expectTo}'s VIP times come from polling (every ${POLL_MS} ms): its \`ip monitor\` gave no timeline (cut off, or its clock differs from this machine's)`);
  // Every failed request, so a failure can be read from a CI log alone.
  for (const [i, f] of finished.entries()) {
    if (f.stats.failed === 0) continue;
    r.notes.push(`${f.stats.failed} failed ${f.stats.failed === 1 ? 'request' : 'requests'}${vips.length > 1 ? ` via ${vips[i]}` : ''} (start after the fault, curl exit/HTTP code, duration): ${describeFailures(f.stats.failures, faultEpochMs, windows[i] ?? null)}`);
  }
  if (r.switchResets > 0 && r.bound.failedMax !== null) {
    r.notes.push(`${r.switchResets} connection${r.switchResets === 1 ? '' : 's'} reset in flight across the ARP switch, not counted against failed <= ${r.bound.failedMax}: accepted by one LB, their next packets reached the other (no VRRP pair without connection sync keeps them)`);
  }
  return r;
}

/** Pure verdict from the figures and the bound. */
export function judgeFigures(r: Pick<ScenarioResult, 'expectTo' | 'vipMovedAfterMs' | 'probe' | 'bound'> & { switchResets?: number }, movedAway: string | null): string[] {
  const reasons: string[] = [];
  const b = r.bound;
  if (r.expectTo) {
    if (r.vipMovedAfterMs === null) reasons.push(`the VIP never reached ${r.expectTo}`);
    else if (b.vipMs !== null && r.vipMovedAfterMs > b.vipMs) reasons.push(`the VIP reached ${r.expectTo} after ${r.vipMovedAfterMs} ms, bound ${b.vipMs} ms`);
  } else if (movedAway) reasons.push(`the VIP moved (${movedAway}) but must stay`);
  if (r.probe) {
    const resets = r.switchResets ?? 0;
    const counted = r.probe.failed - resets;
    if (b.failedMax !== null && counted > b.failedMax) reasons.push(`${counted} failed requests${resets ? ` (and ${resets} reset in flight across the switch)` : ''}, allowed ${b.failedMax}`);
    if (b.gapMs !== null && r.probe.longestGapMs > b.gapMs) reasons.push(`longest gap ${r.probe.longestGapMs} ms, bound ${b.gapMs} ms`);
  }
  return reasons;
}

function judge(r: ScenarioResult, watch: VipWatch, holder: string): void {
  let movedAway: string | null = null;
  if (!r.expectTo) {
    const lost = watch.firstReleased(holder);
    const others = watch.takers(holder);
    if (lost !== null) movedAway = `${holder} released it after ${Math.round(lost)} ms`;
    else if (others.length > 0) movedAway = `${others.join(', ')} took it`;
  }
  if (r.expectTo && r.perVip.length > 1 && r.vipMovedAfterMs === null) {
    const missing = r.perVip.filter((p) => p.movedAfterMs === null).map((p) => p.vip);
    if (missing.length < r.perVip.length) r.reasons.push(`${r.expectTo} never held every VIP at once (not seen with ${missing.join(', ')})`);
  }
  r.reasons.push(...judgeFigures(r, movedAway));
}

// ─── Health ──────────────────────────────────────────────────────────────────────────────────

/**
 * Pure: the instance as the scenarios see it with `holder` the master now. With preempt the
 * healthy holder is the configured master; with nopreempt it may be another LB after a failover:
 * then it is the master and every other member a backup (highest priority first).
 */
export function asCurrentMaster(inst: VrrpInstance, holder: string | undefined): VrrpInstance {
  if (!holder || holder === inst.master || !inst.members.some((m) => m.host === holder)) return inst;
  const backups = inst.members.filter((m) => m.host !== holder).map((m) => m.host);
  return { ...inst, master: holder, backups };
}

/** Problems (null: healthy) and the VIP holder: the master, or (nopreempt) whoever haupd says is master. */
async function health(ctx: Ctx, inst: VrrpInstance): Promise<{ problem: string | null; holder: string | undefined }> {
  const holders: Record<string, string[] | { error: string }> = {};
  const statuses: Record<string, HaupdStatusDoc | { error: string }> = {};
  await Promise.all(
    inst.members.map(async (m) => {
      const noAnswer = { error: 'no answer' };
      holders[m.host] = await within<string[] | { error: string }>(addressesOn(ctx.cluster, m.host, m.interface, 3000).catch((e) => ({ error: errorText(e).message })), 3500, noAnswer);
      statuses[m.host] = await within<HaupdStatusDoc | { error: string }>(haupdStatusOf(ctx.cluster, m.host).catch((e) => ({ error: errorText(e).message })), 8000, noAnswer);
    }),
  );
  const problems: string[] = [];
  for (const vip of inst.vips) {
    const v = evaluateVip(inst, vip, holders);
    if (!v.ok) problems.push(v.evidence);
  }
  const vipHolder = Object.entries(holders).find(([, v]) => Array.isArray(v) && v.includes(inst.vips[0]!.address))?.[0];
  const h = evaluateHaupd(inst, statuses, vipHolder);
  if (!h.ok) problems.push(h.evidence);
  return { problem: problems.length ? problems.join('; ') : null, holder: vipHolder };
}

/** Poll until healthy (problem null) or the timeout (the last problem). */
async function waitHealthy(ctx: Ctx, inst: VrrpInstance, timeoutMs: number): Promise<{ problem: string | null; holder: string | undefined }> {
  const end = Date.now() + timeoutMs;
  let last: { problem: string | null; holder: string | undefined } = { problem: 'not checked', holder: undefined };
  while (Date.now() < end) {
    last = await health(ctx, inst);
    if (last.problem === null) return last;
    await sleep(500);
  }
  return last;
}

async function waitHolder(ctx: Ctx, inst: VrrpInstance, host: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  const m = inst.members.find((x) => x.host === host)!;
  while (Date.now() < end) {
    const a = await within(addressesOn(ctx.cluster, host, m.interface, 3000), 3500, null);
    if (a && vipsOf(inst).every((v) => a.includes(v))) return true;
    await sleep(200);
  }
  return false;
}

// ─── The scenarios ───────────────────────────────────────────────────────────────────────────

/** The tracked nginx check, if this instance has one. */
export function nginxCheckOf(checks: TrackCheck[], inst: VrrpInstance): TrackCheck | undefined {
  return checks.find((c) => inst.track.includes(c.name) && (c.builtin === 'nginx' || /nginx/.test(c.script)));
}

/**
 * Pure: does a failing check move the VIP off the master? (weight 0 = Fault; else priorities.)
 * `backupEffective`: the takeover backup's effective priority as haupd reports it (its own
 * tracked weights applied); without it, its configured priority (+ a positive weight).
 */
export function checkMovesVip(inst: VrrpInstance, check: TrackCheck, backupEffective?: number): boolean {
  if (check.weight === 0) return true;
  const m = masterPriority(inst);
  const b = backupPriority(inst);
  const failingMaster = check.weight > 0 ? m : Math.max(1, m + check.weight);
  const healthyBackup = backupEffective ?? (check.weight > 0 ? Math.min(254, b + check.weight) : b);
  return failingMaster < healthyBackup;
}

type Runner = (ctx: Ctx, inst: VrrpInstance, vip: string) => Promise<ScenarioResult>;

const SCENARIOS: Record<ScenarioId, Runner> = {
  'planned-stop': async (ctx, inst, vip) => {
    const M = inst.master;
    const B = await takeoverNow(ctx, inst);
    if (!B) return noTakeover('planned-stop', inst, vip, ctx);
    const bound = plannedStopBound(inst, B.priority);
    const r = await measure(ctx, inst, vip, {
      id: 'planned-stop',
      target: M,
      expectTo: B.host,
      bound,
      windowMs: bound.vipMs! * 2,
      inject: () => mustExec(ctx, M, 'systemctl stop haupd.service'),
    });
    if (inst.backups.length > 1) r.notes.push(B.why);
    await restoreMaster(ctx, inst);
    return r;
  },

  freeze: async (ctx, inst, vip) => {
    const M = inst.master;
    const B = await takeoverNow(ctx, inst);
    if (!B) return noTakeover('freeze', inst, vip, ctx);
    const bound = hardFailureBound(inst, B.priority);
    let frozen = false;
    try {
      const r = await measure(ctx, inst, vip, {
        id: 'freeze',
        target: M,
        expectTo: B.host,
        bound,
        windowMs: bound.vipMs! * 2,
        inject: async () => {
          await ctx.driver.freezeHaupd(M);
          frozen = true;
        },
        // The lab's freeze is a local signal (its end is the fault); over SSH the answer comes a
        // round trip later, so the start stays the reference there.
        fromInjectEnd: ctx.driver.kind === 'lab',
      });
      r.notes.push(`a frozen haupd cannot release: ${M} keeps its copy of the VIP until it is thawed`);
      if (inst.backups.length > 1) r.notes.push(B.why);
      return r;
    } finally {
      if (frozen) await ctx.driver.thawHaupd(M);
    }
  },

  'link-down': async (ctx, inst, vip) => {
    const M = inst.master;
    const iface = ctx.cluster.interfaceOf(inst, M);
    const B = await takeoverNow(ctx, inst);
    if (!B) return noTakeover('link-down', inst, vip, ctx);
    const bound = hardFailureBound(inst, B.priority);
    const windowMs = bound.vipMs! * 2;
    const downFor = Math.ceil((WARMUP_MS + windowMs + TAIL_MS) / 1000) + 2;
    let down = false;
    try {
      const r = await measure(ctx, inst, vip, {
        id: 'link-down',
        target: M,
        expectTo: B.host,
        bound,
        windowMs,
        inject: async () => {
          await ctx.driver.linkDown(M, iface, downFor);
          down = true;
        },
        // As freeze: the lab's `ip link set down` ends when the link is down; over SSH the
        // answer may never come (the link took the session), so the start stays the reference.
        fromInjectEnd: ctx.driver.kind === 'lab',
      });
      if (inst.backups.length > 1) r.notes.push(B.why);
      return r;
    } finally {
      if (down) {
        await ctx.driver.linkUp(M, iface);
        if (ctx.driver.kind === 'ssh') await sleep(downFor * 1000);
        // The SSH session to M may be stuck on the dead link: start a fresh one.
        await ctx.cluster.reconnect(M);
      }
    }
  },

  'nginx-dies': async (ctx, inst, vip) => {
    const M = inst.master;
    const check = nginxCheckOf(ctx.cluster.inv.vrrp.checks, inst);
    if (!check) return skipped('nginx-dies', inst, vip, ctx.probeHost, `${inst.name} tracks no nginx check: nginx dying on ${M} would leave the VIP on a dead LB`);
    const B = await takeoverNow(ctx, inst);
    if (!B) return noTakeover('nginx-dies', inst, vip, ctx);
    if (!checkMovesVip(inst, check, B.priority)) {
      return skipped('nginx-dies', inst, vip, ctx.probeHost, `check ${check.name} (weight ${check.weight}) cannot move the VIP: ${M} at ${masterPriority(inst)}${check.weight > 0 ? '' : check.weight} stays above ${B.host} at ${B.priority}`);
    }
    const bound = nginxFailureBound(inst, check, B.priority);
    try {
      const r = await measure(ctx, inst, vip, {
        id: 'nginx-dies',
        target: M,
        expectTo: B.host,
        bound,
        windowMs: bound.vipMs! * 2,
        inject: () => mustExec(ctx, M, 'systemctl kill --signal=SIGKILL nginx.service'),
      });
      if (inst.backups.length > 1) r.notes.push(B.why);
      return r;
    } finally {
      await mustExec(ctx, M, 'systemctl reset-failed nginx.service 2>/dev/null; systemctl start nginx.service');
    }
  },

  'backend-dies': async (ctx, inst, vip) => {
    const web = ctx.cluster.inv.web[0];
    if (!web) return skipped('backend-dies', inst, vip, ctx.probeHost, 'no web host in the inventory');
    if (ctx.cluster.inv.web.length < 2) return skipped('backend-dies', inst, vip, ctx.probeHost, 'one web host only: nothing could take over');
    const bound = backendFailureBound();
    try {
      const r = await measure(ctx, inst, vip, {
        id: 'backend-dies',
        target: inst.master,
        expectTo: null,
        bound,
        windowMs: 4000,
        inject: () => mustExec(ctx, web.name, 'systemctl kill --signal=SIGKILL nginx.service'),
        stays: inst.master,
      });
      r.target = web.name;
      r.notes.push(`nginx killed on ${web.name}; the VIP must stay on ${inst.master}`);
      return r;
    } finally {
      await mustExec(ctx, web.name, 'systemctl reset-failed nginx.service 2>/dev/null; systemctl start nginx.service');
      await waitBackendServes(ctx, vip, web.name);
    }
  },

  recovery: async (ctx, inst, vip) => {
    const M = inst.master;
    const next = await takeoverNow(ctx, inst);
    if (!next) return noTakeover('recovery', inst, vip, ctx);
    const B = next.host;
    // Setup (not measured): the master's haupd is stopped and the takeover backup holds the VIPs.
    await mustExec(ctx, M, 'systemctl stop haupd.service');
    if (!(await waitHolder(ctx, inst, B, 15_000))) {
      await mustExec(ctx, M, 'systemctl start haupd.service');
      return skipped('recovery', inst, vip, ctx.probeHost, `setup failed: ${B} did not take the VIP after ${M}'s haupd stopped`);
    }
    await sleep(1000);
    const bound = recoveryBound(inst, ctx.cluster.inv.vrrp.partitionGuard);
    const r = await measure(ctx, inst, vip, {
      id: 'recovery',
      target: M,
      expectTo: inst.preempt ? M : null,
      bound,
      windowMs: inst.preempt ? bound.vipMs! * 2 : STARTUP_MS + masterDownMs(inst, masterPriority(inst)) + 1000,
      inject: () => mustExec(ctx, M, 'systemctl start haupd.service'),
      stays: B,
      // `systemctl start` until haupd runs is process start-up (two node starts on the LB), not
      // protocol: the bound allows STARTUP_MS for it, and the start haupd itself reports when a
      // loaded LB took longer. Failed requests stay bounded at 0 whatever the start took.
      refineBound: async (faultEpochMs) => {
        const doc = await within(haupdStatusOf(ctx.cluster, M).catch(() => null), 8000, null);
        return recoveryBoundWithStart(bound, doc ? Date.parse(doc.startedAt) - faultEpochMs : null);
      },
    });
    if (!inst.preempt) {
      r.notes.push(`nopreempt: ${M} returned as backup`);
      await restoreMaster(ctx, inst);
    }
    return r;
  },

  'split-brain': async (ctx, inst, vip) => {
    const M = inst.master;
    const next = await takeoverNow(ctx, inst);
    if (!next) return noTakeover('split-brain', inst, vip, ctx);
    const B = next.host;
    const b = splitBrainBound(inst, next.priority);
    const bound: Bound = { vipMs: b.healMs, gapMs: null, failedMax: null, basis: `dual master within ${b.dualMs} ms, single again within ${b.healMs} ms of the heal` };
    const watch = new VipWatch(ctx.cluster, inst, vipsOf(inst)).start();
    await sleep(300);
    watch.mark();
    const r = skipped('split-brain', inst, vip, ctx.probeHost, '');
    r.reasons = [];
    r.bound = bound;
    r.expectTo = M;
    let blocked = false;
    try {
      await ctx.driver.blockVrrp(M, B);
      blocked = true;
      while (watch.now() < b.dualMs * 2 && watch.firstDual() === null) await sleep(25);
      const dual = watch.firstDual();
      const statuses = await Promise.all([M, B].map((h) => haupdStatusOf(ctx.cluster, h).catch(() => null)));
      const masters = statuses.filter((s) => s?.instances.find((i) => i.name === inst.name)?.state === 'master').length;
      if (dual === null) r.reasons.push(`no dual master within ${b.dualMs * 2} ms of blocking VRRP`);
      else r.notes.push(`dual master detected ${Math.round(dual)} ms after VRRP was blocked: ${M} and ${B} both hold ${vip}${masters === 2 ? '; haupd on both says master' : ''}`);
      if (dual !== null && dual > b.dualMs) r.reasons.push(`dual master only after ${Math.round(dual)} ms, bound ${b.dualMs} ms`);
    } finally {
      if (blocked) await ctx.driver.unblockVrrp(M, B);
    }
    const healAt = watch.now();
    while (watch.now() < healAt + b.healMs * 3 && watch.firstSingle(healAt) === null) await sleep(25);
    await watch.stop();
    const single = watch.firstSingle(healAt);
    r.vipMovedAfterMs = single === null ? null : Math.round(single - healAt);
    if (single === null) r.reasons.push('still two VIP holders after the heal');
    else if (single - healAt > b.healMs) r.reasons.push(`single holder only ${Math.round(single - healAt)} ms after the heal, bound ${b.healMs} ms`);
    r.ok = r.reasons.length === 0;
    return r;
  },
};

/**
 * nginx on the LBs marks a backend that refused a connection as down for fail_timeout (max_fails):
 * the cluster is restored only when requests through the VIP reach that web again.
 */
async function waitBackendServes(ctx: Ctx, vip: string, web: string): Promise<void> {
  const inv = ctx.cluster.inv;
  const end = Date.now() + (inv.nginx.upstream.failTimeout + 10) * 1000;
  const url = `http://${vip}:${inv.nginx.listen}/`;
  while (Date.now() < end) {
    const got = await httpGets(ctx.cluster.local, url, inv.web.length * 2).catch(() => []);
    if (got.some((r) => r.code === 200 && backendOf(r.body, inv.web) === web)) return;
    await sleep(500);
  }
}

/** The master's haupd running again; with nopreempt a planned restart of the backup hands the VIP back. */
async function restoreMaster(ctx: Ctx, inst: VrrpInstance): Promise<void> {
  const M = inst.master;
  await mustExec(ctx, M, 'systemctl start haupd.service');
  if (!inst.preempt) {
    // The hand-back needs M's haupd running as a backup that follows the current master: a
    // backup restarted before that (a slow start on a loaded machine) leaves no one to take the
    // VIPs. Wait for it (bounded), not for a fixed time.
    const end = Date.now() + 4 * STARTUP_MS;
    while (Date.now() < end) {
      const doc = await within(haupdStatusOf(ctx.cluster, M).catch(() => null), 8000, null);
      const i = doc?.instances.find((x) => x.name === inst.name);
      if (i?.state === 'backup' && i.masterSeen && !i.masterSeen.self) break;
      await sleep(250);
    }
    for (const b of inst.backups) await mustExec(ctx, b, 'systemctl restart haupd.service');
  }
}
