// Valid inventories -> the resolved model: defaults, SSH merging, paths, members, examples of
// docs/inventory.md (single pair, dual master, v3 with 0.1 s adverts, unicast peers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeIO, inventory, model } from './fixture.ts';

test('defaults are applied', async () => {
  const inv = await model(inventory());
  const [vi] = inv.vrrp.instances;
  assert.ok(vi);
  assert.equal(vi.version, 2);
  assert.equal(vi.advertIntCs, 100);
  assert.equal(vi.preempt, true);
  assert.equal(vi.preemptDelay, 0);
  assert.equal(vi.unicast, false);
  assert.equal(vi.checksum, 'keepalived');
  assert.deepEqual(vi.garp, { burst: 5, repeatDelay: 5 });
  assert.deepEqual(vi.track, ['nginx'], 'no track key: every defined check is tracked');
  assert.deepEqual(vi.notify, { master: [], backup: [], fault: [], stop: [] });
  assert.deepEqual(inv.vrrp.checks, [{ name: 'nginx', script: 'builtin:nginx', builtin: 'nginx', interval: 2, timeout: 2, rise: 2, fall: 2, weight: 0 }]);
  assert.equal(inv.vrrp.partitionGuard, undefined);
  assert.deepEqual(inv.nginx, {
    listen: 80,
    serverName: '_',
    backendPort: 80,
    testPage: true,
    proxyParams: {
      hostHeader: '$host',
      xForwardedFor: true,
      connectTimeout: 30,
      sendTimeout: 60,
      readTimeout: 60,
      buffering: true,
      bufferSize: '4k',
      buffers: { count: 8, size: '4k' },
    },
    upstream: { method: 'round_robin', zone: true, keepalive: 0, maxFails: 1, failTimeout: 10 },
  });
  assert.deepEqual(inv.haupd, { statusSocket: '/run/haupd/status.sock', metricsListen: { host: '127.0.0.1', port: 9650 } });
  assert.deepEqual(inv.probe, []);
  assert.deepEqual(inv.warnings, []);
});

test('members are ranked: highest priority is the initial master', async () => {
  const inv = await model(inventory({ 16: '      priorities: { lb5: 100, lb6: 150 }' }));
  const vi = inv.vrrp.instances[0]!;
  assert.equal(vi.master, 'lb6');
  assert.deepEqual(vi.backups, ['lb5']);
  assert.deepEqual(
    vi.members.map((m) => [m.host, m.address, m.interface, m.priority]),
    [
      ['lb6', '10.0.0.6', 'eth0', 150],
      ['lb5', '10.0.0.5', 'eth0', 100],
    ],
  );
  assert.deepEqual(vi.vips, [{ address: '10.0.0.3', prefix: 24, cidr: '10.0.0.3/24' }]);
});

test('SSH settings merge global < group < host, paths are absolute', async () => {
  const inv = await model(
    inventory({
      1: 'ssh: { user: deploy, private_key: ~/.ssh/haup, known_hosts: keys/known_hosts, become: sudo }',
      6: 'lb:\n  ssh: { port: 2222 }',
      9: '    lb6: { address: 10.0.0.6, ssh: { host: mgmt-lb6.example, user: admin, connect_timeout: 3 } }',
    }),
  );
  const web7 = inv.hosts.find((h) => h.name === 'web7')!;
  const lb5 = inv.hosts.find((h) => h.name === 'lb5')!;
  const lb6 = inv.hosts.find((h) => h.name === 'lb6')!;
  assert.deepEqual(web7.ssh, {
    host: '10.0.0.7',
    user: 'deploy',
    port: 22,
    privateKey: '/home/u/.ssh/haup',
    knownHosts: '/srv/inv/keys/known_hosts',
    become: 'sudo',
    connectTimeout: 10,
  });
  assert.equal(lb5.ssh.port, 2222);
  assert.equal(lb5.ssh.user, 'deploy');
  assert.deepEqual([lb6.ssh.host, lb6.ssh.user, lb6.ssh.port, lb6.ssh.connectTimeout], ['mgmt-lb6.example', 'admin', 2222, 3]);
});

test('SSH key passphrase is a Secret taken from the level that sets it', async () => {
  const inv = await model(inventory({ 1: 'ssh: { passphrase: { file: key.pass } }' }), {
    io: fakeIO({ PASS: 'secret' }, { '/srv/inv/key.pass': { text: 'open sesame\n', mode: 0o600 } }),
  });
  const pass = inv.hosts[0]!.ssh.passphrase!;
  assert.equal(pass.reveal(), 'open sesame');
  assert.deepEqual(pass.ref, { source: 'file', path: '/srv/inv/key.pass' });
  assert.deepEqual(inv.secrets.map((s) => s.path), ['ssh.passphrase', 'vrrp.instances[0].auth.pass']);
});

test('the VRRP PASS is a Secret that reveals its value only on request', async () => {
  const inv = await model(inventory(), { io: fakeIO({ PASS: 'xyzzy42' }) });
  const auth = inv.vrrp.instances[0]!.auth;
  assert.equal(auth.type, 'PASS');
  if (auth.type !== 'PASS') return;
  assert.equal(auth.pass.reveal(), 'xyzzy42');
  assert.equal(JSON.stringify(inv).includes('xyzzy42'), false, 'JSON of the whole model never holds the value');
  assert.match(JSON.stringify(auth), /"pass":"\[secret\]"/);
});

test('check mode: an unset env secret loads, is unavailable, and reveal() refuses', async () => {
  const inv = await model(inventory(), { io: fakeIO({}), secrets: 'report' });
  const auth = inv.vrrp.instances[0]!.auth;
  assert.ok(auth.type === 'PASS');
  assert.equal(auth.pass.available, false);
  assert.throws(() => auth.pass.reveal(), /secret from env PASS is not available/);
  assert.equal(inv.warnings.length, 1);
});

test('per-host interface override applies to the member', async () => {
  const inv = await model(inventory({ 9: '    lb6: { address: 10.0.0.6, interface: ens3 }' }));
  assert.deepEqual(
    inv.vrrp.instances[0]!.members.map((m) => m.interface),
    ['eth0', 'ens3'],
  );
  assert.equal(inv.lb.find((h) => h.name === 'lb6')!.interface, 'ens3');
});

test('dual master: two instances, each LB masters one VIP', async () => {
  const inv = await model(
    inventory({
      18: '    - { name: VI_2, vrid: 51, interface: eth0, vips: [10.0.0.4/24], priorities: { lb5: 100, lb6: 150 }, auth: { type: PASS, pass: { env: PASS } } }\n  checks:',
    }),
  );
  assert.deepEqual(
    inv.vrrp.instances.map((i) => [i.name, i.vrid, i.vips.map((v) => v.cidr), i.master, i.backups]),
    [
      ['VI_1', 50, ['10.0.0.3/24'], 'lb5', ['lb6']],
      ['VI_2', 51, ['10.0.0.4/24'], 'lb6', ['lb5']],
    ],
  );
});

test('several VIPs in one instance', async () => {
  const inv = await model(inventory({ 15: '      vips: [10.0.0.3/24, 10.0.0.4/24]' }));
  assert.deepEqual(inv.vrrp.instances[0]!.vips.map((v) => v.address), ['10.0.0.3', '10.0.0.4']);
});

test('v3 with 0.1 s adverts and the RFC 9568 checksum', async () => {
  const inv = await model(inventory({ 14: '      interface: eth0\n      version: 3\n      advert_int: 0.1\n      checksum: rfc9568', 17: '' }));
  const vi = inv.vrrp.instances[0]!;
  assert.deepEqual([vi.version, vi.advertIntCs, vi.checksum, vi.auth], [3, 10, 'rfc9568', { type: 'none' }]);
});

test('v3 extremes 0.01 s and 40.95 s', async () => {
  for (const [advert, cs] of [
    ['0.01', 1],
    ['40.95', 4095],
    ['0.07', 7],
  ] as const) {
    const inv = await model(inventory({ 14: `      interface: eth0\n      version: 3\n      advert_int: ${advert}`, 17: '' }));
    assert.equal(inv.vrrp.instances[0]!.advertIntCs, cs, advert);
  }
});

test('unicast: each member sends to the other members', async () => {
  const inv = await model(
    inventory({
      9: '    lb6: { address: 10.0.0.6 }\n    lb4: { address: 10.0.0.4 }',
      16: '      priorities: { lb5: 150, lb6: 100, lb4: 50 }\n      unicast: true',
    }),
  );
  const vi = inv.vrrp.instances[0]!;
  assert.deepEqual(
    vi.members.map((m) => [m.host, m.unicastPeers]),
    [
      ['lb5', ['10.0.0.6', '10.0.0.4']],
      ['lb6', ['10.0.0.5', '10.0.0.4']],
      ['lb4', ['10.0.0.5', '10.0.0.6']],
    ],
  );
});

test('address owner: priority 255 with its own address as VIP', async () => {
  const inv = await model(inventory({ 15: '      vips: [10.0.0.5/24]', 16: '      priorities: { lb5: 255, lb6: 100 }' }));
  assert.equal(inv.vrrp.instances[0]!.master, 'lb5');
});

test('a VRID may repeat on different interfaces', async () => {
  const inv = await model(
    inventory({ 18: '    - { name: VI_2, vrid: 50, interface: eth1, vips: [10.0.0.4/24], priorities: { lb5: 100, lb6: 150 } }\n  checks:' }),
  );
  assert.deepEqual(inv.vrrp.instances.map((i) => [i.vrid, i.interface]), [
    [50, 'eth0'],
    [50, 'eth1'],
  ]);
});

test('every optional key, written out', async () => {
  const full = `${inventory({ 17: '      auth: { type: PASS, pass: { env: PASS } }\n      preempt: true\n      preempt_delay: 30\n      garp: { burst: 3, repeat_delay: 0 }\n      track: [nginx, app]\n      notify: { master: [/usr/local/bin/on-master, logger master], backup: [logger backup], fault: [logger fault], stop: [logger stop] }' })}    app: { script: /usr/local/bin/check-app, interval: 1, timeout: 0.5, rise: 3, fall: 4, weight: -100 }
  partition_guard: { gateway: 10.0.0.1, interval: 0.5, fall: 5, rise: 3 }
probe:
  hosts:
    client: { address: 10.0.0.9 }
nginx:
  listen: 8080
  server_name: www.example.org
  backend_port: 8081
  test_page: false
  proxy_params: { host_header: $http_host, x_forwarded_for: false, connect_timeout: 5, send_timeout: 10, read_timeout: 20, buffering: false, buffer_size: 8k, buffers: { count: 16, size: 8k } }
  upstream: { method: least_conn, zone: false, keepalive: 32, max_fails: 3, fail_timeout: 30 }
haupd: { status_socket: /run/haupd.sock, metrics_listen: false }
`;
  const inv = await model(full);
  const vi = inv.vrrp.instances[0]!;
  assert.equal(vi.preemptDelay, 30);
  assert.deepEqual(vi.garp, { burst: 3, repeatDelay: 0 });
  assert.deepEqual(vi.track, ['nginx', 'app']);
  assert.deepEqual(vi.notify.master, ['/usr/local/bin/on-master', 'logger master']);
  assert.deepEqual(inv.vrrp.checks[1], { name: 'app', script: '/usr/local/bin/check-app', interval: 1, timeout: 0.5, rise: 3, fall: 4, weight: -100 });
  assert.deepEqual(inv.vrrp.partitionGuard, { gateway: '10.0.0.1', interval: 0.5, fall: 5, rise: 3 });
  assert.deepEqual(inv.probe.map((h) => [h.name, h.address, h.role]), [['client', '10.0.0.9', 'probe']]);
  assert.equal(inv.nginx.proxyParams.hostHeader, '$http_host');
  assert.deepEqual(inv.nginx.upstream, { method: 'least_conn', zone: false, keepalive: 32, maxFails: 3, failTimeout: 30 });
  assert.deepEqual([inv.nginx.listen, inv.nginx.serverName, inv.nginx.backendPort, inv.nginx.testPage], [8080, 'www.example.org', 8081, false]);
  assert.deepEqual(inv.nginx.proxyParams.buffers, { count: 16, size: '8k' });
  assert.deepEqual(inv.haupd, { statusSocket: '/run/haupd.sock', metricsListen: null });
  assert.deepEqual(inv.hosts.map((h) => h.name), ['web7', 'web8', 'lb5', 'lb6', 'client']);
});
