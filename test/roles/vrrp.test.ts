import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHost } from '../../src/engine/plan.ts';
import { loadConfig } from '../../src/vrrp/config.ts';
import {
  HAUPD_MAY_READ,
  HAUPD_CONFIG,
  HAUPD_UNIT,
  renderHaupdConfig,
  renderHaupdUnit,
  secretFileFor,
  vrrpRole,
} from '../../src/roles/vrrp.ts';
import { PASS, content, convergedFacts, fakeArtifact, fileTask, golden, labInventory } from './fixture.ts';

// The unit is reloaded only when systemd says it is stale (`systemctl enable` just reloaded it).
const RELOAD_IF_STALE =
  'if [ "$(systemctl show -p LoadState --value haupd.service)" != loaded ] || [ "$(systemctl show -p NeedDaemonReload --value haupd.service)" != no ]; then systemctl daemon-reload || exit 1; fi';

const lb = async (name: string, edit?: (t: string) => string) => {
  const inv = await labInventory(edit);
  return { inv, host: inv.lb.find((h) => h.name === name)! };
};

test('haupd config for lb5 and lb6 (golden): own priority, the peer set, the VIP, PASS by file only', async () => {
  for (const name of ['lb5', 'lb6']) {
    const { inv, host } = await lb(name);
    const text = renderHaupdConfig(inv, host);
    assert.equal(text, golden(`haupd-${name}.yml`));
    assert.ok(!text.includes(PASS), 'the PASS is never in the config');
  }
});

test("haupd config is accepted by haupd's own loader and means what the inventory says", async () => {
  const { inv, host } = await lb('lb6');
  const reader = { read: async (path: string) => (path === secretFileFor('VI_1') ? { mode: 0o600, text: `${PASS}\n` } : Promise.reject(Object.assign(new Error('x'), { code: 'ENOENT' }))) };
  const r = await loadConfig(renderHaupdConfig(inv, host), HAUPD_CONFIG, reader);
  assert.deepEqual(r.diagnostics, []);
  const i = r.config!.instances[0]!;
  assert.equal(i.name, 'VI_1');
  assert.equal(i.interface, 'eth0');
  assert.equal(i.vrid, 50);
  assert.equal(i.version, 2);
  assert.equal(i.priority, 100);
  assert.equal(i.advertIntervalCs, 100);
  assert.deepEqual(i.vips, [{ address: '198.18.0.3', prefix: 24 }]);
  assert.deepEqual(i.peers, { '198.18.0.5': 150, '198.18.0.6': 100 });
  assert.deepEqual(i.auth?.data, Buffer.from(PASS));
  assert.equal(i.preempt, true);
  assert.deepEqual(i.trackScripts.map((t) => [t.name, t.script, t.intervalMs, t.fall, t.rise, t.weight]), [['nginx', '/etc/haup/checks/nginx', 1000, 2, 2, -60]]);
  assert.deepEqual(r.config!.partitionGuard && [r.config!.partitionGuard.gateway, r.config!.partitionGuard.intervalMs, r.config!.partitionGuard.fall], ['198.18.0.1', 1000, 3]);
});

test('haupd config: v3, unicast, rfc9568 checksum, no auth, metrics off', async () => {
  const { inv, host } = await lb('lb5', (t) =>
    t
      .replace('version: 2', 'version: 3\n      unicast: true\n      checksum: rfc9568')
      .replace('advert_int: 1', 'advert_int: 0.5')
      .replace(/\n\s+auth: \{[^\n]*\}/, '')
      .replace('nginx:\n  listen: 80', 'nginx:\n  listen: 80\nhaupd: { metrics_listen: false }'),
  );
  const text = renderHaupdConfig(inv, host);
  const r = await loadConfig(text, HAUPD_CONFIG, { read: () => Promise.reject(new Error('no secret expected')) });
  assert.deepEqual(r.diagnostics, []);
  const i = r.config!.instances[0]!;
  assert.equal(i.version, 3);
  assert.equal(i.advertIntervalCs, 50);
  assert.deepEqual(i.unicastPeers, ['198.18.0.6']);
  assert.equal(i.v3Checksum, 'message');
  assert.equal(i.auth, null);
  assert.equal(r.config!.metrics, null);
  assert.equal(vrrpRole(inv, host, fakeArtifact).tasks.some((t) => t.op.op === 'file' && t.op.secret), false);
});

test('systemd unit (golden): own dynamic user, only CAP_NET_RAW and CAP_NET_ADMIN, PASS as a credential, restart on failure, SIGHUP reload, release after stop', async () => {
  const { inv, host } = await lb('lb5');
  const unit = renderHaupdUnit(inv, host);
  assert.equal(unit, golden('haupd.service'));
  const lines = unit.split('\n');
  for (const l of [
    'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
    'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
    'NoNewPrivileges=yes',
    'Restart=on-failure',
    'ExecReload=/bin/kill -HUP $MAINPID',
    'ExecStart=/opt/haup/bin/haupd --config /etc/haup/haupd.yml',
    'ExecStopPost=/opt/haup/bin/haupd --release --config /etc/haup/haupd.yml',
    'ProtectSystem=strict',
    'DynamicUser=yes',
    'LoadCredential=VI_1.pass:/etc/haup/secrets/VI_1.pass',
    'BindReadOnlyPaths=/run/credentials/haupd.service:/etc/haup/secrets',
  ]) assert.ok(lines.includes(l), l);
  assert.ok(!unit.includes(PASS));
  // No PASS auth: no credentials at all.
  const noAuth = await lb('lb5', (t) => t.replace(/\n\s+auth: \{[^\n]*\}/, ''));
  const plain = renderHaupdUnit(noAuth.inv, noAuth.host);
  assert.doesNotMatch(plain, /LoadCredential|BindReadOnlyPaths/);
  assert.match(plain, /^DynamicUser=yes$/m);
});

test('vrrp role: the PASS in its own 0600 root file marked secret; config validated by haupd; handlers', async () => {
  const { inv, host } = await lb('lb5');
  const r = vrrpRole(inv, host, fakeArtifact);
  const pass = fileTask(r.tasks, '/etc/haup/secrets/VI_1.pass');
  assert.deepEqual({ ...pass.op, content: undefined }, { op: 'file', path: '/etc/haup/secrets/VI_1.pass', content: undefined, mode: 0o600, owner: 'root', group: 'root', secret: true });
  assert.equal(content(pass), `${PASS}\n`);
  // haupd holds a copy made at its start (LoadCredential): a new PASS restarts it.
  assert.deepEqual(pass.notify, ['restart haupd']);
  assert.deepEqual(r.tasks.find((t) => t.op.op === 'directory' && t.op.path === '/etc/haup/secrets')!.op, { op: 'directory', path: '/etc/haup/secrets', mode: 0o700 });
  const cfg = fileTask(r.tasks, HAUPD_CONFIG);
  assert.equal(cfg.op.op === 'file' && cfg.op.validate, '/opt/haup/bin/haupd --check-config %s');
  assert.deepEqual(cfg.notify, ['reload haupd']);
  assert.deepEqual(fileTask(r.tasks, HAUPD_UNIT).notify, ['restart haupd']);
  assert.equal(content(fileTask(r.tasks, '/etc/haup/checks/nginx')), golden('check-nginx'));
  // Every artifact file, with its mode, under /opt/haup; each change restarts haupd.
  for (const f of fakeArtifact.files) {
    const t = fileTask(r.tasks, `/opt/haup/${f.path}`);
    assert.equal(t.op.op === 'file' && t.op.mode, f.mode);
    assert.deepEqual(t.notify, ['restart haupd']);
  }
  // Directories before the files in them, the secret before the config that names it.
  const index = (p: string) => r.tasks.findIndex((t) => (t.op.op === 'file' || t.op.op === 'directory') && t.op.path === p);
  assert.ok(index('/opt/haup/lib/native') < index('/opt/haup/lib/native/raw-socket.abi108.node'));
  assert.ok(index('/etc/haup/secrets/VI_1.pass') < index(HAUPD_CONFIG));
  assert.ok(index('/opt/haup/bin/haupd') < index(HAUPD_CONFIG), 'the validator is installed before the config');
  assert.deepEqual(
    r.handlers.map((h) => [h.name, h.op, h.restoreOnFailure]),
    [
      ['reload haupd', { op: 'command', command: 'systemctl reload haupd.service', onlyIf: 'systemctl is-active --quiet haupd.service' }, true],
      ['restart haupd', { op: 'command', command: `${RELOAD_IF_STALE}\nsystemctl restart haupd.service`, onlyIf: 'systemctl is-active --quiet haupd.service' }, true],
    ],
  );
});

test('vrrp role: converged host -> nothing changes; a new artifact -> only its file changes and haupd restarts', async () => {
  const { inv, host } = await lb('lb6');
  const r = vrrpRole(inv, host, fakeArtifact);
  const facts = convergedFacts(r.tasks, ['haupd.service']);
  const plan = planHost(r.tasks, r.handlers, facts);
  assert.equal(plan.changed, 0);
  const newer = { ...fakeArtifact, files: fakeArtifact.files.map((f) => (f.path === 'lib/haupd.cjs' ? { ...f, content: Buffer.from('// bundle 2\n') } : f)) };
  const r2 = vrrpRole(inv, host, newer);
  const plan2 = planHost(r2.tasks, r2.handlers, facts);
  assert.deepEqual(plan2.tasks.filter((p) => p.change?.status === 'changed').map((p) => p.task.name), ['haupd 9.9.9: lib/haupd.cjs']);
  assert.deepEqual(plan2.notified.map((h) => h.name), ['restart haupd']);
});

test('vrrp role: haupd not running before the deploy -> started on the new files, and the handlers do nothing', async () => {
  const { inv, host } = await lb('lb6');
  const r = vrrpRole(inv, host, fakeArtifact);
  const facts = convergedFacts(r.tasks, ['haupd.service']);
  const probe = 'systemctl is-active --quiet haupd.service';
  facts.probes[probe] = 3;
  delete facts.files[HAUPD_CONFIG];
  const plan = planHost(r.tasks, r.handlers, facts);
  assert.deepEqual(plan.tasks.filter((p) => p.change?.status === 'changed').map((p) => p.task.name), ['haupd config', 'haupd running']);
  assert.deepEqual(plan.notified.map((h) => h.name), ['reload haupd']);
  // ... and that handler's own plan is a no-op: the start already read the new config.
  const { planOperation } = await import('../../src/operations/index.ts');
  assert.equal(planOperation(plan.notified[0]!.op, facts).status, 'ok');
});

test('vrrp role: every haupd file and directory may be written before the phase while haupd cannot read it; enable, start and handlers stay in the phase', async () => {
  const { inv, host } = await lb('lb6');
  const r = vrrpRole(inv, host, fakeArtifact);
  const early = r.tasks.filter((t) => t.beforePhaseUnless !== undefined);
  assert.ok(early.every((t) => t.beforePhaseUnless === HAUPD_MAY_READ && (t.op.op === 'file' || t.op.op === 'directory')));
  assert.deepEqual(
    r.tasks.filter((t) => t.beforePhaseUnless === undefined).map((t) => t.name),
    ['nodejs, arping, curl, procps installed', 'haupd enabled', 'haupd running'],
  );
  assert.ok(early.some((t) => t.op.op === 'file' && t.op.path === HAUPD_CONFIG));
  assert.ok(early.some((t) => t.op.op === 'file' && t.op.path === HAUPD_UNIT));
  // the probe succeeds (files stay in the phase) when the unit is enabled, active or restarting
  assert.equal(HAUPD_MAY_READ, 'systemctl is-enabled --quiet haupd.service || systemctl is-active --quiet haupd.service || [ "$(systemctl show -p ActiveState --value haupd.service)" = activating ]');
});
