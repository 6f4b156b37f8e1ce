import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPeriodicCheck, type Clock, type ProbeResult } from '../../../src/vrrp/track/periodic.ts';
import type { CheckStatus } from '../../../src/vrrp/track/state.ts';

/** A hand-driven clock: timers fire only in advance(). */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (h) => {
      timers = timers.filter((t) => t.id !== h);
    },
  };
  const flush = () => new Promise<void>((r) => setImmediate(r));
  return {
    clock,
    pending: () => timers.length,
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        await flush();
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
      await flush();
    },
    set(ms: number) {
      now = ms;
    },
  };
}

test('runs at once, then every interval from start to start; rise/fall drive onChange', async () => {
  const fc = fakeClock();
  const script = [true, true, false, false, true, true, true];
  const startedAt: number[] = [];
  const changes: [CheckStatus, number][] = [];
  let i = 0;
  const check = startPeriodicCheck({
    intervalMs: 1000,
    rise: 2,
    fall: 2,
    clock: fc.clock,
    probe: async () => {
      startedAt.push(fc.clock.now());
      return { ok: script[i++] ?? true };
    },
    onChange: (s) => changes.push([s, fc.clock.now()]),
  });
  await fc.advance(6500);
  assert.deepEqual(startedAt, [0, 1000, 2000, 3000, 4000, 5000, 6000]);
  assert.deepEqual(changes, [
    ['ok', 0],
    ['failed', 3000],
    ['ok', 5000],
  ]);
  assert.equal(check.status, 'ok');
  assert.equal(check.runs, 7);
  check.stop();
  assert.equal(fc.pending(), 0);
  await fc.advance(5000);
  assert.equal(startedAt.length, 7);
});

test('a slow probe delays the next run instead of overlapping it', async () => {
  const fc = fakeClock();
  const startedAt: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const check = startPeriodicCheck({
    intervalMs: 100,
    rise: 1,
    fall: 1,
    clock: fc.clock,
    probe: () => {
      startedAt.push(fc.clock.now());
      running++;
      maxRunning = Math.max(maxRunning, running);
      // The probe "takes" 250 ms of fake time: it settles when the clock passes that point.
      return new Promise<ProbeResult>((resolve) =>
        fc.clock.setTimeout(() => {
          running--;
          resolve({ ok: true });
        }, 250),
      );
    },
    onChange: () => {},
  });
  await fc.advance(1000);
  check.stop();
  assert.equal(maxRunning, 1);
  assert.deepEqual(startedAt, [0, 250, 500, 750, 1000]);
});

test('a probe that throws counts as a failure with its message', async () => {
  const fc = fakeClock();
  const seen: [CheckStatus, string | undefined][] = [];
  const check = startPeriodicCheck({
    intervalMs: 100,
    rise: 1,
    fall: 1,
    clock: fc.clock,
    probe: async () => {
      throw new Error('boom');
    },
    onChange: (s, last) => seen.push([s, last.detail]),
  });
  await fc.advance(10);
  check.stop();
  assert.deepEqual(seen, [['failed', 'probe error: boom']]);
});
