import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeHost } from '../../src/engine/compose.ts';
import { LocalConnection } from '../../src/connectors/local.ts';

const base = { name: 'lb5', groups: ['lb'], phase: 'master', connect: async () => new LocalConnection('lb5') };
const reload = { name: 'reload nginx', restoreOnFailure: true, op: { op: 'service' as const, name: 'nginx', state: 'reloaded' as const } };

test('tasks merged in role order; identical handlers, checks and file states kept once', () => {
  const h = composeHost(base, [
    { role: 'lb', tasks: [{ name: 'nginx', op: { op: 'package', names: ['nginx'] } }, { name: 'conf dir', op: { op: 'directory', path: '/etc/haup' } }], handlers: [reload], treeChecks: [{ name: 'nginx', root: '/etc/nginx', command: 'nginx -t' }] },
    { role: 'vrrp', tasks: [{ name: 'haup dir', op: { op: 'directory', path: '/etc/haup' } }, { name: 'haupd', op: { op: 'file', path: '/etc/haup/haupd.yml', content: 'x' } }], handlers: [reload], treeChecks: [{ name: 'nginx', root: '/etc/nginx', command: 'nginx -t' }] },
  ]);
  assert.deepEqual(h.tasks.map((t) => t.name), ['nginx', 'conf dir', 'haupd']);
  assert.deepEqual(h.handlers, [reload]);
  assert.equal(h.treeChecks!.length, 1);
  assert.equal(h.name, 'lb5');
  assert.equal(h.phase, 'master');
});

test('contradictions are usage errors naming both roles', () => {
  assert.throws(
    () =>
      composeHost(base, [
        { role: 'lb', tasks: [{ name: 'site', op: { op: 'file', path: '/etc/nginx/conf.d/x.conf', content: 'a' } }], handlers: [reload] },
        { role: 'web', tasks: [{ name: 'page', op: { op: 'file', path: '/etc/nginx/conf.d/x.conf', content: 'b' } }], handlers: [{ ...reload, restoreOnFailure: false }] },
      ]),
    (e: unknown) => {
      assert.equal(
        (e as Error).message,
        'host lb5: roles contradict each other:\n  /etc/nginx/conf.d/x.conf is managed differently by "site" (lb) and "page" (web)\n  handler "reload nginx" is defined differently by lb and web',
      );
      return true;
    },
  );
});
