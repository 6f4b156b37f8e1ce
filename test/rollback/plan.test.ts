import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDrift, expectedState, latestActive, listDeploys, planHostRollback, type PlanInput } from '../../src/rollback/plan.ts';
import { SERVICE_FILES } from '../../src/cli/rollback.ts';
import { CFG, CONF, D1, D2, DEFAULT_SITE, ETC, UNIT, V1, V2, afterD1, afterD2, d1, d2, fileState, lb5, running, sha } from './fixture.ts';

const input = (over: Partial<PlanInput>): PlanInput => ({ journals: lb5(d1(), d2()), target: D2, current: afterD2, services: running, packages: false, serviceFiles: SERVICE_FILES, ...over });

test('default target: the newest deploy not rolled back yet', () => {
  assert.equal(latestActive([lb5(d1(), d2())]), D2);
  const rolled = d2();
  rolled.rolledBack = { at: '2026-11-22T01:20:00.000Z', files: afterD1 };
  assert.equal(latestActive([lb5(d1(), rolled)]), D1);
  const both = d1();
  both.rolledBack = { at: '2026-11-22T01:30:00.000Z', files: [] };
  assert.equal(latestActive([lb5(both, rolled)]), undefined);
});

test('undo D2: the changed file comes back with its v1 bytes, the rest is unchanged, nginx reloads', () => {
  const p = planHostRollback(input({}));
  assert.deepEqual(p.undo, [D2]);
  assert.deepEqual(p.drift, []);
  assert.deepEqual(p.files.map((f) => [f.kind, f.path]), [['write', CONF]]);
  const w = p.files[0]!;
  assert.ok(w.kind === 'write');
  assert.equal(w.pre.content.toString(), V1.conf);
  assert.equal(w.pre.sha256, sha(V1.conf));
  assert.deepEqual(p.unchanged, [ETC, CFG, UNIT, DEFAULT_SITE]);
  assert.deepEqual(p.stopFirst, []);
  assert.equal(p.daemonReload, false);
  assert.deepEqual(p.services, [{ name: 'nginx', state: 'reloaded' }]);
  assert.equal(p.deployRemains, true);
});

test('undo D1 (and D2): what haup created goes (directories last), what it replaced comes back, services stop first', () => {
  const p = planHostRollback(input({ target: D1 }));
  assert.deepEqual(p.undo, [D2, D1]);
  assert.deepEqual(p.drift, []);
  assert.deepEqual(
    p.files.map((f) => [f.kind, f.path]),
    [
      ['remove', CONF],
      ['remove', CFG],
      ['remove', UNIT],
      ['symlink', DEFAULT_SITE],
      ['remove-dir', ETC],
    ],
  );
  assert.deepEqual(p.stopFirst, ['nginx', 'haupd.service']);
  assert.equal(p.daemonReload, true);
  // not-found before: nothing to enable; the units were enabled by the deploy -> disabled again
  assert.deepEqual(p.services, [
    { name: 'nginx', state: 'unchanged', enable: false },
    { name: 'haupd.service', state: 'unchanged', enable: false },
  ]);
  assert.deepEqual(p.packages, []);
  assert.equal(p.deployRemains, false);
});

test('--packages: the packages the undone deploys installed are purged; their services need no further step', () => {
  const p = planHostRollback(input({ target: D1, packages: true }));
  assert.deepEqual(p.packages, ['nginx', 'nodejs']);
  assert.deepEqual(p.services, [{ name: 'haupd.service', state: 'unchanged', enable: false }]);
});

test("--packages with the decided purge (apt's state): its list, what was kept and why, its notes", () => {
  const purge = { purge: ['libnode108', 'nginx', 'nginx-common', 'nodejs'], kept: [{ name: 'libuv1', why: 'still needed by another package' }], notes: [] };
  const p = planHostRollback(input({ target: D1, packages: true, purge }));
  assert.deepEqual([p.packages, p.packagesKept, p.packageNotes], [purge.purge, purge.kept, []]);
  // Without --packages the decision is ignored.
  assert.deepEqual(planHostRollback(input({ target: D1, packages: false, purge })).packages, []);
});

test('a managed file edited by hand since the deploy is drift (content and mode), with both states', () => {
  const edited = afterD2.map((s) => (s.path === CONF ? fileState(CONF, 'edited by hand\n') : s.path === CFG ? fileState(CFG, V1.cfg, 0o666) : s));
  const p = planHostRollback(input({ current: edited }));
  assert.deepEqual(p.drift.map((d) => [d.path, d.why]), [
    [CONF, `changed since haup wrote it (as deploy ${D2} left it)`],
    [CFG, `changed since haup wrote it (as deploy ${D2} left it)`],
  ]);
  const conf = p.drift[0]!;
  assert.ok(conf.expected?.state === 'file' && conf.actual.state === 'file');
  assert.equal(conf.expected.sha256, sha(V2.conf));
  assert.equal(conf.actual.sha256, sha('edited by hand\n'));
  // a file removed by hand is drift too
  const gone = planHostRollback(input({ current: afterD2.filter((s) => s.path !== CONF) }));
  assert.deepEqual(gone.drift.map((d) => [d.path, d.actual.state]), [[CONF, 'absent']]);
});

test('no after-image for the deploy (cut short): every journaled path is unknown -> drift', () => {
  const cut = d2();
  cut.after = null;
  const p = planHostRollback(input({ journals: lb5(d1(), cut) }));
  assert.equal(p.drift.length, 5);
  assert.deepEqual(p.drift.map((d) => [d.expected, d.why])[0], [null, `deploy ${D2} recorded no after-image`]);
});

test('after a rollback, its mark is the reference: undoing D1 next finds no drift', () => {
  const rolled = d2();
  rolled.rolledBack = { at: '2026-11-22T01:20:00.000Z', files: afterD1 };
  const h = lb5(d1(), rolled);
  assert.deepEqual(expectedState(h, CONF), { state: fileState(CONF, V1.conf), why: `as the rollback of ${D2} left it` });
  const p = planHostRollback(input({ journals: h, target: D1, current: afterD1 }));
  assert.deepEqual(p.undo, [D1]);
  assert.deepEqual(p.drift, []);
  assert.deepEqual(p.files.map((f) => f.kind), ['remove', 'remove', 'remove', 'symlink', 'remove-dir']);
});

test('services: a stopped service that ran before starts; haupd restarts when its unit or artifact came back', () => {
  const changedUnit = afterD2.map((s) => (s.path === UNIT ? fileState(UNIT, '[Service]\nX=1\n') : s));
  const d2x = d2();
  d2x.after!.files = changedUnit;
  const p = planHostRollback(input({ journals: lb5(d1(), d2x), current: changedUnit, services: { nginx: { enabled: 'enabled', active: 'failed' }, 'haupd.service': { enabled: 'enabled', active: 'active' } } }));
  assert.equal(p.daemonReload, true);
  assert.deepEqual(p.services, [
    { name: 'nginx', state: 'started' },
    { name: 'haupd.service', state: 'restarted' },
  ]);
});

test('--list: per deploy the hosts, managed and created file counts, packages, rollback state', () => {
  const rolled = d2();
  rolled.rolledBack = { at: '2026-11-22T01:20:00.000Z', files: afterD1 };
  assert.deepEqual(listDeploys([lb5(d1(), rolled), { host: 'web7', deploys: [] }]), [
    { id: D1, createdAt: '2026-11-22T01:00:00.000Z', hosts: [{ host: 'lb5', files: 5, created: 4, packages: ['nginx', 'nodejs'], rolledBackAt: null }] },
    { id: D2, createdAt: '2026-11-22T01:10:00.000Z', hosts: [{ host: 'lb5', files: 5, created: 1, packages: [], rolledBackAt: '2026-11-22T01:20:00.000Z' }] },
  ]);
});

test('drift is described without any hash: content, mode, owner, type', () => {
  const exp = fileState(CONF, 'a');
  assert.equal(describeDrift(exp, fileState(CONF, 'b')), 'content');
  assert.equal(describeDrift(exp, { path: CONF, state: 'file', sha256: sha('b'), mode: 0o666, owner: 'www-data', group: 'root' }), 'content, mode 0644 -> 0666, owner root:root -> www-data:root');
  assert.equal(describeDrift(exp, { path: CONF, state: 'absent' }), 'file 0644 root:root -> absent');
  assert.equal(describeDrift(null, fileState(CONF, 'b')), 'now file 0644 root:root');
});
