import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aptUpdateDecision, plan, POLICY_MARKER, POLICY_RC_D } from '../../src/operations/package.ts';
import { PlanError } from '../../src/operations/errors.ts';
import { describeSteps } from '../../src/operations/types.ts';
import { debianFacts, rhelFacts } from './facts-fixture.ts';

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -o Dpkg::Use-Pty=0';
const OPTS = 'install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
const APT_INSTALL = `${APT} ${OPTS}`;

test('apt: installs only the missing packages, noninteractive, no recommends', () => {
  const c = plan({ op: 'package', names: ['nginx', 'curl', 'iputils-arping'] }, debianFacts());
  assert.equal(c.status, 'changed');
  assert.deepEqual(describeSteps(c.steps), [`${APT_INSTALL} nginx iputils-arping`]);
  assert.deepEqual(c.installs, ['nginx', 'iputils-arping']);
  assert.equal(c.summary, 'install nginx, iputils-arping');
});

test('apt: update first only when asked and something is missing', () => {
  const c = plan({ op: 'package', names: ['nginx'], update: true }, debianFacts());
  assert.deepEqual(describeSteps(c.steps), [`${APT} update -q`, `${APT_INSTALL} nginx`]);
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
  assert.deepEqual(describeSteps(c.steps), [`${APT} remove -y -q curl`]);
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

test('apt freshness: no index or unknown age -> update; older than the validity -> update; fresher -> only if unresolvable', () => {
  const spec = { op: 'package' as const, names: ['nginx'], update: true };
  assert.equal(aptUpdateDecision(spec, debianFacts()), 'update'); // age not gathered
  assert.equal(aptUpdateDecision(spec, debianFacts({ aptIndexAgeSeconds: null })), 'update'); // no index at all
  assert.equal(aptUpdateDecision(spec, debianFacts({ aptIndexAgeSeconds: 3600 })), 'update'); // the default validity is 3600 s
  assert.equal(aptUpdateDecision(spec, debianFacts({ aptIndexAgeSeconds: 3599 })), 'if-unresolvable');
  assert.equal(aptUpdateDecision(spec, debianFacts({ aptIndexAgeSeconds: -5 })), 'update'); // clock skew: do not trust it
  assert.equal(aptUpdateDecision({ ...spec, cacheValidSeconds: 0 }, debianFacts({ aptIndexAgeSeconds: 1 })), 'update');
  assert.equal(aptUpdateDecision({ ...spec, cacheValidSeconds: 86400 }, debianFacts({ aptIndexAgeSeconds: 7200 })), 'if-unresolvable');
  assert.equal(aptUpdateDecision({ ...spec, update: false }, debianFacts({ aptIndexAgeSeconds: null })), 'none');
});

test('apt freshness: a fresh index is simulated against first and refreshed only when a package cannot be resolved', () => {
  const c = plan({ op: 'package', names: ['nginx', 'curl'], update: true }, debianFacts({ aptIndexAgeSeconds: 60 }));
  assert.deepEqual(describeSteps(c.steps), [`apt-get install -s -qq --no-install-recommends nginx >/dev/null 2>&1 || ${APT} update -q`, `${APT_INSTALL} nginx`]);
});

test('apt noStart: policy-rc.d written inside apt (Pre-Invoke) only when none exists, removed by Post-Invoke and after apt-get whatever its exit', () => {
  const c = plan({ op: 'package', names: ['nginx'], noStart: true }, debianFacts());
  const [cmd] = describeSteps(c.steps);
  const lines = cmd!.split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, new RegExp(`^${APT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -o 'DPkg::Pre-Invoke::=\\[ -e /usr/sbin/policy-rc\\.d \\] \\|\\| \\{ printf `));
  assert.ok(lines[0]!.includes("-o 'DPkg::Post-Invoke::=if grep -qsxF "), lines[0]);
  assert.ok(lines[0]!.endsWith(`${OPTS} nginx; rc=$?`), lines[0]);
  assert.equal(lines[1], `if grep -qsxF '${POLICY_MARKER}' ${POLICY_RC_D}; then rm -f ${POLICY_RC_D}; fi`);
  assert.equal(lines[2], 'exit $rc');
  // dnf/yum start no services on install: the same spec needs nothing there
  assert.deepEqual(describeSteps(plan({ op: 'package', names: ['nginx'], noStart: true }, rhelFacts('dnf')).steps), ['dnf install -y -q --setopt=install_weak_deps=False nginx']);
});
