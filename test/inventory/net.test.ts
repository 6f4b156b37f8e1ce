import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv4, isNetworkOrBroadcast, parseCidr, parseHostPort, parseIPv4, sameSubnet } from '../../src/inventory/net.ts';

test('parseIPv4 accepts dotted quads only', () => {
  assert.equal(parseIPv4('10.0.0.5'), 0x0a000005);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.05', '10.0.0.5/24', ' 10.0.0.5', 'a.b.c.d', '::1', '']) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
  assert.equal(formatIPv4(0xc6120003), '198.18.0.3');
});

test('parseCidr requires a prefix 1..32', () => {
  assert.deepEqual(parseCidr('10.0.0.3/24'), { address: '10.0.0.3', prefix: 24 });
  assert.deepEqual(parseCidr('10.0.0.3/32'), { address: '10.0.0.3', prefix: 32 });
  for (const bad of ['10.0.0.3', '10.0.0.3/0', '10.0.0.3/33', '10.0.0.3/', '10.0.0.300/24']) assert.equal(parseCidr(bad), undefined, bad);
});

test('subnet membership and network/broadcast addresses', () => {
  assert.equal(sameSubnet('10.0.0.3', '10.0.0.5', 24), true);
  assert.equal(sameSubnet('10.0.0.3', '10.0.1.5', 24), false);
  assert.equal(sameSubnet('10.0.0.3', '10.0.0.130', 25), false);
  assert.equal(sameSubnet('10.0.0.3', '10.0.0.3', 32), true);
  assert.equal(isNetworkOrBroadcast('10.0.0.0', 24), true);
  assert.equal(isNetworkOrBroadcast('10.0.0.255', 24), true);
  assert.equal(isNetworkOrBroadcast('10.0.0.127', 25), true);
  assert.equal(isNetworkOrBroadcast('10.0.0.3', 24), false);
  assert.equal(isNetworkOrBroadcast('10.0.0.0', 31), false);
});

test('parseHostPort', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  for (const bad of ['127.0.0.1', 'localhost:9650', '127.0.0.1:0', '127.0.0.1:65536']) assert.equal(parseHostPort(bad), undefined, bad);
});
