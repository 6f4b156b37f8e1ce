import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { factRequestForHost, planHost, unknownNotifications } from '../../src/engine/plan.ts';
import { selectHosts } from '../../src/engine/runner.ts';
import { newDeployId, DEPLOY_ID_RE } from '../../src/engine/deploy-id.ts';
import { parseJournal, parsePreImages, serializeJournal } from '../../src/engine/journal.ts';
import { atomicWriteScript, tempPathFor, treeCheckScript } from '../../src/engine/files.ts';
import { fileDiff } from '../../src/engine/diff.ts';
import type { HostSpec, TaskSpec } from '../../src/engine/types.ts';
import { debianFacts } from '../operations/facts-fixture.ts';

const tasks: TaskSpec[] = [
  { name: 'nginx', op: { op: 'package', names: ['nginx'] } },
  { name: 'conf dir', op: { op: 'directory', path: '/etc/nginx/conf.d' } },
  { name: 'upstream', op: { op: 'file', path: '/etc/nginx/conf.d/haup.conf', content: 'x' }, notify: ['reload nginx'] },
  { name: 'page', op: { op: 'file', path: '/var/www/html/index.html', content: 'Web7 Service\n' }, notify: ['reload nginx'] },
  { name: 'nginx on', op: { op: 'service', name: 'nginx', enabled: true, state: 'started' } },
];
const handlers = [
  { name: 'restart haupd', op: { op: 'service' as const, name: 'haupd', state: 'restarted' as const } },
  { name: 'reload nginx', op: { op: 'service' as const, name: 'nginx', state: 'reloaded' as const } },
];

test('fact request: the union of what tasks and handlers need, deduplicated', () => {
  assert.deepEqual(factRequestForHost(tasks, handlers), {
    paths: ['/etc/nginx/conf.d', '/etc/nginx/conf.d/haup.conf', '/var/www/html/index.html'],
    services: ['nginx', 'haupd'],
    probes: [],
  });
});

test('plan: changes, notified handlers in declaration order, managed paths, installs', () => {
  const p = planHost(tasks, handlers, debianFacts());
  assert.deepEqual(p.tasks.map((t) => t.change?.status), ['changed', 'changed', 'changed', 'changed', 'changed']);
  assert.equal(p.changed, 5);
  assert.deepEqual(p.notified.map((h) => h.name), ['reload nginx']);
  assert.deepEqual(p.managedPaths, ['/etc/nginx/conf.d', '/etc/nginx/conf.d/haup.conf', '/var/www/html/index.html']);
  assert.deepEqual(p.installs, ['nginx']);
});

test('plan: nothing to do -> no handler notified', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const facts = debianFacts({
    packages: { nginx: '1.22.1' },
    files: {
      '/etc/nginx/conf.d': { type: 'directory', mode: 0o755, owner: 'root', group: 'root' },
      '/etc/nginx/conf.d/haup.conf': { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: sha('x') },
      '/var/www/html/index.html': { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: sha('Web7 Service\n') },
    },
    services: { nginx: { enabled: 'enabled', active: 'active' } },
  });
  const p = planHost(tasks, handlers, facts);
  assert.equal(p.changed, 0);
  assert.deepEqual(p.notified, []);
});

test('plan errors are per task (no systemd) and counted', () => {
  const p = planHost(tasks, handlers, debianFacts({ init: 'other' }));
  assert.equal(p.failed, 1);
  assert.equal(p.tasks[4]!.error, 'service nginx: the host does not run systemd');
});

test('unknown notifications are found', () => {
  assert.deepEqual(unknownNotifications([{ name: 'a', op: { op: 'command', command: 'x' }, notify: ['reload nginx', 'nope'] }], handlers), ['nope']);
});

test('selectHosts: names, groups, comma lists, all', () => {
  const h = (name: string, groups: string[]) => ({ name, groups, phase: 'p', tasks: [], connect: async () => { throw new Error('unused'); } }) as HostSpec;
  const hosts = [h('web7', ['web']), h('web8', ['web']), h('lb5', ['lb'])];
  assert.deepEqual(selectHosts(hosts, undefined).map((x) => x.name), ['web7', 'web8', 'lb5']);
  assert.deepEqual(selectHosts(hosts, ['web']).map((x) => x.name), ['web7', 'web8']);
  assert.deepEqual(selectHosts(hosts, ['lb5,web8']).map((x) => x.name), ['web8', 'lb5']);
  assert.deepEqual(selectHosts(hosts, ['all']).map((x) => x.name), ['web7', 'web8', 'lb5']);
  assert.throws(() => selectHosts(hosts, ['web9']), /unknown host or group: web9/);
});

test('deploy ids are time-sortable and well-formed', () => {
  const a = newDeployId(new Date('2026-11-22T00:16:45.123Z'));
  const b = newDeployId(new Date('2026-11-22T00:16:45.124Z'));
  assert.match(a, DEPLOY_ID_RE);
  assert.ok(a.startsWith('20261122T001645123Z-'));
  assert.ok(a < b);
});

test('journal: serialize/parse round trip; pre-image output parsed', () => {
  const out = `@@haup file|640|root|adm|/etc/a|b\n${Buffer.from([0, 1, 2]).toString('base64')}\n@@haup directory|755|root|root|/etc/d\n@@haup absent|/etc/x\n@@haup symlink|/etc/nginx/sites-available/default|/etc/nginx/sites-enabled/default\n@@haup end\n`;
  const images = parsePreImages(out);
  assert.deepEqual(images.map((i) => [i.path, i.state]), [['/etc/a|b', 'file'], ['/etc/d', 'directory'], ['/etc/x', 'absent'], ['/etc/nginx/sites-enabled/default', 'symlink']]);
  assert.deepEqual(images[3], { path: '/etc/nginx/sites-enabled/default', state: 'symlink', target: '/etc/nginx/sites-available/default' });
  const rec = { deployId: 'id', host: 'lb5', createdAt: 't', files: images, services: [{ name: 'nginx', enabled: 'enabled', active: 'active' }], packagesInstalled: ['nginx'] };
  assert.deepEqual(parseJournal(serializeJournal(rec)), rec);
  assert.throws(() => parsePreImages('@@haup absent|/x\n'), /truncated/);
});

test('atomic write script: temp in the same directory, validate in a subshell, rename last', () => {
  assert.equal(tempPathFor('/etc/nginx/nginx.conf', 'D'), '/etc/nginx/.nginx.conf.haup-D.tmp');
  const s = atomicWriteScript({ kind: 'write', path: '/etc/nginx/nginx.conf', content: Buffer.from('x'), sha256: '', mode: 0o644, owner: 'root', group: 'root', validate: 'nginx -t -c %s' }, 'D');
  assert.equal(
    s,
    [
      'umask 077',
      "trap 'rm -f /etc/nginx/.nginx.conf.haup-D.tmp' EXIT",
      'cat > /etc/nginx/.nginx.conf.haup-D.tmp || exit 1',
      'chmod 0644 /etc/nginx/.nginx.conf.haup-D.tmp && chown root:root /etc/nginx/.nginx.conf.haup-D.tmp || exit 1',
      'if ! ( nginx -t -c /etc/nginx/.nginx.conf.haup-D.tmp ) >&2; then exit 97; fi',
      'mv -f /etc/nginx/.nginx.conf.haup-D.tmp /etc/nginx/nginx.conf || exit 1',
    ].join('\n'),
  );
  const t = treeCheckScript({ name: 'nginx', root: '/etc/nginx/', command: 'nginx -t -c {stage}/nginx.conf' }, [], 'D');
  assert.match(t, /stage=\/etc\/nginx\.haup-stage-D/);
  assert.match(t, /nginx -t -c \/etc\/nginx\.haup-stage-D\/nginx\.conf/);
});

test('diff: unified for text, a notice for binary and secret', () => {
  assert.equal(fileDiff('/a', Buffer.from('one\ntwo\n'), Buffer.from('one\n2\n'), false), '--- /a\n+++ /a\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n');
  assert.equal(fileDiff('/s', Buffer.from('old'), Buffer.from('new'), true), '--- /s\n+++ /s\n(secret: content not shown)\n');
  assert.equal(fileDiff('/b', null, Buffer.from([0, 1]), false), '--- /b\n+++ /b\nbinary: sha256 absent -> b413f47d13ee, size absent -> 2 bytes\n');
  assert.equal(fileDiff('/b', Buffer.from([0, 1]), null, false), '--- /b\n+++ /b\nbinary: sha256 b413f47d13ee -> absent, size 2 bytes -> absent\n');
  // a secret binary file stays masked: no hash, no size
  assert.equal(fileDiff('/k', Buffer.from([0, 1]), Buffer.from([0, 2]), true), '--- /k\n+++ /k\n(secret: content not shown)\n');
});

test('diff: a text file over 64 KiB (the haupd bundle) is summarised by sha256 and size, not printed', () => {
  const big = Buffer.from('x'.repeat(64 * 1024) + '\n');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 12);
  const small = Buffer.from('old\n');
  assert.equal(fileDiff('/opt/haup/lib/haupd.cjs', null, big, false), `--- /opt/haup/lib/haupd.cjs\n+++ /opt/haup/lib/haupd.cjs\nover 64 KiB: sha256 absent -> ${sha(big)}, size absent -> 65537 bytes\n`);
  assert.equal(fileDiff('/f', big, small, false), `--- /f\n+++ /f\nover 64 KiB: sha256 ${sha(big)} -> ${sha(small)}, size 65537 bytes -> 4 bytes\n`);
  // exactly 64 KiB is still diffed
  const edge = Buffer.from('y'.repeat(64 * 1024 - 1) + '\n');
  const edgeDiff = fileDiff('/e', null, edge, false);
  assert.ok(edgeDiff.startsWith('--- /dev/null\n+++ /e\n@@ -0,0 +1,1 @@\n+yyy'), edgeDiff.slice(0, 80));
});

test('exit code from the result: 0 ok, 1 failed', async () => {
  const { exitCodeFor } = await import('../../src/engine/recap.ts');
  assert.equal(exitCodeFor({ deployId: 'x', check: false, ok: true, hosts: [], durationMs: 0 }), 0);
  assert.equal(exitCodeFor({ deployId: 'x', check: false, ok: false, hosts: [], durationMs: 0 }), 1);
});
