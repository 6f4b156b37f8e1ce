import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { VrrpInstance, type Action, type InstanceConfig, type InstanceEvent } from '../../src/vrrp/instance.ts';
import { SyncGroup } from '../../src/vrrp/sync-group.ts';
import { FakeClock, brief, transitions } from './instance-harness.ts';

const SELF = '198.18.10.5';
const OTHER = '198.18.10.6';

function member(name: string, vrid: number, over: Partial<InstanceConfig> = {}): VrrpInstance {
  return new VrrpInstance({ name, vrid, version: 2, priority: 100, advertIntervalCs: 100, primaryAddress: SELF, releaseDrainMs: 0, ...over });
}

class GroupClock extends FakeClock {
  constructor(readonly group: SyncGroup) {
    super({ timer: (now) => group.handleAll({ type: 'timer' }, now), nextDeadline: () => group.nextDeadline() });
  }
  one(name: string, event: InstanceEvent): Action[] {
    return this.record(this.group.handle(name, event, this.now));
  }
  all(event: InstanceEvent): Action[] {
    return this.record(this.group.handleAll(event, this.now));
  }
  advert(name: string, from: string, priority: number): Action[] {
    return this.one(name, { type: 'advert', advert: { from, priority, advertIntervalCs: 100 } });
  }
}

/** "ext:add-vips" style, so the interleaving of members is asserted too. */
function tagged(actions: readonly Action[]): string[] {
  return actions.map((a, i) => `${a.instance}:${brief([a])[0] ?? i}`);
}

function masterGroup(): { c: GroupClock; ext: VrrpInstance; int: VrrpInstance } {
  const ext = member('ext', 1);
  const int = member('int', 2);
  const c = new GroupClock(new SyncGroup('G', [ext, int]));
  c.all({ type: 'start' });
  c.advanceTo(3609.375);
  assert.equal(ext.currentState, 'master');
  assert.equal(int.currentState, 'master');
  return { c, ext, int };
}

test('members with no other router time out together and go master together', () => {
  const { c } = masterGroup();
  const ups = transitions(c.since(0).map((e) => e.action)).filter((t) => t.to === 'master');
  assert.deepEqual(
    ups.map((t) => [t.instance, t.cause, t.at]),
    // ext's timer is processed first and waits for int (not yet expired in this same tick);
    // int's expiry then finds ext waiting and takes it along.
    [
      ['int', 'master_down', 3609.375],
      ['ext', 'sync_group', 3609.375],
    ],
  );
  assert.equal(ups[1]?.reason, 'sync group G: int went master (master_down timer expired)');
});

test('one member in Fault pulls the others into Fault (priority 0, VIPs released); they leave together', () => {
  const { c, ext, int } = masterGroup();
  const acts = c.one('int', { type: 'fault', source: 'interface:eth1', reason: 'interface eth1 down' });
  assert.deepEqual(tagged(acts), [
    'int:send-advert:0',
    'int:remove-vips',
    'int:transition:master>fault',
    'ext:send-advert:0',
    'ext:remove-vips',
    'ext:transition:master>fault',
  ]);
  assert.equal(transitions(acts)[1]?.reason, 'fault: sync group G: int in fault (interface eth1 down)');
  assert.deepEqual(ext.ownFaults(), []);

  c.advance(2000);
  const clear = c.one('int', { type: 'fault-clear', source: 'interface:eth1' });
  assert.deepEqual(tagged(clear), ['int:transition:fault>backup', 'ext:transition:fault>backup']);
  // Both restart Master_Down from the clear and go master together again.
  c.advance(3609.375);
  assert.equal(ext.currentState, 'master');
  assert.equal(int.currentState, 'master');
});

test('a member that is faulty on its own stays in Fault when the other one clears', () => {
  const { c, ext, int } = masterGroup();
  c.one('int', { type: 'fault', source: 'interface:eth1', reason: 'interface eth1 down' });
  c.one('ext', { type: 'fault', source: 'interface:eth0', reason: 'interface eth0 down' });
  assert.deepEqual(c.one('int', { type: 'fault-clear', source: 'interface:eth1' }), []);
  assert.equal(int.currentState, 'fault');
  assert.match(int.snapshot().faults[0]?.reason ?? '', /ext in fault \(interface eth0 down\)/);
  assert.deepEqual(tagged(c.one('ext', { type: 'fault-clear', source: 'interface:eth0' })), ['ext:transition:fault>backup', 'int:transition:fault>backup']);
  assert.equal(ext.currentState, 'backup');
});

test('one master member beaten by a higher priority falls back to Backup and the others follow', () => {
  const { c, ext, int } = masterGroup();
  const acts = c.advert('ext', OTHER, 150);
  assert.deepEqual(tagged(acts), [
    'ext:send-advert:0',
    'ext:stop-garp',
    'ext:remove-vips',
    'ext:transition:master>backup',
    'int:send-advert:0',
    'int:stop-garp',
    'int:remove-vips',
    'int:transition:master>backup',
  ]);
  const follow = transitions(acts)[1];
  assert.equal(follow?.cause, 'sync_group');
  assert.equal(follow?.reason, `sync group G: ext went backup (higher priority advert from ${OTHER} (prio 150))`);
  assert.equal(int.currentState, 'backup');
  assert.equal(ext.currentState, 'backup');
});

test('no thrashing: a member whose master_down expires waits while another member still hears its master', () => {
  const ext = member('ext', 1);
  const int = member('int', 2);
  const c = new GroupClock(new SyncGroup('G', [ext, int]));
  c.all({ type: 'start' });
  // The other node is master of both; only ext's master stops advertising.
  for (let t = 0; t <= 10_000; t += 1000) {
    c.advanceTo(t);
    c.advert('int', OTHER, 150);
    if (t === 0) c.advert('ext', OTHER, 150);
  }
  assert.equal(ext.currentState, 'backup');
  assert.equal(ext.wantsMaster, true);
  assert.equal(ext.snapshot().waitingForSyncGroup, true);
  assert.equal(transitions(c.log.map((e) => e.action)).filter((t) => t.to === 'master').length, 0);

  // ext's master is back: ext stops waiting.
  c.advert('ext', OTHER, 150);
  assert.equal(ext.wantsMaster, false);

  // Now the other node dies for good: both time out; the group goes master together.
  const last = c.now;
  c.advance(10_000);
  const ups = transitions(c.since(last).map((e) => e.action)).filter((t) => t.to === 'master');
  assert.deepEqual(ups.map((t) => [t.instance, t.at]), [
    ['int', last + 3609.375],
    ['ext', last + 3609.375],
  ]);
});

test('the last member to time out takes the waiting ones with it', () => {
  const ext = member('ext', 1);
  const int = member('int', 2);
  const c = new GroupClock(new SyncGroup('G', [ext, int]));
  c.all({ type: 'start' });
  c.advert('ext', OTHER, 150);
  c.advanceTo(2000);
  c.advert('int', OTHER, 150);
  c.advanceTo(3609.375); // ext expires first: held back (int heard its master at 2 s)
  assert.equal(ext.currentState, 'backup');
  assert.equal(ext.wantsMaster, true);
  const ups = c.advanceTo(2000 + 3609.375);
  // int's own Master_Down (a hard failure): advert before the VIPs; ext follows the group,
  // VIPs first.
  assert.deepEqual(tagged(ups), [
    'int:send-advert:100',
    'int:add-vips',
    'int:garp:takeover',
    'int:transition:backup>master',
    'ext:add-vips',
    'ext:garp:takeover',
    'ext:send-advert:100',
    'ext:transition:backup>master',
  ]);
});

test('an owner (255) in a sync group waits for the group instead of going master alone', () => {
  const owner = member('ext', 1, { priority: 255 });
  const int = member('int', 2);
  const c = new GroupClock(new SyncGroup('G', [owner, int]));
  const start = c.all({ type: 'start' });
  assert.deepEqual(tagged(start), ['ext:transition:init>backup', 'int:transition:init>backup']);
  assert.equal(transitions(start)[0]?.reason, 'startup: address owner waiting for its sync group');
  const ups = c.advanceTo(3609.375);
  assert.deepEqual(transitions(ups).map((t) => [t.instance, t.to, t.cause]), [
    ['int', 'master', 'master_down'],
    ['ext', 'master', 'sync_group'],
  ]);
});

test('shutdown of the group: each member hands over on its own, no propagation while leaving', () => {
  const { c, ext, int } = masterGroup();
  const t0 = c.now;
  assert.deepEqual(tagged(c.all({ type: 'shutdown' })), ['ext:send-advert:0', 'ext:stop-garp', 'int:send-advert:0', 'int:stop-garp']);
  // ext's successor shows up; int's never does.
  c.advert('ext', OTHER, 100);
  assert.equal(ext.isStopped, true, 'releaseDrainMs 0: released on the advert');
  assert.equal(int.isStopped, false);
  assert.equal(int.snapshot().vipsHeld, true);
  c.advanceTo(t0 + 3609.375);
  assert.equal(int.isStopped, true);
  assert.equal(c.group.nextDeadline(), undefined);
});

test('group construction is checked', () => {
  assert.throws(() => new SyncGroup('G', []), /no members/);
  const a = member('a', 1);
  assert.throws(() => new SyncGroup('G', [a, a]), /duplicate/);
  const g = new SyncGroup('G', [member('x', 1), member('y', 2)]);
  assert.deepEqual(g.memberNames, ['x', 'y']);
  assert.throws(() => g.handle('z', { type: 'start' }, 0), /no member "z"/);
});

test('property: after every group call, all members share one state (random events, timers, faults)', () => {
  const memberEvent: fc.Arbitrary<InstanceEvent> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ from: fc.constantFrom(OTHER, '198.18.10.4'), priority: fc.integer({ min: 0, max: 255 }), advertIntervalCs: fc.constant(100) }).map((advert) => ({ type: 'advert' as const, advert })) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 254 }).map((priority) => ({ type: 'priority' as const, priority })) },
    { weight: 2, arbitrary: fc.constantFrom('a', 'b').map((source) => ({ type: 'fault' as const, source, reason: `${source} down` })) },
    { weight: 2, arbitrary: fc.constantFrom('a', 'b').map((source) => ({ type: 'fault-clear' as const, source })) },
  );
  const step = fc.record({ gap: fc.double({ min: 0, max: 4000, noNaN: true }), member: fc.integer({ min: 0, max: 2 }), event: memberEvent });
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 3 }), fc.boolean(), fc.array(step, { maxLength: 50 }), (count, owner, steps) => {
      const members = Array.from({ length: count }, (_, i) => member(`m${i}`, i + 1, { priority: owner && i === 0 ? 255 : 100, peers: [{ address: OTHER, priority: 150 }] }));
      const group = new SyncGroup('G', members);
      let now = 0;
      const same = (what: string): void => {
        const states = new Set(members.map((m) => m.currentState));
        assert.equal(states.size, 1, `${what}: ${members.map((m) => `${m.name}=${m.currentState}`).join(' ')}`);
        if (members.some((m) => m.ownFaults().length > 0)) assert.equal(members[0]?.currentState, 'fault');
      };
      group.handleAll({ type: 'start' }, now);
      same('start');
      for (const s of steps) {
        const target = now + s.gap;
        for (let i = 0; i < 1000; i++) {
          const d = group.nextDeadline();
          if (d === undefined || d > target) break;
          now = Math.max(now, d);
          group.handleAll({ type: 'timer' }, now);
          same('timer');
        }
        now = target;
        group.handle(`m${s.member % count}`, s.event, now);
        same(s.event.type);
      }
    }),
    { numRuns: 1500, seed: 7 },
  );
});
