// VIP polling during a scenario: every member LB is asked `ip -j addr` every POLL_MS (one request
// per LB in flight at most, so an LB whose link is down never piles up stuck SSH channels).
// Times are ms relative to the caller's t0 (the fault), taken when the answer arrived: a move is
// reported no earlier than it happened, at most one poll round trip late.
import { performance } from 'node:perf_hooks';
import type { VrrpInstance } from '../inventory/model.ts';
import { addressesOn, sleep, within, type Cluster } from './cluster.ts';

export const POLL_MS = 50;
const POLL_TIMEOUT_MS = 1500;

export interface VipSample {
  t: number;
  host: string;
  /** null: the LB did not answer in time. */
  has: boolean | null;
}

export class VipWatch {
  readonly samples: VipSample[] = [];
  private running = true;
  private loops: Promise<void>[] = [];
  t0 = performance.now();

  constructor(
    private readonly cluster: Cluster,
    private readonly inst: VrrpInstance,
    private readonly vip: string,
  ) {}

  start(): this {
    this.loops = this.inst.members.map((m) => this.loop(m.host, m.interface));
    return this;
  }

  /** Mark the fault: sample times are relative to now from here on. */
  mark(): void {
    const now = performance.now();
    const shift = now - this.t0;
    for (const s of this.samples) s.t -= shift;
    this.t0 = now;
  }

  now(): number {
    return performance.now() - this.t0;
  }

  private async loop(host: string, iface: string): Promise<void> {
    // A request that did not answer in time stays pending (SSH cannot cancel it on a dead link):
    // no new one is sent until it settles, so a cut-off LB never piles up channels.
    let pending: Promise<unknown> | null = null;
    while (this.running) {
      const started = performance.now();
      let addrs: string[] | null = null;
      if (!pending) {
        const req = addressesOn(this.cluster, host, iface, POLL_TIMEOUT_MS).catch(() => null);
        pending = req;
        void req.finally(() => {
          if (pending === req) pending = null;
        });
        addrs = await within(req, POLL_TIMEOUT_MS, null);
      } else await within(pending, POLL_MS, null);
      this.samples.push({ t: performance.now() - this.t0, host, has: addrs === null ? null : addrs.includes(this.vip) });
      const left = POLL_MS - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await within(Promise.all(this.loops), 3000, []);
  }

  /** First time at or after `after` the host was seen holding the VIP. */
  firstHeld(host: string, after = 0): number | null {
    return this.samples.find((s) => s.host === host && s.t >= after && s.has === true)?.t ?? null;
  }

  /** First time at or after `after` the host was seen NOT holding it (answered without it). */
  firstReleased(host: string, after = 0): number | null {
    return this.samples.find((s) => s.host === host && s.t >= after && s.has === false)?.t ?? null;
  }

  /** Latest known answer per host. */
  latest(): Map<string, boolean | null> {
    const m = new Map<string, boolean | null>();
    for (const s of this.samples) m.set(s.host, s.has);
    return m;
  }

  /** First time at or after `after` when every member had answered and more than one held the VIP. */
  firstDual(after = 0): number | null {
    const last = new Map<string, boolean | null>();
    for (const s of this.samples) {
      last.set(s.host, s.has);
      if (s.t < after) continue;
      if ([...last.values()].filter((v) => v === true).length > 1) return s.t;
    }
    return null;
  }

  /** First time at or after `after` when exactly one member held it and the others answered without it. */
  firstSingle(after = 0): number | null {
    const last = new Map<string, boolean | null>();
    for (const s of this.samples) {
      last.set(s.host, s.has);
      if (s.t < after || last.size < this.inst.members.length) continue;
      const vals = [...last.values()];
      if (vals.filter((v) => v === true).length === 1 && vals.every((v) => v !== null)) return s.t;
    }
    return null;
  }
}
