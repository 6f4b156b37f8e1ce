import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAdvert, type Advert } from '../../src/vrrp/codec.ts';
import { encodeIpv4Packet } from '../../src/vrrp/ipv4.ts';
import { ReceiveMemo } from '../../src/vrrp/receive-memo.ts';
import { expectedInstance, newDropCounters, validateDatagram, type ExpectedInstance } from '../../src/vrrp/receive.ts';

const MASTER = '198.18.30.1';
const OTHER = '198.18.30.2';
const GROUP = '224.0.0.18';
const VI = expectedInstance({ version: 3, vrid: 51, advertIntervalCs: 1, addresses: ['198.18.30.100'] });

function advert(priority: number, vrid = 51): Advert {
  return { version: 3, vrid, priority, addresses: ['198.18.30.100'], advertIntervalCs: 1, authType: 0, authData: Buffer.alloc(0), checksum: 0 };
}

/** A datagram as the raw socket hands it over: at the start of a larger, reused buffer. */
function datagram(opts: { priority?: number; vrid?: number; src?: string; id?: number; ttl?: number } = {}): { buf: Buffer; length: number } {
  const src = opts.src ?? MASTER;
  const msg = encodeAdvert(advert(opts.priority ?? 150, opts.vrid ?? 51), { src, dst: GROUP, v3Checksum: 'pseudo' });
  const packet = encodeIpv4Packet(msg, { src, dst: GROUP, id: opts.id ?? 0, ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}) });
  const buf = Buffer.alloc(256, 0xab);
  packet.copy(buf);
  return { buf, length: packet.length };
}

function setup(): { memo: ReceiveMemo<ExpectedInstance>; lookup: Map<number, ExpectedInstance>; counters: ReturnType<typeof newDropCounters> } {
  const lookup = new Map<number, ExpectedInstance>([[51, VI]]);
  const counters = newDropCounters();
  return { memo: new ReceiveMemo(lookup, counters), lookup, counters };
}

test('a repeat that differs only in IP id and header checksum returns the same result and counts it again', () => {
  const { memo, counters } = setup();
  const first = datagram({ id: 1 });
  const r1 = memo.validate(first.buf, first.length);
  assert.equal(r1.ok, true);
  const second = datagram({ id: 2 });
  assert.notDeepEqual(second.buf.subarray(0, second.length), first.buf.subarray(0, first.length), 'id and header checksum differ');
  const r2 = memo.validate(second.buf, second.length);
  assert.equal(r2, r1);
  assert.equal(memo.hits, 1);
  assert.equal(counters.accepted, 2);
  // Same outcome as a full validation of the second packet.
  const fresh = validateDatagram(Buffer.from(second.buf.subarray(0, second.length)), new Map([[51, VI]]), newDropCounters());
  assert.deepEqual(r2, fresh);
});

test('the result does not depend on the shared buffer after the call (it is copied on a miss)', () => {
  const { memo } = setup();
  const d = datagram({ priority: 120 });
  const r = memo.validate(d.buf, d.length);
  d.buf.fill(0); // the next packet overwrites the socket's buffer
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.advert.priority, 120);
  assert.deepEqual(r.advert.addresses, ['198.18.30.100']);
  assert.equal(r.from, MASTER);
});

test('a changed priority, another sender or a changed TTL is validated in full', () => {
  const { memo, counters } = setup();
  const a = datagram({ priority: 150 });
  const b = datagram({ priority: 0 });
  const ra = memo.validate(a.buf, a.length);
  const rb = memo.validate(b.buf, b.length);
  assert.notEqual(rb, ra);
  assert.equal(rb.ok && rb.advert.priority, 0);
  const c = datagram({ src: OTHER, priority: 100 });
  const rc = memo.validate(c.buf, c.length);
  assert.equal(rc.ok && rc.from, OTHER);
  const d = datagram({ priority: 0, ttl: 254 });
  const rd = memo.validate(d.buf, d.length);
  assert.deepEqual(rd.ok ? 'accepted' : rd.reason, 'ip-ttl');
  assert.equal(memo.hits, 0);
  assert.equal(counters.accepted, 3);
  assert.equal(counters.dropped['ip-ttl'], 1);
});

test('drops are remembered and counted too', () => {
  const { memo, counters } = setup();
  const d = datagram({ vrid: 52 }); // another router pair's VRID
  const r1 = memo.validate(d.buf, d.length);
  const r2 = memo.validate(d.buf, d.length);
  assert.equal(r2, r1);
  assert.deepEqual(r1.ok ? 'accepted' : r1.reason, 'unknown-vrid');
  assert.equal(counters.dropped['unknown-vrid'], 2);
  assert.equal(counters.accepted, 0);
});

test('clear() after the lookup changes: the next repeat is judged by the new lookup', () => {
  const { memo, lookup, counters } = setup();
  const d = datagram();
  assert.equal(memo.validate(d.buf, d.length).ok, true);
  lookup.delete(51);
  memo.clear();
  const r = memo.validate(d.buf, d.length);
  assert.deepEqual(r.ok ? 'accepted' : r.reason, 'unknown-vrid');
  assert.equal(counters.accepted, 1);
  assert.equal(counters.dropped['unknown-vrid'], 1);
});

test('short or malformed datagrams never throw and are counted like validateDatagram counts them', () => {
  const { memo, counters } = setup();
  const tiny = Buffer.alloc(64, 0x45);
  const r = memo.validate(tiny, 8);
  assert.deepEqual(r.ok ? 'accepted' : r.reason, 'ip-truncated');
  memo.validate(tiny, 8);
  assert.equal(counters.dropped['ip-truncated'], 2);
  assert.equal(memo.hits, 0, 'no source address: never remembered');
});
