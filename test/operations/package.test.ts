import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/operations/package.ts';
import { PlanError } from '../../src/operations/errors.ts';
import { describeSteps } from '../../src/operations/types.ts';
import { debianFacts, rhelFacts } from './facts-fixture.ts';

const APT_INSTALL = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

test('apt: installs only the missing packages, noninteractive, no recommends', () => {
  const c = plan({ op: 'package', names: ['nginx', 'curl', 'iputils-arping'] }, debianFacts());
  assert.equal(c.status, 'changed');
  assert.deepEqual(describeSteps(c.steps), [`${APT_INSTALL} nginx iputils-arping`]);
  assert.deepEqual(c.installs, ['nginx', 'iputils-arping']);
  assert.equal(c.summary, 'install nginx, iputils-arping');
});

test('apt: update first only when asked and something is missing', () => {
  const c = plan({ op: 'package', names: ['nginx'], update: true }, debianFacts());
  assert.deepEqual(describeSteps(c.steps), ['DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -q', `${APT_INSTALL} nginx`]);
  const ok = plan({ op: 'package', names: ['curl'], update: true }, debianFacts());
  assert.equal(ok.status, 'ok');
  assert.deepEqual(ok.steps, []);
});

test('apt: all installed -> ok, no commands', () => {
  const c = plan({ op: 'package', names: ['curl', 'openssh-server'] }, debianFacts());
  assert.equal(c.status, 'ok');
  assert.deepEqual(c.steps, []);
  assert.equal(c.installs, undefined);
});

test('apt: absent removes only installed ones', () => {
  const c = plan({ op: 'package', names: ['curl', 'nginx'], state: 'absent' }, debianFacts());
  assert.deepEqual(describeSteps(c.steps), ['DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 remove -y -q curl']);
  assert.equal(plan({ op: 'package', names: ['nginx'], state: 'absent' }, debianFacts()).status, 'ok');
});

test('dnf: install without weak deps, --refresh for update', () => {
  const c = plan({ op: 'package', names: ['nginx', 'curl'], update: true }, rhelFacts('dnf'));
  assert.deepEqual(describeSteps(c.steps), ['dnf install -y -q --setopt=install_weak_deps=False --refresh nginx']);
  const c2 = plan({ op: 'package', names: ['keepalived'] }, rhelFacts('dnf'));
  assert.deepEqual(describeSteps(c2.steps), ['dnf install -y -q --setopt=install_weak_deps=False keepalived']);
  assert.deepEqual(describeSteps(plan({ op: 'package', names: ['curl'], state: 'absent' }, rhelFacts('dnf')).steps), ['dnf remove -y -q curl']);
  assert.equal(plan({ op: 'package', names: ['openssh'] }, rhelFacts('dnf')).status, 'ok');
});

test('yum: install, makecache for update, remove', () => {
  const c = plan({ op: 'package', names: ['nginx'], update: true }, rhelFacts('yum'));
  assert.deepEqual(describeSteps(c.steps), ['yum makecache -q', 'yum install -y -q nginx']);
  assert.deepEqual(describeSteps(plan({ op: 'package', names: ['curl'], state: 'absent' }, rhelFacts('yum')).steps), ['yum remove -y -q curl']);
});

test('no package manager: a PlanError naming the OS', () => {
  assert.throws(() => plan({ op: 'package', names: ['nginx'] }, debianFacts({ packageManager: 'none' })), (e: unknown) => e instanceof PlanError && /no supported package manager .* on Debian GNU\/Linux 12/.test(e.message));
});
