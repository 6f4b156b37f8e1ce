// Prometheus metrics: text exposition format 0.0.4 rendered from the same DaemonStatus snapshot as
// the status socket (one source of truth), served by node:http on a local address (default
// 127.0.0.1:9650). Only `GET /metrics`: other paths 404, other methods 405.
import { createServer, type Server } from 'node:http';
import type { DaemonStatus, VrrpStateName } from './status.ts';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9650';
const STATES: VrrpStateName[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT'];

/** Label value escaping of the text format: backslash, double quote, newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Exposition {
  private lines: string[] = [];
  family(name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) this.lines.push(`${name}${labels(l)} ${Number.isFinite(v) ? v : 'NaN'}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

export function renderMetrics(s: DaemonStatus): string {
  const e = new Exposition();
  const inst = (i: DaemonStatus['instances'][number]) => ({ instance: i.name, interface: i.interface, vrid: String(i.vrid) });
  e.family('haupd_up', 'gauge', 'haupd is running.', [[{}, 1]]);
  e.family('haupd_start_time_seconds', 'gauge', 'Start time of haupd since the Unix epoch.', [[{}, Math.floor(Date.parse(s.startedAt) / 1000)]]);
  e.family(
    'haupd_instance_state',
    'gauge',
    'VRRP state of the instance (1 for the current state, 0 for the others).',
    s.instances.flatMap((i) => STATES.map((st): [Record<string, string>, number] => [{ ...inst(i), state: st }, i.state === st ? 1 : 0])),
  );
  e.family('haupd_instance_priority', 'gauge', 'Configured VRRP priority.', s.instances.map((i) => [inst(i), i.priority]));
  e.family('haupd_instance_effective_priority', 'gauge', 'Advertised priority after tracking (1..254, 255 for an owner).', s.instances.map((i) => [inst(i), i.effectivePriority]));
  e.family('haupd_instance_vips_held', 'gauge', 'Whether the instance holds its VIPs on the interface.', s.instances.map((i) => [inst(i), i.vipsHeld ? 1 : 0]));
  e.family('haupd_adverts_sent_total', 'counter', 'VRRP adverts sent.', s.instances.map((i) => [inst(i), i.counters.advertsSent]));
  e.family('haupd_adverts_received_total', 'counter', 'Valid VRRP adverts received.', s.instances.map((i) => [inst(i), i.counters.advertsReceived]));
  e.family('haupd_became_master_total', 'counter', 'Transitions to MASTER.', s.instances.map((i) => [inst(i), i.counters.becameMaster]));
  e.family(
    'haupd_packets_dropped_total',
    'counter',
    'Received packets dropped, by reason.',
    s.instances.flatMap((i) => Object.entries(i.counters.drops).map(([reason, n]): [Record<string, string>, number] => [{ ...inst(i), reason }, n])),
  );
  e.family(
    'haupd_track_up',
    'gauge',
    'Tracked item status: 1 ok, 0 failed, -1 not checked yet.',
    s.instances.flatMap((i) =>
      i.tracks.map((t): [Record<string, string>, number] => [{ ...inst(i), track: t.name, kind: t.kind }, t.status === 'ok' ? 1 : t.status === 'failed' ? 0 : -1]),
    ),
  );
  if (s.partitionGuard) {
    const g = s.partitionGuard;
    e.family('haupd_partition_guard_reachable', 'gauge', 'Gateway reachable: 1 yes, 0 isolated, -1 not checked yet.', [
      [{ gateway: g.gateway }, g.status === 'ok' ? 1 : g.status === 'failed' ? 0 : -1],
    ]);
  }
  return e.text();
}

/** "127.0.0.1:9650" -> { host, port }; throws on anything else. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`metrics address must be IPV4:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

export interface MetricsServer {
  /** The address actually bound (port 0 picks a free one: tests). */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export async function startMetricsServer(listen: string, snapshot: () => DaemonStatus): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found; try /metrics\n');
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = renderMetrics(snapshot());
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics unavailable: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  server.maxConnections = 32;
  server.headersTimeout = 5000;
  server.requestTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const bound = typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port };
  return {
    address: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
