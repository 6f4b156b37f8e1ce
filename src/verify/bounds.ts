// Pass/fail bounds of `verify --failover`, derived from the instance's own timers (RFC 3768 /
// RFC 5798 Master_Down = 3 x advert + Skew) plus a stated margin. Pure: every figure is in ms.
import type { PartitionGuard, TrackCheck, VrrpInstance } from '../inventory/model.ts';
import { masterDownIntervalMs } from '../vrrp/timers.ts';

/**
 * What a measured takeover may add to the protocol bound: `ip addr add` + gratuitous ARP on the
 * new master, the VIP poll interval and its SSH round trip, and scheduling noise on a loaded
 * machine. Stated once so the table can show it.
 */
export const MARGIN_MS = 750;
/** A client's longest gap may exceed the VIP move by the request in flight and one period. */
export const CLIENT_MARGIN_MS = 250;
/**
 * `systemctl start haupd` until its state machine runs: two node starts on the LB (the unit's
 * ExecStartPre --check-config, then the daemon), config load, raw socket. Measured 1.5-4 s on the
 * shared 2-core lab machine under load.
 */
export const STARTUP_MS = 5000;

export interface Bound {
  /** VIP must be seen on the new holder within this many ms (null: must NOT move). */
  vipMs: number | null;
  /** Longest gap between successful requests may be at most this (null: not bounded). */
  gapMs: number | null;
  /** Failed requests allowed (0 for planned moves and backend failures). */
  failedMax: number | null;
  /** How the figures were derived, for the report. */
  basis: string;
}

export function backupPriority(inst: VrrpInstance): number {
  const b = inst.members.find((m) => m.host === inst.backups[0]);
  return b?.priority ?? inst.members[1]?.priority ?? 100;
}

export function masterPriority(inst: VrrpInstance): number {
  return inst.members.find((m) => m.host === inst.master)?.priority ?? inst.members[0]?.priority ?? 254;
}

/** Master_Down_Interval of the backup that takes over (ms). */
export function masterDownMs(inst: VrrpInstance, priority = backupPriority(inst)): number {
  return masterDownIntervalMs(inst.version, priority, inst.advertIntCs);
}

const r = (ms: number) => Math.round(ms);
const s = (ms: number) => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')} s`;

// Every bound below that waits for a backup takes the priority of the backup expected to take
// over (verify/takeover.ts: the highest effective priority); the default is the highest
// configured backup priority.

/** Master frozen or its link down: the backup waits Master_Down at most. */
export function hardFailureBound(inst: VrrpInstance, takeoverPriority = backupPriority(inst)): Bound {
  const md = masterDownMs(inst, takeoverPriority);
  const vip = md + MARGIN_MS;
  return { vipMs: r(vip), gapMs: r(vip + CLIENT_MARGIN_MS), failedMax: null, basis: `3 x ${s(inst.advertIntCs * 10)} + skew ${s(md - 3 * inst.advertIntCs * 10)} + ${s(MARGIN_MS)}` };
}

/** Planned stop (SIGTERM handover): no request may fail; the move itself is within Master_Down. */
export function plannedStopBound(inst: VrrpInstance, takeoverPriority = backupPriority(inst)): Bound {
  const vip = masterDownMs(inst, takeoverPriority) + MARGIN_MS;
  return { vipMs: r(vip), gapMs: null, failedMax: 0, basis: 'planned handover: 0 failed requests' };
}

/**
 * nginx dies on the master: the check fails `fall` times (first failure up to one interval plus
 * its timeout after the crash), the master's priority drops by the weight, and the preempting
 * backup takes over when its Master_Down runs out.
 */
export function nginxFailureBound(inst: VrrpInstance, check: TrackCheck, takeoverPriority = backupPriority(inst)): Bound {
  const detect = (check.fall + 1) * check.interval * 1000 + check.timeout * 1000;
  const md = masterDownMs(inst, takeoverPriority);
  const vip = detect + md + MARGIN_MS;
  return { vipMs: r(vip), gapMs: r(vip + CLIENT_MARGIN_MS), failedMax: null, basis: `check ${check.fall + 1} x ${check.interval} s + ${check.timeout} s, Master_Down ${s(md)}, + ${s(MARGIN_MS)}` };
}

/** A web backend dies: nginx retries the next upstream, nothing fails and the VIP stays. */
export function backendFailureBound(): Bound {
  return { vipMs: null, gapMs: null, failedMax: 0, basis: 'nginx retries the other backends: 0 failed, VIP stays' };
}

/**
 * The original master's haupd starts again: it starts as Backup and (preempt) takes the VIP back
 * after its own Master_Down plus preempt_delay; with nopreempt it must stay backup.
 */
export function recoveryBound(inst: VrrpInstance, guard?: PartitionGuard): Bound {
  if (!inst.preempt) return { vipMs: null, gapMs: null, failedMax: 0, basis: 'nopreempt: the VIP stays on the backup, 0 failed' };
  // With a partition guard, instances start in Fault until the gateway answered `rise` probes.
  const guardMs = guard ? guard.rise * guard.interval * 1000 : 0;
  const vip = STARTUP_MS + guardMs + inst.preemptDelay * 1000 + masterDownMs(inst, masterPriority(inst)) + MARGIN_MS;
  const g = guard ? ` + partition guard ${guard.rise} x ${guard.interval} s` : '';
  return { vipMs: r(vip), gapMs: null, failedMax: 0, basis: `start ${s(STARTUP_MS)}${g} + preempt_delay ${inst.preemptDelay} s + Master_Down ${s(masterDownMs(inst, masterPriority(inst)))} + ${s(MARGIN_MS)}; 0 failed` };
}

/** Split brain: the backup becomes a second master within Master_Down; after the heal one master within 3 adverts. */
export function splitBrainBound(inst: VrrpInstance, takeoverPriority = backupPriority(inst)): { dualMs: number; healMs: number } {
  return { dualMs: r(masterDownMs(inst, takeoverPriority) + MARGIN_MS), healMs: r(3 * inst.advertIntCs * 10 + MARGIN_MS) };
}

/**
 * The recovery bound once haupd's own start time is known (ms from `systemctl start` to the
 * daemon's startedAt, on the LB's clock): a start slower than STARTUP_MS moves the VIP bound by
 * the excess, said in the basis. Everything else (Master_Down, margin, 0 failed) is unchanged.
 */
export function recoveryBoundWithStart(b: Bound, startMs: number | null): Bound {
  // Beyond a minute it is not a slow start but clocks that disagree: keep the bound.
  if (b.vipMs === null || startMs === null || startMs <= STARTUP_MS || startMs > 60_000) return b;
  const extra = r(startMs - STARTUP_MS);
  return { ...b, vipMs: b.vipMs + extra, basis: `${b.basis}; haupd took ${s(startMs)} to start (measured), ${s(extra)} over the ${s(STARTUP_MS)} allowed` };
}
