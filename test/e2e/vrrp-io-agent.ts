// Helper process for test/e2e/vrrp-io.test.ts: runs INSIDE a test namespace (a Node process cannot
// switch namespaces), takes one JSON command per line on stdin and answers with JSON lines on
// stdout. Each answer carries the command's `id`; unsolicited events (packets, link changes, guard
// changes) carry `ev` and a wall-clock `t` (ms) so the test can measure latencies.
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/vrrp/exec.ts';
import { openVrrpSocket, type VrrpSocket } from '../../src/vrrp/socket.ts';
import { addVip, presentVips, removeStaleVips, removeVip, parseVip } from '../../src/vrrp/vip.ts';
import { sendGratuitousArp, type GarpRun } from '../../src/vrrp/garp.ts';
import { linkMonitorRunning, watchLink, type LinkWatch } from '../../src/vrrp/track/link.ts';
import { startPartitionGuard, createPinger, type PartitionGuard } from '../../src/vrrp/track/gateway.ts';
import { nginxProbe } from '../../src/vrrp/track/script.ts';
import { startMetricsServer, type MetricsServer } from '../../src/vrrp/metrics.ts';
import type { DaemonStatus } from '../../src/vrrp/status.ts';

const out = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ t: Date.now(), ...o }) + '\n');

let sock: VrrpSocket | undefined;
const extras: VrrpSocket[] = [];
const received: { from: string; packet: Buffer }[] = [];
const watches: LinkWatch[] = [];
const garps = new Map<string, GarpRun>();
let guard: PartitionGuard | undefined;
let metrics: MetricsServer | undefined;
const children: ChildProcess[] = [];
const servers: Server[] = [];

type Cmd = { id: number; op: string; [k: string]: unknown };

async function handle(c: Cmd): Promise<unknown> {
  switch (c.op) {
    case 'openExtra': {
      // A second socket on another interface: what it receives shows SO_BINDTODEVICE at work.
      const extra = await openVrrpSocket(String(c.ifname));
      extras.push(extra);
      extra.onPacket((_packet, from) => out({ ev: 'extra-packet', ifname: extra.ifname, from }));
      return { primary: extra.primary };
    }
    case 'open': {
      sock = await openVrrpSocket(String(c.ifname));
      sock.onPacket((packet, from) => {
        received.push({ from, packet });
        out({ ev: 'packet', from, len: packet.length });
      });
      return { primary: sock.primary, ifindex: sock.ifindex };
    }
    case 'send':
      await sock!.send(String(c.dst), Buffer.from(String(c.hex), 'hex'));
      return {};
    case 'sendMany':
      // Several sends back to back, without waiting: exercises raw-socket's send queue.
      await Promise.all((c.hexes as string[]).map((h) => sock!.send(String(c.dst), Buffer.from(h, 'hex'))));
      return {};
    case 'dump':
      return { packets: received.map((r) => ({ from: r.from, hex: r.packet.toString('hex') })) };
    case 'close':
      sock?.close();
      return { closed: sock?.closed ?? null };
    case 'sendAfterClose':
      return sock!.send('224.0.0.18', Buffer.alloc(8)).then(
        () => ({ rejected: false }),
        (err: Error) => ({ rejected: true, message: err.message }),
      );
    case 'addVip':
      return addVip(String(c.ifname), parseVip(String(c.vip)));
    case 'removeVip':
      return removeVip(String(c.ifname), parseVip(String(c.vip)));
    case 'presentVips':
      return presentVips(String(c.ifname), (c.vips as string[]).map(parseVip));
    case 'removeStaleVips':
      return removeStaleVips(String(c.ifname), (c.vips as string[]).map(parseVip));
    case 'garp': {
      const run = sendGratuitousArp(String(c.ifname), c.vips as string[], c.opts as { count: number; repeatCount: number; repeatDelayMs: number });
      garps.set(String(c.key), run);
      if (c.wait) await run.done;
      return {};
    }
    case 'garpCancel': {
      const run = garps.get(String(c.key))!;
      const t0 = performance.now();
      run.cancel();
      await run.done;
      return { settledMs: performance.now() - t0 };
    }
    case 'watchLink': {
      const w = watchLink(String(c.ifname), (up, via) => out({ ev: 'link', watch: c.name, up, via }), { pollMs: Number(c.pollMs) });
      watches.push(w);
      return { up: w.up };
    }
    case 'stopWatches':
      for (const w of watches.splice(0)) w.stop();
      return { monitorRunning: linkMonitorRunning() };
    case 'ping': {
      const p = createPinger(String(c.target));
      const r = await p.ping(Number(c.timeoutMs));
      p.close();
      return r;
    }
    case 'guard':
      guard = startPartitionGuard(c.spec as Parameters<typeof startPartitionGuard>[0], (status, last) => out({ ev: 'guard', status, detail: last.detail ?? null }));
      return {};
    case 'nginx':
      return nginxProbe(c.port === undefined ? undefined : Number(c.port), Number(c.timeoutMs));
    case 'pgrep':
      return runCommand('pgrep', ['-x', String(c.name)], { timeoutMs: 2000 });
    case 'fakeNginx': {
      // A process whose name is exactly "nginx" (a copy of sleep) in this agent's pid namespace,
      // and an HTTP listener that answers 502 like an nginx whose backends are down.
      const dir = mkdtempSync(join(tmpdir(), 'haup-vio-'));
      copyFileSync('/bin/sleep', join(dir, 'nginx'));
      chmodSync(join(dir, 'nginx'), 0o755);
      children.push(spawn(join(dir, 'nginx'), ['60'], { stdio: 'ignore' }));
      const server = createServer((_req, res) => res.writeHead(502).end('bad gateway'));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(Number(c.httpPort), '127.0.0.1', resolve));
      return {};
    }
    case 'metrics': {
      const snap = c.snapshot as DaemonStatus;
      metrics = await startMetricsServer(String(c.listen), () => snap);
      return metrics.address;
    }
    case 'exit':
      for (const w of watches) w.stop();
      guard?.stop();
      sock?.close();
      for (const e of extras) e.close();
      for (const g of garps.values()) g.cancel();
      await metrics?.close();
      setTimeout(() => process.exit(0), 10);
      return {};
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let c: Cmd;
  try {
    c = JSON.parse(line) as Cmd;
  } catch {
    out({ ev: 'bad-command', line });
    return;
  }
  handle(c).then(
    (result) => out({ id: c.id, ok: true, result }),
    (err: Error) => out({ id: c.id, ok: false, error: err.message }),
  );
});
rl.on('close', () => process.exit(0));
out({ ev: 'ready' });
