// VIP polling during a scenario: every member LB is asked `ip -j addr` every POLL_MS (one request
// per LB in flight at most, so an LB whose link is down never piles up stuck SSH channels).
// Times are ms relative to the caller's t0 (the fault), taken from the LB's clock right after
// `ip` read the addresses when that clock agrees with ours (the lab: one kernel clock), else when
// the answer arrived: a move is reported no earlier than it happened, and the SSH round trip of a
// loaded machine no longer adds to it.
// Every VIP of the instance is watched: a move is complete only when the new holder has ALL of
// them (one `ip addr` answer shows them all at once); per-VIP times are there for the report.
import { performance } from 'node:perf_hooks';
import type { VrrpInstance } from '../inventory/model.ts';
import { addressesAt, observedAt, sleep, within, type Cluster } from './cluster.ts';

export const POLL_MS = 50;
const POLL_TIMEOUT_MS = 1500;

export interface VipSample {
  t: number;
  host: string;
  /** The watched VIPs the LB holds; null: it did not answer in time. */
  held: string[] | null;
}

export class VipWatch {
  readonly samples: VipSample[] = [];
  private running = true;
  private loops: Promise<void>[] = [];
  t0 = performance.now();

  constructor(
    private readonly cluster: Cluster,
    private readonly inst: VrrpInstance,
    readonly vips: string[],
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
      let got: { addrs: string[]; atEpochMs: number | null } | null = null;
      if (!pending) {
        const req = addressesAt(this.cluster, host, iface, POLL_TIMEOUT_MS).catch(() => null);
        pending = req;
        void req.finally(() => {
          if (pending === req) pending = null;
        });
        got = await within(req, POLL_TIMEOUT_MS, null);
      } else await within(pending, POLL_MS, null);
      const arrived = performance.now();
      // Timed by the LB's clock when it agrees with ours (see observedAt), not by the SSH answer.
      const at = got ? observedAt(started, arrived, got.atEpochMs, Date.now() - arrived) : arrived;
      this.samples.push({ t: at - this.t0, host, held: got === null ? null : this.vips.filter((v) => got!.addrs.includes(v)) });
      const left = POLL_MS - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await within(Promise.all(this.loops), 3000, []);
  }

  /** First time at or after `after` the host was seen holding every one of `vips` (default: all watched). */
  firstHeld(host: string, after = 0, vips: string[] = this.vips): number | null {
    return this.samples.find((s) => s.host === host && s.t >= after && s.held !== null && vips.every((v) => s.held!.includes(v)))?.t ?? null;
  }

  /** First time at or after `after` the host answered without one of `vips` (default: all watched). */
  firstReleased(host: string, after = 0, vips: string[] = this.vips): number | null {
    return this.samples.find((s) => s.host === host && s.t >= after && s.held !== null && vips.some((v) => !s.held!.includes(v)))?.t ?? null;
  }

  /** Per VIP: first time at or after `after` the host was seen holding it. */
  heldPerVip(host: string, after = 0): Record<string, number | null> {
    return Object.fromEntries(this.vips.map((v) => [v, this.firstHeld(host, after, [v])]));
  }

  /** Hosts other than `except` seen holding any watched VIP at or after `after`. */
  takers(except: string, after = 0): string[] {
    return [...new Set(this.samples.filter((s) => s.t >= after && s.host !== except && (s.held?.length ?? 0) > 0).map((s) => s.host))];
  }

  /** Samples by time (hosts' answers are timed by the LB and may arrive out of order). */
  private ordered(): VipSample[] {
    return [...this.samples].sort((a, b) => a.t - b.t);
  }

  /** Latest known answer per host. */
  latest(): Map<string, string[] | null> {
    const m = new Map<string, string[] | null>();
    for (const s of this.ordered()) m.set(s.host, s.held);
    return m;
  }

  /** First time at or after `after` when some VIP was held by more than one member (latest answers). */
  firstDual(after = 0): number | null {
    const last = new Map<string, string[] | null>();
    for (const s of this.ordered()) {
      last.set(s.host, s.held);
      if (s.t < after) continue;
      if (this.vips.some((v) => [...last.values()].filter((h) => h?.includes(v)).length > 1)) return s.t;
    }
    return null;
  }

  /** First time at or after `after` when every member had answered, one held every VIP and the others none. */
  firstSingle(after = 0): number | null {
    const last = new Map<string, string[] | null>();
    for (const s of this.ordered()) {
      last.set(s.host, s.held);
      if (s.t < after || last.size < this.inst.members.length) continue;
      const vals = [...last.values()];
      if (vals.some((h) => h === null)) continue;
      const holders = vals.filter((h) => h!.length > 0);
      if (holders.length === 1 && holders[0]!.length === this.vips.length) return s.t;
    }
    return null;
  }
}
