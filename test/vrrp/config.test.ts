import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/util/errors.ts';
import { loadConfig, type SecretReader } from '../../src/vrrp/config.ts';

const secrets = (files: Record<string, { mode: number; text: string }>): SecretReader => ({
  async read(path) {
    const f = files[path];
    if (!f) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return f;
  },
});
const okSecret = secrets({ '/etc/haup/pass': { mode: 0o600, text: 's3cret\n' } });

const minimal = `
instances:
  - name: VI_1
    interface: eth0
    vrid: 50
    priority: 150
    vips: [198.18.10.3/24]
`;

async function errorsOf(text: string, reader: SecretReader = okSecret): Promise<string[]> {
  const r = await loadConfig(text, 'haupd.yml', reader);
  return r.diagnostics.map(formatDiagnostic);
}

test('a minimal config gets keepalived-like defaults', async () => {
  const r = await loadConfig(minimal, 'haupd.yml', okSecret);
  assert.deepEqual(r.diagnostics, []);
  const c = r.config!;
  assert.equal(c.statusSocket, '/run/haupd/status.sock');
  assert.deepEqual(c.metrics, { host: '127.0.0.1', port: 9650 });
  assert.equal(c.handoverTimeoutMs, 3000);
  const i = c.instances[0]!;
  assert.equal(i.version, 3);
  assert.equal(i.advertIntervalCs, 100);
  assert.deepEqual(i.vips, [{ address: '198.18.10.3', prefix: 24 }]);
  assert.equal(i.preempt, true);
  assert.equal(i.v3Checksum, 'pseudo');
  assert.deepEqual(i.garp, { count: 5, repeatCount: 5, repeatDelayMs: 5000 });
  assert.equal(i.auth, null);
  assert.match(i.fingerprint, /^[0-9a-f]{64}$/);
});

test('full config: v2 PASS secret read from its file and zero padded to 8 bytes; JSON works too', async () => {
  const json = JSON.stringify({
    metrics_listen: '127.0.0.1:9651',
    status_socket: '/run/x.sock',
    partition_guard: { gateway: '198.18.10.254', fall: 2 },
    instances: [
      {
        name: 'VI_1', interface: 'eth0', vrid: 50, version: 2, priority: 150, advert_int: 1,
        vips: ['198.18.10.3/24'], auth: { type: 'PASS', secret_file: '/etc/haup/pass' },
        peers: { '198.18.10.2': 100 }, preempt_delay: 1.5,
        track_scripts: [{ name: 'nginx', script: 'builtin:nginx', interval: 1, timeout: 1, fall: 2, rise: 2, weight: -60 }],
        track_interfaces: [{ name: 'eth1' }], notify_master: ['/usr/local/bin/up'],
      },
      { name: 'VI_2', interface: 'eth0', vrid: 51, priority: 100, vips: ['198.18.10.4/24'] },
    ],
    sync_groups: [{ name: 'G', instances: ['VI_1', 'VI_2'] }],
  });
  const r = await loadConfig(json, 'haupd.json', okSecret);
  assert.deepEqual(r.diagnostics, []);
  const c = r.config!;
  assert.deepEqual(c.metrics, { host: '127.0.0.1', port: 9651 });
  assert.deepEqual(c.partitionGuard, { gateway: '198.18.10.254', interface: null, intervalMs: 1000, timeoutMs: 1000, fall: 2, rise: 2 });
  const i = c.instances[0]!;
  assert.deepEqual(i.auth?.data, Buffer.from('s3cret\0\0'));
  assert.equal(i.preemptDelayMs, 1500);
  assert.deepEqual(i.trackScripts[0], { name: 'nginx', script: 'builtin:nginx', intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 2, weight: -60 });
  assert.deepEqual(i.trackInterfaces, [{ name: 'eth1', weight: 0 }]);
  assert.deepEqual(i.notify.master, ['/usr/local/bin/up']);
  assert.equal(i.syncGroup, 'G');
  assert.equal(c.instances[1]!.syncGroup, 'G');
});

test('the fingerprint changes with any instance setting, the secret included, and only then', async () => {
  const a = (await loadConfig(minimal, 'f', okSecret)).config!.instances[0]!.fingerprint;
  const same = (await loadConfig(minimal + '\nlog_level: debug\n', 'f', okSecret)).config!.instances[0]!.fingerprint;
  const prio = (await loadConfig(minimal.replace('150', '151'), 'f', okSecret)).config!.instances[0]!.fingerprint;
  assert.equal(a, same);
  assert.notEqual(a, prio);
  const v2 = minimal.replace('vrid: 50', 'vrid: 50\n    version: 2\n    auth: { type: PASS, secret_file: /etc/haup/pass }');
  const s1 = (await loadConfig(v2, 'f', okSecret)).config!.instances[0]!.fingerprint;
  const s2 = (await loadConfig(v2, 'f', secrets({ '/etc/haup/pass': { mode: 0o600, text: 'other' } }))).config!.instances[0]!.fingerprint;
  assert.notEqual(s1, s2);
});

test('structural errors: every one reported at its FILE:LINE:COL, unknown keys with a suggestion', async () => {
  const text = `
instances:
  - name: VI_1
    interface: eth0
    vrid: 300
    priority: 150
    vips: [198.18.10.3]
    premept: false
`;
  assert.deepEqual(await errorsOf(text), [
    'haupd.yml:5:11: instances[0].vrid: must be at most 255, got the number 300',
    'haupd.yml:7:12: instances[0].vips[0]: expected an IPv4 address with prefix length like 198.18.0.3/24',
    'haupd.yml:8:5: instances[0].premept: unknown key (did you mean preempt?)',
  ]);
});

test('semantic errors: v2 sub-second interval (keepalived#1615), v3 auth, duplicate VRID, sync group members', async () => {
  const text = `
instances:
  - name: VI_1
    interface: eth0
    vrid: 50
    version: 2
    priority: 150
    advert_int: 0.4
    vips: [198.18.10.3/24]
  - name: VI_2
    interface: eth0
    vrid: 50
    priority: 100
    advert_int: 0.015
    vips: [198.18.10.4/24, 198.18.10.4/32]
    auth: { type: PASS, secret_file: /etc/haup/pass }
sync_groups:
  - name: G
    instances: [VI_1, VI_3]
`;
  assert.deepEqual(await errorsOf(text), [
    'haupd.yml:8:17: instances[0].advert_int: VRRPv2 adverts are whole seconds (1..255), got 0.4; use version: 3 for sub-second intervals',
    'haupd.yml:12:11: instances[1].vrid: VRID 50 is already used on eth0 by instances[0]',
    'haupd.yml:14:17: instances[1].advert_int: VRRPv3 advert_int is in steps of 0.01 s, got 0.015',
    'haupd.yml:15:28: instances[1].vips[1]: duplicate VIP 198.18.10.4',
    'haupd.yml:16:11: instances[1].auth: VRRPv3 has no authentication (RFC 5798 §9); remove auth or use version: 2',
    'haupd.yml:19:23: sync_groups[0].instances[1]: no instance named "VI_3"',
  ]);
});

test('secret file: missing, world-readable, empty are errors at secret_file; > 8 bytes is a warning', async () => {
  const v2 = (file: string) => minimal.replace('vrid: 50', `vrid: 50\n    version: 2\n    auth: { type: PASS, secret_file: ${file} }`);
  const reader = secrets({
    '/open': { mode: 0o644, text: 'x' },
    '/empty': { mode: 0o600, text: '\n' },
    '/long': { mode: 0o400, text: 'abcdefghij' },
  });
  assert.deepEqual(await errorsOf(v2('/missing'), reader), ['haupd.yml:7:38: instances[0].auth.secret_file: cannot read the secret file /missing: no such file']);
  assert.deepEqual(await errorsOf(v2('/open'), reader), ['haupd.yml:7:38: instances[0].auth.secret_file: the secret file /open is readable by others (mode 0644); chmod 600 it']);
  assert.deepEqual(await errorsOf(v2('/empty'), reader), ['haupd.yml:7:38: instances[0].auth.secret_file: the secret file /empty is empty']);
  const long = await loadConfig(v2('/long'), 'haupd.yml', reader);
  assert.ok(long.config);
  assert.deepEqual(long.config.instances[0]!.auth?.data, Buffer.from('abcdefgh'));
  assert.deepEqual(long.diagnostics.map(formatDiagnostic), [
    'haupd.yml:7:38: warning: instances[0].auth.secret_file: the PASS secret is 10 bytes; VRRPv2 sends only the first 8 (keepalived truncates the same way)',
  ]);
});

test('the secret never appears in diagnostics or in the fingerprint input', async () => {
  const reader = secrets({ '/p': { mode: 0o600, text: 'TOPSECRET99' } });
  const r = await loadConfig(minimal.replace('vrid: 50', 'vrid: 50\n    version: 2\n    auth: { type: PASS, secret_file: /p }'), 'f', reader);
  for (const d of r.diagnostics) assert.doesNotMatch(d.message, /TOPSECRET/);
});

test('metrics_listen: false disables metrics; a malformed address is located', async () => {
  const off = await loadConfig(minimal + 'metrics_listen: false\n', 'haupd.yml', okSecret);
  assert.equal(off.config?.metrics, null);
  assert.deepEqual(await errorsOf(minimal + 'metrics_listen: localhost\n'), ['haupd.yml:8:17: metrics_listen: expected ADDRESS:PORT like 127.0.0.1:9651']);
});

test('track scripts: an unknown builtin and a timeout longer than the interval are located', async () => {
  const text = minimal + `    track_scripts:
      - { name: a, script: "builtin:apache", interval: 1 }
      - { name: b, script: "/bin/true", interval: 1, timeout: 2 }
`;
  assert.deepEqual(await errorsOf(text), [
    'haupd.yml:9:28: instances[0].track_scripts[0].script: unknown built-in check (known: builtin:nginx, builtin:nginx:PORT)',
    'haupd.yml:10:63: instances[0].track_scripts[1].timeout: timeout (2 s) must not exceed interval (1 s)',
  ]);
  const ok = await loadConfig(minimal + '    track_scripts: [{ name: n, script: "builtin:nginx:80" }]\n', 'f', okSecret);
  assert.equal(ok.config?.instances[0]!.trackScripts[0]!.script, 'builtin:nginx:80');
  assert.equal(ok.config?.instances[0]!.trackScripts[0]!.timeoutMs, 2000, 'timeout defaults to the interval');
});
