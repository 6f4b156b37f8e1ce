// The daemon's ONE timer: armed at the earliest deadline of all instances, and the order in which
// a due deadline is acted on relative to packets already queued in the sockets.
//
//   const wake = new WakeUp(host);   // host: deadlines, what is due, how to run it, packets read
//   wake.schedule();                 // after every event: re-arm if the earliest deadline moved
//   wake.cancel();                   // daemon finished
//
// Hot path: a master at 0.01 s adverts wakes 100 times a second. Such a wake-up runs in the
// timers phase (no extra loop turn) and re-arms a fired Timeout with refresh() instead of
// allocating a new one; a backup's Master_Down moving forward with every advert keeps the
// earlier wake-up instead of re-arming the timer 100 times a second.

/**
 * Loop turns a due timer may wait while packets are still being read (one packet per socket per
 * turn: raw-socket recv()s once per readable event). Bounds the wait, e.g. 10 instances at
 * 0.01 s stalled 100 ms leave ~100 queued adverts; each turn costs microseconds.
 */
const MAX_TIMER_DRAIN_TURNS = 256;
/** Fired Timeouts kept for reuse (one per distinct delay; a master alternates between two). */
const MAX_SPENT_TIMERS = 8;

export interface WakeUpHost {
  /** Monotonic ms (performance.now()). */
  now(): number;
  /** Earliest deadline of every live instance; Infinity when none. */
  earliestDeadline(): number;
  /** True when every due deadline is a master's periodic advert (acted on at once). */
  onlyAdvertsDue(now: number): boolean;
  /** Run the timers due at `now`; the host calls schedule() afterwards. */
  runDue(now: number): void;
  /** Packets read so far (any socket, valid or not). */
  packetsRead(): number;
  /** False once the daemon has finished: a deferred timer is then dropped. */
  running(): boolean;
}

export class WakeUp {
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /**
   * Timeouts that have fired, by delay (ms): a wake-up with the same delay (a master's every
   * advert: 9 or 10 ms at 0.01 s) re-arms one with refresh() instead of allocating a new one.
   */
  private readonly spentTimers = new Map<number, NodeJS.Timeout>();
  private readonly timerDelays = new WeakMap<NodeJS.Timeout, number>();
  private readonly onTimerBound = (): void => this.onTimer();
  /** A due timer waiting for the poll phase to read queued packets (see onTimer). */
  private deferred = false;

  constructor(private readonly host: WakeUpHost) {}

  /**
   * Node's event loop runs the timers phase before the poll phase. After a stall (SIGSTOP, a long
   * GC, an overloaded host) the Master_Down timer has expired AND the live master's adverts are
   * waiting in the socket; acting in the timers phase would take over from a live master
   * (measured: 5 of 5 stalls of 100 ms, bench/vrrp/backup-stall.ts). So the decision waits for
   * setImmediate (the check phase, after poll), turn after turn while a turn still read packets
   * (bounded): the queued adverts reset the deadline first, as keepalived's read-before-timeout
   * loop does.
   */
  private onTimer(): void {
    const fired = this.timer;
    const firedDelay = fired ? this.timerDelays.get(fired) : undefined;
    if (fired && firedDelay !== undefined && this.spentTimers.size < MAX_SPENT_TIMERS) this.spentTimers.set(firedDelay, fired);
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.host.now();
    // Nothing due: a backup's Master_Down moved forward with the adverts received since the timer
    // was armed (every ~Master_Down at 0.01 s). Nothing to decide, so nothing to wait for: re-arm.
    if (this.host.earliestDeadline() > now) {
      this.schedule(now);
      return;
    }
    // A master's advert timer needs no such wait: the advert is due whatever the queued packets
    // say (a better master's advert makes us yield right after it, as if it had come 1 ms
    // later). This is the every-interval wake-up of a master (100/s at 0.01 s): acting here
    // saves a loop turn, an Immediate and a Timeout per advert.
    if (this.host.onlyAdvertsDue(now)) {
      this.host.runDue(now);
      return;
    }
    this.deferred = true;
    this.afterPendingPackets(0);
  }

  private afterPendingPackets(turn: number): void {
    const before = this.host.packetsRead();
    setImmediate(() => {
      if (this.host.packetsRead() !== before && turn < MAX_TIMER_DRAIN_TURNS) {
        this.afterPendingPackets(turn + 1);
        return;
      }
      this.deferred = false;
      if (this.host.running()) this.host.runDue(this.host.now()); // not once the daemon has finished
    });
  }

  /**
   * One timer for the whole daemon, at the earliest deadline of any instance. `now`: the caller's
   * clock reading when it has one (the hot path reads the clock once per wake-up: Node 20's
   * performance.now() allocates per call).
   */
  schedule(now?: number): void {
    // A deferred timer reschedules once it has run (runDueTimers).
    if (this.deferred) return;
    const next = this.host.earliestDeadline();
    // A backup moves its Master_Down deadline forward with every advert (100/s at 0.01 s): keep
    // the earlier wake-up instead of re-arming; when it fires with nothing due, onTimer re-arms.
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = next;
    if (next === Infinity) return;
    const delay = Math.max(0, Math.ceil(next - (now ?? this.host.now())));
    const spent = this.spentTimers.get(delay);
    if (spent !== undefined) {
      // Node documents refresh() on a fired timer as re-arming it with its original delay.
      this.spentTimers.delete(delay);
      this.timer = spent.refresh();
    } else {
      this.timer = setTimeout(this.onTimerBound, delay);
      this.timerDelays.set(this.timer, delay);
    }
  }

  /** The daemon has finished: no more wake-ups. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
