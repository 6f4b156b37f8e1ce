import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHost } from '../../src/engine/plan.ts';
import { serviceTitle, webRole, WEB_INDEX, WEB_SITE } from '../../src/roles/web.ts';
import { nginxReloadScript } from '../../src/roles/nginx.ts';
import { content, convergedFacts, fileTask, golden, labInventory } from './fixture.ts';

test('serviceTitle: the host name, capitalised, + " Service"', () => {
  assert.equal(serviceTitle('web7'), 'Web7 Service');
  assert.equal(serviceTitle('api-2'), 'Api-2 Service');
});

test('web role on the lab: nginx installed, the page naming the host (golden), nginx enabled and started', async () => {
  const inv = await labInventory();
  const r = webRole(inv, inv.web[0]!);
  assert.deepEqual(
    r.tasks.map((t) => t.op),
    [
      { op: 'package', names: ['nginx'], update: true, noStart: true },
      { op: 'file', path: WEB_INDEX, content: golden('index-web7.html') },
      { op: 'service', name: 'nginx', enabled: true, state: 'started' },
    ],
  );
  assert.match(content(fileTask(webRole(inv, inv.web[1]!).tasks, WEB_INDEX)), /<h1>Web8 Service<\/h1>/);
  assert.deepEqual(r.handlers.map((h) => [h.name, h.op, h.restoreOnFailure]), [['reload nginx', { op: 'command', command: nginxReloadScript(), onlyIf: 'systemctl is-active --quiet nginx.service' }, true]]);
});

test('web role: another backend port gets its own server (validated by nginx -t, reload on change)', async () => {
  const inv = await labInventory((t) => t.replace('nginx:\n  listen: 80', 'nginx:\n  listen: 80\n  backend_port: 8080'));
  const r = webRole(inv, inv.web[0]!);
  const site = fileTask(r.tasks, WEB_SITE);
  assert.match(content(site), /^\s+listen 8080;$/m);
  assert.doesNotMatch(content(site), /default_server/);
  assert.deepEqual(site.notify, ['reload nginx']);
  assert.deepEqual(r.treeChecks, [{ name: 'nginx -t', root: '/etc/nginx', command: 'nginx -t -q -c {stage}/nginx.conf' }]);
});

test('web role: test_page false manages no page', async () => {
  const inv = await labInventory((t) => t.replace('nginx:\n  listen: 80', 'nginx:\n  listen: 80\n  test_page: false'));
  assert.equal(webRole(inv, inv.web[0]!).tasks.some((t) => t.op.op === 'file'), false);
});

test('web role: idempotent: on a converged host the plan changes nothing and notifies nothing', async () => {
  const inv = await labInventory();
  const r = webRole(inv, inv.web[0]!);
  const plan = planHost(r.tasks, r.handlers, convergedFacts(r.tasks, ['nginx']));
  assert.equal(plan.changed, 0);
  assert.deepEqual(plan.notified, []);
});
