// Fake clock for the pure state machine: feeds events at chosen times and fires every timer at
// exactly its deadline, recording each action with the time it was emitted.
import type { Action, InstanceEvent, ReceivedAdvert, VrrpInstance } from '../../src/vrrp/instance.ts';

export interface Timed {
  at: number;
  action: Action;
}

/** Anything with the instance contract: an instance or a sync group's tick. */
export interface Clocked {
  timer(now: number): Action[];
  nextDeadline(): number | undefined;
}

export class FakeClock {
  now = 0;
  readonly log: Timed[] = [];

  constructor(private readonly target: Clocked) {}

  record(actions: Action[]): Action[] {
    for (const action of actions) this.log.push({ at: this.now, action });
    return actions;
  }

  /** Fire every timer up to and including `t` at its exact deadline, then set now = t. */
  advanceTo(t: number): Action[] {
    const fired: Action[] = [];
    for (let guard = 0; guard < 100_000; guard++) {
      const d = this.target.nextDeadline();
      if (d === undefined || d > t) {
        this.now = t;
        return fired;
      }
      this.now = Math.max(this.now, d);
      fired.push(...this.record(this.target.timer(this.now)));
    }
    throw new Error('timer loop did not settle');
  }

  advance(ms: number): Action[] {
    return this.advanceTo(this.now + ms);
  }

  /** Actions of one type since time `from` (inclusive). */
  since(from: number, type?: Action['type']): Timed[] {
    return this.log.filter((e) => e.at >= from && (type === undefined || e.action.type === type));
  }
}

/** A clock driving one instance. */
export class InstanceClock extends FakeClock {
  constructor(readonly inst: VrrpInstance) {
    super({ timer: (now) => inst.handle({ type: 'timer' }, now), nextDeadline: () => inst.nextDeadline() });
  }

  send(event: InstanceEvent): Action[] {
    return this.record(this.inst.handle(event, this.now));
  }

  advert(from: string, priority: number, advertIntervalCs = 100): Action[] {
    const advert: ReceivedAdvert = { from, priority, advertIntervalCs };
    return this.send({ type: 'advert', advert });
  }
}

/** Compact form for exact assertions: "add-vips", "send-advert:0", "transition:backup>master". */
export function brief(actions: readonly Action[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'send-advert':
        return `send-advert:${a.priority}`;
      case 'garp':
        return `garp:${a.why}`;
      case 'transition':
        return `transition:${a.from}>${a.to}`;
      default:
        return a.type;
    }
  });
}

export function transitions(actions: readonly Action[]): Extract<Action, { type: 'transition' }>[] {
  return actions.filter((a): a is Extract<Action, { type: 'transition' }> => a.type === 'transition');
}
