// Pure helpers of the I/O shell: address parsing, header and struct layouts, ICMP, argv builders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVip, parseIpAddrJson, parseVip } from '../../src/vrrp/vip.ts';
import { ipMreqn } from '../../src/vrrp/socket.ts';
import { arpingArgs, copiesPerVip } from '../../src/vrrp/garp.ts';
import { monitorLineIfname } from '../../src/vrrp/track/link.ts';
import { echoRequest, icmpChecksum, parseEchoReply } from '../../src/vrrp/track/gateway.ts';
import { describeFailure, runCommand } from '../../src/vrrp/exec.ts';

test('parseVip / formatVip', () => {
  assert.deepEqual(parseVip('198.18.10.100/24'), { address: '198.18.10.100', prefix: 24 });
  assert.deepEqual(parseVip('198.18.10.100'), { address: '198.18.10.100', prefix: 32 });
  assert.equal(formatVip(parseVip('198.18.10.100')), '198.18.10.100/32');
  for (const bad of ['198.18.10.256/24', '198.18.10.1/33', '198.18.10.1/', '198.18.10.1/24/1', 'eth0', '']) {
    assert.throws(() => parseVip(bad), /not an IPv4 address with optional prefix/, bad);
  }
});

test('parseIpAddrJson keeps IPv4 addresses in kernel order with the secondary flag', () => {
  const json = JSON.stringify([
    {
      ifindex: 2,
      ifname: 'eth0',
      addr_info: [
        { family: 'inet', local: '198.18.10.1', prefixlen: 24 },
        { family: 'inet', local: '198.18.10.100', prefixlen: 24, secondary: true },
        { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
        { family: 'inet', local: '198.18.99.5', prefixlen: 32 },
      ],
    },
  ]);
  assert.deepEqual(parseIpAddrJson(json), [
    { address: '198.18.10.1', prefix: 24, secondary: false },
    { address: '198.18.10.100', prefix: 24, secondary: true },
    { address: '198.18.99.5', prefix: 32, secondary: false },
  ]);
  assert.deepEqual(parseIpAddrJson('not json'), []);
  assert.deepEqual(parseIpAddrJson('{}'), []);
});

test('struct ip_mreqn: group, local address, ifindex in host byte order', () => {
  const b = ipMreqn('224.0.0.18', '198.18.10.1', 7);
  assert.equal(b.length, 12);
  assert.deepEqual([...b.subarray(0, 8)], [224, 0, 0, 18, 198, 18, 10, 1]);
  assert.equal(b.readInt32LE(8), 7); // x86-64 / arm64 are little-endian
});

test('arping argv: unsolicited, count, interface, VIP as source and target; burst size bounded', () => {
  assert.deepEqual(arpingArgs('eth0', '198.18.10.100', 1), ['-U', '-c', '1', '-I', 'eth0', '-s', '198.18.10.100', '198.18.10.100']);
  assert.equal(copiesPerVip(5, 2), 5);
  assert.equal(copiesPerVip(5, 20), 3); // 64 processes / 20 VIPs
  assert.equal(copiesPerVip(5, 100), 1); // every VIP gets at least one
  assert.equal(copiesPerVip(0, 3), 0);
});

test('ip monitor link lines name their interface', () => {
  assert.equal(monitorLineIfname('3: eth0@if5: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN'), 'eth0');
  assert.equal(monitorLineIfname('2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP'), 'ens3');
  assert.equal(monitorLineIfname('Deleted 4: veth1@NONE: <BROADCAST,MULTICAST> mtu 1500'), 'veth1');
  assert.equal(monitorLineIfname('[LINK]3: eth1: <BROADCAST> mtu 1500'), 'eth1');
  assert.equal(monitorLineIfname('    link/ether 02:48:2f:00:00:01 brd ff:ff:ff:ff:ff:ff'), undefined);
});

test('ICMP echo request checksum verifies; echo replies are matched by source, id and seq', () => {
  const req = echoRequest(0x1234, 7);
  assert.equal(req[0], 8);
  assert.equal(icmpChecksum(req), 0, 'a packet with its checksum sums to 0');
  // An echo reply as a raw socket delivers it: IPv4 header (from 198.18.10.3) + ICMP type 0.
  const ip = Buffer.from([0x45, 0, 0, 36, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 10, 3, 198, 18, 10, 1]);
  const reply = Buffer.from(req);
  reply[0] = 0;
  assert.deepEqual(parseEchoReply(Buffer.concat([ip, reply])), { src: '198.18.10.3', id: 0x1234, seq: 7 });
  assert.equal(parseEchoReply(Buffer.concat([ip, req])), undefined, 'a request is not a reply');
  assert.equal(parseEchoReply(Buffer.alloc(10)), undefined);
  const udp = Buffer.from(ip);
  udp[9] = 17;
  assert.equal(parseEchoReply(Buffer.concat([udp, reply])), undefined);
});

test('runCommand: output captured and capped; describeFailure wording', async () => {
  const r = await runCommand('sh', ['-c', 'printf 0123456789; printf err >&2; exit 2'], { timeoutMs: 2000, maxOutput: 4 });
  assert.deepEqual([r.code, r.stdout, r.stderr, r.timedOut], [2, '0123', 'err', false]);
  assert.equal(describeFailure(r), 'exit 2: err');
  const abort = new AbortController();
  const p = runCommand('sleep', ['5'], { timeoutMs: 5000, signal: abort.signal });
  abort.abort();
  const killed = await p;
  assert.deepEqual([killed.code, killed.signal, killed.timedOut], [null, 'SIGKILL', false]);
  assert.equal(describeFailure(killed), 'killed by SIGKILL');
});

test('runCommand onStarted: once the process runs (before it exits), and once for a command that cannot start', async () => {
  const events: string[] = [];
  const running = runCommand('sleep', ['0.3'], { timeoutMs: 2000, onStarted: () => events.push('started') });
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(events, ['started'], 'called while sleep still runs');
  await running;
  assert.deepEqual(events, ['started'], 'exactly once');
  let missing = 0;
  const r = await runCommand('/nonexistent/haup-no-such-command', [], { timeoutMs: 2000, onStarted: () => missing++ });
  assert.ok(r.spawnError);
  assert.equal(missing, 1, 'a waiting takeover must not wait for its bound on a missing arping');
});
