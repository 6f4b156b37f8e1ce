import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/main.ts';

const names = async (argv: string[]) => (await buildProgram(argv)).commands.map((c) => c.name());
const ALL = ['inventory', 'lab', 'deploy', 'verify', 'rollback', 'status'];

test('a named command loads only its own module', async () => {
  assert.deepEqual(await names(['deploy', 'inv.yml', '--check']), ['deploy']);
  assert.deepEqual(await names(['-v', 'status', 'inv.yml']), ['status']);
  const lab = (await buildProgram(['lab', 'demo'])).commands;
  assert.deepEqual(lab.map((c) => c.name()), ['lab']);
  assert.ok(lab[0]!.commands.some((c) => c.name() === 'demo'), 'the demo hangs under lab');
});

test('help, typos and no command load every command; --version loads none', async () => {
  assert.deepEqual(await names([]), ALL);
  assert.deepEqual(await names(['--help']), ALL);
  assert.deepEqual(await names(['help', 'deploy']), ALL);
  assert.deepEqual(await names(['dploy']), ALL);
  assert.deepEqual(await names(['--version']), []);
  assert.deepEqual(await names(['-V']), []);
});
