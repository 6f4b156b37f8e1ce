import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHost } from '../../src/engine/plan.ts';
import { DEBIAN_DEFAULT_SITE, LB_PROXY_PARAMS, LB_SITE, lbRole, renderLbSite, renderProxyParams } from '../../src/roles/lb.ts';
import { content, convergedFacts, fileTask, golden, labInventory } from './fixture.ts';

test('lb role on the lab: upstream of both webs with a shared zone and a server on the listen port (golden)', async () => {
  const inv = await labInventory();
  const site = renderLbSite(inv);
  assert.equal(site, golden('haup-lb.conf'));
  assert.match(site, /^\s+zone haup_web 64k;$/m);
  assert.match(site, /server 198\.18\.0\.7:80 max_fails=1 fail_timeout=10s;/);
  assert.match(site, /server 198\.18\.0\.8:80 max_fails=1 fail_timeout=10s;/);
  assert.match(site, /listen 80 default_server;/);
  assert.match(site, /include \/etc\/nginx\/haup-proxy-params;/);
});

test('lb role: proxy_params from the inventory defaults: Host $host, X-Real-IP, X-Forwarded-For/-Proto, timeouts, buffers (golden)', async () => {
  const inv = await labInventory();
  assert.equal(renderProxyParams(inv), golden('haup-proxy-params'));
});

test('lb role: proxy_params options: $http_host, no X-Forwarded-For, other timeouts and buffers, buffering off', async () => {
  const inv = await labInventory((t) =>
    t.replace(
      'nginx:\n  listen: 80',
      'nginx:\n  listen: 8081\n  proxy_params: { host_header: $http_host, x_forwarded_for: false, connect_timeout: 5, send_timeout: 7, read_timeout: 9, buffering: false, buffer_size: 8k, buffers: { count: 16, size: 16k } }',
    ),
  );
  const p = renderProxyParams(inv);
  assert.match(p, /^proxy_set_header Host \$http_host;$/m);
  assert.doesNotMatch(p, /X-Forwarded-For/);
  assert.match(p, /^proxy_set_header X-Real-IP \$remote_addr;$/m);
  assert.match(p, /^proxy_set_header X-Forwarded-Proto \$scheme;$/m);
  for (const line of ['proxy_connect_timeout 5s;', 'proxy_send_timeout 7s;', 'proxy_read_timeout 9s;', 'proxy_buffering off;', 'proxy_buffer_size 8k;', 'proxy_buffers 16 16k;']) {
    assert.ok(p.split('\n').includes(line), line);
  }
  assert.match(renderLbSite(inv), /listen 8081 default_server;/);
});

test('lb role: upstream options: no zone, least_conn, keepalive (with HTTP/1.1 to the backends)', async () => {
  const inv = await labInventory((t) => t.replace('nginx:\n  listen: 80', 'nginx:\n  listen: 80\n  upstream: { zone: false, method: least_conn, keepalive: 8 }'));
  const site = renderLbSite(inv);
  assert.doesNotMatch(site, /zone/);
  assert.match(site, /^\s+least_conn;$/m);
  assert.match(site, /^\s+keepalive 8;$/m);
  const p = renderProxyParams(inv);
  assert.match(p, /^proxy_http_version 1\.1;$/m);
  assert.match(p, /^proxy_set_header Connection "";$/m);
});

test('lb role: tasks in order, every config file notifies the nginx reload, the staged tree is checked', async () => {
  const inv = await labInventory();
  const r = lbRole(inv, inv.lb[0]!);
  assert.deepEqual(r.tasks.map((t) => t.op.op), ['package', 'absent', 'command', 'file', 'file', 'service']);
  assert.deepEqual(r.tasks[1]!.op, { op: 'absent', path: DEBIAN_DEFAULT_SITE });
  assert.deepEqual(r.tasks[2]!.op, { op: 'command', command: `rm -f ${DEBIAN_DEFAULT_SITE}`, creates: LB_SITE });
  assert.equal(content(fileTask(r.tasks, LB_PROXY_PARAMS)), golden('haup-proxy-params'));
  for (const t of r.tasks.slice(1, 5)) assert.deepEqual(t.notify, ['reload nginx']);
  assert.equal(r.handlers[0]!.restoreOnFailure, true);
  assert.deepEqual(r.treeChecks.map((c) => c.root), ['/etc/nginx']);
});

test('lb role: idempotent on a converged host', async () => {
  const inv = await labInventory();
  const r = lbRole(inv, inv.lb[0]!);
  const plan = planHost(r.tasks, r.handlers, convergedFacts(r.tasks, ['nginx']));
  assert.equal(plan.changed, 0);
  assert.deepEqual(plan.notified, []);
});

test('lb role: a changed timeout changes exactly the proxy_params file and notifies the reload', async () => {
  const inv = await labInventory();
  const before = lbRole(inv, inv.lb[0]!);
  const inv2 = await labInventory((t) => t.replace('nginx:\n  listen: 80', 'nginx:\n  listen: 80\n  proxy_params: { read_timeout: 61 }'));
  const after = lbRole(inv2, inv2.lb[0]!);
  const plan = planHost(after.tasks, after.handlers, convergedFacts(before.tasks, ['nginx']));
  assert.deepEqual(plan.tasks.filter((p) => p.change?.status === 'changed').map((p) => p.task.name), ['nginx proxy_params']);
  assert.deepEqual(plan.notified.map((h) => h.name), ['reload nginx']);
});
