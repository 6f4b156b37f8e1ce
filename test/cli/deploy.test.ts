// `haup deploy` input errors: exit 2, and no host is ever contacted (the command stops before
// connecting; a connection attempt would take the inventory's connect timeout and end in exit 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseForks, registerDeploy } from '../../src/cli/deploy.ts';
import { exitCodeOf, formatError, InputError } from '../../src/util/errors.ts';

async function run(args: string[]): Promise<{ code: number; message: string }> {
  const program = new Command('haup').option('-v, --verbose').exitOverride();
  registerDeploy(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: typeof process.exitCode === 'number' ? process.exitCode : 0, message: '' };
  } catch (e) {
    return { code: exitCodeOf(e), message: formatError(e) };
  } finally {
    process.exitCode = undefined;
  }
}

test('parseForks: 1..100, default 10', () => {
  assert.equal(parseForks(undefined), 10);
  assert.equal(parseForks('4'), 4);
  for (const bad of ['0', '-1', '1.5', 'x', '101']) assert.throws(() => parseForks(bad), InputError);
});

test('deploy: an invalid inventory is exit 2 with located diagnostics, and nothing is contacted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-deploytest-'));
  try {
    const file = join(dir, 'inv.yml');
    writeFileSync(file, 'web:\n  hosts:\n    web7: { adress: 198.18.0.7 }\n');
    const t0 = Date.now();
    const r = await run(['deploy', file]);
    assert.equal(r.code, 2);
    assert.match(r.message, /inv\.yml:3:\d+: /);
    assert.ok(Date.now() - t0 < 3000, 'no connection attempt (the lab.yml connect timeout is 5 s)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy: a missing inventory file, an unknown --limit host, a bad --forks: exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-deploytest-'));
  try {
    assert.equal((await run(['deploy', join(dir, 'nope.yml')])).code, 2);
    // A valid inventory whose secret is readable: the test writes its own copy.
    const pass = join(dir, 'pass');
    writeFileSync(pass, 'abc\n', { mode: 0o600 });
    const file = join(dir, 'inv.yml');
    writeFileSync(
      file,
      [
        `ssh: { user: root, private_key: ${join(dir, 'key')}, known_hosts: ${join(dir, 'kh')} }`,
        'web: { hosts: { web7: { address: 198.18.0.7 } } }',
        'lb: { hosts: { lb5: { address: 198.18.0.5 }, lb6: { address: 198.18.0.6 } } }',
        'vrrp:',
        '  instances:',
        `    - { name: VI_1, vrid: 50, interface: eth0, vips: [198.18.0.3/24], priorities: { lb5: 150, lb6: 100 }, auth: { type: PASS, pass: { file: ${pass} } } }`,
        '',
      ].join('\n'),
    );
    const limit = await run(['deploy', file, '--limit', 'web9']);
    assert.equal(limit.code, 2);
    assert.match(limit.message, /--limit: unknown host or group: web9/);
    const forks = await run(['deploy', file, '--forks', 'many']);
    assert.equal(forks.code, 2);
    assert.match(forks.message, /--forks: expected a whole number 1\.\.100, got "many"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
