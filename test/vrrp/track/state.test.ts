import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { effectivePriority, initialCheckState, recordResult, trackEffect, type CheckState, type CheckStatus } from '../../../src/vrrp/track/state.ts';

function run(results: boolean[], rise: number, fall: number, from: CheckState = initialCheckState): CheckStatus[] {
  const seen: CheckStatus[] = [];
  let s = from;
  for (const ok of results) {
    s = recordResult(s, ok, { rise, fall });
    seen.push(s.status);
  }
  return seen;
}

test('the first result decides at once (keepalived starts a script one success short of OK)', () => {
  assert.deepEqual(run([true], 3, 3), ['ok']);
  assert.deepEqual(run([false], 3, 3), ['failed']);
});

test('fall: consecutive failures needed to go from OK to FAILED; a success resets the count', () => {
  assert.deepEqual(run([true, false, false, false], 2, 3), ['ok', 'ok', 'ok', 'failed']);
  assert.deepEqual(run([true, false, false, true, false, false, false], 2, 3), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'failed']);
});

test('rise: consecutive successes needed to go from FAILED to OK; a failure resets the count', () => {
  assert.deepEqual(run([false, true, true], 2, 3), ['failed', 'failed', 'ok']);
  assert.deepEqual(run([false, true, false, true, true], 2, 3), ['failed', 'failed', 'failed', 'failed', 'ok']);
});

test('rise/fall of 1 follow every result', () => {
  assert.deepEqual(run([true, false, true, false], 1, 1), ['ok', 'failed', 'ok', 'failed']);
});

test('property: a status change needs exactly `fall` (or `rise`) same results in a row', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (results, rise, fall) => {
      const statuses = run(results, rise, fall);
      for (let i = 1; i < statuses.length; i++) {
        if (statuses[i] === statuses[i - 1]) continue;
        const need = statuses[i] === 'ok' ? rise : fall;
        const want = statuses[i] === 'ok';
        const window = results.slice(i - need + 1, i + 1);
        assert.equal(window.length, need);
        assert.ok(window.every((r) => r === want));
      }
    }),
  );
});

test('weights as keepalived: 0 = fault while failing, > 0 added while OK, < 0 subtracted while failing', () => {
  assert.deepEqual(
    trackEffect([
      { name: 'up', status: 'ok', weight: 20 },
      { name: 'upDown', status: 'failed', weight: 15 },
      { name: 'minus', status: 'failed', weight: -30 },
      { name: 'minusOk', status: 'ok', weight: -7 },
    ]),
    { fault: false, delta: -10, faultBy: [] },
  );
  assert.deepEqual(
    trackEffect([
      { name: 'nginx', status: 'failed', weight: 0 },
      { name: 'eth1', status: 'ok', weight: 0 },
      { name: 'gw', status: 'unknown', weight: 0 },
    ]),
    { fault: true, delta: 0, faultBy: ['nginx', 'gw'] },
  );
  // Not checked yet counts as failing: no positive weight, negative weight applies.
  assert.deepEqual(trackEffect([{ name: 'a', status: 'unknown', weight: 10 }, { name: 'b', status: 'unknown', weight: -5 }]), { fault: false, delta: -5, faultBy: [] });
  assert.deepEqual(trackEffect([]), { fault: false, delta: 0, faultBy: [] });
});

test('effective priority is clamped to 1..254; an owner (255) keeps 255', () => {
  assert.equal(effectivePriority(100, 50), 150);
  assert.equal(effectivePriority(100, 200), 254);
  assert.equal(effectivePriority(100, -150), 1);
  assert.equal(effectivePriority(254, 0), 254);
  assert.equal(effectivePriority(255, -100), 255);
});
