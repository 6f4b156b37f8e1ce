// Journal retention: which deploys' journals go (pure), and the engine pruning both copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connectors/local.ts';
import { runDeploy } from '../../src/engine/runner.ts';
import { DEFAULT_KEEP_JOURNALS, journalListingScript, journalsToPrune, parseJournalListing } from '../../src/engine/retention.ts';
import { DEFAULTS } from '../../src/inventory/defaults.ts';
import type { HostSpec } from '../../src/engine/types.ts';

const id = (n: number) => `20261122T0300${String(n).padStart(2, '0')}000Z-00${String(n).padStart(2, '0')}`;
const live = (...ns: number[]) => ns.map((n) => ({ id: id(n), rolledBack: false }));

test('journalsToPrune: the newest N stay, older ones go; the current deploy always stays', () => {
  assert.deepEqual(journalsToPrune(live(1, 2, 3, 4, 5), 3, id(5)), [id(1), id(2)]);
  assert.deepEqual(journalsToPrune(live(5, 3, 1, 4, 2), 3, id(5)), [id(1), id(2)], 'order of the listing does not matter');
  assert.deepEqual(journalsToPrune(live(1, 2, 3), 3, id(3)), []);
  assert.deepEqual(journalsToPrune(live(1, 2, 3), 1, id(3)), [id(1), id(2)]);
  assert.deepEqual(journalsToPrune(live(1, 2, 3), 0, id(3)), [id(1), id(2)], 'keep is at least 1');
  // a concurrent, newer deploy's journal appeared: ours is kept too
  assert.deepEqual(journalsToPrune(live(1, 2, 3), 1, id(2)), [id(1)]);
});

test('journalsToPrune: the deploy a rollback would undo next, and every later (rolled back) one, are never pruned', () => {
  // 1..3 live, 4 and 5 rolled back: the state now is "after 3"; `haup rollback` undoes 3 next
  const entries = [...live(1, 2, 3), { id: id(4), rolledBack: true }, { id: id(5), rolledBack: true }];
  assert.deepEqual(journalsToPrune(entries, 1, id(5)), [id(1), id(2)]);
  // everything rolled back: nothing a rollback needs; the newest N rule alone
  const all = [1, 2, 3].map((n) => ({ id: id(n), rolledBack: true }));
  assert.deepEqual(journalsToPrune(all, 2, id(3)), [id(1)]);
});

test('journalsToPrune: directories that are not haup deploy ids are never touched', () => {
  assert.deepEqual(journalsToPrune([...live(1, 2), { id: 'lost+found', rolledBack: false }, { id: 'notes', rolledBack: false }], 1, id(2)), [id(1)]);
});

test('the listing script and its parser: one line per directory, r for a rollback mark', async () => {
  const d = mkdtempSync(join(tmpdir(), 'haup-retention-'));
  try {
    for (const n of [1, 2]) mkdirSync(join(d, id(n)));
    writeFileSync(join(d, id(2), 'rollback.json'), '{}');
    writeFileSync(join(d, 'a-file'), 'not a directory');
    const r = await new LocalConnection('x').exec(journalListingScript(d));
    assert.equal(r.code, 0);
    assert.deepEqual(parseJournalListing(r.stdout.toString()).sort((a, b) => a.id.localeCompare(b.id)), [
      { id: id(1), rolledBack: false },
      { id: id(2), rolledBack: true },
    ]);
    const empty = await new LocalConnection('x').exec(journalListingScript(join(d, 'missing')));
    assert.equal(empty.code, 0);
    assert.deepEqual(parseJournalListing(empty.stdout.toString()), []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the default keep count is the same in the engine and the inventory (20)', () => {
  assert.equal(DEFAULT_KEEP_JOURNALS, 20);
  assert.equal(DEFAULTS.deploy.keepJournals, DEFAULT_KEEP_JOURNALS);
});

test('deploys prune old journals on the host and on this machine; other hosts\' copies and foreign directories stay', async () => {
  const d = mkdtempSync(join(tmpdir(), 'haup-retention-'));
  try {
    const journalDir = join(d, 'journal');
    const remoteJournalRoot = join(d, 'remote');
    mkdirSync(join(remoteJournalRoot, 'keep-me'), { recursive: true });
    // another host's copy in a deploy directory that web7's retention prunes
    const spec = (content: string): HostSpec => ({
      name: 'web7',
      groups: ['web'],
      phase: 'main',
      keepJournals: 2,
      tasks: [{ name: 'page', op: { op: 'file', path: join(d, 'page'), content } }],
      connect: async () => new LocalConnection('web7'),
    });
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = await runDeploy({ hosts: [spec(`v${i}\n`)], phases: [{ name: 'main' }], output: 'silent', journalDir, remoteJournalRoot });
      assert.equal(r.ok, true);
      assert.equal(r.hosts[0]!.warnings, undefined);
      ids.push(r.deployId);
      if (i === 1) writeFileSync(join(journalDir, r.deployId, 'lb5.json'), '{}');
    }
    // a no-op deploy writes no journal and prunes nothing
    const noop = await runDeploy({ hosts: [spec('v4\n')], phases: [{ name: 'main' }], output: 'silent', journalDir, remoteJournalRoot });
    assert.equal(noop.hosts[0]!.journal, undefined);
    assert.deepEqual(readdirSync(remoteJournalRoot).sort(), [ids[2]!, ids[3]!, 'keep-me'].sort());
    assert.deepEqual(readdirSync(join(remoteJournalRoot, ids[3]!)).sort(), ['after.json', 'journal.json']);
    assert.deepEqual(readdirSync(journalDir).sort(), [ids[0]!, ids[2]!, ids[3]!].sort(), 'the first deploy dir stays: lb5 still has its copy there');
    assert.deepEqual(readdirSync(join(journalDir, ids[0]!)), ['lb5.json']);
    assert.ok(!existsSync(join(journalDir, ids[1]!)));
    assert.deepEqual(readdirSync(join(journalDir, ids[3]!)).sort(), ['web7.after.json', 'web7.json']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
