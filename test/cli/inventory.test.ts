// End to end through bin/haup: exit codes, what goes to stdout/stderr, and that no secret leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const haup = join(root, 'bin', 'haup');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.HAUP_VRRP_PASS;
  return new Promise((resolve) => {
    execFile(haup, args, { cwd: root, env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const EXAMPLE_SUMMARY = [
  'inventories/example.yml: ok (4 hosts, 1 VRRP instance, 1 warning)',
  'web    web7 10.0.0.7',
  '       web8 10.0.0.8',
  'lb     lb5  10.0.0.5',
  '       lb6  10.0.0.6',
  'probe  (none)',
  'instance VI_1',
  '  vips     10.0.0.3/24',
  '  vrid     50 on eth0',
  '  vrrp     v2, advert every 1 s, auth PASS from env HAUP_VRRP_PASS, not available here',
  '  mode     preempt, multicast 224.0.0.18',
  '  master   lb5 (priority 150)',
  '  backups  lb6 (priority 100)',
  '  tracks   check_nginx (builtin:nginx, every 2 s, weight -60)',
  'partition guard: gateway 10.0.0.1, every 1 s, fault after 3 misses',
  '',
].join('\n');

test('example inventory: exit 0 without HAUP_VRRP_PASS, summary on stdout, warning on stderr', async () => {
  const r = await run(['inventory', 'check', 'inventories/example.yml']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, EXAMPLE_SUMMARY);
  assert.equal(
    r.stderr,
    'inventories/example.yml:32:33: warning: vrrp.instances[0].auth.pass: environment variable HAUP_VRRP_PASS is not set (not needed to check the inventory; required at deploy)\n',
  );
});

test('the secret is never printed, not even with -v', async () => {
  const r = await run(['-v', 'inventory', 'check', 'inventories/example.yml'], { HAUP_VRRP_PASS: 'Zq7xK9p' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /auth PASS from env HAUP_VRRP_PASS\n/);
  assert.match(r.stdout, /\nhaupd: status \/run\/haupd\/status\.sock, metrics 127\.0\.0\.1:9650\n$/);
  assert.equal((r.stdout + r.stderr).includes('Zq7xK9p'), false);
});

test('--require-secrets: an unset secret fails with exit 2, located', async () => {
  const r = await run(['inventory', 'check', '--require-secrets', 'inventories/example.yml']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    'inventories/example.yml:32:33: vrrp.instances[0].auth.pass: environment variable HAUP_VRRP_PASS is not set\n' +
      'inventory inventories/example.yml is invalid (1 error)\n',
  );
});

test('a PASS longer than 8 characters fails, without printing it', async () => {
  const r = await run(['-v', 'inventory', 'check', 'inventories/example.yml'], { HAUP_VRRP_PASS: 'toolong-secret' });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    'inventories/example.yml:32:33: vrrp.instances[0].auth.pass: the PASS from env HAUP_VRRP_PASS is 14 bytes; VRRP v2 carries at most 8 (the rest would be cut off on the wire)\n' +
      'inventory inventories/example.yml is invalid (1 error)\n',
  );
});

test('lab inventory checks before the lab exists', async () => {
  const r = await run(['inventory', 'check', 'inventories/lab.yml']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^inventories\/lab\.yml: ok \(5 hosts, 1 VRRP instance, \d warnings?\)\n/);
  assert.match(r.stdout, /\nprobe {2}client 198\.18\.0\.9\n/);
  assert.match(r.stdout, /\n {2}vips {5}198\.18\.0\.3\/24\n {2}vrid {5}50 on eth0\n/);
});

test('a malformed inventory: every problem, exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haup-cli-inventory-test-'));
  try {
    const file = join(dir, 'bad.yml');
    const example = await readFile(join(root, 'inventories', 'example.yml'), 'utf8');
    await writeFile(file, example.replace('vrid: 50', 'vrid: 300').replace('advert_int: 1', 'advert_int: 0.5').replace('interface: eth0', 'intreface: eth0'));
    const r = await run(['inventory', 'check', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        `${file}:23:7: vrrp.instances[0].interface: required key is missing`,
        `${file}:24:13: vrrp.instances[0].vrid: VRID must be 1..255, got the number 300`,
        `${file}:25:7: vrrp.instances[0].intreface: unknown key (did you mean interface?)`,
        `inventory ${file} is invalid (3 errors)`,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing file is an input error (exit 2)', async () => {
  const r = await run(['inventory', 'check', 'inventories/nope.yml']);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'error: cannot read inventory inventories/nope.yml: no such file\n' });
});

test('--help, inventory check --help, --version', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /\n {2}inventory +inspect and validate inventory files\n/);
  const sub = await run(['inventory', 'check', '--help']);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /^Usage: haup inventory check \[options\] <file>\n/);
  assert.match(sub.stdout, /--require-secrets/);
  assert.match(sub.stdout, /Exit codes: 0 valid, 2 invalid/);
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  const version = await run(['--version']);
  assert.deepEqual(version, { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
});

test('usage errors exit 2', async () => {
  const r = await run(['inventory', 'check']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: missing required argument 'file'\n/);
});

test('inventory checking opens no network connection: no network module is imported', async () => {
  const files = [join(root, 'src/cli/inventory.ts')];
  for (const dir of ['src/inventory', 'src/config']) {
    for (const f of await readdir(join(root, dir))) if (f.endsWith('.ts')) files.push(join(root, dir, f));
  }
  const forbidden = /from '(node:(net|http|https|dgram|tls|dns)|node-ssh|ssh2|[^']*connectors[^']*)'/;
  for (const f of files) assert.doesNotMatch(await readFile(f, 'utf8'), forbidden, f);
});
