// The daemon's effectful services other than sockets and VIPs: gratuitous ARP, notify scripts,
// tracking (scripts, interfaces, partition guard), the status socket and metrics. daemon.ts talks
// to them only through `DaemonIo`, so the event loop stays readable and tests can replace them.
//
// Tracking -> instance events:
//   - the instance's own interface: link down = fault `interface:IF` (always, like keepalived);
//   - track_interfaces / track_scripts with weight 0: failing (or not yet run) = fault
//     `interface:IF` / `script:NAME`, each cleared on its own;
//   - other weights: one `priority` event with base + sum of the weights that apply
//     (track/state.ts: keepalived's semantics; the instance clamps to 1..254, owners stay 255).
import type { HaupdConfig, InstanceConfig, PartitionGuardConfig } from './config.ts';
import type { HaupdStatus } from './daemon-status.ts';
import { startMetricsServer, type MetricsServer } from './metrics.ts';
import { startStatusServer, type StatusServer } from './status.ts';
import { startPartitionGuard, type PartitionGuard } from './track/gateway.ts';
import { sendGratuitousArp, type GarpRun } from './garp.ts';
import type { GarpWhy, InstanceEvent, VrrpState } from './instance.ts';
import type { Logger } from './log.ts';
import { releaseInstances } from './release.ts';
import { openVrrpSocket, type OpenOptions, type VrrpSocket } from './socket.ts';
import { addVips, removeVips, type Vip, type VipResult } from './vip.ts';
import { createNotifier, type Notifier, type NotifyState as ScriptState } from './notify.ts';
import { watchLink, type LinkWatch } from './track/link.ts';
import { startTrackScript, type StartedTrackScript } from './track/script.ts';
import { effectivePriority, trackEffect, type CheckStatus, type TrackedItem } from './track/state.ts';

/** Tracking of one instance: turns checks into priority / fault / fault-clear events. */
export interface Tracking {
  stop(): void;
  status(): TrackingStatus;
}

export interface TrackingStatus {
  effectivePriority: number;
  items: { kind: 'script' | 'interface'; name: string; weight: number; status: CheckStatus; detail: string | null }[];
}

export type NotifyState = Exclude<VrrpState, 'init'> | 'stop';

export interface NotifyInfo {
  previous: VrrpState;
  priority: number;
  reason: string;
}

/** Sockets and addresses: the only parts of the daemon that touch the network namespace. */
export interface NetIo {
  openSocket(ifname: string, opts: OpenOptions): Promise<VrrpSocket>;
  addVips(ifname: string, vips: readonly Vip[]): Promise<VipResult[]>;
  removeVips(ifname: string, vips: readonly Vip[]): Promise<VipResult[]>;
  /** Remove stale copies of these instances' VIPs (start, reload, --release). */
  releaseStale(instances: readonly InstanceConfig[], log: Logger): Promise<string[]>;
}

export interface DaemonIo extends NetIo {
  startServices(config: HaupdConfig, status: () => HaupdStatus): Promise<void>;
  /** Apply a reloaded config's service settings (status socket path, metrics address). */
  reconfigure(old: HaupdConfig, next: HaupdConfig, status: () => HaupdStatus): Promise<void>;
  stopServices(): Promise<void>;
  startTracking(cfg: InstanceConfig, emit: (event: InstanceEvent) => void, log: Logger): Tracking;
  /** (Re)start the partition guard; null stops it. Emits fault/fault-clear with source "partition". */
  startPartitionGuard(cfg: PartitionGuardConfig | null, emit: (event: InstanceEvent) => void): void;
  stopPartitionGuard(): void;
  partitionGuardStatus(): HaupdStatus['partitionGuard'];
  /** Starts the burst; resolves once its arpings have started (see GarpRun.started). */
  garp(cfg: InstanceConfig, why: GarpWhy, log: Logger): Promise<void>;
  cancelGarp(instance: string): void;
  notify(cfg: InstanceConfig, state: NotifyState, info: NotifyInfo, log: Logger): void;
  /** Wait (bounded) for queued notify scripts to finish. */
  drainNotify(timeoutMs: number): Promise<void>;
}

/** Notify scripts get this long each before their process group is killed. */
const NOTIFY_TIMEOUT_MS = 30_000;

interface Item extends TrackedItem {
  kind: 'script' | 'interface';
  detail?: string;
}

/** Tracking of one instance (pure bookkeeping over the io helper's checks). */
export function startInstanceTracking(cfg: InstanceConfig, emit: (event: InstanceEvent) => void, log: Logger): Tracking {
  const items = new Map<string, Item>();
  const links: LinkWatch[] = [];
  const scripts: StartedTrackScript[] = [];
  const faulted = new Set<string>();
  let lastPriority = cfg.priority;
  let stopped = false;

  const apply = (): void => {
    if (stopped) return;
    const list = [...items.values()];
    // Faults: one source per weight-0 item, so each clears on its own and names itself.
    for (const it of list) {
      const source = `${it.kind}:${it.name}`;
      const failing = it.weight === 0 && it.status !== 'ok';
      if (failing && !faulted.has(source)) {
        faulted.add(source);
        const reason = it.kind === 'interface' ? `interface ${it.name} down` : `track script ${it.name} ${it.status === 'unknown' ? 'has not run yet' : 'failing'}${it.detail ? ` (${it.detail})` : ''}`;
        emit({ type: 'fault', source, reason });
      } else if (!failing && faulted.has(source)) {
        faulted.delete(source);
        emit({ type: 'fault-clear', source });
      }
    }
    const weighted = list.filter((it) => it.weight !== 0);
    const prio = effectivePriority(cfg.priority, trackEffect(weighted).delta);
    if (prio !== lastPriority) {
      log.info('priority_changed', { from: lastPriority, to: prio, base: cfg.priority });
      lastPriority = prio;
      emit({ type: 'priority', priority: prio });
    }
  };

  const linkItem = (ifname: string, weight: number): void => {
    const key = `interface:${ifname}`;
    if (items.has(key) && weight === 0) items.get(key)!.weight = 0;
    if (items.has(key)) return;
    const watch = watchLink(ifname, (up) => {
      const it = items.get(key);
      if (!it) return;
      it.status = up ? 'ok' : 'failed';
      log[up ? 'info' : 'warn'](up ? 'link_up' : 'link_down', { interface: ifname });
      apply();
    }, { log });
    links.push(watch);
    items.set(key, { kind: 'interface', name: ifname, weight, status: watch.up ? 'ok' : 'failed' });
    if (!watch.up) log.warn('link_down', { interface: ifname, at: 'start' });
  };

  // The VRRP interface itself: down = Fault, whatever track_interfaces says.
  linkItem(cfg.interface, 0);
  for (const t of cfg.trackInterfaces) linkItem(t.name, t.weight);
  for (const spec of cfg.trackScripts) {
    const key = `script:${spec.name}`;
    items.set(key, { kind: 'script', name: spec.name, weight: spec.weight, status: 'unknown' });
    try {
      scripts.push(
        startTrackScript(spec, (status: CheckStatus, last) => {
          const it = items.get(key);
          if (!it) return;
          it.status = status;
          it.detail = last.detail;
          log[status === 'ok' ? 'info' : 'warn']('track_script', { script: spec.name, status, detail: last.detail });
          apply();
        }),
      );
    } catch (err) {
      // A script that cannot even start counts as failing: never a silently ignored check.
      const it = items.get(key)!;
      it.status = 'failed';
      it.detail = (err as Error).message;
      log.error('track_script_invalid', { script: spec.name, error: (err as Error).message });
    }
  }
  apply();

  return {
    stop() {
      stopped = true;
      for (const l of links) l.stop();
      for (const s of scripts) s.stop();
    },
    status() {
      return {
        effectivePriority: lastPriority,
        items: [...items.values()].map((it) => ({ kind: it.kind, name: it.name, weight: it.weight, status: it.status, detail: it.detail ?? null })),
      };
    },
  };
}

const NOTIFY_STATE: Record<NotifyState, ScriptState> = { master: 'MASTER', backup: 'BACKUP', fault: 'FAULT', stop: 'STOP' };

/** Production services. */
export class IoServices implements DaemonIo {
  /** Running GARPs per instance: a split-brain answer and its repeat may overlap. */
  private readonly garps = new Map<string, Set<GarpRun>>();
  private readonly notifier: Notifier;
  private statusServer: StatusServer | null = null;
  private metricsServer: MetricsServer | null = null;
  private guard: PartitionGuard | null = null;
  private guardCfg: PartitionGuardConfig | null = null;

  constructor(private readonly log: Logger) {
    this.notifier = createNotifier({ timeoutMs: NOTIFY_TIMEOUT_MS, log });
  }

  openSocket(ifname: string, opts: OpenOptions): Promise<VrrpSocket> {
    return openVrrpSocket(ifname, opts);
  }

  addVips(ifname: string, vips: readonly Vip[]): Promise<VipResult[]> {
    return addVips(ifname, vips);
  }

  removeVips(ifname: string, vips: readonly Vip[]): Promise<VipResult[]> {
    return removeVips(ifname, vips);
  }

  releaseStale(instances: readonly InstanceConfig[], log: Logger): Promise<string[]> {
    return releaseInstances(instances, log);
  }

  async startServices(config: HaupdConfig, status: () => HaupdStatus): Promise<void> {
    await this.startStatus(config.statusSocket, status);
    await this.startMetrics(config.metrics, status);
  }

  async reconfigure(old: HaupdConfig, next: HaupdConfig, status: () => HaupdStatus): Promise<void> {
    if (old.statusSocket !== next.statusSocket || !this.statusServer) {
      await this.statusServer?.close();
      this.statusServer = null;
      await this.startStatus(next.statusSocket, status);
    }
    if (JSON.stringify(old.metrics) !== JSON.stringify(next.metrics) || (next.metrics && !this.metricsServer)) {
      await this.metricsServer?.close();
      this.metricsServer = null;
      await this.startMetrics(next.metrics, status);
    }
  }

  async stopServices(): Promise<void> {
    await Promise.all([this.statusServer?.close(), this.metricsServer?.close()]);
    this.statusServer = null;
    this.metricsServer = null;
  }

  /** A status socket or metrics port that cannot be opened is logged; VRRP runs on without it. */
  private async startStatus(path: string, status: () => HaupdStatus): Promise<void> {
    try {
      this.statusServer = await startStatusServer(path, status);
      this.log.info('status_socket', { path });
    } catch (err) {
      this.log.error('status_socket_failed', { path, error: (err as Error).message });
    }
  }

  private async startMetrics(listen: HaupdConfig['metrics'], status: () => HaupdStatus): Promise<void> {
    if (!listen) return;
    const address = `${listen.host}:${listen.port}`;
    try {
      this.metricsServer = await startMetricsServer(address, status);
      this.log.info('metrics_listen', { address });
    } catch (err) {
      this.log.error('metrics_failed', { address, error: (err as Error).message });
    }
  }

  startTracking(cfg: InstanceConfig, emit: (event: InstanceEvent) => void, log: Logger): Tracking {
    return startInstanceTracking(cfg, emit, log);
  }

  startPartitionGuard(cfg: PartitionGuardConfig | null, emit: (event: InstanceEvent) => void): void {
    const same = JSON.stringify(cfg) === JSON.stringify(this.guardCfg);
    if (same && (this.guard || !cfg)) return;
    this.stopPartitionGuard();
    this.guardCfg = cfg;
    if (!cfg) {
      emit({ type: 'fault-clear', source: 'partition' });
      return;
    }
    // Until the first answer the gateway counts as unreachable (track/state.ts): no instance
    // takes a VIP before the guard has seen the network.
    emit({ type: 'fault', source: 'partition', reason: `partition guard: gateway ${cfg.gateway} not checked yet` });
    try {
      this.guard = startPartitionGuard(
        { gateway: cfg.gateway, ...(cfg.interface ? { interface: cfg.interface } : {}), intervalMs: cfg.intervalMs, timeoutMs: cfg.timeoutMs, rise: cfg.rise, fall: cfg.fall },
        (st, last) => {
          if (st === 'ok') {
            this.log.info('partition_guard', { gateway: cfg.gateway, status: st });
            emit({ type: 'fault-clear', source: 'partition' });
          } else {
            this.log.warn('partition_guard', { gateway: cfg.gateway, status: st, detail: last.detail });
            emit({ type: 'fault', source: 'partition', reason: `partition guard: gateway ${cfg.gateway} unreachable (${last.detail ?? 'no reply'})` });
          }
        },
      );
    } catch (err) {
      this.log.error('partition_guard_failed', { gateway: cfg.gateway, error: (err as Error).message });
    }
  }

  stopPartitionGuard(): void {
    this.guard?.stop();
    this.guard = null;
  }

  partitionGuardStatus(): HaupdStatus['partitionGuard'] {
    if (!this.guardCfg) return null;
    const detail = this.guard?.last?.detail;
    return { gateway: this.guardCfg.gateway, status: this.guard?.status ?? 'failed', ...(detail ? { detail } : {}) };
  }

  garp(cfg: InstanceConfig, why: GarpWhy, log: Logger): Promise<void> {
    // A takeover starts afresh; a split-brain answer adds to what runs (its repeat 250 ms later
    // must not kill the first burst's arpings before they have sent, on a loaded host).
    if (why === 'takeover') this.cancelGarp(cfg.name);
    const run = sendGratuitousArp(cfg.interface, cfg.vips.map((v) => v.address), cfg.garp, log);
    let runs = this.garps.get(cfg.name);
    if (!runs) this.garps.set(cfg.name, (runs = new Set()));
    // Bounded: at most two split-brain runs (answer + repeat, rate-limited to 1/s by the machine)
    // overlap a takeover's 5 s repeat; the oldest goes first.
    if (runs.size >= 4) {
      const oldest = runs.values().next().value as GarpRun;
      oldest.cancel();
      runs.delete(oldest);
    }
    runs.add(run);
    void run.done.then(() => {
      const set = this.garps.get(cfg.name);
      set?.delete(run);
      if (set?.size === 0 && this.garps.get(cfg.name) === set) this.garps.delete(cfg.name);
    });
    log.info('garp', { why, vips: cfg.vips.map((v) => `${v.address}/${v.prefix}`), count: cfg.garp.count, repeat: cfg.garp.repeatCount });
    return run.started;
  }

  cancelGarp(instance: string): void {
    for (const run of this.garps.get(instance) ?? []) run.cancel();
    this.garps.delete(instance);
  }

  notify(cfg: InstanceConfig, state: NotifyState, info: NotifyInfo, _log: Logger): void {
    const n = cfg.notify;
    if (n.any.length + n.master.length + n.backup.length + n.fault.length + n.stop.length === 0) return;
    this.notifier.notify(
      { notify: n.any, master: n.master, backup: n.backup, fault: n.fault, stop: n.stop },
      { instance: cfg.name, state: NOTIFY_STATE[state], previousState: NOTIFY_STATE[info.previous as NotifyState] ?? info.previous.toUpperCase(), priority: info.priority, reason: info.reason },
    );
  }

  async drainNotify(timeoutMs: number): Promise<void> {
    const drained = await this.notifier.drain(timeoutMs);
    if (!drained) this.log.warn('notify_drain_timeout', { pending: this.notifier.pending });
  }
}
