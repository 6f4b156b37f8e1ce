import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { WakeUp, type WakeUpHost } from '../../src/vrrp/daemon-wakeup.ts';

// The daemon's one timer (src/vrrp/daemon-wakeup.ts) against a fake host with one deadline.

/** A host with one deadline; packetsRead() simulates packets read during the first N calls. */
function host(opts: { deadlineIn: number; advertOnly: boolean; packetsPerTurn?: number; turnsWithPackets?: number }) {
  const events: string[] = [];
  let deadline = performance.now() + opts.deadlineIn;
  let packets = 0;
  let turns = 0;
  const h: WakeUpHost & { events: string[]; setDeadline(at: number): void } = {
    events,
    setDeadline: (at) => (deadline = at),
    now: () => performance.now(),
    earliestDeadline: () => deadline,
    onlyAdvertsDue: (now) => opts.advertOnly && deadline <= now,
    runDue: () => undefined,
    packetsRead: () => {
      // Simulates the poll phase reading queued packets for the first N turns.
      if (turns < (opts.turnsWithPackets ?? 0)) packets += opts.packetsPerTurn ?? 1;
      turns++;
      return packets;
    },
    running: () => true,
  };
  return h;
}

test("a master's advert timer runs in the timers phase: no setImmediate turn before it", async () => {
  const realSetImmediate = globalThis.setImmediate;
  let immediates = 0;
  globalThis.setImmediate = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
    immediates++;
    return realSetImmediate(fn, ...args);
  }) as typeof setImmediate;
  try {
    const h = host({ deadlineIn: 3, advertOnly: true });
    await new Promise<void>((resolve) => {
      const wake = new WakeUp({
        ...h,
        runDue: () => {
          h.setDeadline(Infinity);
          wake.cancel();
          resolve();
        },
      });
      wake.schedule();
    });
  } finally {
    globalThis.setImmediate = realSetImmediate;
  }
  assert.equal(immediates, 0);
});

test('Master_Down (not an advert) waits until a loop turn reads no packet, then runs', async () => {
  const h = host({ deadlineIn: 3, advertOnly: false, turnsWithPackets: 3 });
  const reads: number[] = [];
  const ran = new Promise<void>((resolve) => {
    const wake = new WakeUp({
      ...h,
      packetsRead: () => {
        const n = h.packetsRead();
        reads.push(n);
        return n;
      },
      runDue: () => {
        h.setDeadline(Infinity);
        wake.cancel();
        resolve();
      },
    });
    wake.schedule();
  });
  await ran;
  // packetsRead() is read before each setImmediate turn and again in it: 1 -> 2 (packets came in
  // during the turn: wait another turn), 3 -> 3 (a quiet turn): only then runDue.
  assert.deepEqual(reads, [1, 2, 3, 3]);
});

test('a timer that fires with nothing due re-arms without running anything', async () => {
  const h = host({ deadlineIn: 2, advertOnly: false });
  const ranAt: number[] = [];
  let moved = 0;
  await new Promise<void>((resolve) => {
    const wake = new WakeUp({
      ...h,
      runDue: () => {
        ranAt.push(performance.now());
        h.setDeadline(Infinity);
        wake.cancel();
        resolve();
      },
    });
    wake.schedule();
    // The deadline moves forward (an advert arrived) after the timer was armed for 2 ms: it
    // still fires then, finds nothing due, and must re-arm for the new deadline.
    moved = performance.now() + 60;
    h.setDeadline(moved);
  });
  assert.equal(ranAt.length, 1);
  assert.ok((ranAt[0] as number) >= moved, `ran ${((ranAt[0] as number) - moved).toFixed(1)} ms after the moved deadline`);
});

test('a fired Timeout is reused (refresh) for the next wake-up with the same delay', async () => {
  const realSetTimeout = globalThis.setTimeout;
  let setTimeoutCalls = 0;
  // Counts every setTimeout made while the test runs (it awaits nothing else but the wake-ups).
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    setTimeoutCalls++;
    return realSetTimeout(fn, ms);
  }) as typeof setTimeout;
  try {
    let left = 20;
    const h = host({ deadlineIn: 5, advertOnly: true });
    await new Promise<void>((resolve) => {
      const wake = new WakeUp({
        ...h,
        runDue: () => {
          if (--left === 0) {
            wake.cancel();
            resolve();
            return;
          }
          const now = performance.now();
          h.setDeadline(now + 5); // a master's next advert: the same 5 ms delay every time
          wake.schedule(now);
        },
      });
      wake.schedule();
    });
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  // Without reuse: 20 Timeouts. With it: one per distinct delay (5 ms, and 1 ms when libuv's
  // cached clock lets a timer fire a fraction of a millisecond before the deadline).
  assert.ok(setTimeoutCalls <= 3, `${setTimeoutCalls} Timeouts created for 20 wake-ups`);
});
