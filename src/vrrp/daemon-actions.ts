// Executes the state machine's actions for the daemon, strictly in order per instance: VIPs,
// gratuitous ARP, adverts, transition logs and notify scripts, the end of an instance.
//
//   const actions = new ActionRunner({ log, io, now, unit: (name) => ..., unitStopped });
//   actions.run(machine.handle(event, now));
//
// Each instance has one promise queue (add the VIPs before GARP and the advert). The advert is
// the hot path (every interval, 100/s at 0.01 s): with nothing queued before it, it is sent at
// once from a per-priority cache of encoded messages, without touching the queue.
import type { DaemonIo } from './daemon-io.ts';
import type { Unit } from './daemon-unit.ts';
import type { Action } from './instance.ts';
import type { Logger } from './log.ts';
import { formatVip } from './vip.ts';
import { encodeAdverts } from './wire-config.ts';

/** Longest a takeover's advert waits for its gratuitous ARPs to start (fork + exec of arping). */
const GARP_START_WAIT_MS = 150;

export interface ActionDeps {
  log: Logger;
  io: DaemonIo;
  /** Monotonic ms (performance.now()). */
  now(): number;
  /** The live unit of that instance name (actions carry the name). */
  unit(name: string): Unit | undefined;
  /** The instance has finished its shutdown (`stopped` action). */
  unitStopped(unit: Unit): void;
}

export class ActionRunner {
  constructor(private readonly deps: ActionDeps) {}

  run(actions: readonly Action[]): void {
    // An index loop: without TurboFan (the launcher's --no-opt) for-of allocates per step.
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i] as Action;
      const unit = this.deps.unit(action.instance);
      if (!unit) continue;
      // Hot path (every advert interval, 100/s at 0.01 s): with nothing queued before it, an
      // advert goes out at once instead of through the promise chain.
      if (action.type === 'send-advert' && unit.pending === 0) {
        this.sendAdvert(unit, action.priority);
        continue;
      }
      unit.pending++;
      unit.queue = unit.queue
        .then(() => this.execute(unit, action))
        .catch((err: unknown) => {
          this.deps.log.error('action_failed', { instance: unit.cfg.name, action: action.type, error: err });
        })
        .finally(() => {
          unit.pending--;
        });
    }
  }

  private async execute(unit: Unit, action: Action): Promise<void> {
    const cfg = unit.cfg;
    switch (action.type) {
      case 'add-vips': {
        const results = await this.deps.io.addVips(cfg.interface, cfg.vips);
        for (const r of results) {
          if (!r.ok) this.deps.log.error('vip_add_failed', { instance: cfg.name, vip: formatVip(r.vip), interface: cfg.interface, error: r.error });
        }
        this.deps.log.info('vips_added', { instance: cfg.name, interface: cfg.interface, vips: cfg.vips.map(formatVip), ms: Math.max(0, ...results.map((r) => r.durationMs)) });
        return;
      }
      case 'remove-vips': {
        this.deps.io.cancelGarp(cfg.name);
        const results = await this.deps.io.removeVips(cfg.interface, cfg.vips);
        for (const r of results) {
          if (!r.ok) this.deps.log.error('vip_remove_failed', { instance: cfg.name, vip: formatVip(r.vip), interface: cfg.interface, error: r.error });
        }
        this.deps.log.info('vips_removed', { instance: cfg.name, interface: cfg.interface, vips: cfg.vips.map(formatVip) });
        return;
      }
      case 'garp': {
        // Queued behind a slow `ip addr add`: if we yielded meanwhile, announcing is wrong.
        if (unit.machine.currentState !== 'master') return;
        // What follows in this queue (the advert of a planned takeover or a preemption) waits
        // until the arpings have started: the old master releases 100 ms after that advert, and a
        // loaded host can take longer than that to fork arping. Bounded: never stalls adverts.
        const started = this.deps.io.garp(cfg, action.why, this.deps.log.child({ instance: cfg.name }));
        await waitAtMost(started, GARP_START_WAIT_MS);
        return;
      }
      case 'stop-garp':
        this.deps.io.cancelGarp(cfg.name);
        return;
      case 'send-advert':
        this.sendAdvert(unit, action.priority);
        return;
      case 'transition': {
        const priority = unit.machine.snapshot().effectivePriority;
        // `decided`: when the state machine took the decision (this line comes after the VIPs were
        // added, so `ts` - `decided` is what `ip addr add` cost).
        const decided = new Date(Date.now() - (this.deps.now() - action.at)).toISOString();
        this.deps.log.info('transition', { instance: cfg.name, from: action.from, to: action.to, cause: action.cause, reason: action.reason, priority, decided });
        // Notify scripts run in order, one after another, in the notifier's own queue: never
        // awaited here, so a slow script cannot delay adverts.
        if (action.to !== 'init' || action.cause === 'shutdown') {
          this.deps.io.notify(cfg, action.to === 'init' ? 'stop' : action.to, { previous: action.from, priority, reason: action.reason }, this.deps.log.child({ instance: cfg.name }));
        }
        return;
      }
      case 'stopped':
        this.deps.unitStopped(unit);
        return;
    }
  }

  /** Send one advert to each target; the encoded messages are cached per priority (pure function). */
  sendAdvert(unit: Unit, priority: number): void {
    const iface = unit.iface;
    if (!iface) return;
    const cfg = unit.cfg;
    const src = iface.socket.primary;
    if (unit.advertCache.src !== src) unit.advertCache = { src, byPriority: new Map() };
    let msgs = unit.advertCache.byPriority.get(priority);
    if (!msgs) {
      msgs = encodeAdverts(cfg, priority, src, unit.expected?.addresses ?? cfg.vips.map((v) => v.address));
      unit.advertCache.byPriority.set(priority, msgs);
    }
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i] as { dst: string; msg: Buffer };
      iface.socket.sendNow(m.dst, m.msg, unit.onSendError);
    }
  }
}

/** Resolves when `p` settles or after `ms`, whichever comes first (never rejects). */
function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p.then(() => undefined, () => undefined), timeout]).finally(() => clearTimeout(timer));
}
