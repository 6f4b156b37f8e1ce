// haupd's event loop: the wiring between the pure parts (receive validation, the instance state
// machine, sync groups) and the effects (raw sockets, VIPs, gratuitous ARP, tracking, notify
// scripts, logs, status socket, metrics).
//
//   raw socket per interface -> receive-memo.ts (validateDatagram, drops counted by reason;
//     a repeated advert answered from memory) -> instance (or its sync group).handle(advert)
//     -> actions, executed IN ORDER per instance (daemon-actions.ts)
//   one timer, set to the earliest deadline of all instances (daemon-wakeup.ts) -> handle(timer)
//   tracking (scripts, interfaces, partition guard) -> priority / fault / fault-clear events
//
// Around it: daemon-unit.ts (the run-time records), daemon-status.ts (the status document),
// daemon-run.ts (the process: config, signals, exit code), daemon-io.ts (the effects).
//
// Operation:
//   start    remove stale copies of our VIPs (a previous daemon killed with -9) BEFORE anything
//            else, open sockets, start instances, trackers, status socket and metrics
//   SIGHUP   reload: unchanged instances (same fingerprint) keep their state and mastership;
//            changed ones hand over and restart; removed ones hand over and stop; an invalid
//            config is logged (every diagnostic) and the running one stays
//   SIGTERM  graceful handover: masters send priority 0 and keep their VIPs until they see the
//            new master's advert (or handover_timeout), then release; notify stop; exit 0.
//            A second SIGTERM (or SIGINT) releases at once.
// An exception while handling one instance is logged and puts that instance into Fault: it never
// kills the daemon silently, and never leaves the other instances without adverts.
import { performance } from 'node:perf_hooks';
import type { ConfigLoad, HaupdConfig, InstanceConfig } from './config.ts';
import { ActionRunner } from './daemon-actions.ts';
import type { DaemonIo } from './daemon-io.ts';
import { buildStatus, type HaupdStatus } from './daemon-status.ts';
import type { Expected, Iface, Unit } from './daemon-unit.ts';
import { WakeUp } from './daemon-wakeup.ts';
import { VrrpInstance, type Action, type InstanceEvent } from './instance.ts';
import type { Logger } from './log.ts';
import { newDropCounters, type AcceptedAdvert } from './receive.ts';
import { ReceiveMemo } from './receive-memo.ts';
import { SyncGroup } from './sync-group.ts';
import { formatDiagnostic } from '../util/errors.ts';
import { expectedOf } from './wire-config.ts';

export type { HaupdInstanceStatus, HaupdStatus } from './daemon-status.ts';

/** How long a SIGTERM waits beyond handover_timeout before releasing everything regardless. */
const SHUTDOWN_GRACE_MS = 2000;
/** Retry opening the socket of an instance whose interface is missing or has no address. */
const SOCKET_RETRY_MS = 2000;

/** The state machine's event for an accepted advert, made once per remembered result. */
const advertEvents = new WeakMap<AcceptedAdvert<Expected>, InstanceEvent>();
/** Timer events carry nothing: one object for all. */
const TIMER_EVENT: InstanceEvent = Object.freeze({ type: 'timer' });

/**
 * Reads and validates the config file. The daemon does not import the validator (zod + yaml cost
 * ~19 MB of RSS, DESIGN's budget is 50 MB): main.ts passes one that runs it in a short-lived
 * child process (config-child.ts); tests pass the in-process one.
 */
export type ConfigLoader = (file: string) => Promise<ConfigLoad>;

export class Daemon {
  private config: HaupdConfig;
  private readonly log: Logger;
  private readonly units = new Map<string, Unit>();
  /** The same units as an array: the every-advert loops index it (a Map iterator allocates per step without TurboFan). */
  private unitList: Unit[] = [];
  private readonly groups = new Map<string, SyncGroup>();
  private readonly ifaces = new Map<string, Iface>();
  /** The one timer (daemon-wakeup.ts). */
  private readonly wake: WakeUp;
  /** Executes the machines' actions in order per instance (daemon-actions.ts). */
  private readonly actions: ActionRunner;
  /** Packets read from any socket (valid or not): tells the wake-up whether a turn still read some. */
  private packetsRead = 0;
  private shuttingDown = false;
  private finished: ((code: number) => void) | null = null;
  private readonly done: Promise<number>;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly io: DaemonIo;
  private reloading = false;
  private readonly startedAt = Date.now();
  private reloads = { ok: 0, failed: 0, lastAt: null as string | null, lastError: null as string | null };

  constructor(
    config: HaupdConfig,
    log: Logger,
    io: DaemonIo,
    private readonly loadConfig: ConfigLoader,
  ) {
    this.config = config;
    this.log = log;
    this.io = io;
    this.done = new Promise((resolve) => (this.finished = resolve));
    this.wake = new WakeUp({
      now: () => this.now(),
      earliestDeadline: () => this.earliestDeadline(),
      onlyAdvertsDue: (now) => this.onlyAdvertsDue(now),
      runDue: (now) => this.runDueTimers(now),
      packetsRead: () => this.packetsRead,
      running: () => this.finished !== null,
    });
    this.actions = new ActionRunner({
      log,
      io,
      now: () => this.now(),
      unit: (name) => this.units.get(name),
      unitStopped: (unit) => this.unitStopped(unit),
    });
  }

  /** Resolves with the exit code once the daemon has stopped. */
  get exited(): Promise<number> {
    return this.done;
  }

  now(): number {
    return performance.now();
  }

  // ─── Start ──────────────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    const c = this.config;
    this.log.info('starting', { config: c.file, instances: c.instances.map((i) => i.name), pid: process.pid, node: process.version });
    // Before anything else: a previous daemon killed with -9 may have left our VIPs behind.
    await this.io.releaseStale(c.instances, this.log);
    await this.io.startServices(c, this.statusProvider());
    // The guard first: instances created while the gateway is unchecked start in Fault.
    this.io.startPartitionGuard(c.partitionGuard, (event) => this.broadcast(event));
    await this.startInstances(c.instances);
    this.wake.schedule();
    const mem = process.memoryUsage();
    this.log.info('started', { instances: c.instances.length, rssMb: Math.round(mem.rss / 1048576), heapUsedMb: Math.round(mem.heapUsed / 1048576) });
  }

  private async startInstances(list: readonly InstanceConfig[]): Promise<void> {
    const created: Unit[] = [];
    for (const cfg of list) {
      try {
        created.push(await this.createUnit(cfg));
      } catch (err) {
        this.log.error('instance_create_failed', { instance: cfg.name, error: err });
      }
    }
    this.buildGroups(created);
    const now = this.now();
    for (const u of created) this.dispatch(u, { type: 'start' }, now);
    if (created.some((u) => !u.iface)) this.armSocketRetry();
  }

  private async createUnit(cfg: InstanceConfig): Promise<Unit> {
    const iface = await this.acquireIface(cfg).catch((err: unknown) => {
      this.log.error('socket_open_failed', { instance: cfg.name, interface: cfg.interface, error: (err as Error).message });
      return null;
    });
    const unit: Unit = {
      cfg,
      machine: this.newMachine(cfg, iface?.socket.primary ?? '0.0.0.0'),
      group: null,
      iface,
      expected: null,
      queue: Promise.resolve(),
      tracking: null,
      stopped: false,
      onStopped: [],
      startedAt: Date.now(),
      drops: {},
      pending: 0,
      advertCache: { src: '', byPriority: new Map() },
      onSendError: (err, dst) => {
        // ENETDOWN while the link is down, etc.: the link tracker turns that into Fault.
        this.log.debug('advert_send_failed', { instance: cfg.name, dst, error: err.message });
      },
    };
    // A unit created while the partition guard says "isolated" (a reload) starts in Fault too.
    const guard = this.io.partitionGuardStatus();
    if (guard && guard.status !== 'ok') unit.machine.handle({ type: 'fault', source: 'partition', reason: `partition guard: gateway ${guard.gateway} ${guard.status === 'unknown' ? 'not checked yet' : 'unreachable'}` }, this.now());
    if (iface) this.register(unit, iface);
    else unit.machine.handle({ type: 'fault', source: `socket:${cfg.interface}`, reason: `no VRRP socket on ${cfg.interface} (interface missing or without IPv4 address)` }, this.now());
    this.units.set(cfg.name, unit);
    this.unitList = [...this.units.values()];
    unit.tracking = this.io.startTracking(cfg, (event) => this.dispatch(unit, event, this.now()), this.log.child({ instance: cfg.name }));
    return unit;
  }

  private newMachine(cfg: InstanceConfig, primary: string): VrrpInstance {
    return new VrrpInstance({
      name: cfg.name,
      vrid: cfg.vrid,
      version: cfg.version,
      priority: cfg.priority,
      advertIntervalCs: cfg.advertIntervalCs,
      primaryAddress: primary,
      preempt: cfg.preempt,
      preemptDelayMs: cfg.preemptDelayMs,
      peers: Object.entries(cfg.peers).map(([address, priority]) => ({ address, priority })),
      handoverTimeoutMs: this.config.handoverTimeoutMs,
    });
  }

  private buildGroups(created: Unit[]): void {
    for (const g of this.config.syncGroups) {
      const members = g.instances.map((n) => this.units.get(n)).filter((u): u is Unit => u !== undefined && !u.stopped);
      // A group is built once, from units created together (start, or a reload that changed it).
      if (!members.some((m) => created.includes(m))) continue;
      if (members.length !== g.instances.length) {
        this.log.error('sync_group_incomplete', { group: g.name, members: members.map((m) => m.cfg.name) });
      }
      const group = new SyncGroup(g.name, members.map((m) => m.machine));
      this.groups.set(g.name, group);
      for (const m of members) m.group = group;
    }
  }

  // ─── Sockets ────────────────────────────────────────────────────────────────────────────

  private allVipAddresses(): string[] {
    return [...this.units.values()].flatMap((u) => u.cfg.vips.map((v) => v.address)).concat(this.config.instances.flatMap((i) => i.vips.map((v) => v.address)));
  }

  private async acquireIface(cfg: InstanceConfig): Promise<Iface> {
    let iface = this.ifaces.get(cfg.interface);
    if (!iface) {
      const socket = await this.io.openSocket(cfg.interface, { excludeFromPrimary: this.allVipAddresses() });
      const byVrid = new Map<number, Expected>();
      const counters = newDropCounters();
      const created: Iface = { name: cfg.interface, socket, byVrid, counters, memo: new ReceiveMemo(byVrid, counters), users: 0 };
      socket.onDatagram((buf, length) => this.onDatagram(created, buf, length));
      socket.onError((err) => this.log.warn('socket_error', { interface: cfg.interface, error: err.message }));
      this.ifaces.set(cfg.interface, created);
      iface = created;
      this.log.info('socket_open', { interface: cfg.interface, primary: socket.primary, ifindex: socket.ifindex });
    }
    iface.users++;
    return iface;
  }

  private releaseIface(iface: Iface): void {
    iface.users--;
    if (iface.users <= 0 && this.ifaces.get(iface.name) === iface) {
      iface.socket.close();
      this.ifaces.delete(iface.name);
      this.log.info('socket_closed', { interface: iface.name });
    }
  }

  private register(unit: Unit, iface: Iface): void {
    const expected: Expected = { ...expectedOf(unit.cfg), unit };
    unit.expected = expected;
    iface.byVrid.set(unit.cfg.vrid, expected);
    iface.memo.clear();
  }

  private unregister(unit: Unit): void {
    const iface = unit.iface;
    if (!iface) return;
    if (iface.byVrid.get(unit.cfg.vrid)?.unit === unit) iface.byVrid.delete(unit.cfg.vrid);
    iface.memo.clear();
    unit.iface = null;
    this.releaseIface(iface);
  }

  /** Instances whose interface was missing at start: retry until it appears. */
  private armSocketRetry(): void {
    if (this.retryTimer || this.shuttingDown) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retrySockets();
    }, SOCKET_RETRY_MS);
    this.retryTimer.unref();
  }

  private async retrySockets(): Promise<void> {
    let missing = false;
    for (const unit of this.units.values()) {
      if (unit.iface || unit.stopped || this.shuttingDown) continue;
      let iface: Iface;
      try {
        iface = await this.acquireIface(unit.cfg);
      } catch {
        missing = true;
        continue;
      }
      // The primary address is part of the machine's identity (tie-break, own-advert filter):
      // the socket-less machine is replaced; it never held VIPs.
      const old = unit.machine;
      unit.machine = this.newMachine(unit.cfg, iface.socket.primary);
      unit.iface = iface;
      this.register(unit, iface);
      if (unit.group) this.log.warn('sync_group_member_late', { instance: unit.cfg.name, note: 'member started outside its group after its interface appeared' });
      unit.group = null;
      for (const f of old.snapshot().faults) if (!f.source.startsWith('socket:')) unit.machine.handle({ type: 'fault', source: f.source, reason: f.reason }, this.now());
      this.log.info('socket_recovered', { instance: unit.cfg.name, interface: unit.cfg.interface });
      this.dispatch(unit, { type: 'start' }, this.now());
    }
    if (missing) this.armSocketRetry();
    this.wake.schedule();
  }

  // ─── Events ─────────────────────────────────────────────────────────────────────────────

  /** `buf` is the socket's shared receive buffer: valid during this call only (the memo copies). */
  private onDatagram(iface: Iface, buf: Buffer, length: number): void {
    this.packetsRead++;
    const result = iface.memo.validate(buf, length);
    if (!result.ok) {
      if (result.instance) {
        const drops = result.instance.unit.drops;
        drops[result.reason] = (drops[result.reason] ?? 0) + 1;
        // A packet for one of our VRIDs that failed a check: worth a debug line (never the bytes).
        this.log.debug('advert_dropped', { interface: iface.name, instance: result.instance.unit.cfg.name, reason: result.reason });
      }
      return;
    }
    const unit = result.instance.unit;
    if (result.addressMismatch) {
      this.log.warn('advert_address_mismatch', { instance: unit.cfg.name, from: result.from, addresses: result.advert.addresses });
    }
    // Our own adverts: multicast loop is off, but a unicast peer list may include us.
    if (result.from === iface.socket.primary) return;
    let event = advertEvents.get(result);
    if (event === undefined) {
      event = { type: 'advert', advert: { from: result.from, priority: result.advert.priority, advertIntervalCs: result.advert.advertIntervalCs } };
      advertEvents.set(result, event);
    }
    this.dispatch(unit, event, this.now());
  }

  /** Same event for every live instance (partition guard). */
  private broadcast(event: InstanceEvent): void {
    const now = this.now();
    for (const u of this.units.values()) if (!u.stopped) this.dispatch(u, event, now);
  }

  /** Feed one event to an instance (through its sync group), then run the actions. */
  private dispatch(unit: Unit, event: InstanceEvent, now: number): void {
    if (unit.stopped) return;
    let actions: Action[];
    try {
      actions = unit.group ? unit.group.handle(unit.cfg.name, event, now) : unit.machine.handle(event, now);
    } catch (err) {
      this.instanceCrashed(unit, err, event.type);
      return;
    }
    this.actions.run(actions);
    this.wake.schedule(now);
  }

  /** Log, then Fault: the machine releases its VIPs and sends priority 0 if it was master. */
  private instanceCrashed(unit: Unit, err: unknown, during: string): void {
    unit.lastError = err instanceof Error ? err.message : String(err);
    this.log.error('instance_error', { instance: unit.cfg.name, during, error: err });
    try {
      this.actions.run(unit.machine.handle({ type: 'fault', source: 'internal', reason: `internal error: ${unit.lastError}` }, this.now()));
    } catch (again) {
      // The machine cannot even take a fault: drop our VIPs by hand so nothing is held blindly.
      this.log.error('instance_broken', { instance: unit.cfg.name, error: again });
      void this.io.removeVips(unit.cfg.interface, unit.cfg.vips);
    }
  }

  /** Earliest deadline of every live instance (Infinity: none). */
  private earliestDeadline(): number {
    let next = Infinity;
    const list = this.unitList;
    for (let i = 0; i < list.length; i++) {
      const u = list[i] as Unit;
      if (u.stopped) continue;
      const d = u.machine.nextDeadline();
      if (d !== undefined && d < next) next = d;
    }
    return next;
  }

  /** True when every due deadline is an ungrouped master's advert (see WakeUp.onTimer). */
  private onlyAdvertsDue(now: number): boolean {
    let any = false;
    const list = this.unitList;
    for (let i = 0; i < list.length; i++) {
      const u = list[i] as Unit;
      if (u.stopped) continue;
      const d = u.machine.nextDeadline();
      if (d === undefined || d > now) continue;
      if (u.group || !u.machine.onlyAdvertDue(now)) return false;
      any = true;
    }
    return any;
  }

  private runDueTimers(now: number): void {
    // Allocated only when there are sync groups (the every-advert path allocates nothing here).
    let seen: Set<SyncGroup> | undefined;
    // Actions run here are synchronous sends or queued promises: nothing removes a unit while
    // we iterate (and a removal replaces unitList rather than changing it).
    const list = this.unitList;
    for (let i = 0; i < list.length; i++) {
      const unit = list[i] as Unit;
      if (unit.stopped) continue;
      if (unit.group) {
        seen ??= new Set<SyncGroup>();
        if (seen.has(unit.group)) continue;
        seen.add(unit.group);
        const deadline = unit.group.nextDeadline();
        if (deadline === undefined || deadline > now) continue;
        try {
          this.actions.run(unit.group.handleAll(TIMER_EVENT, now));
        } catch (err) {
          this.instanceCrashed(unit, err, 'timer');
        }
        continue;
      }
      const deadline = unit.machine.nextDeadline();
      if (deadline === undefined || deadline > now) continue;
      try {
        this.actions.run(unit.machine.handle(TIMER_EVENT, now));
      } catch (err) {
        this.instanceCrashed(unit, err, 'timer');
      }
    }
    this.wake.schedule(now);
  }

  // ─── Actions ────────────────────────────────────────────────────────────────────────────

  private unitStopped(unit: Unit): void {
    unit.stopped = true;
    unit.tracking?.stop();
    unit.tracking = null;
    this.io.cancelGarp(unit.cfg.name);
    this.unregister(unit);
    if (this.units.get(unit.cfg.name) === unit) {
      this.units.delete(unit.cfg.name);
      this.unitList = [...this.units.values()];
    }
    if (unit.group && [...this.units.values()].every((u) => u.group !== unit.group)) {
      for (const [name, g] of this.groups) if (g === unit.group) this.groups.delete(name);
    }
    for (const cb of unit.onStopped.splice(0)) cb();
    if (this.shuttingDown && this.units.size === 0) void this.finish(0);
  }

  // ─── Reload ─────────────────────────────────────────────────────────────────────────────

  async reload(): Promise<boolean> {
    if (this.shuttingDown) return false;
    if (this.reloading) {
      this.log.warn('reload_busy', { note: 'a reload is already running; this SIGHUP is ignored' });
      return false;
    }
    this.reloading = true;
    try {
      return await this.reloadNow();
    } finally {
      this.reloading = false;
    }
  }

  private async reloadNow(): Promise<boolean> {
    const file = this.config.file;
    this.log.info('reload_requested', { config: file });
    const { config, diagnostics } = await this.loadConfig(file);
    for (const d of diagnostics) this.log[d.severity === 'error' ? 'error' : 'warn']('config_diagnostic', { diagnostic: formatDiagnostic(d) });
    if (!config) {
      this.reloads.failed++;
      this.reloads.lastError = `${diagnostics.filter((d) => d.severity === 'error').length} errors in ${file}`;
      this.log.error('reload_rejected', { config: file, errors: diagnostics.filter((d) => d.severity === 'error').length, note: 'the running configuration stays in force' });
      return false;
    }
    const old = this.config;
    this.config = config;
    this.log.setLevel(config.logLevel);

    const next = new Map(config.instances.map((i) => [i.name, i]));
    const groupOfNew = new Map(config.syncGroups.flatMap((g) => g.instances.map((n) => [n, JSON.stringify(g)] as const)));
    const groupOfOld = new Map(old.syncGroups.flatMap((g) => g.instances.map((n) => [n, JSON.stringify(g)] as const)));
    const kept: string[] = [];
    const restart: InstanceConfig[] = [];
    const stops: Promise<void>[] = [];
    for (const unit of [...this.units.values()]) {
      const want = next.get(unit.cfg.name);
      // handover_timeout is not compared: a changed value applies to instances started from now
      // on (and to the SIGTERM guard at once), never worth restarting every instance for.
      const unchanged = want !== undefined && want.fingerprint === unit.cfg.fingerprint && groupOfNew.get(unit.cfg.name) === groupOfOld.get(unit.cfg.name);
      if (unchanged) {
        unit.cfg = want;
        kept.push(want.name);
        continue;
      }
      stops.push(this.stopUnit(unit, false));
      if (want) restart.push(want);
    }
    const added = config.instances.filter((i) => !this.units.has(i.name) && !restart.includes(i));
    this.log.info('reload_plan', {
      kept,
      restarted: restart.map((i) => i.name),
      added: added.map((i) => i.name),
      removed: [...this.units.keys()].filter((n) => !next.has(n)),
    });
    await this.io.reconfigure(old, config, this.statusProvider());
    this.io.startPartitionGuard(config.partitionGuard, (event) => this.broadcast(event));
    await Promise.all(stops);
    if (this.shuttingDown) return false; // SIGTERM during the handover: do not start anything
    // New and changed instances: clean up VIPs they may have left (e.g. a changed prefix) first.
    const fresh = [...restart, ...added];
    await this.io.releaseStale(fresh.filter((i) => !this.unitHoldsVips(i)), this.log);
    await this.startInstances(fresh);
    this.wake.schedule();
    this.reloads.ok++;
    this.reloads.lastAt = new Date().toISOString();
    this.reloads.lastError = null;
    this.log.info('reloaded', { config: file, instances: config.instances.length });
    return true;
  }

  /** True when a running (unchanged) instance holds one of `cfg`'s VIPs on the same interface. */
  private unitHoldsVips(cfg: InstanceConfig): boolean {
    const wanted = new Set(cfg.vips.map((v) => v.address));
    return [...this.units.values()].some((u) => u.cfg.interface === cfg.interface && u.machine.snapshot().vipsHeld && u.cfg.vips.some((v) => wanted.has(v.address)));
  }

  /** Shut one instance down (handover unless immediate); resolves once it has stopped. */
  private stopUnit(unit: Unit, immediate: boolean): Promise<void> {
    if (unit.stopped) return Promise.resolve();
    const stopped = new Promise<void>((resolve) => unit.onStopped.push(resolve));
    // The unit leaves the name map once stopped (unitStopped); its replacement starts after that.
    this.dispatch(unit, { type: 'shutdown', immediate }, this.now());
    return stopped;
  }

  // ─── Shutdown ───────────────────────────────────────────────────────────────────────────

  /** Graceful handover of every master, then exit 0. Called twice = release at once. */
  shutdown(immediate = false): void {
    const now = this.now();
    if (this.shuttingDown) {
      if (!immediate) return;
      this.log.warn('shutdown_immediate', { note: 'releasing every VIP now' });
      for (const u of [...this.units.values()]) this.dispatch(u, { type: 'shutdown', immediate: true }, now);
      return;
    }
    this.shuttingDown = true;
    this.log.info('shutdown', { immediate, handoverTimeoutMs: this.config.handoverTimeoutMs });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.io.stopPartitionGuard();
    if (this.units.size === 0) {
      void this.finish(0);
      return;
    }
    for (const u of [...this.units.values()]) this.dispatch(u, { type: 'shutdown', immediate }, now);
    // Bounded: whatever happens, the VIPs are released and the daemon exits.
    const guard = setTimeout(() => {
      this.log.warn('shutdown_timeout', { note: 'handover did not finish; releasing at once' });
      const t = this.now();
      for (const u of [...this.units.values()]) this.dispatch(u, { type: 'shutdown', immediate: true }, t);
      setTimeout(() => void this.finish(0), 1000).unref();
    }, this.config.handoverTimeoutMs + SHUTDOWN_GRACE_MS);
    guard.unref();
  }

  private async finish(code: number): Promise<void> {
    if (!this.finished) return;
    const resolve = this.finished;
    this.finished = null;
    this.wake.cancel();
    // Let queued actions (VIP removal, the last adverts) and notify scripts complete.
    await Promise.all([...this.units.values()].map((u) => u.queue));
    await this.io.drainNotify(5000);
    for (const iface of this.ifaces.values()) iface.socket.close();
    this.ifaces.clear();
    await this.io.stopServices();
    this.log.info('stopped', { code });
    resolve(code);
  }

  // ─── Status ─────────────────────────────────────────────────────────────────────────────

  statusProvider(): () => HaupdStatus {
    return () => this.status();
  }

  /** The status socket's document (daemon-status.ts); metrics render it too. */
  status(): HaupdStatus {
    return buildStatus({
      now: this.now(),
      startedAt: this.startedAt,
      configFile: this.config.file,
      units: this.units.values(),
      ifaces: this.ifaces.values(),
      partitionGuard: this.io.partitionGuardStatus(),
      shuttingDown: this.shuttingDown,
      reloads: this.reloads,
    });
  }
}

