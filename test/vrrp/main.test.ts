import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/vrrp/config.ts';
import { parseConfigLoad, serializeConfigLoad } from '../../src/vrrp/config-child.ts';
import { plainDaemonRun } from '../../src/vrrp/main.ts';

test('plain daemon runs are recognised without loading the CLI; everything else goes to the full parser', () => {
  assert.equal(plainDaemonRun([]), '/etc/haup/haupd.yml');
  assert.equal(plainDaemonRun(['--config', '/etc/x.yml']), '/etc/x.yml');
  assert.equal(plainDaemonRun(['-c', '/etc/x.yml']), '/etc/x.yml');
  assert.equal(plainDaemonRun(['--config=/etc/x.yml']), '/etc/x.yml');
  for (const argv of [['--check-config', 'f'], ['--release'], ['--release', '--config', 'f'], ['status'], ['--config', '--release'], ['--config='], ['--version'], ['-c', 'f', '-v']]) {
    assert.equal(plainDaemonRun(argv), undefined, argv.join(' '));
  }
});

test('the config child round trip keeps the PASS secret bytes and every field', async () => {
  const text = `
instances:
  - { name: VI_1, interface: eth0, vrid: 50, version: 2, priority: 150, vips: [198.18.10.3/24], auth: { type: PASS, secret_file: /p } }
  - { name: VI_2, interface: eth0, vrid: 51, priority: 100, vips: [198.18.10.4/24] }
`;
  const load = await loadConfig(text, 'f.yml', { read: async () => ({ mode: 0o600, text: 'pw12345\n' }) });
  assert.ok(load.config);
  const wire = serializeConfigLoad(load);
  assert.doesNotMatch(wire, /pw12345/, 'the secret crosses the pipe as hex, not as text');
  const back = parseConfigLoad(wire);
  assert.deepEqual(back, load);
  assert.ok(Buffer.isBuffer(back.config!.instances[0]!.auth!.data));
  const bad = await loadConfig('instances: []\n', 'f.yml');
  assert.deepEqual(parseConfigLoad(serializeConfigLoad(bad)), bad);
});

test('bin/haupd from the checkout: --check-config exits 0 / 2 with located diagnostics; status without a daemon exits 1', async () => {
  const { execFile } = await import('node:child_process');
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const bin = path.resolve(import.meta.dirname, '../../bin/haupd');
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, ...args], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr })),
    );
  const dir = await mkdtemp(path.join(tmpdir(), 'haupd-main-'));
  try {
    const good = path.join(dir, 'good.yml');
    await writeFile(good, 'instances:\n  - { name: VI_1, interface: eth0, vrid: 50, priority: 150, vips: [198.18.10.3/24] }\n');
    const ok = await run(['--check-config', good]);
    assert.deepEqual([ok.code, ok.stdout.trim()], [0, `${good}: OK, 1 instance: VI_1 (eth0 vrid 50 v3)`]);
    const bad = path.join(dir, 'bad.yml');
    await writeFile(bad, 'instances:\n  - { name: VI_1, interface: eth0, vrid: 50, version: 2, advert_int: 0.5, priority: 150, vips: [198.18.10.3/24] }\n');
    const no = await run(['--check-config', bad]);
    assert.equal(no.code, 2);
    assert.equal(no.stderr, `${bad}:2:70: instances[0].advert_int: VRRPv2 adverts are whole seconds (1..255), got 0.5; use version: 3 for sub-second intervals\n${bad}: invalid (1 error)\n`);
    const status = await run(['status', '--socket', path.join(dir, 'none.sock')]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /cannot read haupd status from .*none\.sock.*is haupd running\?/);
    const usage = await run(['--bogus']);
    assert.equal(usage.code, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
