// The daemon's effectful services other than sockets and VIPs: gratuitous ARP, notify scripts,
// tracking (scripts, interfaces, partition guard), the status socket and metrics. daemon.ts talks
// to them only through `DaemonIo`, so the event loop stays readable and tests can replace them.
import type { HaupdConfig, InstanceConfig, PartitionGuardConfig } from './config.ts';
import type { DaemonStatus } from './daemon.ts';
import type { GarpWhy, InstanceEvent, VrrpState } from './instance.ts';
import type { Logger } from './log.ts';

/** Tracking of one instance: turns checks into priority / fault / fault-clear events. */
export interface Tracking {
  stop(): void;
  status(): unknown;
}

export type NotifyState = Exclude<VrrpState, 'init'> | 'stop';

export interface DaemonIo {
  startServices(config: HaupdConfig, status: () => DaemonStatus): Promise<void>;
  /** Apply a reloaded config's service settings (status socket path, metrics address). */
  reconfigure(old: HaupdConfig, next: HaupdConfig, status: () => DaemonStatus): Promise<void>;
  stopServices(): Promise<void>;
  startTracking(cfg: InstanceConfig, emit: (event: InstanceEvent) => void, log: Logger): Tracking;
  /** (Re)start the partition guard; null stops it. Emits fault/fault-clear with source "partition". */
  startPartitionGuard(cfg: PartitionGuardConfig | null, emit: (event: InstanceEvent) => void): void;
  stopPartitionGuard(): void;
  garp(cfg: InstanceConfig, why: GarpWhy, log: Logger): void;
  cancelGarp(instance: string): void;
  notify(cfg: InstanceConfig, state: NotifyState, priority: number, log: Logger): void;
  /** Wait (bounded) for queued notify scripts to finish. */
  drainNotify(timeoutMs: number): Promise<void>;
}

// ─── Implementation ───────────────────────────────────────────────────────────────────────
import { readFileSync } from 'node:fs';
import { runCommand } from './exec.ts';
import { formatVip } from './vip.ts';

const LINK_POLL_MS = 100;

function linkUp(ifname: string): boolean | undefined {
  try {
    return readFileSync(`/sys/class/net/${ifname}/carrier`, 'utf8').trim() === '1';
  } catch {
    return undefined;
  }
}

/** Production services. */
export class IoServices implements DaemonIo {
  private readonly garpTimers = new Map<string, NodeJS.Timeout[]>();

  constructor(private readonly log: Logger) {}

  async startServices(_config: HaupdConfig, _status: () => DaemonStatus): Promise<void> {}
  async reconfigure(_old: HaupdConfig, _next: HaupdConfig, _status: () => DaemonStatus): Promise<void> {}
  async stopServices(): Promise<void> {}

  startTracking(cfg: InstanceConfig, emit: (event: InstanceEvent) => void, log: Logger): Tracking {
    const ifnames = [cfg.interface];
    const state = new Map<string, boolean | undefined>();
    const poll = (): void => {
      for (const ifname of ifnames) {
        const up = linkUp(ifname);
        if (state.get(ifname) === up && state.has(ifname)) continue;
        state.set(ifname, up);
        if (up) {
          log.info('link_up', { interface: ifname });
          emit({ type: 'fault-clear', source: `interface:${ifname}` });
        } else {
          log.warn('link_down', { interface: ifname });
          emit({ type: 'fault', source: `interface:${ifname}`, reason: up === undefined ? `interface ${ifname} missing` : `interface ${ifname} down` });
        }
      }
    };
    poll();
    const timer = setInterval(poll, LINK_POLL_MS);
    return {
      stop: () => clearInterval(timer),
      status: () => Object.fromEntries([...state].map(([k, v]) => [k, v ? 'up' : 'down'])),
    };
  }

  startPartitionGuard(_cfg: PartitionGuardConfig | null, _emit: (event: InstanceEvent) => void): void {}
  stopPartitionGuard(): void {}

  garp(cfg: InstanceConfig, why: GarpWhy, log: Logger): void {
    const burst = (): void => {
      for (const vip of cfg.vips) {
        void runCommand('arping', ['-q', '-U', '-c', '1', '-I', cfg.interface, vip.address], { timeoutMs: 3000 }).then((r) => {
          if (r.code !== 0) log.warn('garp_failed', { vip: formatVip(vip), error: r.stderr.trim() || r.spawnError });
        });
      }
    };
    this.cancelGarp(cfg.name);
    burst();
    log.info('garp', { why, vips: cfg.vips.map(formatVip) });
  }

  cancelGarp(instance: string): void {
    for (const t of this.garpTimers.get(instance) ?? []) clearTimeout(t);
    this.garpTimers.delete(instance);
  }

  notify(_cfg: InstanceConfig, _state: NotifyState, _priority: number, _log: Logger): void {}
  async drainNotify(_timeoutMs: number): Promise<void> {}
}
