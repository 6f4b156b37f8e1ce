import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as service from '../../src/operations/service.ts';
import * as command from '../../src/operations/command.ts';
import { describeSteps } from '../../src/operations/types.ts';
import { debianFacts, rhelFacts } from './facts-fixture.ts';

test('service: not installed yet -> enable and start (same commands on RHEL: systemd)', () => {
  for (const facts of [debianFacts(), rhelFacts('dnf')]) {
    const c = service.plan({ op: 'service', name: 'nginx', enabled: true, state: 'started' }, facts);
    assert.equal(c.status, 'changed');
    assert.deepEqual(describeSteps(c.steps), ['systemctl enable nginx', 'systemctl start nginx']);
    assert.equal(c.summary, 'nginx enabled, started');
  }
});

test('service: enabled and active -> ok; static counts as enabled', () => {
  const facts = debianFacts({ services: { nginx: { enabled: 'enabled', active: 'active' }, dbus: { enabled: 'static', active: 'active' } } });
  assert.equal(service.plan({ op: 'service', name: 'nginx', enabled: true, state: 'started' }, facts).status, 'ok');
  assert.equal(service.plan({ op: 'service', name: 'dbus', enabled: true, state: 'started' }, facts).status, 'ok');
});

test('service: stop/disable only when needed; reloaded/restarted always act', () => {
  const facts = debianFacts({ services: { nginx: { enabled: 'enabled', active: 'active' }, haupd: { enabled: 'disabled', active: 'inactive' } } });
  assert.deepEqual(describeSteps(service.plan({ op: 'service', name: 'nginx', enabled: false, state: 'stopped' }, facts).steps), ['systemctl disable nginx', 'systemctl stop nginx']);
  assert.equal(service.plan({ op: 'service', name: 'haupd', enabled: false, state: 'stopped' }, facts).status, 'ok');
  assert.deepEqual(describeSteps(service.plan({ op: 'service', name: 'nginx', state: 'reloaded' }, facts).steps), ['systemctl reload nginx']);
  assert.deepEqual(describeSteps(service.plan({ op: 'service', name: 'haupd', state: 'restarted' }, facts).steps), ['systemctl restart haupd']);
});

test('service: no systemd -> PlanError', () => {
  assert.throws(() => service.plan({ op: 'service', name: 'nginx', state: 'started' }, debianFacts({ init: 'other' })), /does not run systemd/);
});

test('command: guards from facts decide ok/changed', () => {
  const spec = { op: 'command' as const, command: 'make-cert', creates: '/etc/ssl/haup.pem' };
  assert.deepEqual(describeSteps(command.plan(spec, debianFacts()).steps), ['make-cert']);
  const exists = debianFacts({ files: { '/etc/ssl/haup.pem': { type: 'file', mode: 0o600, owner: 'root', group: 'root', sha256: 'a'.repeat(64) } } });
  const ok = command.plan(spec, exists);
  assert.equal(ok.status, 'ok');
  assert.equal(ok.summary, 'skipped: /etc/ssl/haup.pem exists');

  assert.equal(command.plan({ op: 'command', command: 'rm -f /tmp/x', removes: '/tmp/x' }, debianFacts()).status, 'ok');
  const unless = { op: 'command' as const, command: 'useradd haup', unless: 'id haup' };
  assert.equal(command.plan(unless, debianFacts({ probes: { 'id haup': 0 } })).status, 'ok');
  assert.equal(command.plan(unless, debianFacts({ probes: { 'id haup': 1 } })).status, 'changed');
  const onlyIf = { op: 'command' as const, command: 'systemctl daemon-reload', onlyIf: 'test -d /run/systemd/system' };
  assert.equal(command.plan(onlyIf, debianFacts({ probes: { 'test -d /run/systemd/system': 1 } })).status, 'ok');
  assert.equal(command.plan(onlyIf, debianFacts({ probes: { 'test -d /run/systemd/system': 0 } })).status, 'changed');
});

test('command: needs() asks for the guard paths and probes', () => {
  assert.deepEqual(command.needs({ op: 'command', command: 'x', creates: '/a', unless: 'id haup' }), { paths: ['/a'], probes: ['id haup'] });
});
