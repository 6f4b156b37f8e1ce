// Booted hosts: systemd-nspawn on an overlay of the base image, inside the host's namespace,
// in a cgroup of its own (this machine's PID 1 is not systemd, so --keep-unit would otherwise
// put every host in one cgroup). The overlay lives in the machine's mount namespace, so a host's
// changes survive a stop/start (like a reboot) and vanish at `lab down`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { HaupError, HostError } from '../util/errors.ts';
import { run, sleep } from './run.ts';
import { hostPaths, type LabPaths, type LabState } from './state.ts';
import type { LabHost, LabTopology } from './topology.ts';
import { sshArgs } from './ssh.ts';
import { flushNeighbour } from './net.ts';

export interface Recorder {
  state: LabState;
  save(): void;
}

/** cgroup hierarchies nspawn looks at: name=systemd + unified on a hybrid machine, or cgroup2. */
export function cgroupRoots(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return ['/sys/fs/cgroup'];
  return ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].filter((d) => existsSync(join(d, 'cgroup.procs')));
}

/** The cgroup2 directory of a host (where cgroup.kill lives), if any. */
function unifiedCgroup(topo: LabTopology, host: string): string | undefined {
  const root = cgroupRoots().find((r) => r === '/sys/fs/cgroup' || r.endsWith('/unified'));
  return root ? join(root, topo.name, host) : undefined;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised comm: state is field 3, starttime field 22 overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when the recorded PID is still the very process we started (not a reused PID). */
export function hostProcessAlive(state: LabState, host: string): boolean {
  const h = state.hosts[host];
  if (!h?.pid || !h.pidStart) return false;
  return procStart(h.pid) === h.pidStart;
}

function mounted(dir: string): boolean {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === dir);
}

async function ensureOverlay(rec: Recorder, paths: LabPaths, host: LabHost, base: string): Promise<string> {
  const hp = hostPaths(paths, host.name);
  for (const d of [hp.upper, hp.work, hp.root]) {
    if (!rec.state.dirs.includes(d)) rec.state.dirs.push(d);
  }
  rec.save();
  for (const d of [hp.upper, hp.work, hp.root]) mkdirSync(d, { recursive: true });
  if (!mounted(hp.root)) {
    if (!rec.state.mounts.includes(hp.root)) rec.state.mounts.push(hp.root);
    rec.save();
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${hp.upper},workdir=${hp.work}`, hp.root], {
      timeoutMs: 20_000,
    });
  }
  return hp.root;
}

function ensureCgroups(rec: Recorder, topo: LabTopology, host: string): string[] {
  const dirs: string[] = [];
  for (const root of cgroupRoots()) {
    for (const d of [join(root, topo.name), join(root, topo.name, host)]) {
      if (!rec.state.cgroups.includes(d)) {
        rec.state.cgroups.push(d);
        rec.save();
      }
      if (!existsSync(d)) mkdirSync(d);
    }
    dirs.push(join(root, topo.name, host));
  }
  return dirs;
}

/** /etc/hosts naming every lab host (written into the host's own layer; the host may edit it). */
export function etcHostsText(topo: LabTopology, self: string): string {
  const lines = ['127.0.0.1\tlocalhost', `127.0.1.1\t${self}`, '::1\tlocalhost ip6-localhost ip6-loopback', ''];
  lines.push(`# haup lab ${topo.name} (${topo.range})`, `${topo.machineAddress}\tlab-machine`);
  for (const h of topo.hosts) lines.push(`${h.address}\t${h.name}`);
  return lines.join('\n') + '\n';
}

function writeEtcHosts(root: string, topo: LabTopology, host: LabHost): void {
  const file = join(root, 'etc/hosts');
  const text = etcHostsText(topo, host.name);
  // Only while it is still the image's file: edits made inside the host are kept.
  if (existsSync(file) && readFileSync(file, 'utf8').includes('# haup lab ')) return;
  writeFileSync(file, text);
}

export interface HostStartOptions {
  base: string;
  repo: string;
}

/** Boot one host (its network must exist). Returns once systemd-nspawn runs; see waitForSsh. */
export async function bootHost(rec: Recorder, paths: LabPaths, topo: LabTopology, host: LabHost, opts: HostStartOptions): Promise<void> {
  if (hostProcessAlive(rec.state, host.name)) return;
  const hp = hostPaths(paths, host.name);
  const root = await ensureOverlay(rec, paths, host, opts.base);
  writeEtcHosts(root, topo, host);
  const cgroups = ensureCgroups(rec, topo, host.name);
  const recorded = rec.state.hosts[host.name] ?? { uuid: randomUUID() };
  rec.state.hosts[host.name] = recorded;
  rec.save();
  const args = [
    '-D', root,
    '--boot',
    '--register=no',
    '--keep-unit',
    '--console=passive',
    '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
    `--network-namespace-path=/run/netns/${host.netns}`,
    // Machine name: unique across labs (nspawn keys its scratch dirs by it); hostname: the short name.
    '-M', host.netns,
    `--hostname=${host.name}`,
    `--uuid=${recorded.uuid}`,
    `--bind-ro=${opts.repo}:/srv/repo`,
    `--bind-ro=${hp.keysDir}:/etc/ssh/lab`,
    `--bind-ro=${paths.publicKey}:/root/.ssh/authorized_keys`,
  ];
  // The shell joins the host's own cgroups, then becomes nspawn (same PID), so everything the
  // host runs is inside them from the first instruction.
  const script = cgroups.map((_, i) => `echo $$ > "$${i + 1}/cgroup.procs" || exit 97; `).join('') + `shift ${cgroups.length}; exec systemd-nspawn "$@"`;
  const log = openSync(hp.log, 'a');
  const child = spawn('sh', ['-c', script, 'sh', ...cgroups, ...args], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new HostError(host.name, 'could not start systemd-nspawn');
  child.unref();
  let start: string | undefined;
  for (let i = 0; i < 50 && start === undefined; i++) {
    start = procStart(pid);
    if (start === undefined) await sleep(10);
  }
  if (start === undefined) throw new HostError(host.name, `systemd-nspawn exited at once; see ${hp.log}`);
  recorded.pid = pid;
  recorded.pidStart = start;
  rec.save();
  // Carrier back on (a stopped host has it off) unless a link-down fault is meant to hold.
  if (!rec.state.faults.some((f) => f.kind === 'link-down' && f.host === host.name)) {
    await run('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'up'], { timeoutMs: 10_000 });
  }
  rec.state.faults = rec.state.faults.filter((f) => !(f.kind === 'host-stop' && f.host === host.name));
  rec.save();
  await flushNeighbour(topo, host);
}

function probePort(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('data', () => done(true)); // sshd greets first: really up, not just listening
    sock.once('error', () => done(false));
    sock.once('timeout', () => done(false));
  });
}

/** Wait until the host answers SSH with the lab key and its own host key. */
export async function waitForSsh(paths: LabPaths, state: LabState, host: LabHost, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!hostProcessAlive(state, host.name)) {
      throw new HostError(host.name, 'systemd-nspawn exited while booting', `see ${hostPaths(paths, host.name).log}`);
    }
    if (await probePort(host.address, 22, 1000)) {
      const r = await run('ssh', [...sshArgs(paths, host.address, 3), 'true'], { allowFail: true, timeoutMs: 10_000 });
      if (r.code === 0) return;
      last = r.stderr.trim();
    }
    await sleep(150);
  }
  throw new HostError(host.name, `no SSH answer at ${host.address} within ${Math.round(timeoutMs / 1000)} s${last ? `: ${last}` : ''}`);
}

function pidGone(state: LabState, host: string): boolean {
  return !hostProcessAlive(state, host);
}

async function waitGone(state: LabState, host: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pidGone(state, host)) return true;
    await sleep(50);
  }
  return pidGone(state, host);
}

/** Kill every process left in the host's cgroup (cgroup2's cgroup.kill, one write). */
function killCgroup(topo: LabTopology, host: string): void {
  const cg = unifiedCgroup(topo, host);
  if (cg && existsSync(join(cg, 'cgroup.kill'))) writeFileSync(join(cg, 'cgroup.kill'), '1');
}

/**
 * Stop a host: `graceful` asks nspawn (SIGTERM) for an orderly poweroff of the host's systemd,
 * like a real shutdown; otherwise (or when that takes too long) every process of its cgroup is
 * killed. Only the recorded PID (checked against its start time) is ever signalled.
 */
export async function haltHost(rec: Recorder, topo: LabTopology, host: string, graceful: boolean, graceMs = 10_000): Promise<void> {
  const h = rec.state.hosts[host];
  if (h && hostProcessAlive(rec.state, host) && h.pid) {
    if (graceful) {
      process.kill(h.pid, 'SIGTERM');
      if (!(await waitGone(rec.state, host, graceMs))) killCgroup(topo, host);
    } else killCgroup(topo, host);
    if (!(await waitGone(rec.state, host, 10_000))) {
      process.kill(h.pid, 'SIGKILL');
      if (!(await waitGone(rec.state, host, 5_000))) throw new HostError(host, `systemd-nspawn (PID ${h.pid}) does not exit`);
    }
  } else killCgroup(topo, host); // leftovers of an interrupted start
  // An exited nspawn whose parent is gone is reaped by PID 1 a moment later; wait for that so
  // no trace of the host (not even a zombie) is left when we return.
  if (h?.pid) {
    for (let i = 0; i < 100 && existsSync(`/proc/${h.pid}`) && procStart(h.pid) === undefined; i++) await sleep(50);
  }
  if (h) {
    delete h.pid;
    delete h.pidStart;
    rec.save();
  }
}

function cgroupEmpty(dir: string): boolean {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '' && readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).every((e) => cgroupEmpty(join(dir, e.name)));
  } catch {
    return true;
  }
}

/** Remove a recorded cgroup directory and the sub-cgroups systemd made inside it (deepest first). */
export async function removeCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let i = 0; i < 40 && !cgroupEmpty(dir); i++) await sleep(50);
  const rm = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
    rmdirSync(d);
  };
  try {
    rm(dir);
  } catch (err) {
    throw new HaupError(`cannot remove cgroup ${dir}: ${(err as Error).message}`);
  }
}

export async function unmount(dir: string): Promise<void> {
  if (!mounted(dir)) return;
  const r = await run('umount', [dir], { allowFail: true, timeoutMs: 20_000 });
  if (r.code !== 0) await run('umount', ['-l', dir], { timeoutMs: 20_000 });
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
