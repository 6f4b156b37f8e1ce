import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { internetChecksum, ipv4PseudoHeaderSum, onesSum, checksumFromSum } from '../../src/vrrp/checksum.ts';
import { encodeAdvert } from '../../src/vrrp/codec.ts';
import { encodeIpv4Packet, parseIpv4Address, parseIpv4Packet, type Ipv4Packet } from '../../src/vrrp/ipv4.ts';
import {
  DROP_REASONS,
  expectedInstance,
  newDropCounters,
  validateAdvert,
  validateDatagram,
  type DropCounters,
  type DropReason,
  type ExpectedInstance,
  type ValidationResult,
  type VridLookup,
} from '../../src/vrrp/receive.ts';
import { readIpv4Packets, VECTORS_DIR } from './pcap.ts';

const A = (text: string): number => parseIpv4Address(text) as number;
const SENDER = '192.0.2.5';
const GROUP = '224.0.0.18';

const V2 = expectedInstance({
  version: 2,
  vrid: 50,
  advertIntervalCs: 100,
  authPassword: '1111',
  addresses: ['192.0.2.3'],
});
const V3 = expectedInstance({ version: 3, vrid: 50, advertIntervalCs: 100, addresses: ['192.0.2.3'] });
const V2_NONE = expectedInstance({ version: 2, vrid: 60, advertIntervalCs: 300, addresses: ['198.18.10.100'] });
const UNICAST = expectedInstance({
  version: 3,
  vrid: 70,
  advertIntervalCs: 10,
  addresses: ['198.18.10.100', '198.18.10.101'],
  unicastPeers: ['198.18.10.2', '198.18.10.3'],
});

const v2Lookup: VridLookup<ExpectedInstance> = new Map([
  [50, V2],
  [60, V2_NONE],
  [70, UNICAST],
]);
const v3Lookup: VridLookup<ExpectedInstance> = new Map([
  [50, V3],
  [60, V2_NONE],
  [70, UNICAST],
]);

// ---- a raw packet builder: any field, checksums right unless the case says otherwise --------

interface Spec {
  version?: number;
  type?: number;
  vrid?: number;
  priority?: number;
  addresses?: string[];
  /** Count field; default addresses.length. */
  count?: number;
  authType?: number;
  authData?: Buffer;
  /** v2: the seconds byte; v3: the 16-bit rsvd+interval word. */
  interval?: number;
  /** v3 checksum form, or a number to write as is. */
  checksum?: 'pseudo' | 'message' | number;
  /** Pseudo-header addresses, when they should differ from the IP header's. */
  pseudoSrc?: string;
  pseudoDst?: string;
  /** Applied after the checksum. */
  appendBytes?: number;
  cutTo?: number;
  src?: string;
  dst?: string;
  ttl?: number;
  protocol?: number;
}

function message(s: Spec): Buffer {
  const version = s.version ?? 2;
  const addresses = s.addresses ?? ['192.0.2.3'];
  const v2Layout = version !== 3;
  const msg = Buffer.alloc(8 + 4 * addresses.length + (v2Layout ? 8 : 0));
  msg[0] = (version << 4) | (s.type ?? 1);
  msg[1] = s.vrid ?? 50;
  msg[2] = s.priority ?? 150;
  msg[3] = s.count ?? addresses.length;
  if (v2Layout) {
    msg[4] = s.authType ?? 1;
    msg[5] = s.interval ?? 1;
    (s.authData ?? Buffer.from('1111')).copy(msg, 8 + 4 * addresses.length);
  } else {
    msg.writeUInt16BE(s.interval ?? 100, 4);
  }
  addresses.forEach((a, i) => msg.writeUInt32BE(A(a), 8 + 4 * i));
  if (typeof s.checksum === 'number') {
    msg.writeUInt16BE(s.checksum, 6);
  } else if (version === 3 && (s.checksum ?? 'pseudo') === 'pseudo') {
    const phdr = ipv4PseudoHeaderSum(A(s.pseudoSrc ?? s.src ?? SENDER), A(s.pseudoDst ?? s.dst ?? GROUP), 112, msg.length);
    msg.writeUInt16BE(checksumFromSum(onesSum(msg, 0, msg.length, phdr)), 6);
  } else {
    msg.writeUInt16BE(internetChecksum(msg), 6);
  }
  let out = msg;
  if (s.appendBytes) out = Buffer.concat([out, Buffer.alloc(s.appendBytes)]);
  if (s.cutTo !== undefined) out = out.subarray(0, s.cutTo);
  return out;
}

function datagram(s: Spec): Buffer {
  return encodeIpv4Packet(message(s), {
    src: s.src ?? SENDER,
    dst: s.dst ?? GROUP,
    ttl: s.ttl ?? 255,
    protocol: s.protocol ?? 112,
  });
}

function run(buf: Buffer, lookup: VridLookup<ExpectedInstance>): { r: ValidationResult<ExpectedInstance>; c: DropCounters } {
  const c = newDropCounters();
  const r = validateDatagram(buf, lookup, c);
  return { r, c };
}

function assertDropped(buf: Buffer, lookup: VridLookup<ExpectedInstance>, reason: DropReason): ValidationResult<ExpectedInstance> {
  const { r, c } = run(buf, lookup);
  assert.equal(r.ok ? 'accepted' : r.reason, reason);
  // Counted exactly once, under that reason and nothing else.
  for (const other of DROP_REASONS) assert.equal(c.dropped[other], other === reason ? 1 : 0, other);
  assert.equal(c.accepted, 0);
  return r;
}

function assertAccepted(buf: Buffer, lookup: VridLookup<ExpectedInstance>): ValidationResult<ExpectedInstance> & { ok: true } {
  const { r, c } = run(buf, lookup);
  assert.equal(r.ok ? 'accepted' : r.reason, 'accepted');
  assert.equal(c.accepted, 1);
  for (const reason of DROP_REASONS) assert.equal(c.dropped[reason], 0, reason);
  return r as ValidationResult<ExpectedInstance> & { ok: true };
}

// ---- the captures pass -------------------------------------------------------------------

test('captured keepalived adverts are accepted with the exact fields, sharing the instance arrays', () => {
  const counters = newDropCounters();
  const v2 = readIpv4Packets(path.join(VECTORS_DIR, 'vrrp-v2.pcap'));
  for (const packet of v2) {
    const r: ValidationResult<ExpectedInstance> = validateDatagram(packet, v2Lookup, counters);
    assert.ok(r.ok);
    assert.equal(r.instance, V2);
    assert.equal(r.from, '192.0.2.5');
    assert.equal(r.src, A('192.0.2.5'));
    assert.equal(r.dst, A(GROUP));
    assert.equal(r.checksumForm, 'v2');
    assert.equal(r.addressMismatch, false);
    assert.equal(r.advert.priority, 150);
    assert.equal(r.advert.advertIntervalCs, 100);
    assert.equal(r.advert.checksum, 0x2365);
    // Hot path: no new address strings, no copy of the auth bytes.
    assert.equal(r.advert.addresses, V2.addresses);
    assert.equal(r.advert.authData, V2.authData);
    assert.deepEqual(encodeAdvert(r.advert), (parseIpv4Packet(packet) as Ipv4Packet).payload);
  }
  for (const name of ['vrrp-v3.pcap', 'vrrp-v3-adv10cs.pcap']) {
    for (const packet of readIpv4Packets(path.join(VECTORS_DIR, name))) {
      const r: ValidationResult<ExpectedInstance> = validateDatagram(packet, v3Lookup, counters);
      assert.ok(r.ok);
      assert.equal(r.checksumForm, 'pseudo');
      assert.equal(r.advert.version, 3);
      assert.equal(r.advert.advertIntervalCs, name === 'vrrp-v3.pcap' ? 100 : 10);
      assert.deepEqual(encodeAdvert(r.advert, { src: r.src, dst: r.dst }), (parseIpv4Packet(packet) as Ipv4Packet).payload);
    }
  }
  const failover = readIpv4Packets(path.join(VECTORS_DIR, 'vrrp-v2-failover.pcap')).map((p) => {
    const r: ValidationResult<ExpectedInstance> = validateDatagram(p, v2Lookup, counters);
    assert.ok(r.ok);
    return [r.from, r.advert.priority];
  });
  assert.deepEqual(failover, [
    ['192.0.2.5', 150],
    ['192.0.2.5', 0],
    ['192.0.2.6', 100],
  ]);
  assert.equal(counters.accepted, 5 + 10 + 3);
  assert.equal(Object.values(counters.dropped).reduce((a, b) => a + b, 0), 0);
});

test('v3: both checksum forms are accepted and reported', () => {
  const pseudo = assertAccepted(datagram({ version: 3 }), v3Lookup);
  assert.equal(pseudo.checksumForm, 'pseudo');
  const msgForm = assertAccepted(datagram({ version: 3, checksum: 'message' }), v3Lookup);
  assert.equal(msgForm.checksumForm, 'message');
  assert.deepEqual(encodeAdvert(msgForm.advert, { v3Checksum: 'message' }), message({ version: 3, checksum: 'message' }));
});

test('the builder base packets are accepted (each drop case below changes one thing)', () => {
  assertAccepted(datagram({}), v2Lookup);
  assertAccepted(datagram({ version: 3 }), v3Lookup);
  assertAccepted(datagram({ vrid: 60, authType: 0, authData: Buffer.alloc(8), interval: 3, addresses: ['198.18.10.100'] }), v2Lookup);
  const unicast = { version: 3, vrid: 70, interval: 10, addresses: ['198.18.10.100', '198.18.10.101'], src: '198.18.10.2', dst: '198.18.10.1' };
  assertAccepted(datagram(unicast), v3Lookup);
  assertAccepted(datagram({ ...unicast, src: '198.18.10.3' }), v3Lookup);
});

// ---- one test per receive check ------------------------------------------------------------

const UNICAST_OPTIONS = {
  version: 3 as const,
  vrid: 70,
  advertIntervalCs: 10,
  addresses: ['198.18.10.100', '198.18.10.101'],
  unicastPeers: ['198.18.10.2', '198.18.10.3'],
};

const UNICAST_SPEC: Spec = {
  version: 3,
  vrid: 70,
  interval: 10,
  addresses: ['198.18.10.100', '198.18.10.101'],
  src: '198.18.10.2',
  dst: '198.18.10.1',
};

test('ip-malformed / ip-truncated / ip-fragment: the IPv4 header is checked first', () => {
  const good = datagram({});
  const v6 = Buffer.from(good);
  v6[0] = 0x60;
  assertDropped(v6, v2Lookup, 'ip-malformed');
  assertDropped(good.subarray(0, 30), v2Lookup, 'ip-truncated');
  const frag = Buffer.from(good);
  frag.writeUInt16BE(0x2000, 6);
  assertDropped(frag, v2Lookup, 'ip-fragment');
});

test('ip-protocol: not 112', () => {
  const r = assertDropped(datagram({ protocol: 17 }), v2Lookup, 'ip-protocol');
  assert.equal(r.ok ? 0 : r.src, A(SENDER));
});

test('auth-ah: AH-protected VRRP (IP protocol 51) and v2 auth type 2 are dropped by name', () => {
  assertDropped(datagram({ protocol: 51 }), v2Lookup, 'auth-ah');
  const r = assertDropped(datagram({ authType: 2, authData: Buffer.alloc(8) }), v2Lookup, 'auth-ah');
  assert.equal(r.ok ? undefined : r.instance, V2);
});

test('ip-ttl: multicast needs TTL 255 (v2 and v3)', () => {
  assertDropped(datagram({ ttl: 254 }), v2Lookup, 'ip-ttl');
  assertDropped(datagram({ ttl: 1 }), v2Lookup, 'ip-ttl');
  assertDropped(datagram({ version: 3, ttl: 64 }), v3Lookup, 'ip-ttl');
});

test('ip-ttl: unicast needs TTL >= minUnicastTtl (default 255: on-link peers only)', () => {
  assertDropped(datagram({ ...UNICAST_SPEC, ttl: 254 }), v3Lookup, 'ip-ttl');
  const routed = expectedInstance({ ...UNICAST_OPTIONS, minUnicastTtl: 62 });
  assertAccepted(datagram({ ...UNICAST_SPEC, ttl: 62 }), new Map([[70, routed]]));
  assertDropped(datagram({ ...UNICAST_SPEC, ttl: 61 }), new Map([[70, routed]]), 'ip-ttl');
});

test('vrrp-too-short: less than the 8-byte header', () => {
  assertDropped(datagram({ cutTo: 7 }), v2Lookup, 'vrrp-too-short');
  assertDropped(datagram({ cutTo: 0 }), v2Lookup, 'vrrp-too-short');
});

test('vrrp-version: neither 2 nor 3', () => {
  for (const version of [0, 1, 4, 15]) assertDropped(datagram({ version }), v2Lookup, 'vrrp-version');
});

test('vrrp-type: not an advertisement', () => {
  assertDropped(datagram({ type: 2 }), v2Lookup, 'vrrp-type');
  assertDropped(datagram({ version: 3, type: 0 }), v3Lookup, 'vrrp-type');
});

test('vrrp-length: count and length disagree, truncated auth data, trailing bytes', () => {
  assertDropped(datagram({ count: 2 }), v2Lookup, 'vrrp-length');
  assertDropped(datagram({ version: 3, count: 0 }), v3Lookup, 'vrrp-length');
  assertDropped(datagram({ cutTo: 19 }), v2Lookup, 'vrrp-length');
  assertDropped(datagram({ appendBytes: 1 }), v2Lookup, 'vrrp-length');
  assertDropped(datagram({ version: 3, appendBytes: 8 }), v3Lookup, 'vrrp-length');
});

test('vrrp-checksum: v2 message-only; v3 pseudo or message, nothing else', () => {
  const goodV2 = message({}).readUInt16BE(6);
  assertDropped(datagram({ checksum: goodV2 ^ 0x0001 }), v2Lookup, 'vrrp-checksum');
  // A v2 packet with a v3-style pseudo-header checksum is wrong for v2.
  const v2Pseudo = message({});
  v2Pseudo.writeUInt16BE(0, 6);
  const pseudoSum = checksumFromSum(onesSum(v2Pseudo, 0, v2Pseudo.length, ipv4PseudoHeaderSum(A(SENDER), A(GROUP), 112, 20)));
  assertDropped(datagram({ checksum: pseudoSum }), v2Lookup, 'vrrp-checksum');
  const goodV3 = message({ version: 3 }).readUInt16BE(6);
  assertDropped(datagram({ version: 3, checksum: (goodV3 + 1) & 0xffff }), v3Lookup, 'vrrp-checksum');
  // Pseudo-header computed for another destination or source.
  assertDropped(datagram({ version: 3, pseudoDst: '224.0.0.19' }), v3Lookup, 'vrrp-checksum');
  assertDropped(datagram({ version: 3, pseudoSrc: '192.0.2.6' }), v3Lookup, 'vrrp-checksum');
});

test('vrrp-checksum: 0xffff is refused where 0x0000 is the right value (exact compare)', () => {
  // Find a v3 message whose correct message-form checksum is 0x0000 by varying the priority.
  for (let priority = 0; priority < 256; priority++) {
    for (let vrid = 1; vrid < 256; vrid++) {
      const msg = message({ version: 3, checksum: 'message', priority, vrid });
      if (msg.readUInt16BE(6) !== 0) continue;
      const lookup = new Map([[vrid, expectedInstance({ version: 3, vrid, advertIntervalCs: 100, addresses: ['192.0.2.3'] })]]);
      assertAccepted(datagram({ version: 3, checksum: 'message', priority, vrid }), lookup);
      assertDropped(datagram({ version: 3, checksum: 0xffff, priority, vrid }), lookup, 'vrrp-checksum');
      return;
    }
  }
  assert.fail('no message with checksum 0x0000 found');
});

test('count-zero: no addresses (RFC 5798 erratum), length consistent', () => {
  assertDropped(datagram({ addresses: [] }), v2Lookup, 'count-zero');
  assertDropped(datagram({ version: 3, addresses: [] }), v3Lookup, 'count-zero');
});

test('interval-zero: advertisement interval 0 (RFC 5798 erratum), also with reserved bits set', () => {
  assertDropped(datagram({ interval: 0 }), v2Lookup, 'interval-zero');
  assertDropped(datagram({ version: 3, interval: 0 }), v3Lookup, 'interval-zero');
  assertDropped(datagram({ version: 3, interval: 0xf000 }), v3Lookup, 'interval-zero');
});

test('unknown-vrid: not configured on this socket; lookup may be a function', () => {
  const r = assertDropped(datagram({ vrid: 51 }), v2Lookup, 'unknown-vrid');
  assert.equal(r.ok ? 0 : r.vrid, 51);
  assertDropped(datagram({}), () => undefined, 'unknown-vrid');
  const seen: number[] = [];
  assertAccepted(datagram({}), (vrid) => (seen.push(vrid), vrid === 50 ? V2 : undefined));
  assert.deepEqual(seen, [50]);
});

test('version-mismatch: v3 packet for a v2 instance and the reverse', () => {
  assertDropped(datagram({ version: 3 }), v2Lookup, 'version-mismatch');
  const r = assertDropped(datagram({}), v3Lookup, 'version-mismatch');
  assert.equal(r.ok ? undefined : r.instance, V3);
});

test('destination-mismatch: multicast instance needs 224.0.0.18; unicast instance refuses multicast', () => {
  assertDropped(datagram({ dst: '224.0.0.5' }), v2Lookup, 'destination-mismatch');
  assertDropped(datagram({ dst: '198.18.10.1' }), v2Lookup, 'destination-mismatch');
  assertDropped(datagram({ ...UNICAST_SPEC, dst: GROUP }), v3Lookup, 'destination-mismatch');
});

test('unknown-peer: unicast source not among the configured peers', () => {
  const r = assertDropped(datagram({ ...UNICAST_SPEC, src: '198.18.10.4' }), v3Lookup, 'unknown-peer');
  assert.equal(r.ok ? 0 : r.src, A('198.18.10.4'));
});

test('auth-type-mismatch: v2 auth type differs from the instance', () => {
  assertDropped(datagram({ authType: 0 }), v2Lookup, 'auth-type-mismatch');
  assertDropped(datagram({ authType: 7 }), v2Lookup, 'auth-type-mismatch');
  assertDropped(datagram({ vrid: 60, authType: 1, interval: 3, addresses: ['198.18.10.100'] }), v2Lookup, 'auth-type-mismatch');
});

test('auth-password: any byte differs, padding included', () => {
  assertDropped(datagram({ authData: Buffer.from('1112') }), v2Lookup, 'auth-password');
  assertDropped(datagram({ authData: Buffer.from('2111') }), v2Lookup, 'auth-password');
  assertDropped(datagram({ authData: Buffer.from('1111\0\0\0\x01', 'latin1') }), v2Lookup, 'auth-password');
  assertDropped(datagram({ authData: Buffer.from('11111') }), v2Lookup, 'auth-password');
  // A hand-built instance with a wrong-length secret drops instead of throwing.
  const odd: ExpectedInstance = { ...V2, authData: Buffer.from('1111') };
  assertDropped(datagram({}), new Map([[50, odd]]), 'auth-password');
});

test('auth none: the auth bytes are ignored on receipt but kept for a byte-exact re-encode', () => {
  const noise = Buffer.from('0102030405060708', 'hex');
  const spec = { vrid: 60, authType: 0, authData: noise, interval: 3, addresses: ['198.18.10.100'] };
  const r = assertAccepted(datagram(spec), v2Lookup);
  assert.deepEqual(r.advert.authData, noise);
  assert.deepEqual(encodeAdvert(r.advert), message(spec));
  const zero = assertAccepted(datagram({ ...spec, authData: Buffer.alloc(8) }), v2Lookup);
  assert.equal(zero.advert.authData, V2_NONE.authData);
});

test('interval-mismatch: v2 only; v3 adopts the master interval', () => {
  assertDropped(datagram({ interval: 2 }), v2Lookup, 'interval-mismatch');
  assertDropped(datagram({ vrid: 60, authType: 0, interval: 1, addresses: ['198.18.10.100'] }), v2Lookup, 'interval-mismatch');
  const v3 = assertAccepted(datagram({ version: 3, interval: 7 }), v3Lookup);
  assert.equal(v3.advert.advertIntervalCs, 7);
});

test('address list: mismatch accepted but flagged and counted; reordering is not a mismatch', () => {
  const c = newDropCounters();
  const other = validateDatagram(datagram({ addresses: ['192.0.2.4'] }), v2Lookup, c);
  assert.ok(other.ok);
  assert.equal(other.addressMismatch, true);
  assert.deepEqual(other.advert.addresses, ['192.0.2.4']);
  const more = validateDatagram(datagram({ addresses: ['192.0.2.3', '192.0.2.4'] }), v2Lookup, c);
  assert.ok(more.ok && more.addressMismatch);
  assert.equal(c.addressMismatch, 2);
  assert.equal(c.accepted, 2);
  const reordered = { ...UNICAST_SPEC, addresses: ['198.18.10.101', '198.18.10.100'] };
  const r = assertAccepted(datagram(reordered), v3Lookup);
  assert.equal(r.addressMismatch, false);
  assert.deepEqual(r.advert.addresses, ['198.18.10.101', '198.18.10.100']); // as on the wire
  assert.deepEqual(encodeAdvert(r.advert, { src: r.src, dst: r.dst }), message(reordered));
  const inOrder = assertAccepted(datagram(UNICAST_SPEC), v3Lookup);
  assert.equal(inOrder.advert.addresses, UNICAST.addresses);
});

test('v3 reserved bits are ignored on receive and kept', () => {
  const r = assertAccepted(datagram({ version: 3, interval: 0xa064 }), v3Lookup);
  assert.equal(r.advert.advertIntervalCs, 100);
  assert.equal(r.advert.reserved, 0xa);
  assert.deepEqual(encodeAdvert(r.advert, { src: r.src, dst: r.dst }), message({ version: 3, interval: 0xa064 }));
});

test('validateAdvert takes an already parsed packet (what the I/O layer may hand over)', () => {
  const c = newDropCounters();
  const ip = parseIpv4Packet(datagram({})) as Ipv4Packet;
  const r = validateAdvert(ip, v2Lookup, c);
  assert.ok(r.ok);
  assert.equal(c.accepted, 1);
  assert.equal(validateAdvert({ ...ip, ttl: 3 }, v2Lookup, c).ok, false);
  assert.equal(c.dropped['ip-ttl'], 1);
});

test('DropCounters: one zeroed counter per reason, reasons unique', () => {
  const c = newDropCounters();
  assert.deepEqual(Object.keys(c.dropped), [...DROP_REASONS]);
  assert.equal(new Set(DROP_REASONS).size, DROP_REASONS.length);
  assert.ok(Object.values(c.dropped).every((n) => n === 0));
  assert.equal(c.accepted + c.addressMismatch, 0);
});

test('expectedInstance refuses what no valid config holds', () => {
  const base = { version: 2 as const, vrid: 1, advertIntervalCs: 100, addresses: ['198.18.10.100'] };
  assert.throws(() => expectedInstance({ ...base, advertIntervalCs: 50 }), /whole seconds/);
  assert.throws(() => expectedInstance({ ...base, vrid: 0 }), /vrid/);
  assert.throws(() => expectedInstance({ ...base, addresses: [] }), /addresses/);
  assert.throws(() => expectedInstance({ ...base, addresses: ['x'] }), /addresses\[0\]/);
  assert.throws(() => expectedInstance({ ...base, authPassword: '123456789' }), /1\.\.8 bytes/);
  assert.throws(() => expectedInstance({ ...base, unicastPeers: ['224.0.0.18'] }), /unicastPeers\[0\]/);
  assert.throws(() => expectedInstance({ ...base, minUnicastTtl: 0 }), /minUnicastTtl/);
  assert.throws(() => expectedInstance({ ...base, version: 3, authPassword: 'x' }), /no authentication/);
  assert.throws(() => expectedInstance({ ...base, version: 3, advertIntervalCs: 4096 }), /advertIntervalCs/);
  const ok = expectedInstance({ ...base, authPassword: 'secret' });
  assert.equal(ok.authType, 1);
  assert.deepEqual(ok.authData, Buffer.from('secret\0\0', 'latin1'));
  assert.ok(Object.isFrozen(ok.addresses));
});

test('equalConstantTime: equal bytes only, same length required', async () => {
  const { equalConstantTime } = await import('../../src/vrrp/receive.ts');
  assert.equal(equalConstantTime(Buffer.from('11110000', 'hex'), Buffer.from('11110000', 'hex')), true);
  assert.equal(equalConstantTime(Buffer.from('11110000', 'hex'), Buffer.from('11110001', 'hex')), false);
  assert.equal(equalConstantTime(Buffer.from('01110000', 'hex'), Buffer.from('11110000', 'hex')), false);
  assert.equal(equalConstantTime(Buffer.from('1111', 'hex'), Buffer.from('111100', 'hex')), false);
  assert.equal(equalConstantTime(Buffer.alloc(0), Buffer.alloc(0)), true);
});
