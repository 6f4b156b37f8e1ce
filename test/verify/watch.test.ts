import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VipWatch } from '../../src/verify/watch.ts';
import { observedAt, parseAddressesAt, type Cluster } from '../../src/verify/cluster.ts';
import { labInventory, LINES } from './fixture.ts';

const V = '198.18.0.3';
const W = '198.18.0.4';

// The timeline queries only (no polling): samples pushed by hand. `true` = holds every VIP, `false` none.
async function watchWith(samples: [number, string, boolean | string[] | null][], vips = [V]): Promise<VipWatch> {
  const inst = (await labInventory({ inst: LINES.inst!.replace('vips: [198.18.0.3/24]', `vips: [${vips.map((v) => `${v}/24`).join(', ')}]`) })).vrrp.instances[0]!;
  const w = new VipWatch({} as Cluster, inst, vips);
  for (const [t, host, has] of samples) w.samples.push({ t, host, held: has === null ? null : has === true ? vips : has === false ? [] : has });
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
  assert.deepEqual([...w.latest()], [['lb5', []], ['lb6', [V]]]);
  assert.deepEqual(w.takers('lb5'), ['lb6']);
  assert.deepEqual(w.takers('lb6'), []);
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

test('several VIPs: a move is complete only when the new holder has all of them; per-VIP times; partial holders', async () => {
  const w = await watchWith(
    [
      [-50, 'lb5', true],
      [-40, 'lb6', false],
      [3500, 'lb6', [W]],
      [3510, 'lb5', [V]],
      [3550, 'lb6', [V, W]],
      [3560, 'lb5', false],
    ],
    [V, W],
  );
  assert.equal(w.firstHeld('lb6'), 3550);
  assert.deepEqual(w.heldPerVip('lb6'), { [V]: 3550, [W]: 3500 });
  // lb5 lost one of its VIPs at 3510: released (a VIP that had to stay did not)
  assert.equal(w.firstReleased('lb5'), 3510);
  // lb6 took W while lb5's latest answer still had both: W held twice
  assert.equal(w.firstDual(), 3500);
  assert.equal(w.firstDual(3510), 3550);
  // lb5 with V and lb6 with W (3510), or both holding V (3550), is not "single": only at 3560
  assert.equal(w.firstSingle(0), 3560);
  const split = await watchWith([[0, 'lb5', [V]], [10, 'lb6', [W]]], [V, W]);
  assert.deepEqual([split.firstDual(), split.firstSingle()], [null, null]);
});

test('samples timed by the LB\'s clock: used inside [sent, arrived], else the arrival (clocks disagree)', () => {
  // epoch = perf + 1_000_000 here
  const E = 1_000_000;
  assert.equal(observedAt(100, 400, 120 + E, E), 120);
  assert.equal(observedAt(100, 400, 402 + E, E), 400); // within the slack: clamped
  assert.equal(observedAt(100, 400, 98 + E, E), 100);
  assert.equal(observedAt(100, 400, 50 + E, E), 400); // the LB's clock is off: never early
  assert.equal(observedAt(100, 400, 900 + E, E), 400);
  assert.equal(observedAt(100, 400, null, E), 400);
  const json = JSON.stringify([{ addr_info: [{ family: 'inet', local: '198.18.0.5' }, { family: 'inet', local: V }] }]);
  assert.deepEqual(parseAddressesAt(`${json}\n\n1700000000123456789\n`), { addrs: ['198.18.0.5', V], atEpochMs: 1700000000123.456 });
  assert.deepEqual(parseAddressesAt(`${json}\n`), { addrs: ['198.18.0.5', V], atEpochMs: null });
});

test('answers arriving out of order across LBs are read in time order for dual / single', async () => {
  const w = await watchWith([
    [0, 'lb5', true],
    [5, 'lb6', false],
    [3300, 'lb5', false],
    [3290, 'lb6', true],
  ]);
  // by time: lb6 took it at 3290 while lb5 (until 3300) still held it
  assert.equal(w.firstDual(), 3290);
  assert.equal(w.firstSingle(1000), 3300);
});
