// Random event sequences against the invariants every daemon relies on. The fake clock fires
// each timer at its deadline between events, as the daemon does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VrrpInstance, type Action, type InstanceConfig, type InstanceEvent, type VrrpState } from '../../src/vrrp/instance.ts';
import { masterDownIntervalMs } from '../../src/vrrp/timers.ts';

const SELF = '198.18.10.5';
const OTHERS = ['198.18.10.4', '198.18.10.6', '198.18.10.7'];

const configArb = fc.record({
  version: fc.constantFrom(2 as const, 3 as const),
  priority: fc.oneof(fc.integer({ min: 1, max: 254 }), fc.constant(255)),
  seconds: fc.integer({ min: 1, max: 3 }),
  cs: fc.constantFrom(1, 10, 100),
  preempt: fc.boolean(),
  preemptDelayMs: fc.constantFrom(0, 0, 2000),
  peers: fc.boolean(),
  handoverTimeoutMs: fc.option(fc.constantFrom(0, 300, 5000), { nil: undefined }),
  releaseDrainMs: fc.constantFrom(0, 100),
});

const eventArb: fc.Arbitrary<InstanceEvent> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ from: fc.constantFrom(...OTHERS, SELF), priority: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(0)), advertIntervalCs: fc.constantFrom(1, 10, 100, 300) }).map((advert) => ({ type: 'advert' as const, advert })) },
  { weight: 2, arbitrary: fc.integer({ min: -300, max: 400 }).map((priority) => ({ type: 'priority' as const, priority })) },
  { weight: 2, arbitrary: fc.constantFrom('interface:eth0', 'partition').map((source) => ({ type: 'fault' as const, source, reason: `${source} failed` })) },
  { weight: 2, arbitrary: fc.constantFrom('interface:eth0', 'partition').map((source) => ({ type: 'fault-clear' as const, source })) },
  { weight: 1, arbitrary: fc.boolean().map((immediate) => ({ type: 'shutdown' as const, immediate })) },
);

const stepArb = fc.record({
  gap: fc.oneof(fc.double({ min: 0, max: 5000, noNaN: true }), fc.constant(0)),
  /** The daemon stalled (GC, slow disk): timers fire once, late, at the event time. */
  stall: fc.boolean(),
  event: eventArb,
});

test('random event sequences keep the state machine consistent', () => {
  fc.assert(
    fc.property(configArb, fc.array(stepArb, { maxLength: 60 }), (c, steps) => {
      const advertIntervalCs = c.version === 2 ? c.seconds * 100 : c.cs;
      const cfg: InstanceConfig = {
        name: 'P',
        vrid: 7,
        version: c.version,
        priority: c.priority,
        advertIntervalCs,
        primaryAddress: SELF,
        preempt: c.preempt,
        preemptDelayMs: c.preemptDelayMs,
        peers: c.peers ? OTHERS.map((address, i) => ({ address, priority: 50 + 50 * i })) : undefined,
        handoverTimeoutMs: c.handoverTimeoutMs,
        releaseDrainMs: c.releaseDrainMs,
      };
      const inst = new VrrpInstance(cfg);
      let now = 0;
      let state: VrrpState = 'init';
      let vips = false;
      let stopped = false;

      const check = (acts: Action[], what: string): void => {
        for (const a of acts) {
          assert.equal(a.instance, 'P');
          assert.ok(!stopped, `action ${a.type} after stopped (${what})`);
          if (a.type === 'add-vips') vips = true;
          if (a.type === 'remove-vips') vips = false;
          if (a.type === 'transition') {
            assert.equal(a.from, state, `transition from the state we were in (${what})`);
            assert.equal(a.at, now);
            assert.ok(a.reason.length > 0);
            state = a.to;
          }
          if (a.type === 'send-advert') assert.ok(a.priority >= 0 && a.priority <= 255);
          if (a.type === 'stopped') stopped = true;
        }
        const snap = inst.snapshot();
        assert.equal(snap.state, state, what);
        assert.equal(snap.vipsHeld, vips, `vipsHeld mirrors add/remove actions (${what})`);
        assert.equal(snap.stopped, stopped);
        if (stopped) {
          assert.equal(vips, false, 'a stopped instance holds nothing');
          assert.equal(inst.nextDeadline(), undefined);
        }
        if (state === 'fault' || state === 'init') assert.equal(vips, false, `no VIPs in ${state}`);
        if (snap.effectivePriority !== 255) assert.ok(snap.effectivePriority >= 1 && snap.effectivePriority <= 254);
        else assert.equal(cfg.priority, 255, 'only an owner runs at 255');
        if (acts.some((a) => a.type === 'send-advert' && a.priority > 0)) assert.equal(state, 'master', 'only a master advertises a priority');
        const d = inst.nextDeadline();
        if (!stopped && state === 'master' && !snap.handover) assert.ok(d !== undefined && d <= now + advertIntervalCs * 10 + 1e-9, 'a master always has its next advert scheduled');
        if (snap.handover) assert.ok(d !== undefined && d <= snap.handover.deadline, 'a handover always ends by its deadline');
        if (!stopped && state === 'backup' && !snap.waitingForSyncGroup) {
          assert.ok(d !== undefined && d <= now + masterDownIntervalMs(3, 1, 4095), 'a backup always has a Master_Down running');
        }
        if (state === 'backup' && vips) assert.ok(d !== undefined && d <= now + (cfg.releaseDrainMs ?? 0) + 1e-9, 'a backup releases within the drain');
      };

      const fireTimers = (until: number): void => {
        for (let i = 0; i < 10_000; i++) {
          const d = inst.nextDeadline();
          if (d === undefined || d > until) return;
          now = Math.max(now, d);
          check(inst.handle({ type: 'timer' }, now), 'timer');
          const after = inst.nextDeadline();
          assert.ok(after === undefined || after > now, `a timer event leaves no overdue deadline (${after} <= ${now})`);
        }
        assert.fail('timers did not settle');
      };

      check(inst.handle({ type: 'start' }, now), 'start');
      for (const { gap, stall, event } of steps) {
        const target = now + gap;
        if (stall) {
          now = target;
          const d = inst.nextDeadline();
          if (d !== undefined && d <= now) {
            check(inst.handle({ type: 'timer' }, now), 'late timer');
            const after = inst.nextDeadline();
            assert.ok(after === undefined || after > now, `one late timer event clears every overdue deadline (${after} <= ${now})`);
          }
        } else fireTimers(target);
        now = target;
        check(inst.handle(event, now), event.type);
      }
      fireTimers(now + 60_000);
      if (!stopped) {
        check(inst.handle({ type: 'shutdown', immediate: true }, now), 'final shutdown');
        assert.equal(stopped, true, 'an immediate shutdown always stops');
      }
    }),
    { numRuns: 3000, seed: 20261122 },
  );
});
