import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SPLIT_BRAIN_GARP_REPEAT_MS, VrrpInstance, type InstanceConfig } from '../../src/vrrp/instance.ts';
import { HaupError } from '../../src/util/errors.ts';
import { InstanceClock, brief, transitions } from './instance-harness.ts';

const SELF = '198.18.10.5';
const PEER_HI = '198.18.10.6';
const PEER_LO = '198.18.10.4';

function make(over: Partial<InstanceConfig> = {}): InstanceClock {
  const inst = new VrrpInstance({
    name: 'VI_1',
    vrid: 51,
    version: 2,
    priority: 100,
    advertIntervalCs: 100,
    primaryAddress: SELF,
    ...over,
  });
  return new InstanceClock(inst);
}

/** Started backup that has heard master PEER_HI (prio 150) at t = 0. */
function backupWithMaster(over: Partial<InstanceConfig> = {}, masterPrio = 150): InstanceClock {
  const c = make(over);
  c.send({ type: 'start' });
  c.advert(PEER_HI, masterPrio, over.version === 3 ? (over.advertIntervalCs ?? 100) : 100);
  return c;
}

/** Started instance that became master by master_down (no other router). */
function master(over: Partial<InstanceConfig> = {}): InstanceClock {
  const c = make(over);
  c.send({ type: 'start' });
  c.advanceTo(c.inst.nextDeadline() ?? assert.fail('no master_down deadline'));
  assert.equal(c.inst.currentState, 'master');
  return c;
}

describe('startup', () => {
  test('starts in Backup and becomes master at exactly Master_Down (v2 prio 100: 3 s + 156/256 s)', () => {
    const c = make();
    assert.equal(c.inst.currentState, 'init');
    const acts = c.send({ type: 'start' });
    assert.deepEqual(brief(acts), ['transition:init>backup']);
    assert.equal(transitions(acts)[0]?.cause, 'startup');
    assert.equal(c.inst.nextDeadline(), 3609.375);
    assert.deepEqual(c.advanceTo(3609.374), []);
    assert.equal(c.inst.currentState, 'backup');
    const up = c.advanceTo(3609.375);
    // A takeover by timer (hard failure): the advert goes out before `ip addr add`, as keepalived.
    assert.deepEqual(brief(up), ['send-advert:100', 'add-vips', 'garp:takeover', 'transition:backup>master']);
    const t = transitions(up)[0];
    assert.equal(t?.cause, 'master_down');
    assert.equal(t?.reason, 'master_down timer expired');
    assert.equal(t?.at, 3609.375);
  });

  test('master advertises every interval without drift', () => {
    const c = master();
    const t0 = c.now;
    c.advance(5000);
    const sends = c.since(t0 + 1, 'send-advert');
    assert.deepEqual(sends.map((e) => e.at - t0), [1000, 2000, 3000, 4000, 5000]);
    assert.ok(sends.every((e) => e.action.type === 'send-advert' && e.action.priority === 100));
  });

  test('a late wake-up skips missed adverts instead of bursting', () => {
    const c = master();
    const t0 = c.now;
    const late = c.inst.handle({ type: 'timer' }, t0 + 3500);
    assert.deepEqual(brief(late), ['send-advert:100']);
    assert.equal(c.inst.nextDeadline(), t0 + 4500);
  });

  test('priority 255 (address owner) becomes master at once and ignores tracking', () => {
    const c = make({ priority: 255 });
    const acts = c.send({ type: 'start' });
    assert.deepEqual(brief(acts), ['add-vips', 'garp:takeover', 'send-advert:255', 'transition:init>master']);
    assert.equal(transitions(acts)[0]?.cause, 'owner');
    assert.equal(transitions(acts)[0]?.reason, 'startup: address owner (priority 255)');
    assert.deepEqual(c.send({ type: 'priority', priority: 200 }), []);
    assert.equal(c.inst.snapshot().effectivePriority, 255);
    // A real master (prio 254) advertising is lower: the owner answers at once.
    assert.deepEqual(brief(c.advert(PEER_HI, 254)), ['send-advert:255', 'garp:split_brain']);
  });

  test('adverts before start are ignored; start twice is a no-op', () => {
    const c = make();
    assert.deepEqual(c.advert(PEER_HI, 150), []);
    assert.equal(c.inst.snapshot().counters.advertsReceived, 0);
    c.send({ type: 'start' });
    assert.deepEqual(c.send({ type: 'start' }), []);
  });

  test('invalid wiring is refused with a HaupError naming every problem', () => {
    assert.throws(
      () => new VrrpInstance({ name: 'x', vrid: 0, version: 2, priority: 100, advertIntervalCs: 50, primaryAddress: 'eth0' }),
      (e: unknown) => e instanceof HaupError && /vrid 0/.test(e.message) && /whole seconds/.test(e.message) && /primaryAddress "eth0"/.test(e.message),
    );
    assert.throws(() => new VrrpInstance({ name: 'x', vrid: 1, version: 3, priority: 256, advertIntervalCs: 10, primaryAddress: SELF }), /priority 256/);
  });
});

describe('backup', () => {
  test('an accepted advert resets Master_Down: master exactly 3609.375 ms after the LAST advert', () => {
    const c = backupWithMaster();
    c.advanceTo(1000);
    c.advert(PEER_HI, 150);
    c.advanceTo(2000);
    c.advert(PEER_HI, 150);
    assert.equal(c.inst.nextDeadline(), 2000 + 3609.375);
    c.advanceTo(5609.374);
    assert.equal(c.inst.currentState, 'backup');
    const up = c.advanceTo(5609.375);
    assert.equal(c.inst.currentState, 'master');
    assert.equal(transitions(up)[0]?.reason, `master_down timer expired (last advert from ${PEER_HI} prio 150)`);
    const snap = c.inst.snapshot();
    assert.deepEqual(snap.masterSeen, { address: SELF, priority: 100, at: 5609.375, self: true });
  });

  test('v3 0.1 s prio 100: master at exactly 300 ms + 60.9375 ms Skew after the last advert', () => {
    const c = backupWithMaster({ version: 3, advertIntervalCs: 10 });
    c.advanceTo(100);
    c.advert(PEER_HI, 150, 10);
    assert.equal(c.inst.nextDeadline(), 100 + 360.9375);
    c.advanceTo(460.937);
    assert.equal(c.inst.currentState, 'backup');
    c.advanceTo(460.9375);
    assert.equal(c.inst.currentState, 'master');
  });

  test('v3 uses the master advertised interval (RFC 5798 §6.4.2); v2 ignores it', () => {
    const v3 = make({ version: 3, advertIntervalCs: 100 });
    v3.send({ type: 'start' });
    v3.advert(PEER_HI, 150, 10); // master advertises every 0.1 s, we are configured 1 s
    assert.equal(v3.inst.nextDeadline(), 360.9375);
    assert.equal(v3.inst.snapshot().masterAdverIntervalCs, 10);

    const v2 = make({ version: 2, advertIntervalCs: 100 });
    v2.send({ type: 'start' });
    v2.advert(PEER_HI, 150, 300);
    assert.equal(v2.inst.nextDeadline(), 3609.375);
  });

  test('preempt on: a lower-priority advert is discarded, so master_down fires and we take over', () => {
    const c = make({ priority: 150 });
    c.send({ type: 'start' });
    for (let t = 0; t <= 3000; t += 1000) {
      c.advanceTo(t);
      c.advert(PEER_LO, 100);
    }
    // Never reset by the lower master: master_down counts from start (3 s + 106/256 s).
    assert.equal(c.inst.currentState, 'backup');
    const up = c.advanceTo(3414.0625);
    assert.equal(c.inst.currentState, 'master');
    assert.equal(c.inst.snapshot().counters.lowerPriorityDiscarded, 4);
    // The preempted master is alive and releases (after its drain) as soon as it hears our
    // advert: VIPs and GARP first, so clients already follow us when it lets go.
    assert.deepEqual(brief(up), ['add-vips', 'garp:takeover', 'send-advert:150', 'transition:backup>master']);
    const t = transitions(up)[0];
    assert.equal(t?.cause, 'preempt');
    assert.equal(t?.reason, `preempting ${PEER_LO} (prio 100 < our 150, last advert 414.063 ms ago)`);
  });

  test('a lower-priority master that went silent is a hard failure: advert first again', () => {
    const c = make({ priority: 150 });
    c.send({ type: 'start' });
    c.advert(PEER_LO, 100); // heard once at 0, then it died
    // A higher master restarts Master_Down, then dies: when it fires, the lower master's last
    // advert is older than one Master_Down_Interval, so nobody alive holds the VIPs.
    c.advanceTo(100);
    c.advert(PEER_HI, 200);
    const up = c.advanceTo(100 + 3414.0625);
    assert.equal(c.inst.currentState, 'master');
    assert.deepEqual(brief(up), ['send-advert:150', 'add-vips', 'garp:takeover', 'transition:backup>master']);
    assert.equal(transitions(up)[0]?.cause, 'master_down');
  });

  test('equal priority in backup is accepted (no preemption on a tie)', () => {
    const c = make();
    c.send({ type: 'start' });
    c.advanceTo(3000);
    c.advert(PEER_HI, 100);
    assert.equal(c.inst.nextDeadline(), 3000 + 3609.375);
    assert.equal(c.inst.snapshot().masterSeen?.address, PEER_HI);
  });

  test('nopreempt: a lower-priority master keeps resetting our timer; we take over only when it stops', () => {
    const c = make({ priority: 150, preempt: false });
    c.send({ type: 'start' });
    for (let t = 0; t <= 20_000; t += 1000) {
      c.advanceTo(t);
      c.advert(PEER_LO, 100);
    }
    assert.equal(c.inst.currentState, 'backup');
    c.advanceTo(20_000 + 3414.0625);
    assert.equal(c.inst.currentState, 'master');
    assert.equal(c.inst.snapshot().counters.lowerPriorityDiscarded, 0);
  });

  test('preempt_delay: no preemption for N s after startup, then the normal Master_Down', () => {
    const c = make({ priority: 150, preemptDelayMs: 10_000 });
    c.send({ type: 'start' });
    for (let t = 500; t <= 14_500; t += 1000) {
      c.advanceTo(t);
      c.advert(PEER_LO, 100);
      if (c.inst.currentState === 'master') break;
    }
    // Adverts up to 9.5 s are accepted (window), from 10.5 s discarded: master at 9.5 s + 3.414 s.
    const t = transitions(c.log.map((e) => e.action)).find((x) => x.to === 'master');
    assert.equal(t?.at, 9500 + 3414.0625);
    assert.equal(c.inst.snapshot().counters.lowerPriorityDiscarded, 3); // 10.5, 11.5, 12.5
  });

  test('preempt_delay window restarts on the first lower-priority master seen after a higher one', () => {
    const c = make({ priority: 150, preemptDelayMs: 5000 });
    c.send({ type: 'start' });
    for (let t = 1000; t < 20_000; t += 1000) {
      c.advanceTo(t);
      c.advert(PEER_HI, 200); // a better master cancels the startup window
    }
    for (let t = 20_000; t <= 40_000; t += 1000) {
      c.advanceTo(t);
      c.advert(PEER_LO, 100); // first lower advert at 20 s opens a 5 s window
      if (c.inst.currentState === 'master') break;
    }
    const t = transitions(c.log.map((e) => e.action)).find((x) => x.to === 'master');
    assert.equal(t?.at, 24_000 + 3414.0625);
  });

  test('priority 0 from the master: take over after Skew only (RFC), reason says so', () => {
    const c = backupWithMaster();
    c.advanceTo(1000);
    c.advert(PEER_HI, 0);
    assert.equal(c.inst.nextDeadline(), 1000 + 609.375);
    const up = c.advanceTo(1609.375);
    // A planned handover (the old master holds its VIPs until it sees our advert): VIPs first.
    assert.deepEqual(brief(up), ['add-vips', 'garp:takeover', 'send-advert:100', 'transition:backup>master']);
    const t = transitions(up)[0];
    assert.equal(t?.to, 'master');
    assert.equal(t?.cause, 'master_down');
    assert.equal(t?.reason, `master_down timer expired (Skew after priority 0 from ${PEER_HI})`);
    assert.equal(c.inst.snapshot().counters.priorityZeroReceived, 1);
  });

  test('priority 0 never postpones a Master_Down that is already closer than Skew', () => {
    const c = make();
    c.send({ type: 'start' }); // no master known yet: any priority 0 counts (RFC)
    c.advanceTo(3200); // Master_Down due at 3609.375
    c.advert(PEER_LO, 0); // Skew would end at 3809.375
    assert.equal(c.inst.nextDeadline(), 3609.375);
  });

  test('priority 0 from a router other than the master we follow is ignored', () => {
    const c = backupWithMaster({ peers: [{ address: PEER_HI, priority: 150 }, { address: PEER_LO, priority: 120 }] });
    c.advanceTo(500);
    assert.deepEqual(c.advert(PEER_LO, 0), [], 'e.g. a master yielding to ours after a split brain');
    assert.equal(c.inst.nextDeadline(), 3609.375, 'Master_Down unchanged');
    assert.equal(c.inst.snapshot().counters.priorityZeroReceived, 1);
  });

  test('v3 priority 0: Skew uses the learned master interval', () => {
    const c = backupWithMaster({ version: 3, advertIntervalCs: 10 });
    c.advanceTo(50);
    c.advert(PEER_HI, 0, 10);
    assert.equal(c.inst.nextDeadline(), 50 + 60.9375);
  });

  test('effective priority changes the Skew of the next Master_Down', () => {
    const c = backupWithMaster();
    c.send({ type: 'priority', priority: 200 });
    c.advanceTo(1000);
    c.advert(PEER_HI, 250);
    assert.equal(c.inst.nextDeadline(), 1000 + 3000 + (56 * 1000) / 256);
  });

  test('our own advert echoed back is ignored', () => {
    const c = backupWithMaster();
    assert.deepEqual(c.advert(SELF, 100), []);
    assert.equal(c.inst.snapshot().counters.advertsReceived, 1);
  });
});

describe('master', () => {
  test('higher priority advert: Backup at once, VIPs released after the 100 ms drain', () => {
    const c = master();
    const t0 = c.now;
    const acts = c.advert(PEER_HI, 150);
    assert.deepEqual(brief(acts), ['send-advert:0', 'stop-garp', 'transition:master>backup'], 'priority 0 tells the winner we held the VIPs');
    const t = transitions(acts)[0];
    assert.equal(t?.cause, 'higher_priority');
    assert.equal(t?.reason, `higher priority advert from ${PEER_HI} (prio 150)`);
    assert.equal(c.inst.snapshot().vipsHeld, true);
    c.advanceTo(t0 + 99.999);
    assert.equal(c.since(t0, 'remove-vips').length, 0);
    c.advanceTo(t0 + 100);
    assert.deepEqual(c.since(t0, 'remove-vips').map((e) => e.at), [t0 + 100]);
    assert.equal(c.inst.snapshot().vipsHeld, false);
    assert.deepEqual(c.inst.snapshot().masterSeen, { address: PEER_HI, priority: 150, at: t0, self: false });
    // The priority 0 is repeated twice, one advert interval apart (a lost one must not leave a
    // healed split brain without the winner's GARP); otherwise a backup never advertises.
    assert.equal(c.inst.nextDeadline(), t0 + 1000);
    c.advanceTo(t0 + 500);
    c.advert(PEER_HI, 150);
    c.advanceTo(t0 + 3000);
    assert.deepEqual(c.since(t0 + 1e-6, 'send-advert').map((e) => [e.at - t0, (e.action as { priority: number }).priority]), [[1000, 0], [2000, 0]]);
    assert.equal(c.inst.nextDeadline(), t0 + 500 + 3609.375, 'then only Master_Down');
  });

  test('priority 0 repeats after yielding stop when we become master again', () => {
    const c = master();
    const t0 = c.now;
    c.advert(PEER_HI, 150);
    c.advanceTo(t0 + 1200); // first repeat at +1000
    c.advert(PEER_HI, 0); // the winner leaves: master after Skew (+1809), before the second repeat (+2000)
    c.advanceTo(t0 + 5000);
    assert.equal(c.inst.currentState, 'master');
    const sent = c.since(t0 + 1e-6, 'send-advert').map((e) => (e.action as { priority: number }).priority);
    assert.deepEqual(sent.slice(0, 2), [0, 100], 'one repeat, then our own adverts only');
    assert.ok(!sent.slice(1).includes(0), sent.join(','));
  });

  test('releaseDrainMs 0 releases the VIPs in the same step (keepalived behaviour)', () => {
    const c = master({ releaseDrainMs: 0 });
    assert.deepEqual(brief(c.advert(PEER_HI, 150)), ['send-advert:0', 'stop-garp', 'remove-vips', 'transition:master>backup']);
  });

  test('v3: yielding learns the new master interval', () => {
    const c = master({ version: 3, advertIntervalCs: 100 });
    const t0 = c.now;
    c.advert(PEER_HI, 150, 10);
    assert.equal(c.inst.nextDeadline(), t0 + 100); // the drain
    c.advanceTo(t0 + 100);
    assert.equal(c.inst.nextDeadline(), t0 + 360.9375);
  });

  test('equal priority: the higher primary IP wins, compared as unsigned 32-bit', () => {
    const lowIp = master({ primaryAddress: '10.0.0.5' });
    const acts = lowIp.advert('198.18.10.6', 100); // 198 > 127: negative as a signed int
    assert.deepEqual(brief(acts), ['send-advert:0', 'stop-garp', 'transition:master>backup']);
    assert.equal(transitions(acts)[0]?.cause, 'equal_priority_higher_ip');
    assert.match(transitions(acts)[0]?.reason ?? '', /equal priority advert from 198\.18\.10\.6 \(prio 100\) with higher primary IP/);

    const highIp = master({ primaryAddress: '198.18.10.6' });
    assert.deepEqual(brief(highIp.advert('10.0.0.5', 100)), ['send-advert:100', 'garp:split_brain']);
    assert.equal(highIp.inst.currentState, 'master');
  });

  test('lower priority advert: advertise at once and reset the advert timer, do not yield', () => {
    const c = master();
    const t0 = c.now;
    c.advanceTo(t0 + 400);
    assert.deepEqual(brief(c.advert(PEER_LO, 50)), ['send-advert:100', 'garp:split_brain']);
    assert.equal(c.inst.currentState, 'master');
    assert.equal(c.inst.nextDeadline(), t0 + 650, 'the split-brain GARP repeat');
    assert.deepEqual(brief(c.advanceTo(t0 + 650)), ['garp:split_brain']);
    assert.equal(c.inst.nextDeadline(), t0 + 1400);
  });

  test('split-brain GARP is repeated exactly once, 250 ms later, and counted once', () => {
    const c = master();
    const t0 = c.now;
    c.advert(PEER_LO, 50);
    c.advanceTo(t0 + 3000);
    assert.deepEqual(c.since(t0, 'garp').filter((e) => e.action.type === 'garp' && e.action.why === 'split_brain').map((e) => e.at), [t0, t0 + SPLIT_BRAIN_GARP_REPEAT_MS]);
    assert.equal(c.inst.snapshot().counters.splitBrainGarps, 1);
  });

  test('a master that yields before its split-brain repeat is due: no repeat, its GARPs are stopped', () => {
    const c = master();
    const t0 = c.now;
    c.advert(PEER_LO, 50); // answer + repeat scheduled
    c.advanceTo(t0 + 100);
    const acts = c.advert(PEER_HI, 200);
    assert.deepEqual(brief(acts), ['send-advert:0', 'stop-garp', 'transition:master>backup']);
    c.advanceTo(t0 + 3000);
    assert.deepEqual(c.since(t0, 'garp').filter((e) => e.action.type === 'garp' && e.action.why === 'split_brain').map((e) => e.at), [t0]);
  });

  test('split brain healed: GARP at once on the first lower advert, then at most once per second', () => {
    const c = master();
    const t0 = c.now;
    c.advert(PEER_LO, 50);
    c.advanceTo(t0 + 500);
    assert.deepEqual(brief(c.advert(PEER_LO, 50)), ['send-advert:100']);
    c.advanceTo(t0 + 1000);
    assert.deepEqual(brief(c.advert(PEER_LO, 50)), ['send-advert:100', 'garp:split_brain']);
    assert.equal(c.inst.snapshot().counters.splitBrainGarps, 2);
  });

  test('priority 0 from another master: advertise and GARP at once (it held our VIPs)', () => {
    const c = master();
    assert.deepEqual(brief(c.advert(PEER_HI, 0)), ['send-advert:100', 'garp:split_brain']);
    assert.equal(c.inst.currentState, 'master');
  });

  test('priority change while master is advertised at once; clamped to 1..254 by the instance', () => {
    const c = master();
    assert.deepEqual(brief(c.send({ type: 'priority', priority: 80 })), ['send-advert:80']);
    assert.deepEqual(brief(c.send({ type: 'priority', priority: 300 })), ['send-advert:254']);
    assert.deepEqual(c.send({ type: 'priority', priority: 254 }), [], 'unchanged: nothing sent');
    assert.deepEqual(brief(c.send({ type: 'priority', priority: -20 })), ['send-advert:1']);
    const snap = c.inst.snapshot();
    assert.equal(snap.effectivePriority, 1);
    assert.equal(snap.configuredPriority, 100);
  });

  test('a lowered priority lets a preempting backup win: we yield to its advert', () => {
    const c = master();
    c.send({ type: 'priority', priority: 80 });
    const acts = c.advert(PEER_LO, 90);
    assert.deepEqual(brief(acts), ['send-advert:0', 'stop-garp', 'transition:master>backup']);
    assert.equal(transitions(acts)[0]?.reason, `higher priority advert from ${PEER_LO} (prio 90)`);
  });
});

describe('fault', () => {
  test('Master -> Fault sends priority 0 and releases at once; Fault -> Backup restarts Master_Down', () => {
    const c = master();
    const acts = c.send({ type: 'fault', source: 'interface:eth0', reason: 'interface eth0 down' });
    assert.deepEqual(brief(acts), ['send-advert:0', 'remove-vips', 'transition:master>fault']);
    const t = transitions(acts)[0];
    assert.equal(t?.cause, 'fault');
    assert.equal(t?.reason, 'fault: interface eth0 down');
    assert.equal(c.inst.nextDeadline(), undefined);
    assert.deepEqual(c.advert(PEER_LO, 50), [], 'adverts change nothing in Fault');
    assert.deepEqual(c.inst.snapshot().faults, [{ source: 'interface:eth0', reason: 'interface eth0 down' }]);

    c.advance(5000);
    const back = c.send({ type: 'fault-clear', source: 'interface:eth0' });
    assert.deepEqual(brief(back), ['transition:fault>backup']);
    assert.equal(transitions(back)[0]?.cause, 'fault_cleared');
    assert.equal(c.inst.nextDeadline(), c.now + 3609.375);
  });

  test('several fault sources: Fault until the last one clears', () => {
    const c = backupWithMaster();
    assert.deepEqual(brief(c.send({ type: 'fault', source: 'script:chk_nginx', reason: 'track script chk_nginx failed' })), ['transition:backup>fault']);
    assert.deepEqual(c.send({ type: 'fault', source: 'partition', reason: 'gateway 198.18.10.1 unreachable' }), []);
    assert.deepEqual(c.send({ type: 'fault-clear', source: 'script:chk_nginx' }), []);
    assert.equal(c.inst.currentState, 'fault');
    assert.deepEqual(c.send({ type: 'fault-clear', source: 'nope' }), []);
    assert.deepEqual(brief(c.send({ type: 'fault-clear', source: 'partition' })), ['transition:fault>backup']);
  });

  test('Backup -> Fault during the release drain removes the VIPs at once', () => {
    const c = master();
    c.advert(PEER_HI, 150);
    assert.deepEqual(brief(c.send({ type: 'fault', source: 'partition', reason: 'gateway unreachable' })), ['remove-vips', 'transition:backup>fault']);
  });

  test('a fault before start makes start go straight to Fault', () => {
    const c = make();
    c.send({ type: 'fault', source: 'interface:eth0', reason: 'interface eth0 down' });
    const acts = c.send({ type: 'start' });
    assert.deepEqual(brief(acts), ['transition:init>fault']);
    assert.equal(transitions(acts)[0]?.reason, 'fault: interface eth0 down');
  });

  test('an owner leaving Fault becomes master at once', () => {
    const c = make({ priority: 255 });
    c.send({ type: 'start' });
    c.send({ type: 'fault', source: 'interface:eth0', reason: 'interface eth0 down' });
    const acts = c.send({ type: 'fault-clear', source: 'interface:eth0' });
    assert.deepEqual(brief(acts), ['add-vips', 'garp:takeover', 'send-advert:255', 'transition:fault>master']);
    assert.equal(transitions(acts)[0]?.reason, 'fault cleared: address owner (priority 255)');
  });
});

describe('shutdown', () => {
  test('from Backup: no advert, straight to stopped', () => {
    const c = backupWithMaster();
    const acts = c.send({ type: 'shutdown' });
    assert.deepEqual(brief(acts), ['transition:backup>init', 'stopped']);
    assert.equal(transitions(acts)[0]?.reason, 'shutdown');
    assert.equal(c.inst.isStopped, true);
    assert.equal(c.inst.nextDeadline(), undefined);
    assert.deepEqual(c.advert(PEER_HI, 150), [], 'nothing after stop');
  });

  test('from Fault: stopped, nothing sent', () => {
    const c = make();
    c.send({ type: 'start' });
    c.send({ type: 'fault', source: 'interface:eth0', reason: 'interface eth0 down' });
    assert.deepEqual(brief(c.send({ type: 'shutdown' })), ['transition:fault>init', 'stopped']);
  });

  test('before start: just stopped', () => {
    const c = make();
    assert.deepEqual(brief(c.send({ type: 'shutdown' })), ['stopped']);
  });

  test('from Backup while still draining VIPs: released now', () => {
    const c = master();
    c.advert(PEER_HI, 150);
    assert.deepEqual(brief(c.send({ type: 'shutdown' })), ['remove-vips', 'transition:backup>init', 'stopped']);
  });

  test('handover (a) master side: priority 0, VIPs kept until the new master advert, then drained and released', () => {
    const c = master({ priority: 150 });
    const t0 = c.now;
    const acts = c.send({ type: 'shutdown' });
    assert.deepEqual(brief(acts), ['send-advert:0', 'stop-garp'], 'VIPs are kept; our GARPs (a pending repeat burst) stop now');
    const snap = c.inst.snapshot();
    assert.equal(snap.vipsHeld, true);
    assert.equal(snap.state, 'master');
    assert.deepEqual(snap.handover, { since: t0, deadline: t0 + 3414.0625 });

    c.advanceTo(t0 + 1000);
    assert.deepEqual(brief(c.since(t0 + 1).map((e) => e.action)), ['send-advert:0'], 'priority 0 repeated each interval');
    assert.equal(c.since(t0 + 1)[0]?.at, t0 + 1000);
    assert.deepEqual(c.advert(PEER_LO, 0), [], 'another leaver is not a new master');

    c.advanceTo(t0 + 1200);
    assert.deepEqual(c.advert(PEER_LO, 100), []);
    assert.equal(c.inst.snapshot().handover?.newMaster, PEER_LO);
    c.advanceTo(t0 + 1299.999);
    assert.equal(c.since(t0, 'remove-vips').length, 0);
    const done = c.advanceTo(t0 + 1300);
    assert.deepEqual(brief(done), ['remove-vips', 'transition:master>init', 'stopped']);
    assert.equal(transitions(done)[0]?.reason, `shutdown: handed over to ${PEER_LO} (prio 100)`);
    assert.equal(transitions(done)[0]?.cause, 'shutdown');
    assert.equal(c.inst.snapshot().counters.priorityZeroSent, 2);
  });

  test('handover is bounded: no new master -> released at the timeout (default Master_Down_Interval)', () => {
    const c = master({ priority: 150 });
    const t0 = c.now;
    c.send({ type: 'shutdown' });
    c.advanceTo(t0 + 3414.062);
    assert.equal(c.since(t0, 'remove-vips').length, 0);
    const done = c.advanceTo(t0 + 3414.0625);
    assert.deepEqual(brief(done), ['remove-vips', 'transition:master>init', 'stopped']);
    assert.equal(transitions(done)[0]?.reason, 'shutdown: no new master advert within 3414.063 ms; released anyway');
  });

  test('handover timeout is configurable, and 0 releases at once like keepalived', () => {
    const c = master({ handoverTimeoutMs: 500 });
    const t0 = c.now;
    c.send({ type: 'shutdown' });
    c.advanceTo(t0 + 500);
    assert.equal(c.inst.isStopped, true);
    assert.deepEqual(c.since(t0, 'remove-vips').map((e) => e.at), [t0 + 500]);

    const k = master({ handoverTimeoutMs: 0 });
    assert.deepEqual(brief(k.send({ type: 'shutdown' })), ['send-advert:0', 'remove-vips', 'transition:master>init', 'stopped']);
  });

  test('no priority 0 repeat once the new master is seen (it would look like a split brain to it)', () => {
    const c = master({ version: 3, advertIntervalCs: 10, releaseDrainMs: 100 });
    const t0 = c.now;
    c.send({ type: 'shutdown' });
    c.advanceTo(t0 + 5);
    c.advert(PEER_HI, 100, 10); // new master at +5; release at +105, repeat would be at +100
    c.advanceTo(t0 + 105);
    assert.deepEqual(brief(c.since(t0 + 1).map((e) => e.action)), ['remove-vips', 'transition:master>init', 'stopped']);
  });

  test('the drain never outlasts the handover deadline', () => {
    const c = master({ handoverTimeoutMs: 300, releaseDrainMs: 1000 });
    const t0 = c.now;
    c.send({ type: 'shutdown' });
    c.advanceTo(t0 + 250);
    c.advert(PEER_HI, 100);
    c.advanceTo(t0 + 300);
    assert.equal(c.inst.isStopped, true);
  });

  test('a second shutdown (immediate) or a fault during the hold releases now', () => {
    const a = master();
    a.send({ type: 'shutdown' });
    assert.deepEqual(a.send({ type: 'shutdown' }), [], 'a plain repeat changes nothing');
    const now = a.send({ type: 'shutdown', immediate: true });
    assert.deepEqual(brief(now), ['remove-vips', 'transition:master>init', 'stopped']);
    assert.equal(transitions(now)[0]?.reason, 'shutdown: immediate release requested');

    const b = master();
    b.send({ type: 'shutdown' });
    const f = b.send({ type: 'fault', source: 'interface:eth0', reason: 'interface eth0 down' });
    assert.deepEqual(brief(f), ['remove-vips', 'transition:master>init', 'stopped']);
    assert.equal(transitions(f)[0]?.reason, 'shutdown: released at once on fault (interface eth0 down)');
  });

  test('priority changes during the hold send nothing (we are leaving)', () => {
    const c = master();
    c.send({ type: 'shutdown' });
    assert.deepEqual(c.send({ type: 'priority', priority: 200 }), []);
  });
});

describe('handover (a) backup side: known peer set', () => {
  test('two-node pair: priority 0 from the only peer -> master at once, no Skew', () => {
    const c = backupWithMaster({ peers: [{ address: PEER_HI, priority: 150 }] });
    c.advanceTo(700);
    const acts = c.advert(PEER_HI, 0);
    assert.deepEqual(brief(acts), ['add-vips', 'garp:takeover', 'send-advert:100', 'transition:backup>master']);
    const t = transitions(acts)[0];
    assert.equal(t?.cause, 'priority_zero_known_peers');
    assert.equal(t?.reason, `priority 0 from ${PEER_HI} and we are the highest remaining peer (prio 100): no Skew wait`);
    assert.equal(t?.at, 700);
  });

  test('three nodes: the highest remaining peer goes at once, the others wait Skew as the RFC says', () => {
    const peers = [
      { address: PEER_HI, priority: 150 },
      { address: PEER_LO, priority: 90 },
      { address: SELF, priority: 100 }, // our own entry is ignored
    ];
    const highest = backupWithMaster({ peers });
    assert.equal(transitions(highest.advert(PEER_HI, 0))[0]?.to, 'master');

    const notHighest = backupWithMaster({ peers: [{ address: PEER_HI, priority: 150 }, { address: PEER_LO, priority: 120 }] });
    notHighest.advanceTo(500);
    assert.deepEqual(notHighest.advert(PEER_HI, 0), []);
    assert.equal(notHighest.inst.nextDeadline(), 500 + 609.375);
  });

  test('equal remaining priority: the higher primary IP goes at once, the lower waits', () => {
    const other = '198.18.10.9';
    const lowerIp = backupWithMaster({ peers: [{ address: PEER_HI, priority: 150 }, { address: other, priority: 100 }] });
    assert.deepEqual(lowerIp.advert(PEER_HI, 0), []);
    const higherIp = backupWithMaster({ primaryAddress: '198.18.10.10', peers: [{ address: PEER_HI, priority: 150 }, { address: other, priority: 100 }] });
    assert.equal(transitions(higherIp.advert(PEER_HI, 0))[0]?.to, 'master');
  });

  test('a leaver outside the peer list means the list is incomplete: RFC Skew', () => {
    const c = backupWithMaster({ peers: [{ address: PEER_LO, priority: 90 }] });
    c.advanceTo(100);
    assert.deepEqual(c.advert(PEER_HI, 0), []);
    assert.equal(c.inst.nextDeadline(), 100 + 609.375);
  });

  test('the comparison uses our effective priority', () => {
    const c = backupWithMaster({ peers: [{ address: PEER_HI, priority: 150 }, { address: PEER_LO, priority: 90 }] });
    c.send({ type: 'priority', priority: 80 });
    assert.deepEqual(c.advert(PEER_HI, 0), []);
  });
});

test('snapshot: state, priorities, master seen, last transition, counters', () => {
  const c = backupWithMaster({ peers: [{ address: PEER_HI, priority: 150 }] });
  c.advanceTo(1000);
  c.advert(PEER_HI, 150);
  c.advanceTo(1500);
  c.advert(PEER_HI, 0);
  c.advanceTo(3500);
  const snap = c.inst.snapshot();
  assert.deepEqual(snap, {
    name: 'VI_1',
    vrid: 51,
    version: 2,
    state: 'master',
    stopped: false,
    configuredPriority: 100,
    effectivePriority: 100,
    preempt: true,
    faults: [],
    vipsHeld: true,
    masterAdverIntervalCs: 100,
    waitingForSyncGroup: false,
    masterSeen: { address: SELF, priority: 100, at: 1500, self: true },
    lastTransition: {
      from: 'backup',
      to: 'master',
      cause: 'priority_zero_known_peers',
      reason: `priority 0 from ${PEER_HI} and we are the highest remaining peer (prio 100): no Skew wait`,
      at: 1500,
    },
    nextAdvertAt: 4500,
    counters: {
      advertsSent: 3, // takeover at 1.5 s, then 2.5 s and 3.5 s
      advertsReceived: 3,
      priorityZeroSent: 0,
      priorityZeroReceived: 1,
      lowerPriorityDiscarded: 0,
      becomeMaster: 1,
      releaseMaster: 0,
      splitBrainGarps: 0,
    },
  });
  assert.doesNotThrow(() => JSON.stringify(snap));
});
