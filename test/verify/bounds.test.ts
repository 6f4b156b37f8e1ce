import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendFailureBound, hardFailureBound, masterDownMs, nginxFailureBound, plannedStopBound, recoveryBound, recoveryBoundWithStart, splitBrainBound } from '../../src/verify/bounds.ts';
import { labInventory, LINES } from './fixture.ts';

test('hard failure: 3 x advert + Skew(backup prio) + margin; v2 1 s, prio 100 -> 3609.375 ms + 750', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  assert.equal(masterDownMs(inst), 3609.375);
  const b = hardFailureBound(inst);
  assert.deepEqual([b.vipMs, b.gapMs, b.failedMax], [4359, 4609, null]);
  assert.equal(b.basis, '3 x 1 s + skew 0.609 s + 0.75 s');
});

test('v3 0.1 s: Skew scales with the interval', async () => {
  const inst = (await labInventory({ inst: LINES.inst!.replace('version: 2, advert_int: 1, auth: { type: PASS, pass: { env: PASS } }', 'version: 3, advert_int: 0.1') })).vrrp.instances[0]!;
  // Skew = (256 - 100) x 100 ms / 256 = 60.9375 ms (docs/haupd.md: RFC bound 360.9 ms)
  assert.equal(masterDownMs(inst), 360.9375);
  assert.equal(hardFailureBound(inst).vipMs, Math.round(360.9375 + 750));
});

test('planned stop and backend failure allow 0 failed requests; backend: the VIP must stay', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  assert.equal(plannedStopBound(inst).failedMax, 0);
  assert.equal(plannedStopBound(inst).gapMs, null);
  assert.deepEqual(backendFailureBound(), { vipMs: null, gapMs: null, failedMax: 0, basis: 'nginx retries the other backends: 0 failed, VIP stays' });
});

test('nginx dies: (fall + 1) x interval + timeout for the check, then Master_Down, then the margin', async () => {
  const inv = await labInventory();
  const b = nginxFailureBound(inv.vrrp.instances[0]!, inv.vrrp.checks[0]!);
  // check: 3 x 1 s + 1 s timeout (= interval by default) = 4000; + 3609.375 + 750
  assert.equal(b.vipMs, 8359);
  assert.equal(b.gapMs, 8609);
});

test('recovery: startup + preempt_delay + the master\'s own Master_Down; nopreempt: must not move', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  // Master_Down at prio 150: 3000 + 106/256 s = 3414.0625
  assert.equal(recoveryBound(inst).vipMs, Math.round(5000 + 3414.0625 + 750));
  // A partition guard holds a starting instance in Fault until the gateway answered `rise` probes.
  const guarded = recoveryBound(inst, { gateway: '198.18.0.1', interval: 1, fall: 3, rise: 2 });
  assert.equal(guarded.vipMs, Math.round(5000 + 2000 + 3414.0625 + 750));
  assert.equal(guarded.basis, 'start 5 s + partition guard 2 x 1 s + preempt_delay 0 s + Master_Down 3.414 s + 0.75 s; 0 failed');
  assert.equal(recoveryBound(inst).failedMax, 0);
  const np = (await labInventory({ inst: LINES.inst!.replace('track: [nginx]', 'track: [nginx], preempt: false') })).vrrp.instances[0]!;
  assert.deepEqual([recoveryBound(np).vipMs, recoveryBound(np).failedMax], [null, 0]);
});

test('split brain: dual master within Master_Down + margin, single again within 3 adverts + margin', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  assert.deepEqual(splitBrainBound(inst), { dualMs: 4359, healMs: 3750 });
});

test('recovery with haupd\'s measured start: a start over 5 s moves the VIP bound by the excess only; 0 failed stays', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  const b = recoveryBound(inst);
  assert.equal(recoveryBoundWithStart(b, 3200), b);
  assert.equal(recoveryBoundWithStart(b, null), b);
  assert.equal(recoveryBoundWithStart(b, 90_000), b);
  const slow = recoveryBoundWithStart(b, 7250);
  assert.deepEqual([slow.vipMs, slow.failedMax, slow.gapMs], [b.vipMs! + 2250, 0, null]);
  assert.equal(slow.basis, `${b.basis}; haupd took 7.25 s to start (measured), 2.25 s over the 5 s allowed`);
  const np = (await labInventory({ inst: LINES.inst!.replace('track: [nginx]', 'track: [nginx], preempt: false') })).vrrp.instances[0]!;
  // nopreempt: no move to bound
  assert.equal(recoveryBoundWithStart(recoveryBound(np), 9000).vipMs, null);
});
