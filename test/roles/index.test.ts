import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostSpecs, lbRolloutOrder, phasesFor } from '../../src/roles/index.ts';
import { mergePackageTasks } from '../../src/roles/types.ts';
import { fakeArtifact, labInventory } from './fixture.ts';

const noConnect = () => Promise.reject(new Error('no connection in a unit test'));

test('rollout: webs, then the backup LB, then the master LB last; every LB phase requires success before it', async () => {
  const inv = await labInventory();
  assert.deepEqual(phasesFor(inv), [{ name: 'web' }, { name: 'lb lb6', requirePreviousSuccess: true }, { name: 'lb lb5', requirePreviousSuccess: true }]);
  const specs = hostSpecs(inv, { artifact: fakeArtifact, connect: noConnect });
  assert.deepEqual(specs.map((s) => [s.name, s.groups, s.phase]), [
    ['web7', ['web'], 'web'],
    ['web8', ['web'], 'web'],
    ['lb6', ['lb'], 'lb lb6'],
    ['lb5', ['lb'], 'lb lb5'],
  ]);
});

test('rollout: swapped priorities swap the LB order; three LBs: backups lowest priority first', async () => {
  const swapped = await labInventory((t) => t.replace('priorities: { lb5: 150, lb6: 100 }', 'priorities: { lb5: 100, lb6: 150 }'));
  assert.deepEqual(lbRolloutOrder(swapped).map((h) => h.name), ['lb5', 'lb6']);
  const three = await labInventory((t) =>
    t.replace('    lb6: { address: 198.18.0.6 }', '    lb6: { address: 198.18.0.6 }\n    lb4: { address: 198.18.0.4 }').replace('priorities: { lb5: 150, lb6: 100 }', 'priorities: { lb5: 150, lb6: 100, lb4: 120 }'),
  );
  assert.deepEqual(lbRolloutOrder(three).map((h) => h.name), ['lb6', 'lb4', 'lb5']);
});

test('an LB gets one package task (one apt-get update + install) for nginx and haupd, then nginx, then haupd', async () => {
  const inv = await labInventory();
  const lb5 = hostSpecs(inv, { artifact: fakeArtifact, connect: noConnect }).find((s) => s.name === 'lb5')!;
  const pkgs = lb5.tasks.filter((t) => t.op.op === 'package');
  assert.equal(pkgs.length, 1);
  assert.deepEqual(pkgs[0]!.op, { op: 'package', names: ['nginx', 'nodejs', 'iputils-arping', 'curl', 'procps'], update: true, noStart: true });
  assert.equal(lb5.tasks[0], pkgs[0]);
  assert.deepEqual(lb5.handlers!.map((h) => h.name), ['reload nginx', 'reload haupd', 'restart haupd']);
  assert.deepEqual(lb5.treeChecks!.map((c) => c.name), ['nginx -t']);
});

test('mergePackageTasks: one install task where the first was, keeping notifications; other tasks untouched', () => {
  const a = { role: 'a', tasks: [{ name: 'a', op: { op: 'package' as const, names: ['x'] }, notify: ['h'] }, { name: 'd', op: { op: 'directory' as const, path: '/d' } }] };
  const b = { role: 'b', tasks: [{ name: 'b', op: { op: 'package' as const, names: ['y', 'x'], update: true } }, { name: 'c', op: { op: 'command' as const, command: 'true' } }] };
  const [ma, mb] = mergePackageTasks([a, b]);
  assert.deepEqual(ma!.tasks.map((t) => [t.name, t.op, t.notify]), [
    ['packages installed: x, y', { op: 'package', names: ['x', 'y'], update: true }, ['h']],
    ['d', { op: 'directory', path: '/d' }, undefined],
  ]);
  assert.deepEqual(mb!.tasks.map((t) => t.name), ['c']);
  const single = [{ role: 'a', tasks: [a.tasks[0]!] }];
  assert.equal(mergePackageTasks(single), single);
});
