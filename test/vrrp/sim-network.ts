// A fake network for the pure VRRP instances: adverts delivered after a fixed latency (or
// dropped), one fake clock, nodes that can be frozen (SIGSTOP: no processing, no sending, VIPs
// kept). Records transitions, VIP holders and GARPs for assertions.
import assert from 'node:assert/strict';
import { VrrpInstance, type Action, type InstanceConfig, type VrrpState } from '../../src/vrrp/instance.ts';

export const LATENCY = 0.25; // ms, one way

export interface SimNode {
  name: string;
  address: string;
  inst: VrrpInstance;
  readonly config: InstanceConfig;
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

export class Network {
  now = 0;
  readonly nodes: SimNode[] = [];
  readonly samples: Sample[] = [];
  readonly transitions: { at: number; node: string; from: VrrpState; to: VrrpState; cause: string }[] = [];
  /** Return true to drop the advert. */
  drop: (from: SimNode, to: SimNode, at: number) => boolean = () => false;
  private queue: Delivery[] = [];
  private seq = 0;

  add(name: string, address: string, cfg: Omit<InstanceConfig, 'name' | 'primaryAddress'>): SimNode {
    const config: InstanceConfig = { ...cfg, name, primaryAddress: address };
    const node: SimNode = { name, address, inst: new VrrpInstance(config), config, frozen: false, vips: false, garps: [], sent: [] };
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

  /** A new daemon process for this node (after a shutdown): fresh instance, started now. */
  restart(node: SimNode): void {
    assert.ok(node.inst.isStopped, `${node.name} must be stopped before a restart`);
    node.inst = new VrrpInstance(node.config);
    this.start(node);
  }

  /** Any other event (priority, fault, fault-clear) for one node, now. */
  send(node: SimNode, event: Parameters<VrrpInstance['handle']>[0]): void {
    if (!node.frozen) this.apply(node, node.inst.handle(event, this.now));
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
