// Fault hooks for `verify --failover` and the tests. Each has its undo, each is recorded in
// state.json while active (so `lab status` shows it), and each acts only on the lab's own
// namespaces and hosts.
import { HaupError, HostError } from '../util/errors.ts';
import { baseDir } from './image.ts';
import { bootHost, haltHost, waitForSsh } from './hosts.ts';
import { findHost, labExec, labRecorder, upState, type LabOptions } from './lab.ts';
import { FAULT_TABLE } from './net.ts';
import { repoDir } from './repo.ts';
import { run } from './run.ts';
import { CACHE_DIR, writeState, type LabPaths, type LabState, type RecordedFault } from './state.ts';

export interface FaultOptions extends LabOptions {
  cacheDir?: string;
}

function sameFault(a: RecordedFault, b: RecordedFault): boolean {
  return a.kind === b.kind && a.host === b.host && a.arg === b.arg;
}

function mark(paths: LabPaths, state: LabState, fault: RecordedFault, active: boolean): void {
  state.faults = state.faults.filter((f) => !sameFault(f, fault));
  if (active) state.faults.push(fault);
  writeState(paths, state);
}

/** Take a host's eth0 down (from its namespace: the host sees carrier loss, like a pulled cable). */
export async function linkDown(host: string, opts: FaultOptions = {}): Promise<void> {
  const { paths, state } = upState(opts);
  const h = findHost(state, host);
  await run('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'down'], { timeoutMs: 10_000 });
  mark(paths, state, { kind: 'link-down', host }, true);
}

export async function linkUp(host: string, opts: FaultOptions = {}): Promise<void> {
  const { paths, state } = upState(opts);
  const h = findHost(state, host);
  await run('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up'], { timeoutMs: 10_000 });
  mark(paths, state, { kind: 'link-down', host }, false);
}

async function vrrpElement(op: 'add' | 'delete', from: string, to: string, opts: FaultOptions): Promise<void> {
  const { paths, state } = upState(opts);
  const src = findHost(state, from);
  const dst = findHost(state, to);
  if (src.name === dst.name) throw new HaupError('blocking VRRP needs two different hosts', 2);
  const fault: RecordedFault = { kind: 'vrrp-block', host: from, arg: to };
  const active = state.faults.some((f) => sameFault(f, fault));
  // The bridge drops protocol-112 frames from the sender's MAC on their way out of the
  // receiver's port; every other packet between them still passes.
  if (op === 'add' ? !active : active) {
    await run(
      'ip',
      ['netns', 'exec', state.topology.bridgeNetns, 'nft', op, 'element', 'bridge', FAULT_TABLE, 'vrrp_block', `{ ${src.mac} . "${dst.port}" }`],
      { timeoutMs: 10_000 },
    );
  }
  mark(paths, state, fault, op === 'add');
}

/** Drop VRRP (IP protocol 112) sent by `from` before it reaches `to` (one direction). */
export const blockVrrp = (from: string, to: string, opts: FaultOptions = {}) => vrrpElement('add', from, to, opts);
export const unblockVrrp = (from: string, to: string, opts: FaultOptions = {}) => vrrpElement('delete', from, to, opts);

async function signalProcess(host: string, name: string, signal: 'STOP' | 'CONT', opts: FaultOptions): Promise<number[]> {
  if (!/^[A-Za-z0-9._+-]{1,15}$/.test(name)) throw new HaupError(`not a process name: ${name}`, 2);
  // pgrep -x, not pidof: in the minbase image pidof is killall5 and never matches.
  const r = await labExec(host, `pids=$(pgrep -x '${name}') || exit 3; kill -${signal} $pids && echo $pids`, {
    ...opts,
    allowFail: true,
    timeoutMs: 20_000,
  });
  if (r.code === 3) throw new HostError(host, `no process named ${name} is running`);
  if (r.code !== 0) throw new HostError(host, `kill -${signal} ${name} failed: ${r.stderr.trim()}`);
  const { paths, state } = upState(opts);
  mark(paths, state, { kind: 'freeze', host, arg: name }, signal === 'STOP');
  return r.stdout.trim().split(/\s+/).map(Number);
}

/** SIGSTOP every process named `name` on the host (state T); returns their PIDs in the host. */
export const freeze = (host: string, name: string, opts: FaultOptions = {}) => signalProcess(host, name, 'STOP', opts);
export const thaw = (host: string, name: string, opts: FaultOptions = {}) => signalProcess(host, name, 'CONT', opts);

/**
 * Power a host off (orderly systemd shutdown; killed if it takes over 10 s) and drop its carrier.
 * Its disk (overlay) stays until `lab down`, like a real machine's.
 */
export async function stopHost(host: string, opts: FaultOptions = {}): Promise<void> {
  const { paths, state } = upState(opts);
  const h = findHost(state, host);
  await haltHost(labRecorder(paths, state), state.topology, host, true, 10_000);
  // A powered-off machine has no carrier: without this its namespace's kernel would keep
  // answering ARP and ping for the address.
  await run('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'down'], { timeoutMs: 10_000 });
  mark(paths, state, { kind: 'host-stop', host }, true);
}

/** Boot a stopped host again and wait until it answers SSH. */
export async function startHost(host: string, opts: FaultOptions = {}): Promise<void> {
  const { paths, state } = upState(opts);
  const h = findHost(state, host);
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const rec = labRecorder(paths, state);
  await bootHost(rec, paths, state.topology, h, { base: baseDir(cacheDir), repo: repoDir(cacheDir) });
  await waitForSsh(paths, state, h);
  mark(paths, state, { kind: 'host-stop', host }, false);
}
