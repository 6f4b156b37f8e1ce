import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendOf, evaluateHaupd, evaluateHttp, evaluateVip } from '../../src/verify/checks.ts';
import { normalizeStatus, parseHttpGets, parseIpAddrJson, type HaupdStatusDoc } from '../../src/verify/cluster.ts';
import { checkMovesVip, judgeFigures, nginxCheckOf } from '../../src/verify/scenarios.ts';
import { labInventory, LINES } from './fixture.ts';

const page = (h: string, a: string) => `<!DOCTYPE html>\n<title>${h[0]!.toUpperCase()}${h.slice(1)} Service</title>\n<p>host ${h} (${a}), deployed by haup</p>`;

function doc(name: string, state: string, prio: number, eff: number, seen: { address: string; self: boolean } | null, faults: { source: string; reason: string }[] = []): HaupdStatusDoc {
  return {
    pid: 1,
    startedAt: '',
    shuttingDown: false,
    instances: [{ name, vrid: 50, interface: 'eth0', state, priority: prio, effectivePriority: eff, vips: ['198.18.0.3/24'], vipsHeld: state === 'master', primaryAddress: null, masterSeen: seen ? { ...seen, priority: 150 } : null, lastTransition: null, faults }],
  };
}

test('ip -j addr: the IPv4 addresses of the interface', () => {
  const json = JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '198.18.0.5', prefixlen: 24 }, { family: 'inet', local: '198.18.0.3', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1' }] }]);
  assert.deepEqual(parseIpAddrJson(json), ['198.18.0.5', '198.18.0.3']);
  assert.deepEqual(parseIpAddrJson(''), []);
});

test('http gets: bodies split at the code markers; the backend named by the test page', async () => {
  const inv = await labInventory();
  const r = parseHttpGets(`${page('web7', '198.18.0.7')}\n@@code 200\n${page('web8', '198.18.0.8')}\n@@code 200\n\n@@code 000\n`);
  assert.deepEqual(r.map((x) => x.code), [200, 200, 0]);
  assert.deepEqual(r.map((x) => backendOf(x.body, inv.web)), ['web7', 'web8', undefined]);
});

test('VIP: exactly one holder, the master, passes; none, two, the wrong one or an unreadable LB fail', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  const vip = inst.vips[0]!;
  assert.equal(evaluateVip(inst, vip, { lb5: ['198.18.0.5', '198.18.0.3'], lb6: ['198.18.0.6'] }).ok, true);
  const dual = evaluateVip(inst, vip, { lb6: ['198.18.0.3'], lb5: ['198.18.0.3'] }); // answers in any order
  assert.deepEqual([dual.ok, dual.evidence], [false, 'held by 2 LBs at once: lb5, lb6 (dual holder)']);
  assert.equal(evaluateVip(inst, vip, { lb5: [], lb6: [] }).evidence, 'no LB holds it (lb5: not held; lb6: not held)');
  assert.equal(evaluateVip(inst, vip, { lb5: [], lb6: ['198.18.0.3'] }).evidence, 'on lb6, expected on the master lb5');
  assert.equal(evaluateVip(inst, vip, { lb5: { error: 'unreachable' }, lb6: ['198.18.0.3'] }).ok, false);
  const np = (await labInventory({ inst: LINES.inst!.replace('track: [nginx]', 'track: [nginx], preempt: false') })).vrrp.instances[0]!;
  assert.equal(evaluateVip(np, vip, { lb5: [], lb6: ['198.18.0.3'] }).ok, true);
});

test('haupd: one master, the rest backup following it; dual master, no master, fault and disagreement fail', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  const m = doc('VI_1', 'master', 150, 150, { address: '198.18.0.5', self: true });
  const b = doc('VI_1', 'backup', 100, 100, { address: '198.18.0.5', self: false });
  const ok = evaluateHaupd(inst, { lb5: m, lb6: b }, 'lb5');
  assert.equal(ok.ok, true, ok.evidence);
  assert.equal(ok.evidence, 'lb5 master (prio 150, master seen: self); lb6 backup (prio 100, master seen: lb5)');
  const dual = evaluateHaupd(inst, { lb5: m, lb6: doc('VI_1', 'master', 100, 100, { address: '198.18.0.6', self: true }) });
  assert.match(dual.evidence, /^2 masters: lb5, lb6 \(dual master\)/);
  assert.match(evaluateHaupd(inst, { lb5: b, lb6: b }).evidence, /no master/);
  const fault = evaluateHaupd(inst, { lb5: m, lb6: doc('VI_1', 'fault', 100, 100, null, [{ source: 'link:eth0', reason: 'eth0 is down' }]) });
  assert.match(fault.evidence, /^lb6 is fault: eth0 is down/);
  assert.match(evaluateHaupd(inst, { lb5: m, lb6: b }, 'lb6').evidence, /haupd's master is lb5 but the VIP is on lb6/);
  assert.match(evaluateHaupd(inst, { lb5: m, lb6: { error: 'haupd status failed: is haupd running?' } }).evidence, /^lb6: no status \(haupd status failed: is haupd running\?\)/);
  const lowered = evaluateHaupd(inst, { lb5: doc('VI_1', 'master', 150, 90, { address: '198.18.0.5', self: true }), lb6: b }, 'lb5');
  assert.match(lowered.evidence, /lb5 master \(prio 90 of 150/);
});

test('http through the VIP: every request 200 and every web reached; otherwise the reason', async () => {
  const inv = await labInventory();
  const r7 = { code: 200, body: page('web7', '198.18.0.7') };
  const r8 = { code: 200, body: page('web8', '198.18.0.8') };
  const good = evaluateHttp('http', [r8, r7, r7, r8], inv.web, true);
  assert.deepEqual([good.ok, good.evidence], [true, '4/4 200; backends: web7 x2, web8 x2']);
  const one = evaluateHttp('http', [r7, r7, { code: 502, body: '' }], inv.web, true);
  assert.deepEqual([one.ok, one.evidence], [false, '1 of 3 not 200 (502); never reached web8; 2/3 200; backends: web7 x2']);
  assert.equal(evaluateHttp('http', [], inv.web, true).ok, false);
});

test('nginx check moves the VIP only when the failing master drops below the backup (or weight 0 = Fault)', async () => {
  const inv = await labInventory();
  const inst = inv.vrrp.instances[0]!;
  const check = nginxCheckOf(inv.vrrp.checks, inst)!;
  assert.equal(check.name, 'nginx');
  assert.equal(checkMovesVip(inst, check), true); // 150 - 60 = 90 < 100
  assert.equal(checkMovesVip(inst, { ...check, weight: -40 }), false); // 110 > 100
  assert.equal(checkMovesVip(inst, { ...check, weight: 0 }), true);
  assert.equal(checkMovesVip(inst, { ...check, weight: 60 }), true); // 150 < 100 + 60
  assert.equal(checkMovesVip(inst, { ...check, weight: 40 }), false);
  // Without `track`, an instance tracks every check; `track: []` tracks none.
  const untracked = (await labInventory({ inst: LINES.inst!.replace('track: [nginx]', 'track: []') })).vrrp.instances[0]!;
  assert.equal(nginxCheckOf(inv.vrrp.checks, untracked), undefined);
});

test('verdict: move within the bound, failed and gap within theirs, a VIP that must stay stays', () => {
  const probe = { total: 100, failed: 0, longestGapMs: 40, firstFailMs: null, lastFailMs: null, failCodes: {}, windowMs: 2000, failures: [] };
  const bound = { vipMs: 4359, gapMs: 4609, failedMax: null, basis: '' };
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: 3650, probe, bound }, null), []);
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: 4400, probe, bound }, null), ['the VIP reached lb6 after 4400 ms, bound 4359 ms']);
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: null, probe, bound }, null), ['the VIP never reached lb6']);
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: 100, probe: { ...probe, longestGapMs: 5000 }, bound }, null), ['longest gap 5000 ms, bound 4609 ms']);
  const planned = { vipMs: 4359, gapMs: null, failedMax: 0, basis: '' };
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: 30, probe: { ...probe, failed: 2 }, bound: planned }, null), ['2 failed requests, allowed 0']);
  // Connections reset in flight across the ARP switch are reported, not counted; the rest are.
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: 30, probe: { ...probe, failed: 1 }, switchResets: 1, bound: planned }, null), []);
  assert.deepEqual(judgeFigures({ expectTo: 'lb6', vipMovedAfterMs: 30, probe: { ...probe, failed: 3 }, switchResets: 1, bound: planned }, null), ['2 failed requests (and 1 reset in flight across the switch), allowed 0']);
  const stay = { vipMs: null, gapMs: null, failedMax: 0, basis: '' };
  assert.deepEqual(judgeFigures({ expectTo: null, vipMovedAfterMs: null, probe, bound: stay }, null), []);
  assert.deepEqual(judgeFigures({ expectTo: null, vipMovedAfterMs: null, probe, bound: stay }, 'lb6 took it'), ['the VIP moved (lb6 took it) but must stay']);
});

test('status documents: haupd\'s capital state names are read in lower case; missing optional fields tolerated', () => {
  const doc = { pid: 1, startedAt: '', shuttingDown: false, instances: [{ name: 'VI_1', vrid: 50, interface: 'eth0', state: 'MASTER', priority: 150, effectivePriority: 150, vips: [], vipsHeld: true, primaryAddress: null, masterSeen: { address: '198.18.0.5', priority: 150 }, lastTransition: { from: 'BACKUP', to: 'MASTER', cause: 'master_down', reason: 'r' } }] } as unknown as HaupdStatusDoc;
  const n = normalizeStatus(doc).instances[0]!;
  assert.deepEqual([n.state, n.lastTransition?.from, n.lastTransition?.to, n.masterSeen?.self, n.faults], ['master', 'backup', 'master', false, []]);
});
