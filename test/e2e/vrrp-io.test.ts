// haupd's I/O shell in real namespaces: raw VRRP socket (checked on the wire with tcpdump), VIPs,
// gratuitous ARP (the peer's neighbour table follows), link tracking and the partition guard (with
// measured detection latencies), the built-in nginx check and the metrics listener.
// Lab: prefix "vio", 198.18.47.0/24, hosts a (.1), b (.2), c (.3). Needs root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { createNetnsLab, waitFor, type NetnsLab } from './netns.ts';
import { icmpChecksum } from '../../src/vrrp/track/gateway.ts';

const AGENT = fileURLToPath(new URL('./vrrp-io-agent.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NET = '198.18.47';

interface AgentEvent {
  ev?: string;
  id?: number;
  t: number;
  [k: string]: unknown;
}

/** A vrrp-io-agent.ts process inside a host's namespace (and its own pid namespace, so pgrep sees only its children). */
class Agent {
  private nextId = 1;
  private waiting = new Map<number, (e: AgentEvent) => void>();
  readonly events: AgentEvent[] = [];
  readonly proc: ChildProcess;
  private stderr = '';

  constructor(lab: NetnsLab, host: string) {
    this.proc = lab.spawn(host, 'unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', AGENT], { cwd: REPO });
    this.proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let e: AgentEvent;
      try {
        e = JSON.parse(line) as AgentEvent;
      } catch {
        return;
      }
      if (e.id !== undefined) this.waiting.get(e.id)?.(e);
      else this.events.push(e);
    });
  }

  ready(): Promise<AgentEvent> {
    return waitFor('agent ready', () => this.events.find((e) => e.ev === 'ready'), 15000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent stderr: ${this.stderr}`);
    });
  }

  call<T = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}, timeoutMs = 10000): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${op} timed out; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting.set(id, (e) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (e.ok) resolve(e.result as T);
        else reject(new Error(`agent ${op}: ${String(e.error)}`));
      });
      this.proc.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  waitEvent(what: string, pred: (e: AgentEvent) => boolean, timeoutMs = 5000): Promise<AgentEvent> {
    return waitFor(what, () => this.events.find(pred), timeoutMs, 5);
  }
}

/** A VRRPv3 advert (RFC 9568 message-only checksum): vrid, prio, 1 s, one address. */
function advert(vrid: number, prio: number, addr: string): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x31;
  b[1] = vrid;
  b[2] = prio;
  b[3] = 1;
  b.writeUInt16BE(100, 4);
  Buffer.from(addr.split('.').map(Number)).copy(b, 8);
  b.writeUInt16BE(icmpChecksum(b), 6);
  return b;
}

let lab: NetnsLab;
let a: Agent;
let b: Agent;
let c: Agent;

before(async () => {
  lab = await createNetnsLab({ prefix: 'vio', subnet: 47, hosts: ['a', 'b', 'c'] });
  a = new Agent(lab, 'a');
  b = new Agent(lab, 'b');
  c = new Agent(lab, 'c');
  await Promise.all([a.ready(), b.ready(), c.ready()]);
});

after(async () => {
  await lab?.cleanup();
});

test('raw VRRP socket: multicast and unicast on the wire with TTL 255, TOS 0xc0, proto 112, primary source; no loop; copies; clean close', async () => {
  // A /32 address of another subnet on a must not become the advert source.
  await lab.run('a', 'ip', ['addr', 'add', '198.18.99.5/32', 'dev', 'eth0']);
  const dump = lab.spawn('b', 'tcpdump', ['-l', '-n', '-v', '-i', 'eth0', 'ip proto 112']);
  let wire = '';
  dump.stdout!.on('data', (d: Buffer) => (wire += d.toString()));
  dump.stderr!.on('data', (d: Buffer) => (wire += d.toString()));
  await waitFor('tcpdump listening', () => wire.includes('listening on'), 5000);

  const opened = await a.call<{ primary: string; ifindex: number }>('open', { ifname: 'eth0' });
  assert.equal(opened.primary, `${NET}.1`);
  assert.ok(opened.ifindex > 0);
  await b.call('open', { ifname: 'eth0' });
  // b has a second interface with a socket of its own: bound to that device, it must not see
  // the adverts arriving on eth0 (SO_BINDTODEVICE, IP_MULTICAST_ALL 0).
  await lab.run('b', 'ip', ['link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1']);
  await lab.run('b', 'ip', ['addr', 'add', '198.18.147.2/24', 'dev', 'x0']);
  await lab.run('b', 'ip', ['link', 'set', 'x0', 'up']);
  await lab.run('b', 'ip', ['link', 'set', 'x1', 'up']);
  assert.deepEqual(await b.call('openExtra', { ifname: 'x0' }), { primary: '198.18.147.2' });
  assert.match(await lab.run('b', 'ip', ['maddr', 'show', 'dev', 'eth0']), /224\.0\.0\.18/);

  const m1 = advert(47, 100, `${NET}.100`);
  const m2 = advert(47, 101, `${NET}.101`);
  await a.call('sendMany', { dst: '224.0.0.18', hexes: [m1.toString('hex'), m2.toString('hex')] });
  const u1 = advert(48, 102, `${NET}.102`);
  await a.call('send', { dst: `${NET}.2`, hex: u1.toString('hex') });

  await waitFor('3 packets on b', () => b.events.filter((e) => e.ev === 'packet').length >= 3, 5000);
  const { packets } = await b.call<{ packets: { from: string; hex: string }[] }>('dump');
  assert.equal(packets.length, 3);
  const expect = [
    { dst: '224.0.0.18', payload: m1 },
    { dst: '224.0.0.18', payload: m2 },
    { dst: `${NET}.2`, payload: u1 },
  ];
  packets.forEach((p, i) => {
    const buf = Buffer.from(p.hex, 'hex');
    const e = expect[i]!;
    assert.equal(p.from, `${NET}.1`);
    assert.equal(buf[0], 0x45);
    assert.equal(buf[1], 0xc0, 'TOS');
    assert.equal(buf[8], 255, 'TTL');
    assert.equal(buf[9], 112, 'protocol');
    assert.equal(buf.subarray(12, 16).join('.'), `${NET}.1`, 'source');
    assert.equal(buf.subarray(16, 20).join('.'), e.dst, 'destination');
    // Each buffer is its own copy: the first is not overwritten by the next packets.
    assert.deepEqual(buf.subarray(20), e.payload);
  });

  await waitFor('3 packets in tcpdump', () => (wire.match(/proto VRRP \(112\)/g) ?? []).length >= 3, 5000);
  const lines = wire.split('\n');
  const headers = lines.filter((l) => l.includes('proto VRRP (112)'));
  for (const h of headers) {
    assert.match(h, /tos 0xc0/);
    assert.match(h, /ttl 255/);
  }
  assert.equal(lines.filter((l) => l.includes(`${NET}.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 47`)).length, 2, wire);
  assert.equal(lines.filter((l) => l.includes(`${NET}.1 > ${NET}.2: VRRPv3, Advertisement, vrid 48, prio 102`)).length, 1, wire);

  // No multicast loop: a never saw its own adverts; b's socket on x0 saw nothing from eth0.
  assert.equal(a.events.filter((e) => e.ev === 'packet').length, 0);
  assert.equal(b.events.filter((e) => e.ev === 'extra-packet').length, 0);

  // Close leaves the group and fails later sends instead of reopening a socket.
  assert.deepEqual(await b.call('close'), { closed: true });
  assert.doesNotMatch(await lab.run('b', 'ip', ['maddr', 'show', 'dev', 'eth0']), /224\.0\.0\.18/);
  const late = await b.call<{ rejected: boolean; message: string }>('sendAfterClose');
  assert.equal(late.rejected, true);
  assert.match(late.message, /closed/);
  await lab.run('a', 'ip', ['addr', 'del', '198.18.99.5/32', 'dev', 'eth0']);
});

test('VIPs: idempotent add/remove, presence, stale copies with another prefix removed', async () => {
  const vip = `${NET}.100/24`;
  const first = await a.call<{ ok: boolean; already: boolean; durationMs: number }>('addVip', { ifname: 'eth0', vip });
  assert.equal(first.ok, true);
  assert.equal(first.already, false);
  const again = await a.call<{ ok: boolean; already: boolean }>('addVip', { ifname: 'eth0', vip });
  assert.deepEqual([again.ok, again.already], [true, true]);
  assert.deepEqual(await a.call('presentVips', { ifname: 'eth0', vips: [vip, `${NET}.101/24`] }), [{ address: `${NET}.100`, prefix: 24 }]);
  const bad = await a.call<{ ok: boolean; error: string }>('addVip', { ifname: 'nosuch0', vip });
  assert.equal(bad.ok, false);
  assert.match(bad.error, /nosuch0|Cannot find device/);

  const removed = await a.call<{ ok: boolean; already: boolean }>('removeVip', { ifname: 'eth0', vip });
  assert.deepEqual([removed.ok, removed.already], [true, false]);
  const removedAgain = await a.call<{ ok: boolean; already: boolean }>('removeVip', { ifname: 'eth0', vip });
  assert.deepEqual([removedAgain.ok, removedAgain.already], [true, true]);

  // A daemon killed with -9 left .100 as /32 and .101 as /24; the config now says /24 for both.
  await lab.run('a', 'ip', ['addr', 'add', `${NET}.100/32`, 'dev', 'eth0']);
  await lab.run('a', 'ip', ['addr', 'add', `${NET}.101/24`, 'dev', 'eth0']);
  const stale = await a.call<{ ok: boolean; vip: { address: string; prefix: number } }[]>('removeStaleVips', { ifname: 'eth0', vips: [`${NET}.100/24`, `${NET}.101/24`] });
  assert.deepEqual(
    stale.map((r) => [r.ok, r.vip.address, r.vip.prefix]),
    [
      [true, `${NET}.100`, 32],
      [true, `${NET}.101`, 24],
    ],
  );
  const left = await lab.run('a', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  assert.doesNotMatch(left, /198\.18\.47\.10[01]/);
  assert.match(left, /198\.18\.47\.1\/24/);
});

test('gratuitous ARP: the peer replaces a stale MAC for the VIP; cancel stops the bursts at once', async () => {
  const vip = `${NET}.110`;
  const macA = lab.host('a').mac;
  // b believes the VIP is at another LB's MAC (what a client has after a split brain).
  await lab.run('b', 'ip', ['neigh', 'replace', vip, 'lladdr', '02:48:2f:00:00:99', 'dev', 'eth0', 'nud', 'stale']);
  await a.call('addVip', { ifname: 'eth0', vip: `${vip}/24` });
  const t0 = Date.now();
  await a.call('garp', { key: 'one', ifname: 'eth0', vips: [vip], opts: { count: 1, repeatCount: 0, repeatDelayMs: 0 } });
  const learnt = await waitFor(
    'b learns the VIP MAC',
    async () => {
      const out = await lab.run('b', 'ip', ['neigh', 'show', vip, 'dev', 'eth0']);
      return out.toLowerCase().includes(macA) ? Date.now() - t0 : false;
    },
    3000,
    5,
  );
  console.log(`# garp: peer neighbour entry updated ${learnt} ms after sendGratuitousArp()`);

  // Burst and repeat on the wire: 5 back to back, 2 more after the repeat delay.
  const dump = lab.spawn('b', 'tcpdump', ['-l', '-n', '-tt', '-i', 'eth0', `arp and host ${vip}`]);
  let wire = '';
  dump.stdout!.on('data', (d: Buffer) => (wire += d.toString()));
  dump.stderr!.on('data', (d: Buffer) => (wire += d.toString()));
  await waitFor('tcpdump listening', () => wire.includes('listening on'), 5000);
  await a.call('garp', { key: 'timed', ifname: 'eth0', vips: [vip], opts: { count: 5, repeatCount: 2, repeatDelayMs: 600 }, wait: true }, 15000);
  const garpTimes = () => wire.split('\n').filter((l) => l.includes(`Request who-has ${vip} (ff:ff:ff:ff:ff:ff) tell ${vip}`)).map((l) => Number(l.split(' ')[0]) * 1000);
  await waitFor('7 gratuitous ARPs on b', () => garpTimes().length >= 7, 3000).catch((e: Error) => {
    throw new Error(`${e.message}\n${wire}`);
  });
  const times = garpTimes();
  assert.equal(times.length, 7, wire);
  const first = times[0]!;
  const rel = times.map((t) => Math.round(t - first));
  console.log(`# garp on the wire (ms after the first): ${rel.join(', ')}`);
  assert.ok(rel.slice(0, 5).every((t) => t < 400), `burst spread ${rel.slice(0, 5).join(',')}`);
  assert.ok(rel.slice(5).every((t) => t >= 450 && t < 1500), `repeat at ${rel.slice(5).join(',')}`);
  dump.kill('SIGKILL');

  // A long burst plus a repeat, cancelled: done settles at once and no arping is left on a.
  await a.call('garp', { key: 'long', ifname: 'eth0', vips: [vip], opts: { count: 5, repeatCount: 5, repeatDelayMs: 300 } });
  // pgrep runs in the agent's pid namespace: arping of other tests on this machine are invisible.
  await waitFor('arping running', async () => (await a.call<{ code: number }>('pgrep', { name: 'arping' })).code === 0, 3000);
  const { settledMs } = await a.call<{ settledMs: number }>('garpCancel', { key: 'long' });
  assert.ok(settledMs < 500, `cancel settled in ${settledMs} ms`);
  // Killed, not left to finish (each arping lives ~1 s), and the repeat (due at 300 ms) never starts.
  assert.equal((await a.call<{ code: number }>('pgrep', { name: 'arping' })).code, 1);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await a.call<{ code: number }>('pgrep', { name: 'arping' })).code, 1);
  await a.call('removeVip', { ifname: 'eth0', vip: `${vip}/24` });
});

test('track interface: carrier loss and return detected; latency of poll vs ip monitor', async () => {
  assert.deepEqual(await a.call('watchLink', { name: 'fast', ifname: 'eth0', pollMs: 100 }), { up: true });
  assert.deepEqual(await a.call('watchLink', { name: 'monitor', ifname: 'eth0', pollMs: 60000 }), { up: true });
  const t0 = Date.now();
  await lab.setLink('a', false);
  const fast = await a.waitEvent('fast down', (e) => e.ev === 'link' && e.watch === 'fast' && e.up === false, 3000);
  const mon = await a.waitEvent('monitor down', (e) => e.ev === 'link' && e.watch === 'monitor' && e.up === false, 3000);
  const t1 = Date.now();
  await lab.setLink('a', true);
  const fastUp = await a.waitEvent('fast up', (e) => e.ev === 'link' && e.watch === 'fast' && e.up === true, 3000);
  const monUp = await a.waitEvent('monitor up', (e) => e.ev === 'link' && e.watch === 'monitor' && e.up === true, 3000);
  console.log(
    `# link down detected: poll(100ms)+monitor ${fast.t - t0} ms via ${String(fast.via)}, monitor only ${mon.t - t0} ms;` +
      ` link up: ${fastUp.t - t1} ms via ${String(fastUp.via)}, monitor only ${monUp.t - t1} ms`,
  );
  assert.ok(fast.t - t0 < 1500, `down detected in ${fast.t - t0} ms`);

  // The host's own interface set down (admin down: reading `carrier` fails with EINVAL).
  const t2 = Date.now();
  await lab.run('a', 'ip', ['link', 'set', 'eth0', 'down']);
  const admin = await a.waitEvent('admin down', (e) => e.ev === 'link' && e.watch === 'fast' && e.up === false && e.t >= t2, 3000);
  await lab.run('a', 'ip', ['link', 'set', 'eth0', 'up']);
  const adminUp = await a.waitEvent('admin up', (e) => e.ev === 'link' && e.watch === 'fast' && e.up === true && e.t > admin.t, 3000);
  console.log(`# admin down detected ${admin.t - t2} ms via ${String(admin.via)}; up again ${adminUp.t - admin.t} ms after`);
  const fastEvents = a.events.filter((e) => e.ev === 'link' && e.watch === 'fast').map((e) => e.up);
  assert.deepEqual(fastEvents, [false, true, false, true]);

  // Both watchers shared one `ip monitor`; it goes with the last of them.
  assert.equal((await a.call<{ stdout: string }>('pgrep', { name: 'ip' })).stdout.trim().split('\n').length, 1);
  assert.deepEqual(await a.call('stopWatches'), { monitorRunning: false });
  await waitFor('ip monitor gone', async () => (await a.call<{ code: number }>('pgrep', { name: 'ip' })).code === 1, 2000);
});

test('partition guard: ICMP to the gateway, isolated after `fall` misses, back after `rise` answers', async () => {
  const pong = await a.call<{ ok: boolean; rttMs: number }>('ping', { target: `${NET}.3`, timeoutMs: 1000 });
  assert.equal(pong.ok, true);
  const none = await a.call<{ ok: boolean; detail: string }>('ping', { target: `${NET}.77`, timeoutMs: 200 });
  assert.equal(none.ok, false);
  assert.match(none.detail, /no echo reply/);

  await a.call('guard', { spec: { gateway: `${NET}.3`, interface: 'eth0', intervalMs: 100, timeoutMs: 100, rise: 2, fall: 3 } });
  await a.waitEvent('guard ok', (e) => e.ev === 'guard' && e.status === 'ok', 3000);
  const t0 = Date.now();
  await lab.setLink('c', false);
  const iso = await a.waitEvent('guard isolated', (e) => e.ev === 'guard' && e.status === 'failed', 3000);
  const t1 = Date.now();
  await lab.setLink('c', true);
  const back = await a.waitEvent('guard back', (e) => e.ev === 'guard' && e.status === 'ok' && e.t > t1, 3000);
  console.log(`# partition guard (interval 100 ms, fall 3, rise 2): isolated ${iso.t - t0} ms after the gateway's link went down, reachable ${back.t - t1} ms after it came back`);
  assert.ok(iso.t - t0 >= 200 && iso.t - t0 < 1000, `isolated after ${iso.t - t0} ms`);
  assert.equal(a.events.filter((e) => e.ev === 'guard' && e.status === 'failed').length, 1);
});

test('built-in nginx check: pgrep -x nginx, and an HTTP answer when a port is given', async () => {
  // The agent has its own pid namespace: pgrep sees only the agent and its children, never an
  // nginx of the lab or of another test running on this machine.
  assert.deepEqual(await a.call('nginx', { timeoutMs: 2000 }), { ok: false, detail: 'no nginx process' });
  await a.call('fakeNginx', { httpPort: 8047 });
  assert.deepEqual(await a.call('nginx', { timeoutMs: 2000 }), { ok: true });
  assert.deepEqual(await a.call('nginx', { port: 8047, timeoutMs: 2000 }), { ok: true, detail: 'HTTP 502' });
  const refused = await a.call<{ ok: boolean; detail: string }>('nginx', { port: 8048, timeoutMs: 2000 });
  assert.equal(refused.ok, false);
  assert.match(refused.detail, /GET 127\.0\.0\.1:8048: .*ECONNREFUSED/);
});

test('metrics listener: GET /metrics only, Prometheus text with HELP/TYPE', async () => {
  const snapshot = {
    pid: 1,
    version: '0.1.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: 5,
    configFile: '/etc/haupd/haupd.yml',
    partitionGuard: null,
    instances: [
      {
        name: 'VI_1', interface: 'eth0', vrid: 47, version: 3, state: 'MASTER', priority: 100, effectivePriority: 100,
        vips: ['198.18.47.100/24'], vipsHeld: true, masterSeen: null, lastTransition: null,
        counters: { advertsSent: 7, advertsReceived: 0, becameMaster: 1, drops: {} }, tracks: [],
      },
    ],
  };
  assert.deepEqual(await a.call('metrics', { listen: '127.0.0.1:9650', snapshot }), { host: '127.0.0.1', port: 9650 });
  const ok = await lab.run('a', 'curl', ['-s', '-i', 'http://127.0.0.1:9650/metrics']);
  assert.match(ok, /^HTTP\/1\.1 200/);
  assert.match(ok, /content-type: text\/plain; version=0\.0\.4; charset=utf-8/i);
  assert.match(ok, /# TYPE haupd_adverts_sent_total counter\nhaupd_adverts_sent_total\{instance="VI_1",interface="eth0",vrid="47"\} 7\n/);
  assert.match(await lab.run('a', 'curl', ['-s', '-i', '-X', 'POST', 'http://127.0.0.1:9650/metrics']), /^HTTP\/1\.1 405[\s\S]*allow: GET/i);
  assert.match(await lab.run('a', 'curl', ['-s', '-i', 'http://127.0.0.1:9650/']), /^HTTP\/1\.1 404/);
});
