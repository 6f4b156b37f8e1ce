import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary } from '../../src/inventory/summary.ts';
import { fakeIO, inventory, model } from './fixture.ts';

test('summary: hosts by role, instance, master and backups; never the secret', async () => {
  const inv = await model(inventory({ 19: '    nginx: { script: builtin:nginx, weight: -60 }' }), { io: fakeIO({ PASS: 'xyzzy42' }) });
  assert.equal(
    formatSummary(inv),
    [
      '/srv/inv/inv.yml: ok (4 hosts, 1 VRRP instance, 0 warnings)',
      'web    web7 10.0.0.7',
      '       web8 10.0.0.8',
      'lb     lb5  10.0.0.5',
      '       lb6  10.0.0.6',
      'probe  (none)',
      'instance VI_1',
      '  vips     10.0.0.3/24',
      '  vrid     50 on eth0',
      '  vrrp     v2, advert every 1 s, auth PASS from env PASS',
      '  mode     preempt, multicast 224.0.0.18',
      '  master   lb5 (priority 150)',
      '  backups  lb6 (priority 100)',
      '  tracks   nginx (builtin:nginx, every 2 s, weight -60)',
      'partition guard: off',
    ].join('\n'),
  );
  assert.equal(formatSummary(inv, { verbose: true }).includes('xyzzy42'), false);
});

test('summary: v3, unicast, nopreempt, interface override, unavailable secret', async () => {
  const inv = await model(
    inventory({
      9: '    lb6: { address: 10.0.0.6, interface: ens3 }',
      14: '      interface: eth0\n      version: 3\n      advert_int: 0.1\n      unicast: true\n      preempt: false\n      track: []',
      17: '',
      18: '  partition_guard: { gateway: 10.0.0.1 }\n  checks:',
    }),
  );
  const text = formatSummary(inv);
  assert.match(text, /\n {2}vrrp {5}v3, advert every 0\.1 s, no auth, keepalived checksum\n/);
  assert.match(text, /\n {2}mode {5}nopreempt, unicast to the peers\n/);
  assert.match(text, /\n {2}backups {2}lb6 \(priority 100, on ens3\)\n/);
  assert.match(text, /\n {2}tracks {3}\(nothing\)\n/);
  assert.match(text, /\npartition guard: gateway 10\.0\.0\.1, every 1 s, fault after 3 misses$/);
  const unset = await model(inventory(), { io: fakeIO({}), secrets: 'report' });
  assert.match(formatSummary(unset), /auth PASS from env PASS, not available here\n/);
});
