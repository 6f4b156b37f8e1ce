/**
 * Namespace harness for e2e tests: a few network namespaces ("hosts") joined by a bridge that lives
 * in a namespace of its own, so nothing is created in the machine's root namespace.
 *
 *   const lab = await createNetnsLab({ prefix: 'vio', subnet: 10, hosts: ['a', 'b'] });
 *   try {
 *     lab.host('a')          // { name, ns, ifname: 'eth0', ip: '198.18.10.1', prefix: 24, mac }
 *     await lab.exec('a', 'ip', ['-4', 'addr'])          // -> { code, stdout, stderr }; never throws
 *     await lab.run('a', 'ip', [...])                     // same, but throws if code != 0
 *     const p = lab.spawn('b', 'tcpdump', ['-ni', 'eth0'])  // tracked; killed by cleanup
 *     await lab.setLink('a', false)                       // pull a's cable (bridge side down)
 *   } finally {
 *     await lab.cleanup();                                // idempotent
 *   }
 *   // or: await withNetnsLab(opts, async (lab) => { ... })
 *
 * Rules it enforces (see notes/common.md, NETWORK SAFETY):
 * - addresses are 198.18.SUBNET.N/24 with SUBNET in 10..255, host N = index + 1, inside namespaces
 *   only; pick a SUBNET unique to your test file;
 * - namespace names are `haup-PREFIX-HOST` and `haup-PREFIX-br`; PREFIX must be unique to your test
 *   file; a leftover lab with the same names (a previous run killed hard) is removed first;
 * - cleanup kills every process still inside the namespaces (tracked or not, e.g. arping started
 *   by a daemon) and deletes the namespaces; it also runs on process exit and on SIGINT/SIGTERM;
 * - every command has a timeout (default 10 s).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface NetnsHost {
  /** Short name given in `hosts`. */
  name: string;
  /** Network namespace name (`ip netns exec NS ...`). */
  ns: string;
  /** The host's interface to the bridge. */
  ifname: string;
  /** Primary IPv4 address (no prefix). */
  ip: string;
  prefix: number;
  /** Fixed MAC (02:48:xx:SUBNET:00:N) so neighbour tables are predictable. */
  mac: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface NetnsLab {
  hosts: NetnsHost[];
  /** Namespace holding the bridge `br0` (one `p-HOST` veth end per host). */
  bridgeNs: string;
  /** 198.18.SUBNET */
  net: string;
  host(name: string): NetnsHost;
  /** Run a command inside a host's namespace; resolves with its exit code, never rejects. */
  exec(host: string, cmd: string, args?: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Like exec, but rejects with stdout/stderr in the message if the exit code is not 0. */
  run(host: string, cmd: string, args?: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** Start a long-running process inside a host's namespace (own process group); killed by cleanup. */
  spawn(host: string, cmd: string, args?: string[], opts?: SpawnOptions): ChildProcess;
  /** Carrier on/off for a host: sets the bridge-side veth end up/down (like pulling the cable). */
  setLink(host: string, up: boolean): Promise<void>;
  /** Kill everything in the namespaces and delete them. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface NetnsLabOptions {
  /** Unique per test file: [a-z0-9]{1,8}. */
  prefix: string;
  /** Third octet of 198.18.x.0/24, 10..255, unique per test file. */
  subnet: number;
  /** Host names: [a-z0-9]{1,8}; at most 50. */
  hosts: string[];
}

const DEFAULT_TIMEOUT_MS = 10_000;
const live = new Set<NetnsLab>();

function execP(cmd: string, args: string[], timeoutMs: number, input?: string): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 124) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 124 ? `\n(${cmd} timed out or failed: ${err.message})` : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await execP(cmd, args, DEFAULT_TIMEOUT_MS);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} -> exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Kill every process inside a namespace, then delete it. Synchronous so it can run on 'exit'. */
function destroyNsSync(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  } catch {
    /* namespace does not exist */
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { timeout: 5000, stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

function nsExists(ns: string): boolean {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 })
      .split('\n')
      .some((l) => l.split(' ')[0] === ns);
  } catch {
    return false;
  }
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Last line of defence when a test file dies without reaching its finally.
  process.on('exit', () => {
    for (const lab of live) cleanupSync(lab);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of live) cleanupSync(lab);
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

const children = new WeakMap<NetnsLab, Set<ChildProcess>>();

function killTracked(lab: NetnsLab): void {
  for (const child of children.get(lab) ?? []) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the whole group: `ip netns exec` + what it started
      } catch {
        /* gone */
      }
    }
  }
}

function cleanupSync(lab: NetnsLab): void {
  killTracked(lab);
  for (const h of lab.hosts) destroyNsSync(h.ns);
  destroyNsSync(lab.bridgeNs);
  live.delete(lab);
}

export async function createNetnsLab(opts: NetnsLabOptions): Promise<NetnsLab> {
  if (!/^[a-z0-9]{1,8}$/.test(opts.prefix)) throw new Error(`netns prefix must match [a-z0-9]{1,8}: ${opts.prefix}`);
  if (!Number.isInteger(opts.subnet) || opts.subnet < 10 || opts.subnet > 255) {
    throw new Error(`netns subnet must be 10..255 (198.18.x.0/24, x >= 10): ${opts.subnet}`);
  }
  if (opts.hosts.length < 1 || opts.hosts.length > 50) throw new Error('netns lab needs 1..50 hosts');
  for (const h of opts.hosts) if (!/^[a-z0-9]{1,8}$/.test(h)) throw new Error(`netns host name must match [a-z0-9]{1,8}: ${h}`);
  if (new Set(opts.hosts).size !== opts.hosts.length) throw new Error('netns host names must be unique');

  const net = `198.18.${opts.subnet}`;
  const bridgeNs = `haup-${opts.prefix}-br`;
  const hosts: NetnsHost[] = opts.hosts.map((name, i) => ({
    name,
    ns: `haup-${opts.prefix}-${name}`,
    ifname: 'eth0',
    ip: `${net}.${i + 1}`,
    prefix: 24,
    mac: `02:48:${(opts.subnet & 0xff).toString(16).padStart(2, '0')}:00:00:${(i + 1).toString(16).padStart(2, '0')}`,
  }));
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const host = (name: string): NetnsHost => {
    const h = byName.get(name);
    if (!h) throw new Error(`no host ${name} in this netns lab`);
    return h;
  };

  const tracked = new Set<ChildProcess>();
  let cleaned = false;
  const lab: NetnsLab = {
    hosts,
    bridgeNs,
    net,
    host,
    exec: (name, cmd, args = [], o = {}) =>
      execP('ip', ['netns', 'exec', host(name).ns, cmd, ...args], o.timeoutMs ?? DEFAULT_TIMEOUT_MS, o.input),
    run: async (name, cmd, args = [], o = {}) => {
      const r = await execP('ip', ['netns', 'exec', host(name).ns, cmd, ...args], o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      if (r.code !== 0) throw new Error(`[${name}] ${[cmd, ...args].join(' ')} -> exit ${r.code}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    spawn: (name, cmd, args = [], o = {}) => {
      const child = spawn('ip', ['netns', 'exec', host(name).ns, cmd, ...args], { stdio: 'pipe', ...o, detached: true });
      tracked.add(child);
      child.on('exit', () => tracked.delete(child));
      child.on('error', () => tracked.delete(child));
      return child;
    },
    setLink: async (name, up) => {
      await must('ip', ['-n', bridgeNs, 'link', 'set', `p-${name}`, up ? 'up' : 'down']);
    },
    cleanup: async () => {
      if (cleaned) return;
      cleaned = true;
      cleanupSync(lab);
    },
  };
  children.set(lab, tracked);
  installExitHooks();
  live.add(lab);

  try {
    for (const ns of [bridgeNs, ...hosts.map((h) => h.ns)]) if (nsExists(ns)) destroyNsSync(ns);
    await must('ip', ['netns', 'add', bridgeNs]);
    await must('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    await must('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    await must('ip', ['-n', bridgeNs, 'link', 'set', 'lo', 'up']);
    for (const h of hosts) {
      await must('ip', ['netns', 'add', h.ns]);
      // Both ends are created directly in their namespaces: no name ever exists in the root netns.
      await must('ip', ['link', 'add', h.ifname, 'netns', h.ns, 'address', h.mac, 'type', 'veth', 'peer', 'name', `p-${h.name}`, 'netns', bridgeNs]);
      await must('ip', ['-n', bridgeNs, 'link', 'set', `p-${h.name}`, 'master', 'br0', 'up']);
      await must('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
      await must('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/${h.prefix}`, 'dev', h.ifname]);
      await must('ip', ['-n', h.ns, 'link', 'set', h.ifname, 'up']);
    }
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
  return lab;
}

/** Create a lab, run `fn`, always clean up. */
export async function withNetnsLab<T>(opts: NetnsLabOptions, fn: (lab: NetnsLab) => Promise<T>): Promise<T> {
  const lab = await createNetnsLab(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.cleanup();
  }
}

/** Poll `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
