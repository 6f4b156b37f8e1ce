// Which copy of a deploy journal rollback trusts (the host's or the control machine's), pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeAfter } from '../../src/engine/after.ts';
import { serializeJournal } from '../../src/engine/journal.ts';
import { describeProblems, noCopies, resolveHostJournals, sha256, type CopyTexts, type DeployCopies } from '../../src/rollback/sources.ts';
import { D1, D2, afterD1, d1, d2 } from './fixture.ts';

const places = { remoteRoot: '/var/lib/haup/journal', controlDir: '/root/.local/state/haup/journal' };
const j1 = serializeJournal(d1().record);
const a1 = serializeAfter(d1().after!);
const j2 = serializeJournal(d2().record);
const a2 = serializeAfter(d2().after!);
const copies = (id: string, host: Partial<CopyTexts>, control: Partial<CopyTexts>): DeployCopies => ({ id, host: { ...noCopies(), ...host }, control: { ...noCopies(), ...control } });
const resolveFull = (...c: DeployCopies[]) => resolveHostJournals('lb5', c, places);
/** The notes as their sentences (each also carries host and deploy id). */
const resolve = (...c: DeployCopies[]) => {
  const r = resolveFull(...c);
  for (const n of r.notes) assert.ok(n.host === 'lb5' && n.text.startsWith(`lb5: deploy ${n.deployId}: `), n.text);
  return { ...r, notes: r.notes.map((n) => n.text) };
};

test('both copies, the same bytes: the host\'s is used, nothing to say', () => {
  const r = resolve(copies(D2, { journal: j2, after: a2 }, { journal: j2, after: a2 }), copies(D1, { journal: j1, after: a1 }, { journal: j1, after: a1 }));
  assert.deepEqual(r.notes, []);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.journals.deploys.map((d) => d.record.deployId), [D1, D2]);
  assert.deepEqual(r.journals.deploys[0], d1());
});

test('the host\'s journal is missing: this machine\'s copy is used and the note names both paths', () => {
  const r = resolve(copies(D1, { after: a1 }, { journal: j1, after: a1 }));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.journals.deploys, [d1()]);
  assert.deepEqual(r.notes, [`lb5: deploy ${D1}: the host has no journal (/var/lib/haup/journal/${D1}/journal.json): using this machine's copy /root/.local/state/haup/journal/${D1}/lb5.json`]);
  // The whole directory gone: one sentence for all the files taken from here.
  const gone = resolve(copies(D1, {}, { journal: j1, after: a1 }));
  assert.deepEqual(gone.journals.deploys, [d1()]);
  assert.deepEqual(gone.notes, [`lb5: deploy ${D1}: the host has no journal directory (/var/lib/haup/journal/${D1}/): using this machine's copies in /root/.local/state/haup/journal/${D1}/ (lb5.json, lb5.after.json)`]);
});

test('the host\'s journal differs from this machine\'s (integrity check by sha256): this machine\'s copy wins, both hashes said', () => {
  const tampered = j1.replace('"nodejs"', '"nodejs", "openssh-server"');
  const r = resolve(copies(D1, { journal: tampered, after: a1 }, { journal: j1, after: a1 }));
  assert.deepEqual(r.journals.deploys[0]!.record.packagesInstalled, ['nginx', 'nodejs']);
  assert.deepEqual(r.notes, [
    `lb5: deploy ${D1}: the host's journal /var/lib/haup/journal/${D1}/journal.json does not match this machine's copy (sha256 ${sha256(tampered).slice(0, 12)} on the host, ${sha256(j1).slice(0, 12)} here): using this machine's copy /root/.local/state/haup/journal/${D1}/lb5.json`,
  ]);
});

test('a damaged host journal and no copy here: a problem naming the host, the deploy and both places', () => {
  const r = resolve(copies(D1, { journal: '{"format": "haup-jour', after: a1 }, {}));
  assert.deepEqual(r.journals.deploys, []);
  assert.equal(r.problems.length, 1);
  assert.deepEqual([r.problems[0]!.host, r.problems[0]!.deployId], ['lb5', D1]);
  assert.match(r.problems[0]!.message, new RegExp(`^the host's journal /var/lib/haup/journal/${D1}/journal\\.json is unreadable \\(.+\\) and this machine has no copy \\(/root/\\.local/state/haup/journal/${D1}/lb5\\.json\\)$`));
});

test('no journal anywhere although the deploy left an after-image: a problem; an empty deploy directory is no trace', () => {
  const r = resolve(copies(D1, {}, {}), copies(D2, {}, { after: a2 }));
  assert.deepEqual(r.journals.deploys, []);
  assert.deepEqual(r.problems, [
    { host: 'lb5', deployId: D2, message: `the host has no journal (/var/lib/haup/journal/${D2}/journal.json) and this machine has none either (/root/.local/state/haup/journal/${D2}/lb5.json), although the deploy left an after-image` },
  ]);
  const d = describeProblems(r.problems, places.controlDir);
  assert.equal(d.message, `cannot plan the rollback: one host has no usable journal (nothing was changed on any host):\n  lb5: deploy ${D2}: no usable journal: ${r.problems[0]!.message}`);
  assert.match(d.hint, /--journal-dir/);
});

test('a copy that belongs to another host or deploy is not used; the readable one is, with a note', () => {
  const other = serializeJournal({ ...d1().record, host: 'lb6' });
  const r = resolve(copies(D1, { journal: j1, after: a1 }, { journal: other, after: a1 }));
  assert.deepEqual(r.journals.deploys, [d1()]);
  assert.deepEqual(r.notes, [`lb5: deploy ${D1}: this machine's copy of the journal /root/.local/state/haup/journal/${D1}/lb5.json is it belongs to deploy ${D1} of lb6: using the host's /var/lib/haup/journal/${D1}/journal.json`]);
});

test('rollback marks: a mark in either place means rolled back; a rolled-back deploy without journal is no problem', () => {
  const mark = serializeAfter({ deployId: D2, host: 'lb5', capturedAt: '2026-11-22T01:20:00.000Z', files: afterD1 });
  const r = resolve(copies(D1, { journal: j1, after: a1 }, { journal: j1, after: a1 }), copies(D2, { journal: j2, after: a2 }, { journal: j2, after: a2, rollback: mark }));
  assert.deepEqual(r.journals.deploys[1]!.rolledBack, { at: '2026-11-22T01:20:00.000Z', files: afterD1 });
  assert.equal(r.journals.deploys[0]!.rolledBack, null);
  const gone = resolve(copies(D2, { rollback: mark }, {}));
  assert.deepEqual([gone.journals.deploys, gone.problems], [[], []]);
  assert.deepEqual(gone.notes, [`lb5: deploy ${D2}: no usable journal, but it was rolled back already (2026-11-22T01:20:00.000Z)`]);
});
