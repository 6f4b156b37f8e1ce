// Several pure instances wired through a fake network with a fake clock: adverts are delivered
// after a fixed latency, or dropped; a node can be frozen (SIGSTOP: no processing, no sending,
// VIPs kept). Asserts the properties the product promises: never two masters at steady state,
// failover within the RFC bound, no VIP gap on a planned handover, GARP after a split brain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpInstance, type Action, type InstanceConfig, type VrrpState } from '../../src/vrrp/instance.ts';
import { masterDownIntervalMs } from '../../src/vrrp/timers.ts';

const LATENCY = 0.25; // ms, one way

interface SimNode {
  name: string;
  address: string;
  inst: VrrpInstance;
  frozen: boolean;
  vips: boolean;
  garps: { at: number; why: string }[];
  sent: { at: number; priority: number }[];
}

interface Delivery {
  at: number;
  seq: number;
  to: SimNode;
  from: SimNode;
  priority: number;
  intervalCs: number;
}

interface Sample {
  at: number;
  masters: string[];
  holders: string[];
}

class Network {
  now = 0;
  readonly nodes: SimNode[] = [];
  readonly samples: Sample[] = [];
  readonly transitions: { at: number; node: string; from: VrrpState; to: VrrpState; cause: string }[] = [];
  /** Return true to drop the advert. */
  drop: (from: SimNode, to: SimNode, at: number) => boolean = () => false;
  private queue: Delivery[] = [];
  private seq = 0;

  add(name: string, address: string, cfg: Omit<InstanceConfig, 'name' | 'primaryAddress'>): SimNode {
    const node: SimNode = { name, address, inst: new VrrpInstance({ ...cfg, name, primaryAddress: address }), frozen: false, vips: false, garps: [], sent: [] };
    this.nodes.push(node);
    return node;
  }

  node(name: string): SimNode {
    return this.nodes.find((n) => n.name === name) ?? assert.fail(`no node ${name}`);
  }

  start(node: SimNode): void {
    this.apply(node, node.inst.handle({ type: 'start' }, this.now));
  }

  shutdown(node: SimNode): void {
    this.apply(node, node.inst.handle({ type: 'shutdown' }, this.now));
  }

  /** Run events in time order up to `until`; at equal times deliveries go before timers. */
  runUntil(until: number): void {
    for (let guard = 0; guard < 2_000_000; guard++) {
      const delivery = this.queue[0];
      let timerNode: SimNode | undefined;
      let timerAt = Number.POSITIVE_INFINITY;
      for (const n of this.nodes) {
        const d = n.frozen ? undefined : n.inst.nextDeadline();
        if (d !== undefined && d < timerAt) {
          timerAt = d;
          timerNode = n;
        }
      }
      const next = Math.min(delivery?.at ?? Number.POSITIVE_INFINITY, timerAt);
      if (next > until) {
        this.now = until;
        return;
      }
      this.now = next;
      if (delivery && delivery.at === next) {
        this.queue.shift();
        if (!delivery.to.frozen) {
          const advert = { from: delivery.from.address, priority: delivery.priority, advertIntervalCs: delivery.intervalCs };
          this.apply(delivery.to, delivery.to.inst.handle({ type: 'advert', advert }, this.now));
        }
      } else if (timerNode) {
        this.apply(timerNode, timerNode.inst.handle({ type: 'timer' }, this.now));
      }
    }
    assert.fail('simulation did not settle');
  }

  private apply(node: SimNode, actions: Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'add-vips':
          node.vips = true;
          break;
        case 'remove-vips':
          node.vips = false;
          break;
        case 'garp':
          node.garps.push({ at: this.now, why: a.why });
          break;
        case 'send-advert': {
          node.sent.push({ at: this.now, priority: a.priority });
          const intervalCs = node.inst.snapshot().version === 3 ? this.intervalOf(node) : 100;
          for (const to of this.nodes) {
            if (to === node || this.drop(node, to, this.now)) continue;
            this.queue.push({ at: this.now + LATENCY, seq: this.seq++, to, from: node, priority: a.priority, intervalCs });
          }
          this.queue.sort((x, y) => x.at - y.at || x.seq - y.seq);
          break;
        }
        case 'transition':
          this.transitions.push({ at: this.now, node: node.name, from: a.from, to: a.to, cause: a.cause });
          break;
        case 'stopped':
          break;
      }
    }
    this.samples.push({
      at: this.now,
      masters: this.nodes.filter((n) => n.inst.currentState === 'master' && !n.inst.isStopped).map((n) => n.name),
      holders: this.nodes.filter((n) => n.vips).map((n) => n.name),
    });
  }

  private readonly intervals = new Map<SimNode, number>();
  setInterval(node: SimNode, cs: number): void {
    this.intervals.set(node, cs);
  }
  private intervalOf(node: SimNode): number {
    return this.intervals.get(node) ?? 100;
  }

  /** Samples in [from, to]. */
  window(from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.at >= from && s.at <= to);
  }

  /** Longest span with no VIP holder, between `from` and `to`. */
  longestVipGap(from: number, to: number): number {
    let gapStart: number | undefined;
    let longest = 0;
    let holding = (this.samples.filter((s) => s.at < from).at(-1)?.holders.length ?? 0) > 0;
    if (!holding) gapStart = from;
    for (const s of this.window(from, to)) {
      const now = s.holders.length > 0;
      if (holding && !now) gapStart = s.at;
      if (!holding && now && gapStart !== undefined) longest = Math.max(longest, s.at - gapStart);
      holding = now;
    }
    if (!holding && gapStart !== undefined) longest = Math.max(longest, to - gapStart);
    return longest;
  }

  firstTransition(node: string, to: VrrpState, after = 0): { at: number; cause: string } | undefined {
    return this.transitions.find((t) => t.node === node && t.to === to && t.at >= after);
  }
}

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
