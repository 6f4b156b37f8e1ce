import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeLabel, parseListenAddress, renderMetrics } from '../../src/vrrp/metrics.ts';
import type { DaemonStatus } from '../../src/vrrp/status.ts';

const status: DaemonStatus = {
  pid: 42,
  version: '0.1.0',
  startedAt: '2026-11-22T00:00:00.000Z',
  uptimeSeconds: 10,
  configFile: '/etc/haupd/haupd.yml',
  partitionGuard: { gateway: '198.18.0.1', status: 'ok' },
  instances: [
    {
      name: 'VI_1',
      interface: 'eth0',
      vrid: 51,
      version: 3,
      state: 'BACKUP',
      priority: 100,
      effectivePriority: 80,
      vips: ['198.18.0.3/24'],
      vipsHeld: false,
      masterSeen: { address: '198.18.0.6', priority: 150, at: '2026-11-22T00:00:01.000Z' },
      lastTransition: { from: 'INIT', to: 'BACKUP', reason: 'start', at: '2026-11-22T00:00:00.000Z' },
      counters: { advertsSent: 0, advertsReceived: 12, becameMaster: 0, drops: { ttl: 2, 'auth "x"': 1 } },
      tracks: [
        { name: 'nginx', kind: 'script', status: 'failed', weight: -20, detail: 'no nginx process' },
        { name: 'eth1', kind: 'interface', status: 'unknown', weight: 0 },
      ],
    },
  ],
};

test('renders the Prometheus text format with HELP/TYPE and haupd_ names', () => {
  const L = 'instance="VI_1",interface="eth0",vrid="51"';
  assert.equal(
    renderMetrics(status),
    [
      '# HELP haupd_up haupd is running.',
      '# TYPE haupd_up gauge',
      'haupd_up 1',
      '# HELP haupd_start_time_seconds Start time of haupd since the Unix epoch.',
      '# TYPE haupd_start_time_seconds gauge',
      'haupd_start_time_seconds 1795305600',
      '# HELP haupd_instance_state VRRP state of the instance (1 for the current state, 0 for the others).',
      '# TYPE haupd_instance_state gauge',
      `haupd_instance_state{${L},state="INIT"} 0`,
      `haupd_instance_state{${L},state="BACKUP"} 1`,
      `haupd_instance_state{${L},state="MASTER"} 0`,
      `haupd_instance_state{${L},state="FAULT"} 0`,
      '# HELP haupd_instance_priority Configured VRRP priority.',
      '# TYPE haupd_instance_priority gauge',
      `haupd_instance_priority{${L}} 100`,
      '# HELP haupd_instance_effective_priority Advertised priority after tracking (1..254, 255 for an owner).',
      '# TYPE haupd_instance_effective_priority gauge',
      `haupd_instance_effective_priority{${L}} 80`,
      '# HELP haupd_instance_vips_held Whether the instance holds its VIPs on the interface.',
      '# TYPE haupd_instance_vips_held gauge',
      `haupd_instance_vips_held{${L}} 0`,
      '# HELP haupd_adverts_sent_total VRRP adverts sent.',
      '# TYPE haupd_adverts_sent_total counter',
      `haupd_adverts_sent_total{${L}} 0`,
      '# HELP haupd_adverts_received_total Valid VRRP adverts received.',
      '# TYPE haupd_adverts_received_total counter',
      `haupd_adverts_received_total{${L}} 12`,
      '# HELP haupd_became_master_total Transitions to MASTER.',
      '# TYPE haupd_became_master_total counter',
      `haupd_became_master_total{${L}} 0`,
      '# HELP haupd_packets_dropped_total Received packets dropped, by reason.',
      '# TYPE haupd_packets_dropped_total counter',
      `haupd_packets_dropped_total{${L},reason="ttl"} 2`,
      `haupd_packets_dropped_total{${L},reason="auth \\"x\\""} 1`,
      '# HELP haupd_track_up Tracked item status: 1 ok, 0 failed, -1 not checked yet.',
      '# TYPE haupd_track_up gauge',
      `haupd_track_up{${L},track="nginx",kind="script"} 0`,
      `haupd_track_up{${L},track="eth1",kind="interface"} -1`,
      '# HELP haupd_partition_guard_reachable Gateway reachable: 1 yes, 0 isolated, -1 not checked yet.',
      '# TYPE haupd_partition_guard_reachable gauge',
      'haupd_partition_guard_reachable{gateway="198.18.0.1"} 1',
      '',
    ].join('\n'),
  );
});

test('every sample line belongs to a family announced by HELP and TYPE just before', () => {
  let family = '';
  for (const line of renderMetrics({ ...status, partitionGuard: null }).trimEnd().split('\n')) {
    const help = /^# HELP (haupd_[a-z_]+) /.exec(line);
    if (help) {
      family = help[1]!;
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      assert.match(line, new RegExp(`^# TYPE ${family} (gauge|counter)$`));
      continue;
    }
    assert.match(line, /^haupd_[a-z_]+(\{[^}]*\})? -?\d+$/);
    assert.equal(line.split(/[{ ]/)[0], family);
  }
  assert.doesNotMatch(renderMetrics({ ...status, partitionGuard: null }), /partition_guard/);
});

test('label escaping and listen address parsing', () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.deepEqual(parseListenAddress('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  assert.throws(() => parseListenAddress('localhost:9650'), /IPV4:PORT/);
  assert.throws(() => parseListenAddress('127.0.0.1:70000'), /IPV4:PORT/);
});
