// Several pure instances wired through a fake network with a fake clock: adverts are delivered
// after a fixed latency, or dropped; a node can be frozen (SIGSTOP: no processing, no sending,
// VIPs kept). Asserts the properties the product promises: never two masters at steady state,
// failover within the RFC bound, no VIP gap on a planned handover, GARP after a split brain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InstanceConfig } from '../../src/vrrp/instance.ts';
import { masterDownIntervalMs } from '../../src/vrrp/timers.ts';
import { LATENCY, Network, type SimNode } from './sim-network.ts';

function trio(version: 2 | 3, intervalCs: number, extra: Partial<InstanceConfig> = {}): Network {
  const net = new Network();
  for (const [name, address, priority] of [
    ['a', '198.18.10.6', 150],
    ['b', '198.18.10.5', 100],
    ['c', '198.18.10.4', 50],
  ] as const) {
    const n = net.add(name, address, { vrid: 51, version, priority, advertIntervalCs: intervalCs, ...extra });
    net.setInterval(n, intervalCs);
  }
  return net;
}

function assertOneMaster(net: Network, from: number, to: number, who: string): void {
  const bad = net.window(from, to).filter((s) => s.masters.length !== 1 || s.masters[0] !== who || s.holders.length !== 1 || s.holders[0] !== who);
  assert.deepEqual(bad.slice(0, 3), [], `exactly one master (${who}) holding the VIPs in [${from}, ${to}]`);
}

test('election: staggered start converges on the highest priority; one master from then on', () => {
  const net = trio(2, 100);
  net.start(net.node('c'));
  net.runUntil(2000);
  net.start(net.node('b'));
  net.runUntil(2500);
  net.start(net.node('a'));
  net.runUntil(60_000);
  // c (started first, alone) became master at 3 s + 206/256 s. b and a discard its lower
  // adverts (preempt) and take over at their own Master_Down: b at 2 s + 3609.375 ms, then a
  // at 2.5 s + 3414.0625 ms. The priority 0 each yielding master sends must not delay a.
  assert.equal(net.firstTransition('c', 'master')?.at, masterDownIntervalMs(2, 50, 100));
  const bUp = net.firstTransition('b', 'master')?.at;
  assert.equal(bUp, 2000 + masterDownIntervalMs(2, 100, 100));
  assert.equal(net.firstTransition('c', 'backup', 1)?.at, 2000 + masterDownIntervalMs(2, 100, 100) + LATENCY);
  const aUp = net.firstTransition('a', 'master')?.at ?? assert.fail('a never master');
  assert.equal(aUp, 2500 + masterDownIntervalMs(2, 150, 100));
  // b yields one latency later and keeps the VIPs only for the 100 ms drain.
  assert.equal(net.firstTransition('b', 'backup', aUp)?.at, aUp + LATENCY);
  assert.equal(net.transitions.filter((t) => t.to === 'master').length, 3, 'no flapping');
  assertOneMaster(net, aUp + LATENCY + 100, 60_000, 'a');
});

for (const [version, cs, label] of [
  [2, 100, 'v2 1 s'],
  [3, 10, 'v3 0.1 s'],
  [3, 1, 'v3 0.01 s'],
] as const) {
  test(`hard failure (${label}): the next priority takes over at exactly the RFC bound`, () => {
    const net = trio(version, cs);
    for (const n of net.nodes) net.start(n);
    net.runUntil(30 * cs * 10);
    const a = net.node('a');
    assertOneMaster(net, masterDownIntervalMs(version, 150, cs) + 1, 30 * cs * 10, 'a');

    a.frozen = true; // SIGSTOP: no adverts, VIPs stay
    const lastSent = a.sent.at(-1)?.at ?? assert.fail('a never advertised');
    net.runUntil(60 * cs * 10);
    const bUp = net.firstTransition('b', 'master', lastSent)?.at ?? assert.fail('b never took over');
    const bound = masterDownIntervalMs(version, 100, cs);
    assert.equal(bUp - (lastSent + LATENCY), bound, 'Master_Down measured from the last advert received');
    assert.ok(bUp - lastSent <= bound + LATENCY);
    assert.equal(net.firstTransition('c', 'master', lastSent), undefined, 'c (prio 50) stays backup');
    const live = net.window(bUp + 1, 60 * cs * 10).filter((s) => s.masters.filter((m) => m !== 'a').join() !== 'b');
    assert.deepEqual(live.slice(0, 2), [], 'one master among the live nodes');
  });
}

test('lossy network: 20% advert loss for a minute, then a clean link converges to one master', () => {
  const net = trio(3, 10);
  let state = 12345; // deterministic LCG so a failure is reproducible
  const rand = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  net.drop = (_from, _to, at) => at < 60_000 && rand() < 0.2;
  for (const n of net.nodes) net.start(n);
  net.runUntil(70_000);
  // Whatever flapping the loss caused, one advert interval after a clean Master_Down the
  // highest priority is the single master, and stays so.
  assertOneMaster(net, 60_000 + 400, 70_000, 'a');
  // With 20% loss, three adverts in a row are lost ~0.8% of the time: b and c flap, but every
  // flap ends within a few intervals (a answers a lower advert at once; the answer may be lost).
  const flaps = net.transitions.filter((x) => x.node !== 'a' && x.to === 'master');
  assert.ok(flaps.length > 0, 'the loss did cause takeovers (the test exercises something)');
  for (const t of flaps) {
    const back = net.firstTransition(t.node, 'backup', t.at);
    assert.ok(back && back.at - t.at <= 300 + 2 * LATENCY, `${t.node} master at ${t.at} for too long`);
  }
  console.log(`lossy network: ${flaps.length} spurious takeovers, each healed within ${Math.max(...flaps.map((t) => (net.firstTransition(t.node, 'backup', t.at)?.at ?? Infinity) - t.at))} ms`);
});

test('planned handover with the peer set known: no instant without a VIP holder, new master at once', () => {
  const peers = [
    { address: '198.18.10.6', priority: 150 },
    { address: '198.18.10.5', priority: 100 },
    { address: '198.18.10.4', priority: 50 },
  ];
  const net = trio(2, 100, { peers });
  for (const n of net.nodes) net.start(n);
  net.runUntil(10_000);
  const t0 = net.now;
  net.shutdown(net.node('a'));
  net.runUntil(20_000);
  const bUp = net.firstTransition('b', 'master', t0);
  assert.equal(bUp?.at, t0 + LATENCY);
  assert.equal(bUp?.cause, 'priority_zero_known_peers');
  const aDown = net.firstTransition('a', 'init', t0);
  assert.equal(aDown?.at, t0 + 2 * LATENCY + 100, 'a saw b advert, drained 100 ms, released');
  assert.equal(net.longestVipGap(t0, 20_000), 0, 'always at least one VIP holder: 0 failed requests');
  assert.equal(net.firstTransition('c', 'master', t0), undefined);
  assertOneMaster(net, aDown.at, 20_000, 'b');
});

test('planned handover without a peer set: the backup waits Skew, the old master still covers the gap', () => {
  const net = trio(2, 100);
  for (const n of net.nodes) net.start(n);
  net.runUntil(10_000);
  const t0 = net.now;
  net.shutdown(net.node('a'));
  net.runUntil(20_000);
  assert.equal(net.firstTransition('b', 'master', t0)?.at, t0 + LATENCY + 609.375);
  assert.equal(net.longestVipGap(t0, 20_000), 0);
});

test('the same stop with keepalived behaviour (release at once, Skew wait) leaves a VIP gap', () => {
  // The control for the two tests above: proves longestVipGap sees a gap when there is one.
  const net = trio(2, 100, { handoverTimeoutMs: 0, releaseDrainMs: 0 });
  for (const n of net.nodes) net.start(n);
  net.runUntil(10_000);
  const t0 = net.now;
  net.shutdown(net.node('a'));
  net.runUntil(20_000);
  assert.equal(net.longestVipGap(t0, 20_000), LATENCY + 609.375); // keepalived measured 0.62 s
});

for (const firstAfterHeal of ['winner', 'loser'] as const) {
  test(`split brain healed (${firstAfterHeal}'s advert arrives first): the winner sends GARP at once`, () => {
    const net = new Network();
    const a = net.add('a', '198.18.10.6', { vrid: 51, version: 2, priority: 150, advertIntervalCs: 100 });
    const b = net.add('b', '198.18.10.5', { vrid: 51, version: 2, priority: 100, advertIntervalCs: 100 });
    net.start(a);
    net.runUntil(500);
    net.start(b);
    let blocked = false;
    net.drop = () => blocked;
    net.runUntil(10_000);
    blocked = true; // VRRP blocked both ways: b takes over too, both hold the VIPs
    net.runUntil(30_000);
    assert.deepEqual(net.samples.at(-1)?.holders, ['a', 'b'], 'split brain: two holders');

    // Both advertise every second on their own phase: heal after the other side's last
    // advert before the chosen side's next one, so the chosen side's advert crosses first.
    const nextOf = (n: SimNode) => (n.sent.at(-1)?.at ?? 0) + 1000;
    const [chosen, other] = firstAfterHeal === 'winner' ? [a, b] : [b, a];
    const firstCross = nextOf(chosen);
    let otherPrev = nextOf(other);
    while (otherPrev + 1000 < firstCross) otherPrev += 1000;
    if (otherPrev >= firstCross) otherPrev -= 1000;
    assert.ok(otherPrev + 1000 > firstCross + 3 * LATENCY, 'phases far enough apart for a clean test');
    const healAt = (Math.max(net.now, otherPrev) + firstCross) / 2;
    net.runUntil(healAt);
    blocked = false;
    net.runUntil(40_000);

    const garp = a.garps.find((g) => g.at >= healAt && g.why === 'split_brain');
    assert.ok(garp, 'a asked for gratuitous ARP after the heal');
    // winner first: a's advert -> b yields, sends priority 0 -> a: two latencies.
    // loser first: b's advert -> a answers with advert + GARP: one latency.
    assert.equal(garp.at - firstCross, firstAfterHeal === 'winner' ? 2 * LATENCY : LATENCY);
    const bDown = net.firstTransition('b', 'backup', healAt) ?? assert.fail('b never yielded');
    assertOneMaster(net, bDown.at + 100, 40_000, 'a');
  });
}

// ─── Random disruptions, then convergence ──────────────────────────────────────────────────

type Disruption =
  | { kind: 'loss'; from: number; to: number; rate: number }
  | { kind: 'cut'; node: number; from: number; to: number }
  | { kind: 'freeze'; node: number; from: number; to: number }
  | { kind: 'stop-restart'; node: number; from: number; to: number }
  | { kind: 'fault'; node: number; from: number; to: number }
  | { kind: 'priority'; node: number; at: number; priority: number };

test('property: after any mix of loss, cuts, freezes, restarts, faults and priority changes, one master with the top priority', () => {
  const window = fc.tuple(fc.integer({ min: 0, max: 40_000 }), fc.integer({ min: 1, max: 15_000 })).map(([from, len]) => ({ from, to: from + len }));
  const node = fc.integer({ min: 0, max: 2 });
  const disruption: fc.Arbitrary<Disruption> = fc.oneof(
    fc.record({ w: window, rate: fc.double({ min: 0.05, max: 1, noNaN: true }) }).map(({ w, rate }) => ({ kind: 'loss' as const, ...w, rate })),
    fc.record({ w: window, node }).map(({ w, node: n }) => ({ kind: 'cut' as const, node: n, ...w })),
    fc.record({ w: window, node }).map(({ w, node: n }) => ({ kind: 'freeze' as const, node: n, ...w })),
    fc.record({ w: window, node }).map(({ w, node: n }) => ({ kind: 'stop-restart' as const, node: n, ...w })),
    fc.record({ w: window, node }).map(({ w, node: n }) => ({ kind: 'fault' as const, node: n, ...w })),
    fc.record({ at: fc.integer({ min: 0, max: 50_000 }), node, priority: fc.integer({ min: 1, max: 254 }) }).map((d) => ({ kind: 'priority' as const, ...d })),
  );
  const scenario = fc.record({
    count: fc.integer({ min: 2, max: 3 }),
    priorities: fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 3, maxLength: 3 }),
    version: fc.constantFrom(2 as const, 3 as const),
    peersKnown: fc.boolean(),
    disruptions: fc.array(disruption, { maxLength: 6 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  });

  fc.assert(
    fc.property(scenario, (sc) => {
      const cs = sc.version === 2 ? 100 : 10;
      const addresses = ['198.18.10.4', '198.18.10.5', '198.18.10.6'].slice(0, sc.count);
      const prios = sc.priorities.slice(0, sc.count);
      const peers = sc.peersKnown ? addresses.map((address, i) => ({ address, priority: prios[i] ?? 1 })) : undefined;
      const net = new Network();
      const nodes = addresses.map((address, i) => net.add(`n${i}`, address, { vrid: 9, version: sc.version, priority: prios[i] ?? 1, advertIntervalCs: cs, peers }));
      for (const n of nodes) net.setInterval(n, cs);
      let rng = sc.seed;
      const rand = (): number => {
        rng = (rng * 1103515245 + 12345) % 2 ** 31;
        return rng / 2 ** 31;
      };
      const ds = sc.disruptions.map((d) => ('node' in d ? { ...d, node: d.node % sc.count } : d));
      net.drop = (from, to, at) =>
        ds.some((d) => {
          if (d.kind === 'loss') return at >= d.from && at < d.to && rand() < d.rate;
          if (d.kind === 'cut') return at >= d.from && at < d.to && (nodes[d.node] === from || nodes[d.node] === to);
          return false;
        });

      // Point events in time order: [time, action].
      const points: [number, () => void][] = [];
      const effective = prios.slice();
      for (const d of ds) {
        const n = 'node' in d ? nodes[d.node] : undefined;
        if (!n) continue;
        if (d.kind === 'freeze') {
          points.push([d.from, () => (n.frozen = true)], [d.to, () => (n.frozen = false)]);
        } else if (d.kind === 'stop-restart') {
          points.push([d.from, () => !n.frozen && !n.inst.isStopped && net.shutdown(n)], [d.to, () => {
            // The daemon exits only after the handover hold; restart once it has.
            if (n.inst.isStopped && !n.frozen) net.restart(n);
          }]);
        } else if (d.kind === 'fault') {
          points.push([d.from, () => net.send(n, { type: 'fault', source: `f${d.from}`, reason: 'test fault' })], [d.to, () => net.send(n, { type: 'fault-clear', source: `f${d.from}` })]);
        } else if (d.kind === 'priority') {
          points.push([d.at, () => net.send(n, { type: 'priority', priority: d.priority })]);
        }
      }
      points.sort((x, y) => x[0] - y[0]);
      for (const n of nodes) net.start(n);
      for (const [at, act] of points) {
        net.runUntil(at);
        act();
      }
      // End of disruptions: everything healed, every node alive and running.
      const end = Math.max(net.now, ...ds.map((d) => ('to' in d ? d.to : d.at)));
      net.runUntil(end);
      for (const n of nodes) {
        n.frozen = false;
        for (const f of n.inst.snapshot().faults) net.send(n, { type: 'fault-clear', source: f.source });
      }
      net.runUntil(end + 20_000); // any pending handover hold ends (≤ Master_Down ≤ 4 s)
      for (const n of nodes) if (n.inst.isStopped) net.restart(n);
      const settle = end + 20_000 + 2 * masterDownIntervalMs(sc.version, 1, cs) + 200;
      net.runUntil(settle + 10 * cs * 10);

      for (const [i, n] of nodes.entries()) effective[i] = n.inst.snapshot().effectivePriority;
      const top = Math.max(...effective);
      const last = net.window(settle, settle + 10 * cs * 10);
      assert.ok(last.length > 0, 'the network kept running');
      for (const s of last) {
        assert.equal(s.masters.length, 1, `one master at ${s.at}: ${s.masters.join(',')}`);
        assert.deepEqual(s.holders, s.masters, 'only the master holds the VIPs');
        const m = nodes.find((n) => n.name === s.masters[0]);
        assert.equal(m?.inst.snapshot().effectivePriority, top, 'the master has the top effective priority');
      }
    }),
    { numRuns: 1000, seed: 424242 },
  );
});

const pairOrTrio = fc.record({
  prios: fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 2, maxLength: 3 }),
  version: fc.constantFrom(2 as const, 3 as const),
  cs3: fc.constantFrom(1, 10, 100),
  peersKnown: fc.boolean(),
  at: fc.integer({ min: 0, max: 5000 }),
});

function build(sc: { prios: number[]; version: 2 | 3; cs3: number; peersKnown: boolean }): { net: Network; nodes: SimNode[]; cs: number } {
  const cs = sc.version === 2 ? 100 : sc.cs3;
  const addresses = sc.prios.map((_, i) => `198.18.10.${i + 4}`);
  const peers = sc.peersKnown ? addresses.map((address, i) => ({ address, priority: sc.prios[i] ?? 1 })) : undefined;
  const net = new Network();
  const nodes = addresses.map((address, i) => net.add(`n${i}`, address, { vrid: 9, version: sc.version, priority: sc.prios[i] ?? 1, advertIntervalCs: cs, peers }));
  for (const n of nodes) net.setInterval(n, cs);
  for (const n of nodes) net.start(n);
  return { net, nodes, cs };
}

test('property: a planned stop of the master never leaves the VIP without a holder; the top remaining priority takes over', () => {
  fc.assert(
    fc.property(pairOrTrio, (sc) => {
      const { net, nodes, cs } = build(sc);
      const steady = masterDownIntervalMs(sc.version, 1, cs) + 10 * cs * 10;
      net.runUntil(steady + sc.at * (cs / 100));
      const byPrio = [...nodes].sort((x, y) => y.config.priority - x.config.priority);
      const [master, next] = byPrio;
      assert.ok(master && next);
      assert.deepEqual(net.samples.at(-1)?.holders, [master.name], 'steady before the stop');
      const t0 = net.now;
      net.shutdown(master);
      net.runUntil(t0 + 2 * masterDownIntervalMs(sc.version, 1, cs) + 500);
      assert.equal(net.longestVipGap(t0, net.now), 0, 'never without a VIP holder');
      const up = net.firstTransition(next.name, 'master', t0) ?? assert.fail('nobody took over');
      const skew = masterDownIntervalMs(sc.version, next.config.priority, cs) - 3 * cs * 10;
      assert.equal(up.at - t0, sc.peersKnown ? LATENCY : LATENCY + skew, sc.peersKnown ? 'known peers: at once' : 'RFC: after Skew');
      assert.ok(master.inst.isStopped && !master.vips, 'the old master released and stopped');
      assert.deepEqual(net.samples.at(-1)?.holders, [next.name]);
      assert.deepEqual(net.samples.at(-1)?.masters, [next.name]);
    }),
    { numRuns: 500, seed: 99 },
  );
});

test('property: a frozen master is replaced by the top remaining priority at exactly the RFC bound', () => {
  fc.assert(
    fc.property(pairOrTrio, (sc) => {
      const { net, nodes, cs } = build(sc);
      net.runUntil(masterDownIntervalMs(sc.version, 1, cs) + 10 * cs * 10 + sc.at * (cs / 100));
      const [master, next] = [...nodes].sort((x, y) => y.config.priority - x.config.priority);
      assert.ok(master && next);
      master.frozen = true;
      const lastSent = master.sent.at(-1)?.at ?? assert.fail('master never advertised');
      net.runUntil(net.now + 3 * masterDownIntervalMs(sc.version, 1, cs) + 200); // + a racer's drain
      const up = net.firstTransition(next.name, 'master', lastSent) ?? assert.fail('nobody took over');
      assert.equal(up.at, lastSent + LATENCY + masterDownIntervalMs(sc.version, next.config.priority, cs));
      // Another backup may also time out, but only when its Skew is within one latency of the
      // winner's (v3 at 10 ms: 0.039 ms per priority step), and it yields on the winner's advert.
      const bound = (n: SimNode) => masterDownIntervalMs(sc.version, n.config.priority, cs);
      for (const t of net.transitions.filter((x) => x.at > lastSent && x.to === 'master' && x.node !== next.name)) {
        const other = net.node(t.node);
        assert.equal(t.at, lastSent + LATENCY + bound(other));
        assert.ok(bound(other) - bound(next) < LATENCY, `${t.node} raced although its Skew is ${bound(other) - bound(next)} ms later`);
        assert.equal(net.firstTransition(t.node, 'backup', t.at)?.at, up.at + LATENCY, 'and yields as soon as the winner advert arrives');
      }
      const tail = net.samples.at(-1);
      assert.deepEqual(tail?.masters.filter((m) => m !== master.name), [next.name]);
      assert.deepEqual(tail?.holders.filter((h) => h !== master.name), [next.name]);
    }),
    { numRuns: 500, seed: 98 },
  );
});
