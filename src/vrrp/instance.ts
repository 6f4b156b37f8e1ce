// One VRRP instance (one VRID on one interface): the RFC 5798 §6 state machine, PURE.
// No sockets, no timers, no clock: the daemon passes `now` with every event, executes the
// returned actions, and schedules one wake-up at `nextDeadline()`.
//
// ─── Contract for the daemon ──────────────────────────────────────────────────────────────
// Input:  `handle(event, now)` with `now` in milliseconds on a MONOTONIC clock
//         (performance.now() or process.hrtime); every time in the snapshot uses that clock.
//   { type: 'start' }                          begin (Init → Backup, or Master for an owner)
//   { type: 'advert', advert }                 a VALIDATED advert for this VRID
//                                              (receive.ts has dropped bad ones already):
//                                              { from: sender primary IPv4, priority 0..255,
//                                                advertIntervalCs } — ignored before `start`
//   { type: 'timer' }                          wake-up at (or after) nextDeadline()
//   { type: 'priority', priority }             effective priority from tracking: the caller may
//                                              pass the raw base ± weights; THIS CLASS CLAMPS it
//                                              to 1..254. An address owner (configured 255)
//                                              stays 255: weights do not apply to owners.
//   { type: 'fault', source, reason }          a fault is active (source is a key such as
//                                              "interface:eth0", "script:chk", "partition";
//                                              reason is human text, e.g. "interface eth0 down")
//   { type: 'fault-clear', source }            that fault is gone; Fault → Backup when none left
//   { type: 'shutdown', immediate? }           stop (SIGTERM, or instance removed on reload);
//                                              immediate: true skips the handover hold
// Output: Action[] — EXECUTE IN ORDER (await add-vips before garp and send-advert; a takeover
//         by Master_Down after a hard failure lists its send-advert BEFORE add-vips):
//   { type: 'add-vips' } / { type: 'remove-vips' }   idempotent: add twice = present once
//   { type: 'garp', why }                      gratuitous ARP for every VIP (burst + repeat)
//   { type: 'stop-garp' }                      kill our pending/running gratuitous ARPs (we
//                                              yielded: a late one would pull clients back)
//   { type: 'send-advert', priority }          one advert with this priority (0 = leaving)
//   { type: 'transition', from, to, cause, reason, at }   log + notify scripts (comes last)
//   { type: 'stopped' }                        shutdown finished: VIPs released; exit when all are
// Every action carries `instance` (the config name) so a sync group can return a mixed list.
// Timers: `nextDeadline()` is the earliest time `handle({type:'timer'}, now)` must be called
// (undefined = none); read it again after EVERY handle() call, any event can move it. Times are
// fractional ms (v2 prio 100: 3609.375), round up when arming setTimeout. After 'stopped' every
// event is ignored. Overdue timers fire ONLY on a timer event, never implicitly inside another
// event: drain received adverts before firing timers after a stall and a late master_down does
// not cause a spurious takeover.
//
// ─── Beyond keepalived ────────────────────────────────────────────────────────────────────
// a. Planned handover: on shutdown a master sends priority 0 (repeated every advert interval)
//    but KEEPS its VIPs until it sees another router's advert, then waits `releaseDrainMs` for
//    in-flight requests and releases; `handoverTimeoutMs` bounds the whole hold. A backup whose
//    config lists the complete peer set takes over at once on priority 0 if it is the highest
//    remaining peer (no Skew wait).
// b. Split brain healed: a master that hears a lower-priority (or priority-0) advert from
//    another master answers with an advert AND asks for gratuitous ARP at once (rate-limited);
//    a master that yields to a better one sends priority 0, so the winner hears about the split
//    brain even when its own advert arrived first.
// c. Every transition carries a machine cause and a human reason, kept in the snapshot.

import { HaupError } from '../util/errors.ts';
import { compareIpv4, ipv4ToUint32, masterDownIntervalMs, skewMs, type VrrpVersion } from './timers.ts';

export type VrrpState = 'init' | 'backup' | 'master' | 'fault';

/** Another router of this VRID with the priority it is configured with. */
export interface PeerConfig {
  address: string;
  priority: number;
}

export interface InstanceConfig {
  /** Config name, used in every action, log and status line. */
  name: string;
  vrid: number;
  version: VrrpVersion;
  /** Configured priority 1..255 (255 = address owner: master at once, never yields to tracking). */
  priority: number;
  /** Our advert interval in centiseconds: v2 whole seconds (100..25500), v3 1..4095. */
  advertIntervalCs: number;
  /** Our primary IPv4 on the VRRP interface: the source of our adverts and the tie-breaker. */
  primaryAddress: string;
  /** false = keepalived's `nopreempt`. Default true. */
  preempt?: boolean;
  /** keepalived `preempt_delay`: no preemption for this long after startup or after first
   *  seeing a lower-priority master. Default 0. */
  preemptDelayMs?: number;
  /** The COMPLETE set of other routers for this VRID (ourselves excluded; our own address is
   *  ignored if present). Empty or absent = unknown: RFC behaviour (wait Skew on priority 0). */
  peers?: readonly PeerConfig[];
  /** Longest a shutting-down master keeps its VIPs waiting for a new master.
   *  Default: our Master_Down_Interval. 0 = release at once, as keepalived does. */
  handoverTimeoutMs?: number;
  /** After yielding to a new master (handover or higher-priority advert), keep the VIPs this
   *  long so requests already routed to us complete. The new master has sent GARP by then.
   *  Default 100 ms; 0 = release at once. Never applies to Fault (an isolated node releases now). */
  releaseDrainMs?: number;
  /** Minimum spacing of split-brain gratuitous ARPs (a one-way partition would otherwise ask
   *  for one per received advert). Default 1000 ms. */
  splitBrainGarpIntervalMs?: number;
}

/** The instance's own minimal view of a received advert (independent of the codec). */
export interface ReceivedAdvert {
  /** Sender's primary IPv4 (the IP source address). */
  from: string;
  priority: number;
  /** v3: Max Adver Int; v2: Adver Int × 100. */
  advertIntervalCs: number;
}

export type InstanceEvent =
  | { type: 'start' }
  | { type: 'advert'; advert: ReceivedAdvert }
  | { type: 'timer' }
  | { type: 'priority'; priority: number }
  | { type: 'fault'; source: string; reason: string }
  | { type: 'fault-clear'; source: string }
  | { type: 'shutdown'; immediate?: boolean };

/** Machine-readable cause of a transition (metrics labels, tests); `reason` is the human text. */
export type TransitionCause =
  | 'startup'
  | 'owner'
  | 'master_down'
  | 'preempt'
  | 'priority_zero_known_peers'
  | 'higher_priority'
  | 'equal_priority_higher_ip'
  | 'fault'
  | 'fault_cleared'
  | 'shutdown'
  | 'sync_group';

export type GarpWhy = 'takeover' | 'split_brain';

export type Action =
  | { type: 'add-vips'; instance: string }
  | { type: 'remove-vips'; instance: string }
  | { type: 'garp'; instance: string; why: GarpWhy }
  | { type: 'stop-garp'; instance: string }
  | { type: 'send-advert'; instance: string; priority: number }
  | { type: 'transition'; instance: string; from: VrrpState; to: VrrpState; cause: TransitionCause; reason: string; at: number }
  | { type: 'stopped'; instance: string };

export interface TransitionRecord {
  from: VrrpState;
  to: VrrpState;
  cause: TransitionCause;
  reason: string;
  at: number;
}

export interface InstanceCounters {
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  /** Lower-priority adverts a preempting backup discarded (RFC 5798 §6.4.2). */
  lowerPriorityDiscarded: number;
  becomeMaster: number;
  releaseMaster: number;
  splitBrainGarps: number;
}

export interface InstanceSnapshot {
  name: string;
  vrid: number;
  version: VrrpVersion;
  state: VrrpState;
  /** True once shutdown finished. */
  stopped: boolean;
  configuredPriority: number;
  effectivePriority: number;
  preempt: boolean;
  /** Current master as far as we know (ourselves when master). */
  masterSeen?: { address: string; priority: number; at: number; self: boolean };
  lastTransition?: TransitionRecord;
  /** Active faults by source. */
  faults: { source: string; reason: string }[];
  /** Whether this instance currently holds (or is asking the daemon to hold) the VIPs. */
  vipsHeld: boolean;
  /** Shutdown handover in progress (master sent priority 0, still holding VIPs). */
  handover?: { since: number; deadline: number; newMaster?: string };
  /** v3: interval learned from the master; v2: ours. */
  masterAdverIntervalCs: number;
  masterDownAt?: number;
  nextAdvertAt?: number;
  /** Sync group: master_down expired but the group is not ready to go master together. */
  waitingForSyncGroup: boolean;
  counters: InstanceCounters;
}

/** Fault source a sync group uses to pull its members into Fault with a faulty member. */
export const SYNC_GROUP_FAULT = 'sync-group';

export const DEFAULT_RELEASE_DRAIN_MS = 100;
const DEFAULT_SPLIT_BRAIN_GARP_INTERVAL_MS = 1000;
/**
 * A master answering a competing master repeats its GARP once this much later: the loser's own
 * GARPs (arping processes, slow to start under load) may reach the clients AFTER our answer and
 * pull them to a node that has already yielded (measured: 0.6-1 s black hole at 0.01 s adverts).
 */
export const SPLIT_BRAIN_GARP_REPEAT_MS = 250;
/**
 * A master that yields sends priority 0 now and this many more times, one advert interval apart:
 * that priority 0 is what tells the winner of a healed split brain to send gratuitous ARP, and
 * one lost packet (a busy host at 0.01 s adverts) must not leave the clients black-holed.
 */
export const YIELD_PRIORITY_ZERO_REPEATS = 2;

interface HandoverHold {
  since: number;
  deadline: number;
  repeatAt: number;
  /** Set once another router's advert was seen: release at min(this, deadline). */
  releaseAt?: number;
  newMaster?: { address: string; priority: number };
}

export class VrrpInstance {
  readonly name: string;
  private readonly cfg: Required<Omit<InstanceConfig, 'peers' | 'handoverTimeoutMs'>> &
    Pick<InstanceConfig, 'handoverTimeoutMs'> & { peers: readonly PeerConfig[] };

  private state: VrrpState = 'init';
  private started = false;
  private stopped = false;
  private effectivePriority: number;
  private masterAdverIntervalCs: number;
  private masterDownAt: number | undefined;
  private advertAt: number | undefined;
  /** End of the preempt_delay window; undefined = no window pending. */
  private preemptAllowedAt: number | undefined;
  /** VIPs are ours until this time (drain after yielding), then removed. */
  private releaseAt: number | undefined;
  private vipsHeld = false;
  private wantMaster = false;
  private readonly faults = new Map<string, string>();
  private handover: HandoverHold | undefined;
  private lastSplitBrainGarpAt = Number.NEGATIVE_INFINITY;
  /** The one repeat of the last split-brain GARP (SPLIT_BRAIN_GARP_REPEAT_MS). */
  private splitBrainRepeatAt: number | undefined;
  /** Repeats of the priority 0 sent on yielding (YIELD_PRIORITY_ZERO_REPEATS), while in Backup. */
  private yieldZeroAt: number | undefined;
  private yieldZeroLeft = 0;
  /** Who sent the last priority 0 we acted on, for the master_down reason text. */
  private priorityZeroFrom: string | undefined;
  /** The lower-priority master we are preempting (its adverts are discarded, it is alive). */
  private preempting: { address: string; priority: number; at: number } | undefined;
  private masterSeen: InstanceSnapshot['masterSeen'];
  private lastTransition: TransitionRecord | undefined;
  private masterGate: ((instance: VrrpInstance) => boolean) | undefined;
  private readonly counters: InstanceCounters = {
    advertsSent: 0,
    advertsReceived: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    lowerPriorityDiscarded: 0,
    becomeMaster: 0,
    releaseMaster: 0,
    splitBrainGarps: 0,
  };

  constructor(config: InstanceConfig) {
    checkConfig(config);
    this.name = config.name;
    this.cfg = {
      ...config,
      preempt: config.preempt ?? true,
      preemptDelayMs: config.preemptDelayMs ?? 0,
      peers: (config.peers ?? []).filter((p) => p.address !== config.primaryAddress),
      releaseDrainMs: config.releaseDrainMs ?? DEFAULT_RELEASE_DRAIN_MS,
      splitBrainGarpIntervalMs: config.splitBrainGarpIntervalMs ?? DEFAULT_SPLIT_BRAIN_GARP_INTERVAL_MS,
    };
    this.effectivePriority = config.priority;
    this.masterAdverIntervalCs = config.advertIntervalCs;
  }

  // ─── Public API ─────────────────────────────────────────────────────────────────────────

  handle(event: InstanceEvent, now: number): Action[] {
    const out: Action[] = [];
    if (this.stopped) return out;
    switch (event.type) {
      case 'start':
        this.onStart(now, out);
        break;
      case 'advert':
        this.onAdvert(event.advert, now, out);
        break;
      case 'timer':
        this.onTimer(now, out);
        break;
      case 'priority':
        this.onPriority(event.priority, now, out);
        break;
      case 'fault':
        this.onFault(event.source, event.reason, now, out);
        break;
      case 'fault-clear':
        this.onFaultClear(event.source, now, out);
        break;
      case 'shutdown':
        this.onShutdown(event.immediate === true, now, out);
        break;
    }
    return out;
  }

  /** Earliest time a timer event is due, or undefined when nothing is scheduled. */
  nextDeadline(): number | undefined {
    if (this.stopped) return undefined;
    // Called several times per advert by the daemon: plain comparisons, no array.
    let min = earlier(earlier(earlier(this.releaseAt, this.advertAt), this.splitBrainRepeatAt), this.yieldZeroAt);
    if (this.state === 'backup' && !this.wantMaster) min = earlier(min, this.masterDownAt);
    const hold = this.handover;
    if (hold) {
      min = earlier(earlier(min, hold.deadline), hold.releaseAt);
      if (!hold.newMaster) min = earlier(min, hold.repeatAt);
    }
    return min;
  }

  /**
   * True when the only timer due at `now` is a master's periodic advert (no handover, release,
   * split-brain repeat or Master_Down): the daemon may act on it before reading queued packets,
   * since the advert is due whatever they say.
   */
  onlyAdvertDue(now: number): boolean {
    if (this.stopped || this.state !== 'master' || this.handover) return false;
    if (this.advertAt === undefined || this.advertAt > now) return false;
    if (this.releaseAt !== undefined && this.releaseAt <= now) return false;
    if (this.splitBrainRepeatAt !== undefined && this.splitBrainRepeatAt <= now) return false;
    return true;
  }

  get currentState(): VrrpState {
    return this.state;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  snapshot(): InstanceSnapshot {
    const snap: InstanceSnapshot = {
      name: this.name,
      vrid: this.cfg.vrid,
      version: this.cfg.version,
      state: this.state,
      stopped: this.stopped,
      configuredPriority: this.cfg.priority,
      effectivePriority: this.effectivePriority,
      preempt: this.cfg.preempt,
      faults: [...this.faults].map(([source, reason]) => ({ source, reason })),
      vipsHeld: this.vipsHeld,
      masterAdverIntervalCs: this.masterAdverIntervalCs,
      waitingForSyncGroup: this.wantMaster,
      counters: { ...this.counters },
    };
    if (this.masterSeen) snap.masterSeen = { ...this.masterSeen };
    if (this.lastTransition) snap.lastTransition = { ...this.lastTransition };
    if (this.handover) {
      snap.handover = { since: this.handover.since, deadline: this.handover.deadline };
      if (this.handover.newMaster) snap.handover.newMaster = this.handover.newMaster.address;
    }
    if (this.state === 'backup' && !this.wantMaster && this.masterDownAt !== undefined) snap.masterDownAt = this.masterDownAt;
    if (this.advertAt !== undefined) snap.nextAdvertAt = this.advertAt;
    return snap;
  }

  // ─── Hooks for sync-group.ts (not for the daemon) ──────────────────────────────────────

  /** Install the sync group's "may this member go master now?" check. */
  setMasterGate(gate: ((instance: VrrpInstance) => boolean) | undefined): void {
    this.masterGate = gate;
  }

  /** master_down expired (or owner/handover takeover) while the group held us back. */
  get wantsMaster(): boolean {
    return this.wantMaster;
  }

  /** In the middle of a shutdown handover (or finished): sync groups leave it alone. */
  get isLeaving(): boolean {
    return this.stopped || this.handover !== undefined;
  }

  /** Faults of this instance itself, not the ones a sync group imposed. */
  ownFaults(): { source: string; reason: string }[] {
    return [...this.faults].filter(([s]) => s !== SYNC_GROUP_FAULT).map(([source, reason]) => ({ source, reason }));
  }

  hasFault(source: string): boolean {
    return this.faults.has(source);
  }

  /** A sync group member went master: follow if we were waiting for the group. */
  forceMaster(now: number, reason: string): Action[] {
    const out: Action[] = [];
    if (this.stopped || this.handover || this.state !== 'backup') return out;
    this.becomeMaster(now, 'sync_group', reason, out, { bypassGate: true });
    return out;
  }

  /** A sync group member fell back to Backup: a master follows (priority 0, VIPs drained, like a yield). */
  forceBackup(now: number, reason: string): Action[] {
    const out: Action[] = [];
    if (this.stopped || this.handover || this.state !== 'master') return out;
    this.leaveMasterForBackup(now, 'sync_group', reason, out);
    return out;
  }

  // ─── Events ─────────────────────────────────────────────────────────────────────────────

  private onStart(now: number, out: Action[]): void {
    if (this.started) return;
    this.started = true;
    if (this.cfg.preemptDelayMs > 0) this.preemptAllowedAt = now + this.cfg.preemptDelayMs;
    if (this.faults.size > 0) {
      this.transition('fault', 'fault', `fault: ${this.faultText()}`, now, out);
      return;
    }
    this.enterBackupOrOwner(now, 'startup', 'startup', out);
  }

  private onAdvert(advert: ReceivedAdvert, now: number, out: Action[]): void {
    if (!this.started) return;
    // Our own advert looped back (multicast loop should be off; unicast setups can echo).
    if (advert.from === this.cfg.primaryAddress) return;
    this.counters.advertsReceived++;
    if (advert.priority === 0) this.counters.priorityZeroReceived++;

    if (this.handover) {
      this.onAdvertDuringHandover(advert, now, out);
      return;
    }
    switch (this.state) {
      case 'backup':
        this.onAdvertAsBackup(advert, now, out);
        break;
      case 'master':
        this.onAdvertAsMaster(advert, now, out);
        break;
      case 'fault':
      case 'init':
        break;
    }
  }

  /** RFC 5798 §6.4.2 (Backup), plus the known-peer-set shortcut on priority 0. */
  private onAdvertAsBackup(advert: ReceivedAdvert, now: number, out: Action[]): void {
    if (advert.priority === 0) {
      if (this.wantMaster) return; // already past master_down; the sync group decides
      // Only the master we follow leaving matters. A priority 0 from anyone else (a master
      // yielding after a split brain, a second leaver) says nothing about our master, and
      // acting on it would start a Skew race against the master we still hear.
      const seen = this.masterSeen;
      if (seen && !seen.self && seen.address !== advert.from) return;
      this.priorityZeroFrom = advert.from;
      if (this.isHighestRemainingPeer(advert.from)) {
        const reason = `priority 0 from ${advert.from} and we are the highest remaining peer (prio ${this.effectivePriority}): no Skew wait`;
        this.becomeMaster(now, 'priority_zero_known_peers', reason, out);
        return;
      }
      // Priority 0 hastens the takeover, never delays it: a second leaver (or a yielding
      // master's priority 0) must not push back a Master_Down that is already closer.
      const skewAt = now + this.skewMs();
      this.masterDownAt = this.masterDownAt === undefined ? skewAt : Math.min(this.masterDownAt, skewAt);
      return;
    }

    const lower = advert.priority < this.effectivePriority;
    if (lower && this.cfg.preempt && !this.inPreemptDelay(now)) {
      // Preempt: discard, so master_down fires and we take over (RFC 5798 §6.4.2).
      this.counters.lowerPriorityDiscarded++;
      this.preempting = { address: advert.from, priority: advert.priority, at: now };
      return;
    }
    if (this.cfg.preemptDelayMs > 0) {
      // keepalived: the window starts on the first lower-priority master and is cancelled by
      // an advert we would not preempt anyway.
      if (!lower) this.preemptAllowedAt = undefined;
      else if (this.preemptAllowedAt === undefined) this.preemptAllowedAt = now + this.cfg.preemptDelayMs;
    }
    this.acceptMaster(advert, now);
  }

  /** RFC 5798 §6.4.3 (Master), with keepalived's "answer a lower priority at once" and GARP. */
  private onAdvertAsMaster(advert: ReceivedAdvert, now: number, out: Action[]): void {
    const mine = this.effectivePriority;
    if (advert.priority === 0) {
      // Another master is leaving: it held our VIPs (split brain), so clients may point at it.
      this.sendAdvert(mine, out);
      this.advertAt = now + this.advertIntervalMs();
      this.splitBrainGarp(now, out);
      return;
    }
    const tie = advert.priority === mine;
    const theyWin = advert.priority > mine || (tie && compareIpv4(advert.from, this.cfg.primaryAddress) > 0);
    if (theyWin) {
      if (this.cfg.version === 3 && advert.advertIntervalCs > 0) this.masterAdverIntervalCs = advert.advertIntervalCs;
      this.masterSeen = { address: advert.from, priority: advert.priority, at: now, self: false };
      const reason = tie
        ? `equal priority advert from ${advert.from} (prio ${advert.priority}) with higher primary IP than ours (${this.cfg.primaryAddress})`
        : `higher priority advert from ${advert.from} (prio ${advert.priority})`;
      this.leaveMasterForBackup(now, tie ? 'equal_priority_higher_ip' : 'higher_priority', reason, out);
      return;
    }
    // A lower-priority master exists: it holds our VIPs. Make it yield now, and win the clients
    // back now (keepalived sends no GARP here: clients stayed black-holed ~45 s in the lab).
    this.sendAdvert(mine, out);
    this.advertAt = now + this.advertIntervalMs();
    this.splitBrainGarp(now, out);
  }

  private onAdvertDuringHandover(advert: ReceivedAdvert, now: number, out: Action[]): void {
    const hold = this.handover;
    if (!hold || advert.priority === 0 || hold.newMaster) return;
    // Only masters advertise with priority > 0: someone has taken over.
    hold.newMaster = { address: advert.from, priority: advert.priority };
    this.masterSeen = { address: advert.from, priority: advert.priority, at: now, self: false };
    hold.releaseAt = Math.min(now + this.cfg.releaseDrainMs, hold.deadline);
    if (hold.releaseAt <= now) this.finishHandover(now, out);
  }

  private onTimer(now: number, out: Action[]): void {
    if (this.splitBrainRepeatAt !== undefined && this.splitBrainRepeatAt <= now) {
      // Always cleared here (never a deadline left in the past); sent only while still master.
      this.splitBrainRepeatAt = undefined;
      if (this.state === 'master' && this.vipsHeld && !this.handover) out.push({ type: 'garp', instance: this.name, why: 'split_brain' });
    }
    if (this.releaseAt !== undefined && this.releaseAt <= now) {
      this.releaseAt = undefined;
      this.removeVips(out);
    }
    if (this.yieldZeroAt !== undefined && this.yieldZeroAt <= now) {
      // Only while still the backup that yielded (a takeover or a fault since cancels them).
      const again = this.state === 'backup' && this.yieldZeroLeft > 0;
      if (again) {
        this.sendAdvert(0, out);
        this.yieldZeroLeft--;
      }
      this.yieldZeroAt = again && this.yieldZeroLeft > 0 ? nextPeriod(this.yieldZeroAt, this.advertIntervalMs(), now) : undefined;
    }
    const hold = this.handover;
    if (hold) {
      if (now >= hold.deadline || (hold.releaseAt !== undefined && now >= hold.releaseAt)) {
        this.finishHandover(now, out);
        return;
      }
      if (now >= hold.repeatAt && !hold.newMaster) {
        // Repeat priority 0 so one lost packet does not cost the backups a full Master_Down;
        // not once the new master is known (it would take our repeat for a split brain).
        this.sendAdvert(0, out);
        hold.repeatAt = nextPeriod(hold.repeatAt, this.advertIntervalMs(), now);
      }
      return;
    }
    if (this.state === 'master' && this.advertAt !== undefined && now >= this.advertAt) {
      this.sendAdvert(this.effectivePriority, out);
      this.advertAt = nextPeriod(this.advertAt, this.advertIntervalMs(), now);
    }
    if (this.state === 'backup' && !this.wantMaster && this.masterDownAt !== undefined && now >= this.masterDownAt) {
      this.becomeMaster(now, 'master_down', this.masterDownReason(), out);
    }
  }

  private onPriority(requested: number, now: number, out: Action[]): void {
    const next = this.cfg.priority === 255 ? 255 : clamp(Math.round(requested), 1, 254);
    if (next === this.effectivePriority) return;
    this.effectivePriority = next;
    if (this.state === 'master' && !this.handover) {
      // Tell the backups now: a lowered priority may let a preempting backup take over.
      this.sendAdvert(next, out);
      this.advertAt = now + this.advertIntervalMs();
    }
  }

  private onFault(source: string, reason: string, now: number, out: Action[]): void {
    this.faults.set(source, reason);
    if (!this.started) return;
    if (this.handover) {
      // Nothing to hand over through a broken link or an isolated node: release now.
      this.finishHandover(now, out, `shutdown: released at once on fault (${reason})`);
      return;
    }
    if (this.state === 'master') {
      this.sendAdvert(0, out);
      this.advertAt = undefined;
      this.releaseAt = undefined;
      this.removeVips(out);
      this.counters.releaseMaster++;
      this.transition('fault', 'fault', `fault: ${reason}`, now, out);
    } else if (this.state === 'backup') {
      this.masterDownAt = undefined;
      this.wantMaster = false;
      if (this.releaseAt !== undefined) {
        this.releaseAt = undefined;
        this.removeVips(out);
      }
      this.transition('fault', 'fault', `fault: ${reason}`, now, out);
    }
  }

  private onFaultClear(source: string, now: number, out: Action[]): void {
    if (!this.faults.delete(source)) return;
    if (!this.started || this.state !== 'fault' || this.faults.size > 0) return;
    this.enterBackupOrOwner(now, 'fault_cleared', 'fault cleared', out);
  }

  private onShutdown(immediate: boolean, now: number, out: Action[]): void {
    if (this.handover) {
      if (immediate) this.finishHandover(now, out, 'shutdown: immediate release requested');
      return;
    }
    if (this.state !== 'master') {
      this.masterDownAt = undefined;
      this.wantMaster = false;
      if (this.releaseAt !== undefined) {
        this.releaseAt = undefined;
        this.removeVips(out);
      }
      if (this.started) this.transition('init', 'shutdown', 'shutdown', now, out);
      this.stop(out);
      return;
    }
    this.sendAdvert(0, out);
    this.advertAt = undefined;
    const timeout = this.cfg.handoverTimeoutMs ?? this.masterDownIntervalMs(this.cfg.advertIntervalCs);
    if (immediate || timeout <= 0) {
      this.releaseMasterAndStop(now, 'shutdown', out);
      return;
    }
    // A leaving master never announces itself again while it holds on: a pending repeat burst
    // (5 s after its takeover) that fired after the new master's GARP pulled the clients back
    // here, and they were black-holed once we released (CI: 104 of 157 requests, planned stop).
    this.splitBrainRepeatAt = undefined;
    out.push({ type: 'stop-garp', instance: this.name });
    this.handover = { since: now, deadline: now + timeout, repeatAt: now + this.advertIntervalMs() };
  }

  // ─── Transitions ────────────────────────────────────────────────────────────────────────

  private enterBackupOrOwner(now: number, cause: 'startup' | 'fault_cleared', reason: string, out: Action[]): void {
    this.masterAdverIntervalCs = this.cfg.advertIntervalCs; // RFC 5798 §6.4.1
    if (this.cfg.priority === 255) {
      // Address owner: master at once (RFC 5798 §6.4.1), through Backup only if a sync group
      // holds it back.
      const ownerReason = `${reason}: address owner (priority 255)`;
      if (this.becomeMaster(now, 'owner', ownerReason, out)) return;
      this.transition('backup', cause, `${reason}: address owner waiting for its sync group`, now, out);
      return;
    }
    this.masterDownAt = now + this.masterDownIntervalMs(this.masterAdverIntervalCs);
    this.wantMaster = false;
    this.transition('backup', cause, reason, now, out);
  }

  /** Returns false when a sync group held us back (we stay in our state, wanting master). */
  private becomeMaster(now: number, cause: TransitionCause, reason: string, out: Action[], opts: { bypassGate?: boolean } = {}): boolean {
    if (!opts.bypassGate && this.masterGate && !this.masterGate(this)) {
      this.wantMaster = true;
      this.masterDownAt = undefined;
      return false;
    }
    // A hard failure (Master_Down expired, no priority 0 seen, no live master heard): nobody
    // holds the VIPs and no leaving master waits for our advert, so the advert goes first, before
    // `ip addr add` (tens of ms under load), as keepalived does: the other backups stop their own
    // timers sooner. A planned handover and a preemption keep VIPs first (below): there the old
    // master is alive and releases (after its drain) as soon as it hears our advert, so clients
    // must already have our MAC by then, or their new connections go to a host without the VIP.
    const livePreempted = this.preempting !== undefined && now - this.preempting.at <= this.masterDownIntervalMs(this.masterAdverIntervalCs);
    if (cause === 'master_down' && livePreempted) {
      const p = this.preempting!;
      cause = 'preempt';
      reason = `preempting ${p.address} (prio ${p.priority} < our ${this.effectivePriority}, last advert ${fmtMs(now - p.at)} ago)`;
    }
    const advertFirst = cause === 'master_down' && this.priorityZeroFrom === undefined;
    this.preempting = undefined;
    this.wantMaster = false;
    this.masterDownAt = undefined;
    this.releaseAt = undefined; // a pending drain is cancelled: the VIPs stay
    this.yieldZeroAt = undefined;
    this.yieldZeroLeft = 0;
    this.priorityZeroFrom = undefined;
    this.counters.becomeMaster++;
    this.masterSeen = { address: this.cfg.primaryAddress, priority: this.effectivePriority, at: now, self: true };
    // Otherwise VIPs first, then GARP (clients move to us), then the advert: a haupd in handover
    // hold releases when it sees this advert, and by then the clients already follow us.
    this.vipsHeld = true;
    if (advertFirst) this.sendAdvert(this.effectivePriority, out);
    out.push({ type: 'add-vips', instance: this.name });
    out.push({ type: 'garp', instance: this.name, why: 'takeover' });
    if (!advertFirst) this.sendAdvert(this.effectivePriority, out);
    this.advertAt = now + this.advertIntervalMs();
    this.transition('master', cause, reason, now, out);
    return true;
  }

  /**
   * Yield to another master: priority 0 now, Backup now, VIPs after the drain delay.
   * The priority 0 is what heals a split brain whichever advert crosses first: if the winner's
   * advert reaches us before ours reaches it, the winner never hears a lower priority, and
   * without this it would never learn that clients still point at us (keepalived's 45 s black
   * hole). A master answers priority 0 with an advert and gratuitous ARP.
   */
  private leaveMasterForBackup(now: number, cause: TransitionCause, reason: string, out: Action[]): void {
    this.sendAdvert(0, out);
    this.yieldZeroLeft = YIELD_PRIORITY_ZERO_REPEATS;
    this.yieldZeroAt = now + this.advertIntervalMs();
    // Our GARPs must stop now, not after the drain: the winner has announced itself, and an
    // arping of ours that starts late would pull the clients back to us.
    this.splitBrainRepeatAt = undefined;
    out.push({ type: 'stop-garp', instance: this.name });
    this.advertAt = undefined;
    this.masterDownAt = now + this.masterDownIntervalMs(this.masterAdverIntervalCs);
    this.counters.releaseMaster++;
    if (this.cfg.releaseDrainMs > 0) this.releaseAt = now + this.cfg.releaseDrainMs;
    else this.removeVips(out);
    this.transition('backup', cause, reason, now, out);
  }

  private finishHandover(now: number, out: Action[], reason?: string): void {
    const hold = this.handover;
    if (!hold) return;
    this.handover = undefined;
    const text =
      reason ??
      (hold.newMaster
        ? `shutdown: handed over to ${hold.newMaster.address} (prio ${hold.newMaster.priority})`
        : `shutdown: no new master advert within ${fmtMs(hold.deadline - hold.since)}; released anyway`);
    this.releaseMasterAndStop(now, text, out);
  }

  private releaseMasterAndStop(now: number, reason: string, out: Action[]): void {
    this.advertAt = undefined;
    this.releaseAt = undefined;
    this.removeVips(out);
    this.counters.releaseMaster++;
    this.transition('init', 'shutdown', reason, now, out);
    this.stop(out);
  }

  private stop(out: Action[]): void {
    this.stopped = true;
    this.masterDownAt = undefined;
    this.advertAt = undefined;
    out.push({ type: 'stopped', instance: this.name });
  }

  private transition(to: VrrpState, cause: TransitionCause, reason: string, now: number, out: Action[]): void {
    const from = this.state;
    this.state = to;
    this.lastTransition = { from, to, cause, reason, at: now };
    out.push({ type: 'transition', instance: this.name, from, to, cause, reason, at: now });
  }

  // ─── Helpers ────────────────────────────────────────────────────────────────────────────

  private acceptMaster(advert: ReceivedAdvert, now: number): void {
    if (this.cfg.version === 3 && advert.advertIntervalCs > 0) this.masterAdverIntervalCs = advert.advertIntervalCs;
    // Every advert from the master (100/s at 0.01 s): update in place rather than allocate
    // (snapshot() hands out copies, never this object).
    const seen = this.masterSeen;
    if (seen !== undefined && !seen.self) {
      seen.address = advert.from;
      seen.priority = advert.priority;
      seen.at = now;
    } else {
      this.masterSeen = { address: advert.from, priority: advert.priority, at: now, self: false };
    }
    this.priorityZeroFrom = undefined;
    this.wantMaster = false;
    this.masterDownAt = now + this.masterDownIntervalMs(this.masterAdverIntervalCs);
  }

  /**
   * With the complete peer set known, the leaving master's priority 0 tells us exactly who is
   * left: if nobody remaining outranks us (priority, then primary IP), no one can contest and
   * waiting Skew only lengthens the outage. A sender outside the list means the list is not
   * complete: fall back to the RFC.
   */
  private isHighestRemainingPeer(leaving: string): boolean {
    const peers = this.cfg.peers;
    if (peers.length === 0 || !peers.some((p) => p.address === leaving)) return false;
    const me = this.effectivePriority;
    return peers
      .filter((p) => p.address !== leaving)
      .every((p) => p.priority < me || (p.priority === me && compareIpv4(p.address, this.cfg.primaryAddress) < 0));
  }

  private inPreemptDelay(now: number): boolean {
    return this.cfg.preemptDelayMs > 0 && (this.preemptAllowedAt === undefined || now < this.preemptAllowedAt);
  }

  private splitBrainGarp(now: number, out: Action[]): void {
    if (now - this.lastSplitBrainGarpAt < this.cfg.splitBrainGarpIntervalMs) return;
    this.lastSplitBrainGarpAt = now;
    this.counters.splitBrainGarps++;
    out.push({ type: 'garp', instance: this.name, why: 'split_brain' });
    this.splitBrainRepeatAt = now + SPLIT_BRAIN_GARP_REPEAT_MS;
  }

  private sendAdvert(priority: number, out: Action[]): void {
    this.counters.advertsSent++;
    if (priority === 0) this.counters.priorityZeroSent++;
    out.push({ type: 'send-advert', instance: this.name, priority });
  }

  private removeVips(out: Action[]): void {
    this.vipsHeld = false;
    out.push({ type: 'remove-vips', instance: this.name });
  }

  private masterDownReason(): string {
    if (this.priorityZeroFrom) return `master_down timer expired (Skew after priority 0 from ${this.priorityZeroFrom})`;
    const seen = this.masterSeen;
    if (seen && !seen.self) return `master_down timer expired (last advert from ${seen.address} prio ${seen.priority})`;
    return 'master_down timer expired';
  }

  private faultText(): string {
    return [...this.faults.values()].join('; ');
  }

  private advertIntervalMs(): number {
    return this.cfg.advertIntervalCs * 10;
  }

  private skewMs(): number {
    return skewMs(this.cfg.version, this.effectivePriority, this.masterAdverIntervalCs);
  }

  private masterDownIntervalMs(intervalCs: number): number {
    // v2 routers share one configured interval; v3 uses the master's (RFC 5798 §6.4.2).
    const cs = this.cfg.version === 2 ? this.cfg.advertIntervalCs : intervalCs;
    return masterDownIntervalMs(this.cfg.version, this.effectivePriority, cs);
  }
}

/** Next periodic deadline after `previous`, without drift; skips missed periods after a stall. */
function nextPeriod(previous: number, period: number, now: number): number {
  const next = previous + period;
  return next > now ? next : now + period;
}

/** The earlier of two optional deadlines. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b < a ? b : a;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function fmtMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

/** Last line of defence: config.ts validates with line:col; this catches wiring mistakes. */
function checkConfig(c: InstanceConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(c.vrid) || c.vrid < 1 || c.vrid > 255) problems.push(`vrid ${c.vrid} is not 1..255`);
  if (!Number.isInteger(c.priority) || c.priority < 1 || c.priority > 255) problems.push(`priority ${c.priority} is not 1..255`);
  if (!Number.isInteger(c.advertIntervalCs) || c.advertIntervalCs < 1) problems.push(`advertIntervalCs ${c.advertIntervalCs} is not a positive integer`);
  else if (c.version === 2 && (c.advertIntervalCs % 100 !== 0 || c.advertIntervalCs > 25500)) problems.push(`VRRPv2 advert interval ${c.advertIntervalCs} cs is not whole seconds 1..255`);
  else if (c.version === 3 && c.advertIntervalCs > 4095) problems.push(`VRRPv3 advert interval ${c.advertIntervalCs} cs exceeds 4095`);
  if (ipv4ToUint32(c.primaryAddress) === undefined) problems.push(`primaryAddress "${c.primaryAddress}" is not an IPv4 address`);
  for (const p of c.peers ?? []) {
    if (ipv4ToUint32(p.address) === undefined) problems.push(`peer "${p.address}" is not an IPv4 address`);
    if (!Number.isInteger(p.priority) || p.priority < 1 || p.priority > 255) problems.push(`peer ${p.address} priority ${p.priority} is not 1..255`);
  }
  if ((c.preemptDelayMs ?? 0) < 0) problems.push('preemptDelayMs is negative');
  if ((c.handoverTimeoutMs ?? 0) < 0) problems.push('handoverTimeoutMs is negative');
  if ((c.releaseDrainMs ?? 0) < 0) problems.push('releaseDrainMs is negative');
  if (problems.length > 0) throw new HaupError(`VRRP instance "${c.name}": ${problems.join('; ')}`);
}
