// The effects `verify`, `status` and `rollback` share: one SSH connection per inventory host
// (opened on first use, reopened on demand after a link fault), the VIP holders from
// `ip -j addr`, haupd's status over its socket, and HTTP requests run on a host with curl.
import { LocalConnection } from '../connectors/local.ts';
import { shq, type Connection, type ExecOptions, type ExecResult } from '../connectors/connection.ts';
import { connectSsh } from '../connectors/ssh.ts';
import { sshOptionsFor } from '../connectors/from-inventory.ts';
import type { Host, Inventory, LbHost, VrrpInstance } from '../inventory/model.ts';
import { HAUPD_BIN } from '../roles/vrrp.ts';
import { HostError } from '../util/errors.ts';

export const CONTROL = 'control machine';

export class Cluster {
  private conns = new Map<string, Promise<Connection>>();
  readonly local = new LocalConnection(CONTROL, 60_000);

  constructor(
    readonly inv: Inventory,
    private readonly connectOverride?: (h: Host) => Promise<Connection>,
  ) {}

  host(name: string): Host {
    const h = this.inv.hosts.find((x) => x.name === name);
    if (!h) throw new HostError(name, 'not in the inventory');
    return h;
  }

  conn(name: string): Promise<Connection> {
    let c = this.conns.get(name);
    if (!c) {
      const h = this.host(name);
      c = this.connectOverride ? this.connectOverride(h) : connectSsh({ ...sshOptionsFor(h), commandTimeoutMs: 60_000 });
      // A failed connect is not cached: the next call tries again (a host may come back).
      c.catch(() => this.conns.delete(name));
      this.conns.set(name, c);
    }
    return c;
  }

  /** Drop a connection that may be stuck (the host's link was down) and open a new one next time. */
  async reconnect(name: string): Promise<void> {
    const c = this.conns.get(name);
    this.conns.delete(name);
    if (c) await c.then((x) => x.close()).catch(() => {});
  }

  async exec(name: string, command: string, options?: ExecOptions): Promise<ExecResult> {
    return (await this.conn(name)).exec(command, options);
  }

  async close(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((c) => c.then((x) => x.close()).catch(() => {})));
  }

  interfaceOf(inst: VrrpInstance, lb: string): string {
    return inst.members.find((m) => m.host === lb)?.interface ?? inst.interface;
  }

  lbsOf(inst: VrrpInstance): LbHost[] {
    return inst.members.map((m) => this.inv.lb.find((l) => l.name === m.host)!).filter(Boolean);
  }
}

/** `ip -j -4 addr show dev IF` -> the IPv4 addresses on it. Pure. */
export function parseIpAddrJson(text: string): string[] {
  const parsed = JSON.parse(text || '[]') as { addr_info?: { family?: string; local?: string }[] }[];
  return parsed.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => a.local!));
}

export async function addressesOn(cluster: Cluster, lb: string, iface: string, timeoutMs = 5000): Promise<string[]> {
  const r = await cluster.exec(lb, `ip -j -4 addr show dev ${shq(iface)}`, { timeoutMs });
  if (r.code !== 0) throw new HostError(lb, `ip addr show dev ${iface} failed: ${r.stderr.toString().trim()}`);
  return parseIpAddrJson(r.stdout.toString());
}

/**
 * The addresses on IF and the LB's clock right after reading them (ms since the epoch): the
 * watch times a change by when the LB saw it, not by when the SSH answer arrived (on a loaded
 * machine the round trip alone can be hundreds of ms).
 */
export async function addressesAt(cluster: Cluster, lb: string, iface: string, timeoutMs = 5000): Promise<{ addrs: string[]; atEpochMs: number | null }> {
  const r = await cluster.exec(lb, `ip -j -4 addr show dev ${shq(iface)} && echo && date +%s%N`, { timeoutMs });
  if (r.code !== 0) throw new HostError(lb, `ip addr show dev ${iface} failed: ${r.stderr.toString().trim()}`);
  return parseAddressesAt(r.stdout.toString());
}

/** Pure: `ip -j` JSON, then the epoch in ns on the last line. */
export function parseAddressesAt(text: string): { addrs: string[]; atEpochMs: number | null } {
  const lines = text.trimEnd().split('\n');
  const last = lines[lines.length - 1]?.trim() ?? '';
  const at = /^\d{19}$/.test(last) ? Number(BigInt(last) / 1000n) / 1000 : null;
  return { addrs: parseIpAddrJson((at === null ? lines : lines.slice(0, -1)).join('\n').trim()), atEpochMs: at };
}

/**
 * Pure: when (performance.now() time) an answer reflects, given the LB's own clock reading.
 * The LB's time is used when it falls inside [sent, arrived] (same clock, as in the lab, or
 * synchronised ones); otherwise the clocks disagree and the arrival time is used (never early).
 */
export function observedAt(sentPerf: number, arrivedPerf: number, remoteEpochMs: number | null, epochMinusPerf: number, slackMs = 5): number {
  if (remoteEpochMs === null) return arrivedPerf;
  const remotePerf = remoteEpochMs - epochMinusPerf;
  if (remotePerf < sentPerf - slackMs || remotePerf > arrivedPerf + slackMs) return arrivedPerf;
  return Math.min(Math.max(remotePerf, sentPerf), arrivedPerf);
}

/** haupd's status JSON from the LB (its own client reads the status socket). */
export async function haupdStatusOf(cluster: Cluster, lb: string): Promise<HaupdStatusDoc> {
  const sock = cluster.inv.haupd.statusSocket;
  const r = await cluster.exec(lb, `${HAUPD_BIN} status --socket ${shq(sock)}`, { timeoutMs: 15_000 });
  if (r.code !== 0) {
    const why = (r.stderr.toString().trim() || r.stdout.toString().trim()).split('\n').slice(-3).join(' ').replace(/^error: /, '');
    throw new Error(`haupd status failed: ${why}`);
  }
  let doc: HaupdStatusDoc;
  try {
    doc = JSON.parse(r.stdout.toString()) as HaupdStatusDoc;
  } catch {
    throw new Error('haupd status printed something that is not JSON');
  }
  return normalizeStatus(doc);
}

/** haupd names states in capitals (MASTER, like keepalived's notify); verify and status use lower case. Pure. */
export function normalizeStatus(doc: HaupdStatusDoc): HaupdStatusDoc {
  return {
    ...doc,
    instances: (doc.instances ?? []).map((i) => ({
      ...i,
      state: String(i.state).toLowerCase(),
      lastTransition: i.lastTransition ? { ...i.lastTransition, from: String(i.lastTransition.from).toLowerCase(), to: String(i.lastTransition.to).toLowerCase() } : null,
      masterSeen: i.masterSeen ? { ...i.masterSeen, self: i.masterSeen.self === true } : null,
      faults: i.faults ?? [],
    })),
  };
}

/** The parts of haupd's status document (docs/haupd.md#status) that verify and status read. */
export interface HaupdStatusDoc {
  pid: number;
  startedAt: string;
  shuttingDown: boolean;
  instances: {
    name: string;
    vrid: number;
    interface: string;
    state: string;
    priority: number;
    effectivePriority: number;
    vips: string[];
    vipsHeld: boolean;
    primaryAddress: string | null;
    masterSeen: { address: string; priority: number; self: boolean; at?: string } | null;
    lastTransition: { from: string; to: string; cause: string; reason: string; at?: string } | null;
    faults: { source: string; reason: string }[];
    counters?: { splitBrainGarps?: number; becomeMaster?: number };
  }[];
}

export interface HttpResult {
  code: number;
  body: string;
}

/** `count` GETs of `url` run on `conn` (curl), each on a new connection. */
export async function httpGets(conn: Connection, url: string, count: number, timeoutS = 2): Promise<HttpResult[]> {
  const script = `for i in $(seq ${count}); do curl -s --max-time ${timeoutS} -w '\\n@@code %{http_code}\\n' ${shq(url)}; done`;
  const r = await conn.exec(script, { timeoutMs: (count * timeoutS + 10) * 1000 });
  return parseHttpGets(r.stdout.toString());
}

export function parseHttpGets(text: string): HttpResult[] {
  const out: HttpResult[] = [];
  let body: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^@@code (\d{3})$/.exec(line);
    if (m) {
      out.push({ code: Number(m[1]), body: body.join('\n') });
      body = [];
    } else body.push(line);
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with `p`, or with `fallback` after `ms` (p keeps running; its result is dropped). */
export function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(fallback);
      },
    );
  });
}
