import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { internetChecksum, onesSum, foldSum } from '../../src/vrrp/checksum.ts';
import {
  advertLength,
  decodeAdvert,
  encodeAdvert,
  passwordAuthData,
  type Advert,
} from '../../src/vrrp/codec.ts';
import {
  encodeIpv4Packet,
  formatIpv4Address,
  parseIpv4Address,
  parseIpv4Packet,
  type Ipv4Packet,
} from '../../src/vrrp/ipv4.ts';
import { parsePcap, readIpv4Packets, readPcap, VECTORS_DIR } from './pcap.ts';

const SENDER = parseIpv4Address('192.0.2.5');
const BACKUP = parseIpv4Address('192.0.2.6');
const GROUP = parseIpv4Address('224.0.0.18');

function vector(name: string): Buffer[] {
  return readIpv4Packets(path.join(VECTORS_DIR, name));
}

function ip(packet: Buffer): Ipv4Packet {
  const parsed = parseIpv4Packet(packet);
  assert.equal(typeof parsed, 'object', `IPv4 parse failed: ${String(parsed)}`);
  return parsed as Ipv4Packet;
}

function decoded(msg: Buffer): Advert {
  const a = decodeAdvert(msg);
  assert.equal(typeof a, 'object', `decode failed: ${String(a)}`);
  return a as Advert;
}

// ---- the captures of keepalived 2.2.7 ------------------------------------------------------

test('pcap reader: every capture is Ethernet; the failover capture holds 3 IPv4 and 5 ARP frames', () => {
  for (const name of ['vrrp-v2.pcap', 'vrrp-v3.pcap', 'vrrp-v3-adv10cs.pcap']) {
    const pcap = readPcap(path.join(VECTORS_DIR, name));
    assert.equal(pcap.linkType, 1);
    assert.equal(pcap.records.length, 5);
    assert.equal(vector(name).length, 5);
  }
  const failover = readPcap(path.join(VECTORS_DIR, 'vrrp-v2-failover.pcap'));
  assert.equal(failover.records.length, 8);
  const arp = failover.records.filter((r) => r.data.readUInt16BE(12) === 0x0806);
  assert.equal(arp.length, 5);
  assert.equal(vector('vrrp-v2-failover.pcap').length, 3);
});

test('pcap reader: refuses a bad magic and truncated records', () => {
  assert.throws(() => parsePcap(Buffer.alloc(24)), /bad magic/);
  assert.throws(() => parsePcap(Buffer.alloc(10)), /shorter than the global header/);
  const file = readPcap(path.join(VECTORS_DIR, 'vrrp-v2.pcap'));
  assert.equal(file.records[0]?.originalLength, 54);
});

test('vrrp-v2.pcap: 5 VRRPv2 adverts decode exactly and re-encode byte for byte', () => {
  for (const packet of vector('vrrp-v2.pcap')) {
    const p = ip(packet);
    assert.equal(p.src, SENDER);
    assert.equal(p.dst, GROUP);
    assert.equal(p.ttl, 255);
    assert.equal(p.tos, 0xc0);
    assert.equal(p.protocol, 112);
    assert.equal(p.payload.length, 20);
    const a = decoded(p.payload);
    assert.deepEqual(
      { ...a, authData: a.authData.toString('latin1') },
      {
        version: 2,
        vrid: 50,
        priority: 150,
        addresses: ['192.0.2.3'],
        advertIntervalCs: 100,
        authType: 1,
        authData: '1111\0\0\0\0',
        checksum: 0x2365,
        reserved: 0,
      },
    );
    assert.deepEqual(encodeAdvert(a), p.payload);
    // v2 has one checksum form: src/dst and the v3 option change nothing.
    assert.deepEqual(encodeAdvert(a, { src: '198.18.10.1', dst: '198.18.10.2', v3Checksum: 'message' }), p.payload);
  }
});

test('vrrp-v3.pcap: 5 VRRPv3 adverts (100 cs, pseudo-header checksum) decode and re-encode exactly', () => {
  for (const packet of vector('vrrp-v3.pcap')) {
    const p = ip(packet);
    assert.equal(p.src, SENDER);
    assert.equal(p.dst, GROUP);
    assert.equal(p.ttl, 255);
    const a = decoded(p.payload);
    assert.deepEqual(
      { ...a, authData: a.authData.length },
      {
        version: 3,
        vrid: 50,
        priority: 150,
        addresses: ['192.0.2.3'],
        advertIntervalCs: 100,
        authType: 0,
        authData: 0,
        checksum: 0xd3cf,
        reserved: 0,
      },
    );
    assert.deepEqual(encodeAdvert(a, { src: '192.0.2.5', dst: '224.0.0.18' }), p.payload);
    assert.deepEqual(encodeAdvert(a, { src: p.src, dst: p.dst, v3Checksum: 'pseudo' }), p.payload);
    // RFC 9568's message-only form of the same advert, worked by hand:
    // 3132 + 9601 + 0064 + c000 + 0203 = 0x1899a -> 0x899b -> ~ = 0x7664.
    const message = encodeAdvert(a, { v3Checksum: 'message' });
    assert.equal(message.readUInt16BE(6), 0x7664);
    assert.deepEqual(message.subarray(8), p.payload.subarray(8));
  }
});

test('vrrp-v3-adv10cs.pcap: 5 VRRPv3 adverts at 10 cs decode and re-encode exactly', () => {
  for (const packet of vector('vrrp-v3-adv10cs.pcap')) {
    const p = ip(packet);
    const a = decoded(p.payload);
    assert.equal(a.version, 3);
    assert.equal(a.vrid, 50);
    assert.equal(a.priority, 150);
    assert.deepEqual(a.addresses, ['192.0.2.3']);
    assert.equal(a.advertIntervalCs, 10);
    assert.equal(a.checksum, 0xd429);
    assert.deepEqual(encodeAdvert(a, { src: p.src, dst: p.dst }), p.payload);
  }
});

test('vrrp-v2-failover.pcap: priorities 150, 0 (planned stop), 100 (backup takes over)', () => {
  const packets = vector('vrrp-v2-failover.pcap').map(ip);
  assert.deepEqual(
    packets.map((p) => [formatIpv4Address(p.src), decoded(p.payload).priority, decoded(p.payload).checksum]),
    [
      ['192.0.2.5', 150, 0x2365],
      ['192.0.2.5', 0, 0xb965],
      ['192.0.2.6', 100, 0x5565],
    ],
  );
  assert.equal(packets[2]?.src, BACKUP);
  for (const p of packets) {
    const a = decoded(p.payload);
    assert.equal(a.vrid, 50);
    assert.equal(a.authData.toString('latin1'), '1111\0\0\0\0');
    assert.deepEqual(encodeAdvert(a), p.payload);
  }
});

test('encodeIpv4Packet rebuilds the captured IPv4 headers byte for byte (header checksum included)', () => {
  for (const name of ['vrrp-v2.pcap', 'vrrp-v3.pcap', 'vrrp-v2-failover.pcap']) {
    for (const packet of vector(name)) {
      const p = ip(packet);
      const rebuilt = encodeIpv4Packet(p.payload, { src: p.src, dst: p.dst, id: p.id });
      assert.deepEqual(rebuilt, packet.subarray(0, rebuilt.length));
    }
  }
});

// ---- checksum -------------------------------------------------------------------------------

test('RFC 1071 checksum: the RFC example, odd lengths, chaining, carries', () => {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 -> checksum 0x220d.
  const rfc = Buffer.from('0001f203f4f5f6f7', 'hex');
  assert.equal(foldSum(onesSum(rfc, 0, rfc.length)), 0xddf2);
  assert.equal(internetChecksum(rfc), 0x220d);
  // Odd length pads the last byte with zero on the right.
  assert.equal(internetChecksum(Buffer.from([0x12])), ~0x1200 & 0xffff);
  assert.equal(internetChecksum(Buffer.from([0x12, 0x34, 0x56])), ~(0x1234 + 0x5600) & 0xffff);
  // Chained partial sums equal one sum over the whole.
  assert.equal(onesSum(rfc, 4, 8, onesSum(rfc, 0, 4)), onesSum(rfc, 0, 8));
  // Many carries: 0xffff words.
  assert.equal(internetChecksum(Buffer.alloc(1000, 0xff)), 0x0000);
  assert.equal(internetChecksum(Buffer.alloc(0)), 0xffff);
});

// ---- decode: never throws, structural reasons ----------------------------------------------

test('decodeAdvert: structural reasons instead of exceptions', () => {
  const v2 = ip(vector('vrrp-v2.pcap')[0] as Buffer).payload;
  const v3 = ip(vector('vrrp-v3.pcap')[0] as Buffer).payload;
  assert.equal(decodeAdvert(Buffer.alloc(0)), 'vrrp-too-short');
  assert.equal(decodeAdvert(v2.subarray(0, 7)), 'vrrp-too-short');
  const edit = (b: Buffer, at: number, value: number): Buffer => {
    const c = Buffer.from(b);
    c[at] = value;
    return c;
  };
  assert.equal(decodeAdvert(edit(v2, 0, 0x11)), 'vrrp-version');
  assert.equal(decodeAdvert(edit(v2, 0, 0x41)), 'vrrp-version');
  assert.equal(decodeAdvert(edit(v2, 0, 0x22)), 'vrrp-type');
  assert.equal(decodeAdvert(edit(v3, 0, 0x30)), 'vrrp-type');
  assert.equal(decodeAdvert(v2.subarray(0, 19)), 'vrrp-length'); // auth data cut short
  assert.equal(decodeAdvert(Buffer.concat([v2, Buffer.alloc(1)])), 'vrrp-length');
  assert.equal(decodeAdvert(edit(v2, 3, 2)), 'vrrp-length'); // count says 2 addresses
  assert.equal(decodeAdvert(edit(v3, 3, 0)), 'vrrp-length');
  // A v3 message with a v2 length (auth data appended) is not a v3 message.
  assert.equal(decodeAdvert(Buffer.concat([v3, Buffer.alloc(8)])), 'vrrp-length');
  // Count 0 with the matching length decodes (receive drops it: count-zero).
  const empty = decoded(Buffer.from('3132960000640000', 'hex'));
  assert.deepEqual(empty.addresses, []);
  assert.equal(advertLength(2, 0), 16);
  assert.equal(advertLength(3, 255), 8 + 1020);
});

test('decodeAdvert: keeps v3 reserved bits and any v2 auth type so a re-encode is exact', () => {
  const v3 = Buffer.from(ip(vector('vrrp-v3.pcap')[0] as Buffer).payload);
  v3[4] = 0xa0; // rsvd = 0xa, interval 0x064
  const a = decoded(v3);
  assert.equal(a.reserved, 0xa);
  assert.equal(a.advertIntervalCs, 100);
  const re = encodeAdvert(a, { v3Checksum: 'message' });
  assert.deepEqual(re.subarray(0, 6), v3.subarray(0, 6));
  const v2 = Buffer.from(ip(vector('vrrp-v2.pcap')[0] as Buffer).payload);
  v2[4] = 2; // AH
  const ah = decoded(v2);
  assert.equal(ah.authType, 2);
  assert.equal(encodeAdvert(ah)[4], 2);
});

// ---- encode ---------------------------------------------------------------------------------

function v2Advert(over: Partial<Advert> = {}): Advert {
  return {
    version: 2,
    vrid: 50,
    priority: 150,
    addresses: ['192.0.2.3'],
    advertIntervalCs: 100,
    authType: 1,
    authData: passwordAuthData('1111'),
    checksum: 0,
    ...over,
  };
}

function v3Advert(over: Partial<Advert> = {}): Advert {
  return {
    version: 3,
    vrid: 50,
    priority: 150,
    addresses: ['192.0.2.3'],
    advertIntervalCs: 100,
    authType: 0,
    authData: Buffer.alloc(0),
    checksum: 0,
    ...over,
  };
}

test('encodeAdvert builds the captured packets from scratch (checksum field ignored)', () => {
  const capturedV2 = ip(vector('vrrp-v2.pcap')[0] as Buffer).payload;
  const capturedV3 = ip(vector('vrrp-v3.pcap')[0] as Buffer).payload;
  assert.deepEqual(encodeAdvert(v2Advert({ checksum: 0xbeef })), capturedV2);
  assert.deepEqual(encodeAdvert(v3Advert(), { src: '192.0.2.5', dst: '224.0.0.18' }), capturedV3);
});

test('encodeAdvert: several addresses, v3 12-bit interval, message-form checksum verifies', () => {
  const a = v3Advert({ addresses: ['198.18.10.1', '198.18.10.2', '10.255.0.7'], advertIntervalCs: 4095, priority: 255 });
  const msg = encodeAdvert(a, { v3Checksum: 'message' });
  assert.equal(msg.length, 8 + 12);
  assert.equal(msg.readUInt16BE(4), 0x0fff);
  assert.equal(internetChecksum(msg), 0); // message-only: the whole message sums to 0xffff
  const back = decoded(msg);
  assert.deepEqual(back.addresses, a.addresses);
  assert.equal(back.checksum, msg.readUInt16BE(6));
  // Pseudo form: message + pseudo-header sums to 0xffff.
  const pseudo = encodeAdvert(a, { src: '198.18.10.1', dst: '224.0.0.18' });
  const phdr = Buffer.from([198, 18, 10, 1, 224, 0, 0, 18, 0, 112, 0, pseudo.length]);
  assert.equal(internetChecksum(Buffer.concat([phdr, pseudo])), 0);
  assert.notEqual(internetChecksum(pseudo), 0);
});

test('encodeAdvert refuses adverts no correct sender builds', () => {
  const bad: [Partial<Advert>, RegExp][] = [
    [{ version: 4 as 2 }, /version/],
    [{ vrid: 0 }, /vrid/],
    [{ vrid: 256 }, /vrid/],
    [{ priority: -1 }, /priority/],
    [{ priority: 1.5 }, /priority/],
    [{ addresses: [] }, /addresses\.length/],
    [{ addresses: ['192.0.2.300'] }, /addresses\[0\]/],
    [{ addresses: ['192.0.2.03'] }, /addresses\[0\]/],
    [{ advertIntervalCs: 50 }, /whole seconds/],
    [{ advertIntervalCs: 0 }, /whole seconds/],
    [{ advertIntervalCs: 25600 }, /whole seconds/],
    [{ authData: Buffer.alloc(7) }, /authData/],
    [{ authType: 256 }, /authType/],
  ];
  for (const [over, re] of bad) assert.throws(() => encodeAdvert(v2Advert(over)), re, JSON.stringify(over));
  assert.throws(() => encodeAdvert(v3Advert({ advertIntervalCs: 4096 }), { v3Checksum: 'message' }), /advertIntervalCs/);
  assert.throws(() => encodeAdvert(v3Advert({ advertIntervalCs: 0 }), { v3Checksum: 'message' }), /advertIntervalCs/);
  assert.throws(() => encodeAdvert(v3Advert({ authType: 1 }), { v3Checksum: 'message' }), /no authentication/);
  assert.throws(() => encodeAdvert(v3Advert({ reserved: 16 }), { v3Checksum: 'message' }), /reserved/);
  assert.throws(() => encodeAdvert(v3Advert()), /needs the IPv4 src and dst/);
  assert.throws(() => encodeAdvert(v3Advert(), { src: 'nope', dst: '224.0.0.18' }), /src/);
});

test('passwordAuthData: ASCII zero-padded to 8, refuses empty and > 8 bytes', () => {
  assert.deepEqual(passwordAuthData('1111'), Buffer.from('3131313100000000', 'hex'));
  assert.deepEqual(passwordAuthData('12345678'), Buffer.from('12345678'));
  assert.throws(() => passwordAuthData(''), /1\.\.8 bytes/);
  assert.throws(() => passwordAuthData('123456789'), /1\.\.8 bytes/);
  assert.throws(() => passwordAuthData('ééééé'), /got 10/);
});

// ---- IPv4 layer -----------------------------------------------------------------------------

test('parseIpv4Packet: drop reasons for malformed, truncated and fragmented datagrams', () => {
  const good = Buffer.from(vector('vrrp-v2.pcap')[0] as Buffer);
  const edit = (f: (b: Buffer) => void): Buffer => {
    const c = Buffer.from(good);
    f(c);
    return c;
  };
  assert.equal(parseIpv4Packet(good.subarray(0, 19)), 'ip-truncated');
  assert.equal(parseIpv4Packet(good.subarray(0, 39)), 'ip-truncated'); // total length says 40
  assert.equal(parseIpv4Packet(edit((b) => (b[0] = 0x65))), 'ip-malformed'); // version 6
  assert.equal(parseIpv4Packet(edit((b) => (b[0] = 0x44))), 'ip-malformed'); // IHL 4
  assert.equal(parseIpv4Packet(edit((b) => (b[0] = 0x4f))), 'ip-malformed'); // IHL 60 > total 40
  assert.equal(parseIpv4Packet(edit((b) => b.writeUInt16BE(19, 2))), 'ip-malformed');
  assert.equal(parseIpv4Packet(edit((b) => b.writeUInt16BE(0x2000, 6))), 'ip-fragment'); // MF
  assert.equal(parseIpv4Packet(edit((b) => b.writeUInt16BE(0x0001, 6))), 'ip-fragment'); // offset
  // DF alone is fine; trailing bytes (Ethernet padding) are cut at the total length.
  const df = parseIpv4Packet(edit((b) => b.writeUInt16BE(0x4000, 6)));
  assert.equal(typeof df, 'object');
  const padded = parseIpv4Packet(Buffer.concat([good, Buffer.alloc(6)])) as Ipv4Packet;
  assert.equal(padded.payload.length, 20);
});

test('parseIpv4Packet: IP options are skipped by IHL', () => {
  const good = ip(vector('vrrp-v3.pcap')[0] as Buffer);
  const withOptions = Buffer.concat([Buffer.from('46c00024000300000170000000000000', 'hex'), Buffer.alloc(8), good.payload]);
  withOptions.writeUInt32BE(good.src, 12);
  withOptions.writeUInt32BE(good.dst, 16);
  withOptions.writeUInt8(255, 8);
  withOptions.writeUInt8(112, 9);
  withOptions[20] = 0x94; // router alert option
  withOptions[21] = 4;
  const p = ip(withOptions);
  assert.deepEqual(p.payload, good.payload);
  assert.equal(p.ttl, 255);
});

test('IPv4 addresses: strict dotted quads both ways', () => {
  assert.equal(parseIpv4Address('0.0.0.0'), 0);
  assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
  assert.equal(parseIpv4Address('198.18.10.1'), 0xc6120a01);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.1.1.1', '1.1.1.-1', '1.1.1.1 ', 'a.b.c.d', '1..1.1']) {
    assert.equal(parseIpv4Address(bad), undefined, bad);
  }
  assert.equal(formatIpv4Address(0xc6120a01), '198.18.10.1');
  assert.equal(formatIpv4Address(0xffffffff), '255.255.255.255');
  assert.throws(() => encodeIpv4Packet(Buffer.alloc(1), { src: 2 ** 32, dst: 0 }), /src/);
  assert.throws(() => encodeIpv4Packet(Buffer.alloc(1), { src: 0, dst: 0, ttl: 256 }), /ttl/);
  assert.throws(() => encodeIpv4Packet(Buffer.alloc(65536), { src: 0, dst: 0 }), /too long/);
});
