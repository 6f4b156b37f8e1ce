import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrsOverlap, formatIpv4, parseCidr, parseIpv4 } from '../../src/lab/ipv4.ts';
import { buildTopology, labConfigSchema, macFor, rangeCollisions } from '../../src/lab/topology.ts';
import { defaultTopology, parseLabConfig } from '../../src/lab/config.ts';
import { InputError } from '../../src/util/errors.ts';

test('ipv4: parse/format round trip and rejects', () => {
  assert.equal(parseIpv4('198.18.0.5'), 0xc6120005);
  assert.equal(formatIpv4(0xc6120005), '198.18.0.5');
  assert.equal(parseIpv4('256.1.1.1'), undefined);
  assert.equal(parseIpv4('1.2.3'), undefined);
  assert.deepEqual(parseCidr('198.18.0.7/24'), { network: 0xc6120000, prefix: 24 });
  assert.deepEqual(parseCidr('10.0.0.1'), { network: 0x0a000001, prefix: 32 });
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0/x'), undefined);
});

test('ipv4: overlap is symmetric and exact at the edges', () => {
  const lab = parseCidr('198.18.0.0/24')!;
  assert.equal(cidrsOverlap(lab, parseCidr('198.18.0.255')!), true);
  assert.equal(cidrsOverlap(parseCidr('198.18.0.255')!, lab), true);
  assert.equal(cidrsOverlap(lab, parseCidr('198.18.1.0')!), false);
  assert.equal(cidrsOverlap(lab, parseCidr('198.18.0.0/15')!), true);
  assert.equal(cidrsOverlap(lab, parseCidr('192.0.2.0/24')!), false);
});

test('default topology matches lab-conventions.md', () => {
  const t = defaultTopology();
  assert.equal(t.range, '198.18.0.0/24');
  assert.equal(t.machineAddress, '198.18.0.1');
  assert.equal(t.vip, '198.18.0.3');
  assert.deepEqual(
    t.hosts.map((h) => [h.name, h.address, h.mac, h.netns, h.port]),
    [
      ['lb5', '198.18.0.5', '02:00:c6:12:00:05', 'hauplab-lb5', 'p-lb5'],
      ['lb6', '198.18.0.6', '02:00:c6:12:00:06', 'hauplab-lb6', 'p-lb6'],
      ['web7', '198.18.0.7', '02:00:c6:12:00:07', 'hauplab-web7', 'p-web7'],
      ['web8', '198.18.0.8', '02:00:c6:12:00:08', 'hauplab-web8', 'p-web8'],
      ['client', '198.18.0.9', '02:00:c6:12:00:09', 'hauplab-client', 'p-client'],
    ],
  );
  assert.equal(t.machineLink, 'hauplab0');
  assert.equal(t.bridgeNetns, 'hauplab-br');
});

test('macFor: locally administered unicast, one per address', () => {
  assert.equal(macFor(parseIpv4('198.18.47.255')!), '02:00:c6:12:2f:ff');
});

test('range collisions: uplink and default route do not collide; overlapping routes/addresses do', () => {
  const machine = [
    { cidr: '192.0.2.0/24', dev: 'eth0', kind: 'route' as const },
    { cidr: '192.0.2.2/24', dev: 'eth0', kind: 'address' as const },
    { cidr: '0.0.0.0/0', dev: 'eth0', kind: 'route' as const },
  ];
  assert.deepEqual(rangeCollisions('198.18.0.0/24', machine), []);
  assert.deepEqual(rangeCollisions('192.0.2.0/25', machine), [
    'route 192.0.2.0/24 on eth0 overlaps the lab range 192.0.2.0/25',
    'address 192.0.2.2/24 on eth0 overlaps the lab range 192.0.2.0/25',
  ]);
  const withLab = [...machine, { cidr: '198.18.0.0/16', dev: 'tun9', kind: 'route' as const }];
  assert.deepEqual(rangeCollisions('198.18.0.0/24', withLab), ['route 198.18.0.0/16 on tun9 overlaps the lab range 198.18.0.0/24']);
  // Up twice: the lab's own link is not a collision.
  const own = [...machine, { cidr: '198.18.0.0/24', dev: 'hauplab0', kind: 'route' as const }];
  assert.deepEqual(rangeCollisions('198.18.0.0/24', own, 'hauplab0'), []);
  assert.equal(rangeCollisions('198.18.0.0/24', own).length, 1);
});

test('buildTopology: every address problem at once', () => {
  const cfg = labConfigSchema.parse({
    range: '198.18.20.0/24',
    machine: '198.18.20.1',
    vip: '198.18.20.3',
    hosts: { a: '198.18.20.3', b: '198.18.21.4', c: '198.18.20.255', d: '198.18.20.1', e: '198.18.20.5', f: '198.18.20.5' },
  });
  const { topology, problems } = buildTopology(cfg);
  assert.equal(topology, undefined);
  assert.deepEqual(problems, [
    { path: 'hosts.a', message: 'host a 198.18.20.3 is already used by the VIP' },
    { path: 'hosts.b', message: 'host b 198.18.21.4 is outside the lab range 198.18.20.0/24' },
    { path: 'hosts.c', message: 'host c 198.18.20.255 is the network or broadcast address of 198.18.20.0/24' },
    { path: 'hosts.d', message: 'host d 198.18.20.1 is already used by the machine address' },
    { path: 'hosts.f', message: 'host f 198.18.20.5 is already used by host e' },
  ]);
});

test('buildTopology: own hosts without a VIP, custom name', () => {
  const { topology } = buildTopology(labConfigSchema.parse({ name: 'tl', range: '198.18.30.0/24', machine: '198.18.30.1', hosts: { x: '198.18.30.9' } }));
  assert.equal(topology?.vip, undefined);
  assert.equal(topology?.machineLink, 'tl0');
  assert.deepEqual(topology?.hosts, [{ name: 'x', address: '198.18.30.9', mac: '02:00:c6:12:1e:09', netns: 'tl-x', port: 'p-x' }]);
});

test('parseLabConfig: FILE:LINE:COL diagnostics for schema and topology errors', () => {
  const text = ['name: lab', 'range: 198.18.40.0/24', 'machine: 198.18.40.1', 'hosts:', '  a: 198.18.40.1', '  b: 10.0.0.1', 'colour: red', ''].join('\n');
  assert.throws(
    () => parseLabConfig(text, 'lab.yml'),
    (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.deepEqual(
        err.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.path}: ${d.message}`),
        ['lab.yml:7:1: colour: unknown key'],
      );
      return true;
    },
  );
  const text2 = text.replace('colour: red\n', '');
  assert.throws(
    () => parseLabConfig(text2, 'lab.yml'),
    (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.deepEqual(
        err.diagnostics.map((d) => `${d.line}:${d.col}: ${d.path}: ${d.message}`),
        ['5:6: hosts.a: host a 198.18.40.1 is already used by the machine address', '6:6: hosts.b: host b 10.0.0.1 is outside the lab range 198.18.40.0/24'],
      );
      return true;
    },
  );
  assert.throws(() => parseLabConfig('range: 198.18.0.0/8\n', 'x.yml'), /invalid lab config/);
  assert.throws(() => parseLabConfig('hosts: {a: 1.2.3}\n', 'x.yml'), (e: unknown) => e instanceof InputError && e.diagnostics[0]?.message === 'not an IPv4 address (a.b.c.d)');
});

test('the machine address defaults to the first address of the range', () => {
  const t = parseLabConfig('range: 198.18.42.0/24\nhosts:\n  a: 198.18.42.2\n', 'm.yml');
  assert.equal(t.machineAddress, '198.18.42.1');
  assert.equal(t.vip, undefined);
});

test('parseLabConfig: a valid file', () => {
  const t = parseLabConfig('name: hlx\nrange: 198.18.41.0/24\nmachine: 198.18.41.1\nvip: 198.18.41.3\nhosts:\n  lb5: 198.18.41.5\n', 'ok.yml');
  assert.equal(t.name, 'hlx');
  assert.equal(t.hosts[0]?.address, '198.18.41.5');
  assert.equal(t.bridgeNetns, 'hlx-br');
});
