// The status document (JSON on the status socket; the Prometheus metrics are rendered from it):
// status.ts's shape plus haupd's extras, built from the daemon's run-time records.
import type { Iface, Unit } from './daemon-unit.ts';
import type { TrackingStatus } from './daemon-io.ts';
import type { InstanceSnapshot, VrrpState } from './instance.ts';
import type { DropCounters } from './receive.ts';
import type { DaemonStatus, InstanceStatus, VrrpStateName } from './status.ts';
import { formatVip } from './vip.ts';
import { HAUPD_VERSION } from './version.ts';

export interface HaupdInstanceStatus extends InstanceStatus {
  masterSeen: (NonNullable<InstanceStatus['masterSeen']> & { self: boolean }) | null;
  lastTransition: (NonNullable<InstanceStatus['lastTransition']> & { cause: string }) | null;
  counters: InstanceStatus['counters'] & InstanceSnapshot['counters'];
  primaryAddress: string | null;
  syncGroup: string | null;
  faults: { source: string; reason: string }[];
  handover: { since: string; deadline: string; newMaster: string | null } | null;
  lastError: string | null;
}

export interface HaupdStatus extends DaemonStatus {
  instances: HaupdInstanceStatus[];
  shuttingDown: boolean;
  reloads: { ok: number; failed: number; lastAt: string | null; lastError: string | null };
  /** Receive counters per interface, drops before the VRID is known included. */
  interfaces: { name: string; primary: string; counters: DropCounters }[];
}

export interface StatusInput {
  /** Monotonic ms (performance.now()): the clock of every time in the snapshots. */
  now: number;
  startedAt: number;
  configFile: string;
  units: Iterable<Unit>;
  ifaces: Iterable<Iface>;
  partitionGuard: HaupdStatus['partitionGuard'];
  shuttingDown: boolean;
  reloads: HaupdStatus['reloads'];
}

/** The status socket's document, from the daemon's records (`now`: the machines' clock). */
export function buildStatus(s: StatusInput): HaupdStatus {
  const now = s.now;
  const wall = Date.now();
  const at = (t: number): string => new Date(wall - (now - t)).toISOString();
  const up = (st: VrrpState): VrrpStateName => st.toUpperCase() as VrrpStateName;
  const instances = [...s.units].map((u): HaupdInstanceStatus => {
    const m = u.machine.snapshot();
    const t = m.lastTransition;
    const tracking = u.tracking?.status() as TrackingStatus | undefined;
    return {
      name: m.name,
      interface: u.cfg.interface,
      vrid: m.vrid,
      version: m.version,
      state: up(m.state),
      priority: m.configuredPriority,
      effectivePriority: m.effectivePriority,
      vips: u.cfg.vips.map(formatVip),
      vipsHeld: m.vipsHeld,
      masterSeen: m.masterSeen ? { address: m.masterSeen.address, priority: m.masterSeen.priority, at: at(m.masterSeen.at), self: m.masterSeen.self } : null,
      lastTransition: t ? { from: up(t.from), to: up(t.to), reason: t.reason, at: at(t.at), cause: t.cause } : null,
      counters: { ...m.counters, becameMaster: m.counters.becomeMaster, drops: { ...u.drops } },
      tracks: tracking?.items.map((i) => ({ name: i.name, kind: i.kind, status: i.status, weight: i.weight, ...(i.detail ? { detail: i.detail } : {}) })) ?? [],
      primaryAddress: u.iface?.socket.primary ?? null,
      syncGroup: u.cfg.syncGroup,
      faults: m.faults,
      handover: m.handover ? { since: at(m.handover.since), deadline: at(m.handover.deadline), newMaster: m.handover.newMaster ?? null } : null,
      lastError: u.lastError ?? null,
    };
  });
  return {
    pid: process.pid,
    version: HAUPD_VERSION,
    startedAt: new Date(s.startedAt).toISOString(),
    uptimeSeconds: Math.round((wall - s.startedAt) / 1000),
    configFile: s.configFile,
    instances,
    partitionGuard: s.partitionGuard,
    shuttingDown: s.shuttingDown,
    reloads: { ...s.reloads },
    interfaces: [...s.ifaces].map((i) => ({ name: i.name, primary: i.socket.primary, counters: i.counters })),
  };
}
