import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareIpv4, ipv4ToUint32, masterDownIntervalMs, skewMs } from '../../src/vrrp/timers.ts';

test('v2 Skew is (256 - prio)/256 s whatever the interval', () => {
  assert.equal(skewMs(2, 100, 100), 609.375);
  assert.equal(skewMs(2, 100, 500), 609.375);
  assert.equal(skewMs(2, 254, 100), 7.8125);
  assert.equal(skewMs(2, 1, 100), 996.09375);
});

test('v3 Skew scales with the master advert interval', () => {
  // 0.1 s, prio 100: 156 x 100 ms / 256. (Not 15.6 ms: keepalived's measured 0.069 s
  // SIGTERM takeover at 0.1 s in DESIGN.md §5 is this 60.9 ms Skew plus scheduling.)
  assert.equal(skewMs(3, 100, 10), 60.9375);
  assert.equal(skewMs(3, 100, 100), 609.375); // 1 s, prio 100
  assert.equal(skewMs(3, 100, 1), 6.09375); // 0.01 s
});

test('Master_Down_Interval = 3 x interval + Skew (the DESIGN.md anchors)', () => {
  assert.equal(masterDownIntervalMs(2, 100, 100), 3609.375); // keepalived's 3.609 s bound
  assert.equal(masterDownIntervalMs(3, 100, 10), 360.9375); // 300 ms + 60.9 ms
  assert.equal(masterDownIntervalMs(3, 100, 1), 36.09375); // keepalived measured 36.9 ms frozen
  assert.equal(masterDownIntervalMs(2, 150, 100), 3414.0625);
});

test('IPv4 compare is unsigned 32-bit (198.x is not negative)', () => {
  assert.equal(ipv4ToUint32('198.18.10.6'), 0xc6120a06);
  assert.equal(ipv4ToUint32('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToUint32('0.0.0.0'), 0);
  assert.ok(compareIpv4('198.18.10.7', '10.0.0.1') > 0);
  assert.ok(compareIpv4('128.0.0.0', '127.255.255.255') > 0);
  assert.ok(compareIpv4('198.18.10.6', '198.18.10.7') < 0);
  assert.equal(compareIpv4('198.18.10.6', '198.18.10.6'), 0);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', 'a.b.c.d', '1.2.3.-4', '']) {
    assert.equal(ipv4ToUint32(bad), undefined, bad);
  }
  assert.ok(compareIpv4('garbage', '0.0.0.0') < 0, 'unparseable sorts lowest');
});
