// The rollback's host side, run for real on this machine through the local connector: journals
// read from a journal root in a temp dir, and a plan applied to files in that temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connectors/local.ts';
import { capturePathStates, serializeAfter } from '../../src/engine/after.ts';
import { serializeJournal, type JournalRecord } from '../../src/engine/journal.ts';
import { planHostRollback } from '../../src/rollback/plan.ts';
import { applyHostRollback, readJournals } from '../../src/rollback/remote.ts';
import { filePre, sha } from './fixture.ts';

const conn = new LocalConnection('lb5');

function setup() {
  const d = mkdtempSync(join(tmpdir(), 'haup-rbtest-'));
  const root = join(d, 'journal');
  const etc = join(d, 'etc');
  mkdirSync(etc);
  return { d, root, etc, cleanup: () => rmSync(d, { recursive: true, force: true }) };
}

function writeDeploy(root: string, rec: JournalRecord, after?: string) {
  const dir = join(root, rec.deployId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'journal.json'), serializeJournal(rec));
  if (after) writeFileSync(join(dir, 'after.json'), after);
}

test('journals, after-images and rollback marks are read from the journal root, sorted by id; a missing root is no journal', async () => {
  const t = setup();
  try {
    assert.deepEqual(await readJournals(conn, t.root), { host: 'lb5', deploys: [] });
    const conf = join(t.etc, 'site.conf');
    const rec = (id: string): JournalRecord => ({ deployId: id, host: 'lb5', createdAt: '2026-11-22T01:00:00.000Z', files: [filePre(conf, 'v1\n', 0o640)], services: [{ name: 'nginx', enabled: 'enabled', active: 'active' }], packagesInstalled: ['nginx'] });
    writeDeploy(t.root, rec('20261122T020000000Z-0002'));
    writeDeploy(t.root, rec('20261122T010000000Z-0001'), serializeAfter({ deployId: '20261122T010000000Z-0001', host: 'lb5', capturedAt: '2026-11-22T01:00:05.000Z', files: [{ path: conf, state: 'absent' }] }));
    mkdirSync(join(t.root, 'stray-dir-without-journal'));
    const j = await readJournals(conn, t.root);
    assert.deepEqual(j.deploys.map((d) => d.record.deployId), ['20261122T010000000Z-0001', '20261122T020000000Z-0002']);
    const first = j.deploys[0]!;
    assert.equal(first.after?.files[0]?.state, 'absent');
    assert.equal(j.deploys[1]!.after, null);
    const pre = first.record.files[0]!;
    assert.ok(pre.state === 'file');
    assert.deepEqual([pre.content.toString(), pre.mode, pre.sha256], ['v1\n', 0o640, sha('v1\n')]);
  } finally {
    t.cleanup();
  }
});

test('apply: bytes, mode and owner restored; created files and directories removed; a symlink put back; the deploy marked rolled back', async () => {
  const t = setup();
  try {
    const conf = join(t.etc, 'site.conf');
    const created = join(t.etc, 'haup');
    const createdFile = join(created, 'haupd.yml');
    const link = join(t.etc, 'default');
    const id = '20261122T010000000Z-0001';
    // Before the deploy: conf v1 (0640), no haup dir, the default symlink.
    const record: JournalRecord = {
      deployId: id,
      host: 'lb5',
      createdAt: '2026-11-22T01:00:00.000Z',
      files: [filePre(conf, 'v1\n', 0o640), { path: created, state: 'absent' }, { path: createdFile, state: 'absent' }, { path: link, state: 'symlink', target: '/srv/default' }],
      services: [],
      packagesInstalled: [],
    };
    // What the deploy did: conf v2 (0644), created dir + file, removed the symlink.
    writeFileSync(conf, 'v2\n', { mode: 0o644 });
    mkdirSync(created);
    writeFileSync(createdFile, 'cfg\n');
    const after = await capturePathStates(conn, record.files.map((f) => f.path));
    writeDeploy(t.root, record, serializeAfter({ deployId: id, host: 'lb5', capturedAt: '2026-11-22T01:00:05.000Z', files: after }));

    const journals = await readJournals(conn, t.root);
    const plan = planHostRollback({ journals, target: id, current: await capturePathStates(conn, record.files.map((f) => f.path)), services: {}, packages: false, serviceFiles: [] });
    assert.deepEqual(plan.drift, []);
    const out = await applyHostRollback(conn, plan, '20261122T030000000Z-0009', t.root);
    assert.equal(out.ok, true, out.error);
    assert.equal(readFileSync(conf, 'utf8'), 'v1\n');
    assert.equal(statSync(conf).mode & 0o777, 0o640);
    assert.equal(statSync(conf).uid, 0);
    assert.equal(existsSync(createdFile), false);
    assert.equal(existsSync(created), false);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), '/srv/default');

    const again = await readJournals(conn, t.root);
    assert.ok(again.deploys[0]!.rolledBack);
    assert.equal(again.deploys[0]!.rolledBack!.files.find((f) => f.path === conf)?.state, 'file');
    // A second rollback of the same deploy has nothing left to undo.
    const second = planHostRollback({ journals: again, target: id, current: [], services: {}, packages: false, serviceFiles: [] });
    assert.deepEqual(second.undo, []);
  } finally {
    t.cleanup();
  }
});

test('apply: a directory haup created that now holds foreign files is left (rmdir), and the report says so', async () => {
  const t = setup();
  try {
    const created = join(t.etc, 'haup');
    const id = '20261122T010000000Z-0001';
    mkdirSync(created);
    writeFileSync(join(created, 'not-ours'), 'x');
    const record: JournalRecord = { deployId: id, host: 'lb5', createdAt: '2026-11-22T01:00:00.000Z', files: [{ path: created, state: 'absent' }], services: [], packagesInstalled: [] };
    writeDeploy(t.root, record, serializeAfter({ deployId: id, host: 'lb5', capturedAt: 'x', files: await capturePathStates(conn, [created]) }));
    const plan = planHostRollback({ journals: await readJournals(conn, t.root), target: id, current: await capturePathStates(conn, [created]), services: {}, packages: false, serviceFiles: [] });
    const out = await applyHostRollback(conn, plan, 'r', t.root);
    assert.equal(out.ok, true);
    assert.deepEqual(out.done, [`left ${created}: not empty (files haup does not manage)`]);
    assert.ok(existsSync(join(created, 'not-ours')));
  } finally {
    t.cleanup();
  }
});

test('after-images: type, sha256, mode, owner of files; directories; symlinks; absent paths', async () => {
  const t = setup();
  try {
    const f = join(t.etc, 'a b|c.conf');
    writeFileSync(f, 'hello\n', { mode: 0o600 });
    symlinkSync('/nowhere', join(t.etc, 'l'));
    const s = await capturePathStates(conn, [f, t.etc, join(t.etc, 'l'), join(t.etc, 'missing')]);
    assert.deepEqual(s, [
      { path: f, state: 'file', sha256: sha('hello\n'), mode: 0o600, owner: 'root', group: 'root' },
      { path: t.etc, state: 'directory', mode: statSync(t.etc).mode & 0o777, owner: 'root', group: 'root' },
      { path: join(t.etc, 'l'), state: 'symlink', target: '/nowhere' },
      { path: join(t.etc, 'missing'), state: 'absent' },
    ]);
  } finally {
    t.cleanup();
  }
});
