// Which backup verify --failover expects to take over, and the bounds computed with its priority.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hardFailureBound, masterDownMs, nginxFailureBound, plannedStopBound, splitBrainBound } from '../../src/verify/bounds.ts';
import { asCurrentMaster, checkMovesVip, nginxCheckOf } from '../../src/verify/scenarios.ts';
import { takeoverBackup } from '../../src/verify/takeover.ts';
import { labInventory, LINES } from './fixture.ts';

// Three LBs: lb5 150 (master), lb4 120, lb6 100 — in the inventory lb6 comes before lb4.
const threeLbs = () =>
  labInventory({
    lb: 'lb: { hosts: { lb5: { address: 198.18.0.5 }, lb6: { address: 198.18.0.6 }, lb4: { address: 198.18.0.4 } } }',
    inst: LINES.inst!.replace('priorities: { lb5: 150, lb6: 100 }', 'priorities: { lb5: 150, lb6: 100, lb4: 120 }'),
  });

test('three LBs: the highest-priority backup takes over, not the first one listed', async () => {
  const inst = (await threeLbs()).vrrp.instances[0]!;
  const t = takeoverBackup(inst)!;
  assert.deepEqual([t.host, t.priority], ['lb4', 120]);
  assert.equal(t.why, 'lb4 takes over: highest priority 120; the other backups: lb6 100');
});

test('effective priorities decide: a backup whose tracked check fails drops below the other; one in Fault never takes over', async () => {
  const inst = (await threeLbs()).vrrp.instances[0]!;
  const t = takeoverBackup(inst, { lb5: { effectivePriority: 150, state: 'master' }, lb4: { effectivePriority: 60, state: 'backup' }, lb6: { effectivePriority: 100, state: 'backup' } })!;
  assert.deepEqual([t.host, t.priority], ['lb6', 100]);
  assert.equal(t.why, 'lb6 takes over: highest priority 100; the other backups: lb4 60');
  const fault = takeoverBackup(inst, { lb4: { effectivePriority: 120, state: 'fault' } })!;
  assert.equal(fault.host, 'lb6');
  const boosted = takeoverBackup(inst, { lb6: { effectivePriority: 130, state: 'backup' } })!;
  assert.equal(boosted.why, 'lb6 takes over: highest effective priority 130 (configured 100); the other backups: lb4 120');
  assert.equal(takeoverBackup(inst, { lb4: { state: 'fault' }, lb6: { state: 'fault' } }), null);
});

test('equal effective priorities: the higher primary address wins (RFC 5798 6.4.3)', async () => {
  const inst = (await threeLbs()).vrrp.instances[0]!;
  const t = takeoverBackup(inst, { lb4: { effectivePriority: 100 }, lb6: { effectivePriority: 100 } })!;
  assert.equal(t.host, 'lb6');
  assert.match(t.why, /higher address among equals/);
});

test('bounds use the takeover backup\'s priority: Skew of 120 is shorter than of 100', async () => {
  const inv = await threeLbs();
  const inst = inv.vrrp.instances[0]!;
  // Master_Down(120) = 3000 + (256 - 120)/256 s = 3531.25 ms; (100) = 3609.375 ms
  assert.equal(masterDownMs(inst, 120), 3531.25);
  assert.equal(hardFailureBound(inst, 120).vipMs, Math.round(3531.25 + 750));
  assert.equal(hardFailureBound(inst, 120).basis, '3 x 1 s + skew 0.531 s + 0.75 s');
  assert.equal(plannedStopBound(inst, 120).vipMs, Math.round(3531.25 + 750));
  assert.equal(nginxFailureBound(inst, inv.vrrp.checks[0]!, 120).vipMs, Math.round(4000 + 3531.25 + 750));
  assert.equal(splitBrainBound(inst, 120).dualMs, Math.round(3531.25 + 750));
  // The default is the highest configured backup priority (lb4 120 here, not lb6).
  assert.equal(hardFailureBound(inst).vipMs, hardFailureBound(inst, 120).vipMs);
});

test('nginx dies: whether the VIP moves is judged against the takeover backup\'s effective priority', async () => {
  const inv = await threeLbs();
  const inst = inv.vrrp.instances[0]!;
  const check = nginxCheckOf(inv.vrrp.checks, inst)!;
  // master 150 - 60 = 90: below lb4 at 120, and below lb6 at 100, but not below a backup at 80
  assert.equal(checkMovesVip(inst, check, 120), true);
  assert.equal(checkMovesVip(inst, check, 100), true);
  assert.equal(checkMovesVip(inst, check, 80), false);
  assert.equal(checkMovesVip(inst, { ...check, weight: -20 }, 120), false);
});

test('nopreempt after a failover: the LB holding the VIPs is the master the scenarios fault; the others are its backups', async () => {
  const inst = (await threeLbs()).vrrp.instances[0]!;
  assert.equal(asCurrentMaster(inst, 'lb5'), inst);
  assert.equal(asCurrentMaster(inst, undefined), inst);
  assert.equal(asCurrentMaster(inst, 'web7'), inst);
  const v = asCurrentMaster(inst, 'lb6');
  assert.deepEqual([v.master, v.backups], ['lb6', ['lb5', 'lb4']]);
  // the takeover from lb6 is lb5 (150), and the bounds use it
  assert.deepEqual(takeoverBackup(v)!.host, 'lb5');
});
