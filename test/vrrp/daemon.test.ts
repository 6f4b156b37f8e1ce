// The daemon's wiring without root: two or more Daemon objects in this process, joined by a fake
// wire (adverts as real IPv4 packets, through the real codec, receive validation and state
// machine), fake VIPs, real timers. What the namespace e2e tests show end to end, here fast and
// deterministic enough to check orders of events: VIPs added before the leaving master removes
// its own, an exception in one instance isolated to it, reload keeping unchanged instances.
import { test } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigFile, type HaupdConfig } from '../../src/vrrp/config.ts';
import type { HaupdConfigInput } from '../../src/vrrp/config-schema.ts';
import { Daemon, type HaupdStatus } from '../../src/vrrp/daemon.ts';
import type { DaemonIo, NetIo, Tracking } from '../../src/vrrp/daemon-io.ts';
import type { InstanceEvent } from '../../src/vrrp/instance.ts';
import { encodeIpv4Packet } from '../../src/vrrp/ipv4.ts';
import { createLogger, type Logger } from '../../src/vrrp/log.ts';
import type { VrrpSocket } from '../../src/vrrp/socket.ts';
import type { Vip, VipResult } from '../../src/vrrp/vip.ts';

type Entry = Record<string, unknown> & { event: string; host: string; t: number };

/** One broadcast segment: every host's socket on it gets every packet but its own. */
class Wire {
  readonly events: Entry[] = [];
  private readonly sockets = new Set<{ host: string; deliver: (p: Buffer) => void }>();
  readonly t0 = performance.now();
  cut = false;
  /**
   * Deliver through a MessagePort instead of setImmediate: its messages arrive in the event
   * loop's poll phase, like a raw socket's packets (after the timers phase, before setImmediate).
   */
  private port: { tx: MessagePort; queue: (() => void)[] } | null = null;

  deliverInPollPhase(): () => void {
    const { port1, port2 } = new MessageChannel();
    const queue: (() => void)[] = [];
    port2.on('message', () => queue.shift()?.());
    this.port = { tx: port1, queue };
    return () => {
      this.port = null;
      port1.close();
      port2.close();
    };
  }

  record(host: string, event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ host, event, t: performance.now() - this.t0, ...fields });
  }

  attach(host: string, deliver: (p: Buffer) => void): () => void {
    const s = { host, deliver };
    this.sockets.add(s);
    return () => this.sockets.delete(s);
  }

  /** The last packet each host sent (to replay one as "queued during a stall"). */
  readonly lastSent = new Map<string, Buffer>();

  send(from: string, packet: Buffer): void {
    if (this.cut) return;
    this.lastSent.set(from, packet);
    for (const s of this.sockets) {
      if (s.host === from) continue;
      const deliver = () => s.deliver(Buffer.from(packet));
      if (this.port) {
        this.port.queue.push(deliver);
        this.port.tx.postMessage(0);
      } else setImmediate(deliver);
    }
  }
}

/** A host: its primary address, its VIPs, its log lines, and the fake I/O it gives its daemon. */
class Host {
  readonly vips = new Set<string>();
  readonly lines: Record<string, unknown>[] = [];
  readonly log: Logger;
  readonly tracking = new Map<string, (e: InstanceEvent) => void>();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly wire: Wire,
  ) {
    this.log = createLogger({ level: 'debug', write: (l) => this.lines.push(JSON.parse(l) as Record<string, unknown>) });
  }

  net(): NetIo {
    const host = this;
    return {
      async openSocket(ifname) {
        const listeners: ((p: Buffer, from: string) => void)[] = [];
        const datagramListeners: ((buf: Buffer, length: number) => void)[] = [];
        let closed = false;
        const detach = host.wire.attach(host.name, (p) => {
          if (closed) return;
          // Like the real socket: one shared receive buffer, overwritten by the next packet.
          if (datagramListeners.length > 0) {
            const shared = Buffer.alloc(p.length + 16, 0xee);
            p.copy(shared);
            for (const l of datagramListeners) l(shared, p.length);
            shared.fill(0xee);
          }
          for (const l of listeners) l(p, `${p[12]}.${p[13]}.${p[14]}.${p[15]}`);
        });
        const sock: VrrpSocket = {
          ifname,
          ifindex: 2,
          primary: host.address,
          get closed() {
            return closed;
          },
          async send(dst, payload) {
            if (closed) throw new Error('closed');
            host.wire.send(host.name, encodeIpv4Packet(payload, { src: host.address, dst }));
          },
          sendNow(dst, payload, onError) {
            if (closed) return onError(new Error('closed'), dst);
            host.wire.send(host.name, encodeIpv4Packet(payload, { src: host.address, dst }));
          },
          onPacket: (cb) => void listeners.push(cb),
          onDatagram: (cb) => void datagramListeners.push(cb),
          onError: () => undefined,
          close() {
            closed = true;
            detach();
          },
        };
        return sock;
      },
      async addVips(_ifname, vips) {
        return vips.map((v) => host.vipOp('add', v));
      },
      async removeVips(_ifname, vips) {
        return vips.map((v) => host.vipOp('remove', v));
      },
      async releaseStale(instances) {
        const removed: string[] = [];
        for (const i of instances) for (const v of i.vips) if (host.vips.delete(v.address)) removed.push(`${v.address}/${v.prefix}@${i.interface}`);
        return removed;
      },
    };
  }

  vipOp(op: 'add' | 'remove', vip: Vip): VipResult {
    const had = this.vips.has(vip.address);
    if (op === 'add') this.vips.add(vip.address);
    else this.vips.delete(vip.address);
    this.wire.record(this.name, op === 'add' ? 'vip-add' : 'vip-remove', { vip: vip.address });
    return { vip, ok: true, already: op === 'add' ? had : !had, durationMs: 0 };
  }

  io(): DaemonIo {
    const host = this;
    return {
      ...this.net(),
      async startServices() {},
      async reconfigure() {},
      async stopServices() {},
      startTracking(cfg, emit): Tracking {
        host.tracking.set(cfg.name, emit);
        return { stop: () => host.tracking.delete(cfg.name), status: () => ({ effectivePriority: cfg.priority, items: [] }) };
      },
      startPartitionGuard() {},
      stopPartitionGuard() {},
      partitionGuardStatus: () => null,
      garp: async (cfg, why) => host.wire.record(host.name, 'garp', { instance: cfg.name, why }),
      cancelGarp: (instance) => host.wire.record(host.name, 'garp-cancel', { instance }),
      notify: (cfg, state) => host.wire.record(host.name, 'notify', { instance: cfg.name, state }),
      drainNotify: async () => undefined,
    };
  }

  transitions(instance?: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === 'transition' && (instance === undefined || l.instance === instance));
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const NET = '198.18.90';
let dir: string;

async function configFor(name: string, input: HaupdConfigInput): Promise<HaupdConfig> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(input));
  const { config, diagnostics } = await loadConfigFile(file);
  assert.ok(config, JSON.stringify(diagnostics));
  return config;
}

function instance(name: string, vrid: number, priority: number, vip: string, peers: Record<string, number> = {}) {
  return { name, interface: 'eth0', vrid, priority, advert_int: 0.05, vips: [`${vip}/24`], peers };
}

async function withDir<T>(fn: () => Promise<T>): Promise<T> {
  dir = await mkdtemp(path.join(tmpdir(), 'haupd-daemon-'));
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('planned stop: the leaving master keeps its VIP until the new master has added it (no instant without a holder)', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const b = new Host('b', `${NET}.2`, wire);
    const peers = { [a.address]: 150, [b.address]: 100 };
    const da = new Daemon(await configFor('a', { handover_timeout: 2, instances: [instance('VI_1', 90, 150, `${NET}.100`, peers)] }), a.log, a.io(), loadConfigFile);
    await da.start();
    await until('a master', () => a.vips.has(`${NET}.100`));
    const db = new Daemon(await configFor('b', { handover_timeout: 2, instances: [instance('VI_1', 90, 100, `${NET}.100`, peers)] }), b.log, b.io(), loadConfigFile);
    await db.start();
    await until('b backup', () => b.transitions().some((t) => t.to === 'backup'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([a.vips.size, b.vips.size], [1, 0]);

    const mark = wire.events.length;
    da.shutdown();
    assert.equal(await da.exited, 0);
    await until('b holds the VIP', () => b.vips.has(`${NET}.100`));
    const after = wire.events.slice(mark).filter((e) => e.event.startsWith('vip-')).map((e) => `${e.host} ${e.event}`);
    assert.deepEqual(after, ['b vip-add', 'a vip-remove'], 'the new master adds before the old one removes');
    const bMaster = b.transitions().at(-1)!;
    assert.equal(bMaster.cause, 'priority_zero_known_peers');
    assert.match(String(a.transitions().at(-1)!.reason), /handed over to 198\.18\.90\.2/);
    assert.ok(wire.events.some((e) => e.host === 'a' && e.event === 'notify' && e.state === 'stop'));
    db.shutdown();
    assert.equal(await db.exited, 0);
    assert.equal(b.vips.size, 0);
  }));

/** Block the whole process (both daemons), like SIGSTOP: no timer, no packet is handled meanwhile. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('a stalled backup does not take over from a live master: adverts queued during the stall are read before the expired Master_Down timer is acted on', () =>
  withDir(async () => {
    const wire = new Wire();
    const closePort = wire.deliverInPollPhase();
    const a = new Host('a', `${NET}.1`, wire);
    const b = new Host('b', `${NET}.2`, wire);
    const da = new Daemon(await configFor('a', { instances: [instance('VI_1', 91, 150, `${NET}.101`)] }), a.log, a.io(), loadConfigFile);
    const db = new Daemon(await configFor('b', { instances: [instance('VI_1', 91, 100, `${NET}.101`)] }), b.log, b.io(), loadConfigFile);
    try {
      await da.start();
      await until('a master', () => a.vips.has(`${NET}.101`));
      await db.start();
      await until('b backup', () => b.transitions().some((t) => t.to === 'backup'));
      const mark = wire.events.length;
      // Master_Down of b is 3 × 50 ms + skew ≈ 180 ms: each stall of the whole process lets it
      // expire. The real master is another process whose adverts wait in b's socket meanwhile:
      // an advert of a is queued for b just before the stall (delivered in the poll phase).
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 120));
        wire.send('a', wire.lastSent.get('a')!);
        stall(300);
      }
      await new Promise((r) => setTimeout(r, 200));
      const bEvents = wire.events.slice(mark).filter((e) => e.host === 'b').map((e) => e.event);
      assert.deepEqual(bEvents, [], 'b never added the VIP nor announced it');
      assert.deepEqual(b.transitions().map((t) => t.to), ['backup']);
      assert.ok(a.vips.has(`${NET}.101`));
      assert.equal(b.vips.size, 0);
    } finally {
      da.shutdown(true);
      db.shutdown(true);
      await Promise.all([da.exited, db.exited]);
      closePort();
    }
  }));

test('split brain healed: the winner repeats its GARP once 250 ms later; the loser stops its GARPs when it yields, before releasing', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const b = new Host('b', `${NET}.2`, wire);
    wire.cut = true;
    const da = new Daemon(await configFor('a', { instances: [instance('VI_1', 92, 150, `${NET}.102`)] }), a.log, a.io(), loadConfigFile);
    const db = new Daemon(await configFor('b', { instances: [instance('VI_1', 92, 100, `${NET}.102`)] }), b.log, b.io(), loadConfigFile);
    try {
      await da.start();
      await db.start();
      await until('both master (split brain)', () => a.vips.size === 1 && b.vips.size === 1);
      await new Promise((r) => setTimeout(r, 100));
      const mark = wire.events.length;
      wire.cut = false;
      await until('b yielded', () => b.vips.size === 0);
      await new Promise((r) => setTimeout(r, 600));
      const after = wire.events.slice(mark);
      const aGarps = after.filter((e) => e.host === 'a' && e.event === 'garp');
      assert.deepEqual(aGarps.map((e) => e.why), ['split_brain', 'split_brain'], 'the answer and exactly one repeat');
      const gap = aGarps[1]!.t - aGarps[0]!.t;
      assert.ok(gap >= 245 && gap < 400, `repeat ${gap} ms after the answer`);
      const bSeq = after.filter((e) => e.host === 'b').map((e) => e.event);
      assert.deepEqual(bSeq.slice(0, 2), ['garp-cancel', 'notify'], 'b stops its GARPs as it yields');
      assert.ok(bSeq.indexOf('garp-cancel') < bSeq.indexOf('vip-remove'));
      assert.ok(!bSeq.includes('garp'), 'b never announced after yielding');
      assert.ok(a.vips.has(`${NET}.102`));
    } finally {
      da.shutdown(true);
      db.shutdown(true);
      await Promise.all([da.exited, db.exited]);
    }
  }));

test('an exception inside one instance is logged and puts only that instance in Fault; the other keeps its VIP', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const b = new Host('b', `${NET}.2`, wire);
    const da = new Daemon(await configFor('a', { instances: [instance('VI_1', 91, 150, `${NET}.101`), instance('VI_2', 92, 150, `${NET}.102`)] }), a.log, a.io(), loadConfigFile);
    await da.start();
    await until('a master of both', () => a.vips.size === 2);
    // Break VI_1's state machine: every advert it is handed throws.
    const units = (da as unknown as { units: Map<string, { machine: { handle: (e: InstanceEvent, now: number) => unknown } }> }).units;
    const machine = units.get('VI_1')!.machine;
    const original = machine.handle.bind(machine);
    machine.handle = (e, now) => {
      if (e.type === 'advert') throw new Error('boom in VI_1');
      return original(e, now);
    };
    // b runs only VI_1, with a higher priority: it preempts, and its adverts reach a's broken VI_1.
    const db = new Daemon(await configFor('b', { instances: [instance('VI_1', 91, 200, `${NET}.101`)] }), b.log, b.io(), loadConfigFile);
    await db.start();
    await until('VI_1 fault on a', () => a.transitions('VI_1').some((t) => t.to === 'fault'));
    const err = a.lines.find((l) => l.event === 'instance_error')!;
    assert.equal(err.instance, 'VI_1');
    assert.equal((err.error as { message: string }).message, 'boom in VI_1');
    assert.match(String(a.transitions('VI_1').at(-1)!.reason), /internal error: boom in VI_1/);
    await until('b takes VI_1', () => b.vips.has(`${NET}.101`));
    assert.ok(!a.vips.has(`${NET}.101`), 'the faulty instance released its VIP');
    // VI_2 is untouched: still master, still holding, still advertising.
    const status = da.status() as HaupdStatus;
    const vi2 = status.instances.find((i) => i.name === 'VI_2')!;
    const sent = vi2.counters.advertsSent;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(vi2.state, 'MASTER');
    assert.ok(a.vips.has(`${NET}.102`));
    assert.ok((da.status() as HaupdStatus).instances.find((i) => i.name === 'VI_2')!.counters.advertsSent > sent);
    assert.equal((da.status() as HaupdStatus).instances.find((i) => i.name === 'VI_1')!.lastError, 'boom in VI_1');
    da.shutdown(true);
    db.shutdown(true);
    await Promise.all([da.exited, db.exited]);
  }));

test('tracking events reach the instance: a weight-0 fault releases the VIP, the priority event lowers the advert', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const b = new Host('b', `${NET}.2`, wire);
    const da = new Daemon(await configFor('a', { instances: [instance('VI_1', 93, 150, `${NET}.103`)] }), a.log, a.io(), loadConfigFile);
    const db = new Daemon(await configFor('b', { instances: [instance('VI_1', 93, 100, `${NET}.103`)] }), b.log, b.io(), loadConfigFile);
    await da.start();
    await until('a master', () => a.vips.size === 1);
    await db.start();
    await until('b backup', () => b.transitions().some((t) => t.to === 'backup'));
    a.tracking.get('VI_1')!({ type: 'priority', priority: 90 });
    await until('b preempts a priority-90 master', () => b.vips.size === 1 && a.vips.size === 0);
    a.tracking.get('VI_1')!({ type: 'priority', priority: 150 });
    await until('a preempts back', () => a.vips.size === 1 && b.vips.size === 0);
    a.tracking.get('VI_1')!({ type: 'fault', source: 'script:x', reason: 'track script x failing' });
    await until('a fault, b master', () => b.vips.size === 1 && a.vips.size === 0);
    assert.equal(a.transitions().at(-1)!.to, 'fault');
    a.tracking.get('VI_1')!({ type: 'fault-clear', source: 'script:x' });
    await until('a master again', () => a.vips.size === 1 && b.vips.size === 0);
    da.shutdown(true);
    db.shutdown(true);
    await Promise.all([da.exited, db.exited]);
  }));

test('reload: unchanged instance untouched, removed one released, invalid file rejected with diagnostics logged', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const input: HaupdConfigInput = { handover_timeout: 0.2, instances: [instance('VI_1', 94, 150, `${NET}.104`), instance('VI_2', 95, 150, `${NET}.105`)] };
    const cfg = await configFor('a', input);
    const da = new Daemon(cfg, a.log, a.io(), loadConfigFile);
    await da.start();
    await until('both master', () => a.vips.size === 2);
    const before = a.transitions('VI_1').length;
    await writeFile(cfg.file, JSON.stringify({ ...input, instances: [input.instances[0]] }));
    assert.equal(await da.reload(), true);
    assert.deepEqual([...a.vips], [`${NET}.104`]);
    assert.equal(a.transitions('VI_1').length, before);
    const plan = a.lines.find((l) => l.event === 'reload_plan')!;
    assert.deepEqual([plan.kept, plan.removed], [['VI_1'], ['VI_2']]);
    await writeFile(cfg.file, 'instances: [ { name: VI_1, vrid: 0 } ]\n');
    assert.equal(await da.reload(), false);
    assert.ok(a.lines.some((l) => l.event === 'config_diagnostic' && /vrid: must be at least 1/.test(String(l.diagnostic))));
    assert.ok(a.lines.some((l) => l.event === 'reload_rejected'));
    assert.deepEqual([...a.vips], [`${NET}.104`], 'still running the old config');
    assert.equal((da.status() as HaupdStatus).reloads.failed, 1);
    da.shutdown();
    assert.equal(await da.exited, 0);
    assert.equal(a.vips.size, 0);
  }));

test('sync group: a fault in one member takes the whole group to Fault and the peer takes every VIP; they come back together', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const b = new Host('b', `${NET}.2`, wire);
    const group = (prio: number): HaupdConfigInput => ({
      instances: [instance('OUT', 96, prio, `${NET}.106`), instance('IN', 97, prio, `${NET}.107`)],
      sync_groups: [{ name: 'G', instances: ['OUT', 'IN'] }],
    });
    const da = new Daemon(await configFor('a', group(150)), a.log, a.io(), loadConfigFile);
    const db = new Daemon(await configFor('b', group(100)), b.log, b.io(), loadConfigFile);
    await da.start();
    await until('a master of both', () => a.vips.size === 2);
    await db.start();
    await until('b backup of both', () => b.transitions().filter((t) => t.to === 'backup').length === 2);
    a.tracking.get('IN')!({ type: 'fault', source: 'interface:eth1', reason: 'interface eth1 down' });
    await until('b holds both', () => b.vips.size === 2 && a.vips.size === 0);
    assert.deepEqual(a.transitions().filter((t) => t.to === 'fault').map((t) => t.instance).sort(), ['IN', 'OUT']);
    assert.match(String(a.transitions('OUT').at(-1)!.reason), /sync group G: IN in fault \(interface eth1 down\)/);
    a.tracking.get('IN')!({ type: 'fault-clear', source: 'interface:eth1' });
    await until('a holds both again', () => a.vips.size === 2 && b.vips.size === 0);
    da.shutdown(true);
    db.shutdown(true);
    await Promise.all([da.exited, db.exited]);
  }));

test('an interface that is missing at start: the instance waits in Fault and starts once its socket opens', () =>
  withDir(async () => {
    const wire = new Wire();
    const a = new Host('a', `${NET}.1`, wire);
    const io = a.io();
    let attempts = 0;
    const realOpen = io.openSocket.bind(io);
    io.openSocket = async (ifname, opts) => {
      attempts++;
      if (attempts === 1) throw new Error(`interface ${ifname} does not exist`);
      return realOpen(ifname, opts);
    };
    const da = new Daemon(await configFor('a', { instances: [instance('VI_1', 98, 150, `${NET}.108`)] }), a.log, io, loadConfigFile);
    await da.start();
    assert.equal((da.status() as HaupdStatus).instances[0]!.state, 'FAULT');
    assert.ok(a.lines.some((l) => l.event === 'socket_open_failed'));
    await until('socket recovered and master', () => a.vips.size === 1, 5000);
    assert.ok(a.lines.some((l) => l.event === 'socket_recovered'));
    assert.equal(attempts, 2);
    da.shutdown(true);
    await da.exited;
  }));
