// The deploy benchmark's pure parts: statistics, Ansible's recap, the bench lab's haup inventory
// and the Ansible inventory generated from it (same hosts, VRRP and nginx settings as haup's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/load.ts';
import { ansibleInventory } from '../../bench/ansible/inventory.ts';
import { benchTopology, haupInventoryText, readLabInventory } from '../../bench/deploy/lab.ts';
import { formatSummary, parseAnsibleRecap, recapTotals, summarize } from '../../bench/deploy/stats.ts';

test('summarize: median of odd and even counts, min, max; nothing for no samples', () => {
  assert.deepEqual(summarize([3000, 1000, 2000]), { n: 3, median: 2000, min: 1000, max: 3000 });
  assert.deepEqual(summarize([4000, 1000, 2000, 3000]), { n: 4, median: 2500, min: 1000, max: 4000 });
  assert.equal(summarize([]), undefined);
  assert.equal(formatSummary(summarize([12700, 12400, 13500])), '12.7 s (12.4–13.5)');
  assert.equal(formatSummary(summarize([412, 388, 455]), 2), '0.41 s (0.39–0.46)');
  assert.equal(formatSummary(undefined), '—');
});

test('parseAnsibleRecap reads the last PLAY RECAP, one entry per host', () => {
  const out = [
    'TASK [web : nginx installed] ***',
    'changed: [web7]',
    '',
    'PLAY RECAP *********************************************************************',
    'lb5                        : ok=12   changed=9    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   ',
    'web7                       : ok=4    changed=2    unreachable=1    failed=1    skipped=0    rescued=0    ignored=0   ',
    '',
  ].join('\n');
  const recap = parseAnsibleRecap(out);
  assert.deepEqual([...recap.keys()], ['lb5', 'web7']);
  assert.deepEqual(recap.get('web7'), { ok: 4, changed: 2, unreachable: 1, failed: 1 });
  assert.deepEqual(recapTotals(recap), { ok: 16, changed: 11, unreachable: 1, failed: 1, hosts: 2 });
  assert.equal(parseAnsibleRecap('ERROR! the playbook could not be found').size, 0);
});

test('bench lab: own name and range, the four deploy hosts, no client', () => {
  const t = benchTopology('198.18.44', 'hbdep');
  assert.equal(t.range, '198.18.44.0/24');
  assert.equal(t.vip, '198.18.44.3');
  assert.deepEqual(t.hosts.map((h) => [h.name, h.address, h.netns]), [
    ['lb5', '198.18.44.5', 'hbdep-lb5'],
    ['lb6', '198.18.44.6', 'hbdep-lb6'],
    ['web7', '198.18.44.7', 'hbdep-web7'],
    ['web8', '198.18.44.8', 'hbdep-web8'],
  ]);
});

test('the Ansible inventory carries the same hosts and settings as the haup inventory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-bench-inv-'));
  try {
    const pass = join(dir, 'vrrp-pass');
    writeFileSync(pass, 'Secr3tXy\n', { mode: 0o600 });
    const text = haupInventoryText(readLabInventory(), '198.18.44', dir).replace(`${dir}/vrrp-pass`, pass);
    assert.ok(!text.includes('198.18.0.'), 'no address of the shared lab is left');
    assert.ok(!/^probe:/m.test(text), 'the probe group is dropped');
    const file = join(dir, 'haup.yml');
    writeFileSync(file, text);
    const generated = ansibleInventory(await loadInventory(file));
    assert.ok(!generated.includes('Secr3tXy'), 'the PASS is read at deploy time, never copied');
    const inv = parse(generated) as any;
    const vars = inv.all.vars;
    assert.equal(vars.ansible_user, 'root');
    assert.equal(vars.ansible_ssh_private_key_file, `${dir}/ssh/id_ed25519`);
    assert.match(vars.ansible_ssh_common_args, /-o StrictHostKeyChecking=yes/);
    assert.match(vars.ansible_ssh_common_args, new RegExp(`-o UserKnownHostsFile=${dir}/ssh/known_hosts`));
    assert.deepEqual(inv.all.children.webs.hosts, { web7: { ansible_host: '198.18.44.7' }, web8: { ansible_host: '198.18.44.8' } });
    const lbs = inv.all.children.lbs;
    assert.deepEqual(lbs.hosts, {
      lb5: { ansible_host: '198.18.44.5', vrrp_priority: 150, vrrp_state: 'MASTER', vrrp_interface: 'eth0' },
      lb6: { ansible_host: '198.18.44.6', vrrp_priority: 100, vrrp_state: 'BACKUP', vrrp_interface: 'eth0' },
    });
    assert.deepEqual(lbs.vars.vrrp, { name: 'VI_1', vrid: 50, version: 2, advert_int: 1, vips: ['198.18.44.3/24'], pass_file: pass, preempt: true });
    assert.deepEqual(lbs.vars.check_nginx, { interval: 1, timeout: 1, fall: 2, rise: 2, weight: -60 });
    assert.equal(lbs.vars.upstream.zone, true);
    assert.deepEqual(lbs.vars.upstream.servers.map((s: { address: string }) => s.address), ['198.18.44.7', '198.18.44.8']);
    assert.equal(lbs.vars.proxy.host_header, '$host');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
