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
