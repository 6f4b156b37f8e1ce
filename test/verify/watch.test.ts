import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VipWatch } from '../../src/verify/watch.ts';
import type { Cluster } from '../../src/verify/cluster.ts';
import { labInventory } from './fixture.ts';

// The timeline queries only (no polling): samples pushed by hand.
async function watchWith(samples: [number, string, boolean | null][]): Promise<VipWatch> {
  const inst = (await labInventory()).vrrp.instances[0]!;
  const w = new VipWatch({} as Cluster, inst, '198.18.0.3');
  for (const [t, host, has] of samples) w.samples.push({ t, host, has });
  return w;
}

test('first held / released at or after a time; unanswered polls (null) count as neither', async () => {
  const w = await watchWith([
    [-100, 'lb5', true],
    [-90, 'lb6', false],
    [40, 'lb6', null],
    [90, 'lb6', false],
    [3600, 'lb6', true],
    [3650, 'lb5', null],
    [3700, 'lb5', false],
  ]);
  assert.equal(w.firstHeld('lb6'), 3600);
  assert.equal(w.firstHeld('lb5'), null);
  assert.equal(w.firstHeld('lb5', -200), -100);
  assert.equal(w.firstReleased('lb5'), 3700);
  assert.deepEqual([...w.latest()], [['lb5', false], ['lb6', true]]);
});

test('dual holder: both seen holding (latest answers); single: exactly one holds and every member answered', async () => {
  const w = await watchWith([
    [0, 'lb5', true],
    [10, 'lb6', false],
    [3300, 'lb6', true],
    [5000, 'lb5', null],
    [5050, 'lb5', false],
    [5100, 'lb6', true],
  ]);
  assert.equal(w.firstDual(), 3300);
  assert.equal(w.firstSingle(), 10);
  // after the heal at 4000: lb5's poll timed out at 5000 (unknown), then it answered without the VIP
  assert.equal(w.firstSingle(4000), 5050);
});
