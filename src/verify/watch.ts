// The VIPs during a scenario. On every member LB `ip -ts monitor address` records each VIP added
// or deleted with its exact time (monitor.ts); that timeline replaces the polls once the scenario
// is over, for every LB whose clock agrees with ours and whose monitor finished. Meanwhile (and
// as the fallback: an LB cut off by its link, a clock that disagrees) each LB is asked
// `ip -j addr` every POLL_MS, one request per LB in flight at most, so an LB whose link is down
// never piles up stuck SSH channels. Polling less often than before keeps the measuring itself
// from loading a busy machine during the very window it measures.
// Times are ms relative to the caller's t0 (the fault), taken from the LB's clock right after
// `ip` read the addresses when that clock agrees with ours (the lab: one kernel clock), else when
// the answer arrived: a move is reported no earlier than it happened, and the SSH round trip of a
// loaded machine no longer adds to it.
// Every VIP of the instance is watched: a move is complete only when the new holder has ALL of
// them (one `ip addr` answer shows them all at once); per-VIP times are there for the report.
import { performance } from 'node:perf_hooks';
import type { VrrpInstance } from '../inventory/model.ts';
import { randomBytes } from 'node:crypto';
import type { ExecResult } from '../connectors/connection.ts';
import { addressesAt, observedAt, sleep, within, type Cluster } from './cluster.ts';
import { monitorScript, parseMonitorOutput, timelineFromEvents } from './monitor.ts';

export const POLL_MS = 100;
/** A monitor ends by itself after this long (its stop file normally ends it much sooner). */
const MONITOR_MAX_S = 150;
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
  private monitors = new Map<string, { iface: string; stopFile: string; run: Promise<ExecResult | null> }>();
  /** false once an answer's LB time fell outside [sent, arrived]: its clock is not ours. */
  private clockAgrees = new Map<string, boolean>();
  /** Hosts whose timeline came from their monitor (exact times). */
  readonly exact = new Set<string>();
  t0 = performance.now();

  constructor(
    private readonly cluster: Cluster,
    private readonly inst: VrrpInstance,
    readonly vips: string[],
  ) {}

  start(): this {
    for (const m of this.inst.members) {
      const stopFile = `/tmp/.haup-watch-${randomBytes(4).toString('hex')}`;
      const run = this.cluster.exec(m.host, 'sh -s', { stdin: monitorScript(stopFile, MONITOR_MAX_S), timeoutMs: (MONITOR_MAX_S + 10) * 1000 }).catch(() => null);
      this.monitors.set(m.host, { iface: m.interface, stopFile, run });
    }
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
      const epochMinusPerf = Date.now() - arrived;
      const at = got ? observedAt(started, arrived, got.atEpochMs, epochMinusPerf) : arrived;
      if (got && (got.atEpochMs === null || at !== Math.min(Math.max(got.atEpochMs - epochMinusPerf, started), arrived))) this.clockAgrees.set(host, false);
      this.samples.push({ t: at - this.t0, host, held: got === null ? null : this.vips.filter((v) => got!.addrs.includes(v)) });
      const left = POLL_MS - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await within(Promise.all(this.loops), 3000, []);
    const epochMinusPerf = Date.now() - performance.now();
    await Promise.all(
      [...this.monitors].map(async ([host, m]) => {
        // An LB cut off by its link cannot be told to stop: its monitor ends by itself later.
        await within(this.cluster.exec(host, `touch ${m.stopFile}`, { timeoutMs: 3000 }), 3500, null);
        const r = await within(m.run, 3000, null);
        if (!r || r.code !== 0 || this.clockAgrees.get(host) === false) return;
        const out = parseMonitorOutput(r.stdout.toString());
        if (!out.complete || out.startEpochMs === null) return;
        this.foldTimeline(host, out, m.iface, epochMinusPerf);
      }),
    );
  }

  /** Replace the host's polls from the monitor's start on by its exact timeline. */
  private foldTimeline(host: string, out: ReturnType<typeof parseMonitorOutput>, iface: string, epochMinusPerf: number): void {
    const toT = (epochMs: number) => epochMs - epochMinusPerf - this.t0;
    const startT = toT(out.startEpochMs!);
    const mine = this.ordered().filter((x) => x.host === host && x.held !== null);
    // The state when the monitor started: the last answer before it, or the first answer after
    // it when no watched VIP changed in between (else: keep the polls).
    const firstChange = out.events.filter((e) => e.iface === iface && this.vips.includes(e.address) && e.epochMs >= out.startEpochMs!).map((e) => toT(e.epochMs)).sort((a, b) => a - b)[0];
    const before = mine.filter((x) => x.t <= startT).at(-1) ?? mine.find((x) => firstChange === undefined || x.t < firstChange);
    if (!before) return;
    const timeline = timelineFromEvents(before.held, out, iface, this.vips);
    const kept = this.samples.filter((x) => x.host !== host || x.t < startT);
    this.samples.length = 0;
    this.samples.push(...kept, { t: startT, host, held: before.held }, ...timeline.map((e) => ({ t: toT(e.epochMs), host, held: e.held })));
    this.exact.add(host);
  }

  /** First time at or after `after` the host was seen holding every one of `vips` (default: all watched). */
  firstHeld(host: string, after = 0, vips: string[] = this.vips): number | null {
    return this.first(host, after, (held) => vips.every((v) => held.includes(v)));
  }

  /** First time at or after `after` the host answered without one of `vips` (default: all watched). */
  firstReleased(host: string, after = 0, vips: string[] = this.vips): number | null {
    return this.first(host, after, (held) => vips.some((v) => !held.includes(v)));
  }

  /**
   * First time at or after `after` the host's answer satisfied `pred`. An exact timeline has an
   * entry per change only: the state it was in at `after` counts from `after`.
   */
  private first(host: string, after: number, pred: (held: string[]) => boolean): number | null {
    const seq = this.ordered().filter((s) => s.host === host && s.held !== null);
    if (this.exact.has(host)) {
      const carried = seq.filter((s) => s.t < after).at(-1);
      if (carried && pred(carried.held!)) return after;
    }
    return seq.find((s) => s.t >= after && pred(s.held!))?.t ?? null;
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
