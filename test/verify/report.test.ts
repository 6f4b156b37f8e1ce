import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderChecks, renderFailover } from '../../src/verify/report.ts';
import type { ScenarioResult } from '../../src/verify/scenarios.ts';
import { renderStatus, statusRows } from '../../src/cli/status.ts';
import type { HaupdStatusDoc } from '../../src/verify/cluster.ts';
import { labInventory } from './fixture.ts';

const probe = (failed: number, total: number, gap: number) => ({ total, failed, longestGapMs: gap, firstFailMs: null, lastFailMs: null, failCodes: {}, windowMs: 0, failures: [] });

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return { id: 'freeze', title: '', instance: 'VI_1', vip: '198.18.0.3', target: 'lb5', expectTo: 'lb6', vipMovedAfterMs: 3590, probe: probe(0, 310, 42), switchResets: 0, probeFrom: 'client', bound: { vipMs: 4359, gapMs: 4609, failedMax: null, basis: '' }, ok: true, reasons: [], notes: [], perVip: [], ...over };
}

test('checks: one line per check with its evidence, then the summary', () => {
  const text = renderChecks([
    { kind: 'nginx', name: 'nginx on lb5', ok: true, evidence: 'active; nginx -t: ok' },
    { kind: 'vip', name: 'VIP 198.18.0.3 (VI_1)', ok: false, evidence: 'held by 2 LBs at once: lb5, lb6 (dual holder)' },
  ]);
  assert.equal(text, ['PASS  nginx on lb5: active; nginx -t: ok', 'FAIL  VIP 198.18.0.3 (VI_1): held by 2 LBs at once: lb5, lb6 (dual holder)', 'verify: 1 of 2 checks FAILED'].join('\n'));
});

test('failover table: moved after, longest gap, failed/total, bound, verdict; reasons and notes below', () => {
  const text = renderFailover([
    result({ id: 'planned-stop', vipMovedAfterMs: 12, probe: probe(1, 180, 24), switchResets: 1, bound: { vipMs: 4359, gapMs: null, failedMax: 0, basis: '' } }),
    result({ notes: ['a frozen haupd cannot release'] }),
    result({ id: 'backend-dies', target: 'web7', expectTo: null, vipMovedAfterMs: null, probe: probe(0, 260, 21), bound: { vipMs: null, gapMs: null, failedMax: 0, basis: '' } }),
    result({ id: 'nginx-dies', vipMovedAfterMs: 9100, probe: probe(250, 600, 9200), bound: { vipMs: 8359, gapMs: 8609, failedMax: null, basis: '' }, ok: false, reasons: ['the VIP reached lb6 after 9100 ms, bound 8359 ms'] }),
  ]);
  assert.equal(
    text,
    [
      'SCENARIO      VIP MOVED AFTER  LONGEST GAP  FAILED/TOTAL         BOUND                            VERDICT',
      'planned-stop  12 ms -> lb6     24 ms        1/180 (1 at switch)  move <= 4359 ms, failed <= 0     pass',
      'freeze        3590 ms -> lb6   42 ms        0/310                move <= 4359 ms, gap <= 4609 ms  pass',
      'backend-dies  stayed           21 ms        0/260                stay, failed <= 0                pass',
      'nginx-dies    9100 ms -> lb6   9200 ms      250/600              move <= 8359 ms, gap <= 8609 ms  FAIL',
      '  freeze: a frozen haupd cannot release',
      '  nginx-dies: FAIL: the VIP reached lb6 after 9100 ms, bound 8359 ms',
      'client: one request every 20 ms through the VIP from client; VIP changes timed by `ip monitor` on every LB (polling `ip addr` every 100 ms where it gave no timeline)',
      'failover: 1 of 4 scenarios FAILED',
    ].join('\n'),
  );
});

test('status: one row per LB and instance from haupd\'s documents; an LB without haupd says why', async () => {
  const inv = await labInventory();
  const lb5: HaupdStatusDoc = {
    pid: 1,
    startedAt: '',
    shuttingDown: false,
    instances: [
      {
        name: 'VI_1', vrid: 50, interface: 'eth0', state: 'master', priority: 150, effectivePriority: 150, vips: ['198.18.0.3/24'], vipsHeld: true, primaryAddress: '198.18.0.5',
        masterSeen: { address: '198.18.0.5', priority: 150, self: true },
        lastTransition: { from: 'backup', to: 'master', cause: 'master_down', reason: 'no advert for 3.609 s', at: '2026-11-22T00:00:00.000Z' },
        faults: [],
      },
    ],
  };
  const rows = statusRows(inv, { lb5, lb6: { error: 'haupd status failed: is haupd running?' } });
  assert.deepEqual(rows.map((r) => [r.lb, r.state, r.masterSeen]), [['lb5', 'master', 'self'], ['lb6', 'unknown', null]]);
  assert.equal(
    renderStatus(rows, Date.parse('2026-11-22T00:00:42Z')),
    [
      'LB   INSTANCE  STATE    PRIO  EFFECTIVE  MASTER SEEN  VIPS  LAST TRANSITION',
      'lb5  VI_1      master   150   150        self         held  backup -> master 42 s ago: no advert for 3.609 s',
      'lb6  VI_1      unknown  -     -          -            -     haupd status failed: is haupd running?',
    ].join('\n'),
  );
});

test('failover table with two VIPs: one row per scenario (moved = both on the new holder), a per-VIP line, every failed request', () => {
  const text = renderFailover([
    result({
      id: 'planned-stop',
      vip: '198.18.0.3 198.18.0.4',
      vipMovedAfterMs: 31,
      probe: probe(1, 360, 45),
      perVip: [
        { vip: '198.18.0.3', movedAfterMs: 24, probe: probe(0, 180, 24) },
        { vip: '198.18.0.4', movedAfterMs: 31, probe: probe(1, 180, 45) },
      ],
      bound: { vipMs: 4359, gapMs: null, failedMax: 0, basis: '' },
      ok: false,
      reasons: ['1 failed requests, allowed 0'],
      notes: ['1 failed request via 198.18.0.4 (start after the fault, curl exit/HTTP code, duration): +28 ms curl 56/000 (64 ms)'],
    }),
  ]);
  assert.equal(
    text,
    [
      'SCENARIO      VIP MOVED AFTER  LONGEST GAP  FAILED/TOTAL  BOUND                         VERDICT',
      'planned-stop  31 ms -> lb6     45 ms        1/360         move <= 4359 ms, failed <= 0  FAIL',
      '  planned-stop: FAIL: 1 failed requests, allowed 0',
      '  planned-stop: per VIP: 198.18.0.3 moved 24 ms, gap 24 ms, 0/180 failed; 198.18.0.4 moved 31 ms, gap 45 ms, 1/180 failed',
      '  planned-stop: 1 failed request via 198.18.0.4 (start after the fault, curl exit/HTTP code, duration): +28 ms curl 56/000 (64 ms)',
      'client: one request every 20 ms through each VIP from client; VIP changes timed by `ip monitor` on every LB (polling `ip addr` every 100 ms where it gave no timeline) (moved = when the new holder had every VIP)',
      'failover: 1 of 1 scenarios FAILED',
    ].join('\n'),
  );
});
