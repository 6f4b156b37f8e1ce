// The lab's programmatic API: labUp, labDown, labStatus, labExec. The CLI (src/cli/lab.ts) and
// the e2e tests of deploy/verify both go through here.
import { existsSync, mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { withCacheLock } from './lock.ts';
import { Listr, type ListrTaskWrapper } from 'listr2';
import { HaupError, HostError } from '../util/errors.ts';
import { defaultTopology, loadLabConfig } from './config.ts';
import { baseDir, ensureBaseImage, imageIsCached } from './image.ts';
import { bootHost, haltHost, hostProcessAlive, removeCgroup, unmount, waitForSsh, type Recorder } from './hosts.ts';
import { checkRange, createBridge, createHostNet, netnsExists, removeNet } from './net.ts';
import { ensureRepo, repoDir, repoIsCached } from './repo.ts';
import { run, type RunResult } from './run.ts';
import { ensureHostKey, ensureLabKey, ensureVrrpPass, sshArgs, sshCommandLine, writeKnownHosts } from './ssh.ts';
import { CACHE_DIR, labPaths, readState, removeState, writeState, type LabPaths, type LabState } from './state.ts';
import type { LabHost, LabTopology } from './topology.ts';

export type ProgressMode = 'auto' | 'silent';

export interface LabOptions {
  /** Where state.json, the SSH key, known_hosts and vrrp-pass live (default /var/lib/haup/lab). */
  stateDir?: string;
  progress?: ProgressMode;
}

export interface LabUpOptions extends LabOptions {
  /** A lab config file (YAML); default: the conventional five-host lab. */
  configFile?: string;
  topology?: LabTopology;
  cacheDir?: string;
}

export interface LabHostInfo {
  name: string;
  address: string;
  ssh: string;
}

export interface LabUpResult {
  topology: LabTopology;
  paths: LabPaths;
  hosts: LabHostInfo[];
  /** True when the lab was already up and nothing had to be created. */
  alreadyUp: boolean;
  /** Seconds: total, and from "network ready" until every host answered SSH. */
  seconds: { total: number; boot: number };
  builtImage: boolean;
  builtRepo: boolean;
}

const REQUIRED_TOOLS: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  ip: 'iproute2',
  nft: 'nftables',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  'dpkg-scanpackages': 'dpkg-dev',
  'apt-get': 'apt',
  mount: 'mount',
};

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new HaupError(
      'haup lab needs root: it creates network namespaces, mounts and booted containers',
      1,
      'run it as root (e.g. `sudo haup lab up`)',
    );
  }
}

async function requireTools(): Promise<void> {
  const missing = new Set<string>();
  for (const [tool, pkg] of Object.entries(REQUIRED_TOOLS)) {
    const r = await run('sh', ['-c', `command -v ${tool}`], { allowFail: true, timeoutMs: 5_000 });
    if (r.code !== 0) missing.add(pkg);
  }
  if (missing.size > 0) {
    throw new HaupError(`missing tools for the lab`, 1, `apt-get install ${[...missing].join(' ')}`);
  }
}

function recorder(paths: LabPaths, state: LabState): Recorder {
  return { state, save: () => writeState(paths, state) };
}

export function hostInfo(paths: LabPaths, topo: LabTopology): LabHostInfo[] {
  return topo.hosts.map((h) => ({ name: h.name, address: h.address, ssh: sshCommandLine(paths, h.address) }));
}

type Task = ListrTaskWrapper<unknown, any, any>;

/** Progress lines for a task; throttled when not on a terminal so CI logs stay short. */
function progressOf(task: Task, tty: boolean): (line: string) => void {
  let last = 0;
  return (line) => {
    const now = Date.now();
    if (!tty && now - last < 2000) return;
    last = now;
    task.output = line;
  };
}

function listrOptions(mode: ProgressMode) {
  const tty = process.stdout.isTTY === true && !process.env.CI;
  return {
    tty,
    options: {
      renderer: mode === 'silent' ? ('silent' as const) : ('default' as const),
      fallbackRenderer: mode === 'silent' ? ('silent' as const) : ('simple' as const),
      fallbackRendererCondition: !tty,
      rendererOptions: { collapseSubtasks: false },
      exitOnError: true,
      concurrent: false,
    },
  };
}

function sameTopology(a: LabTopology, b: LabTopology): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Bring the lab up (or make sure it is up). Idempotent: a second call only checks and repairs. */
export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  requireRoot();
  // One `up`/`down` at a time per lab (several test files may ask for the shared lab at once):
  // the second waits, then finds the lab up.
  const dir = labPaths(opts.stateDir).stateDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withCacheLock(dir, () => labUpLocked(opts));
}

async function labUpLocked(opts: LabUpOptions): Promise<LabUpResult> {
  const t0 = Date.now();
  requireRoot();
  const topo = opts.topology ?? (opts.configFile ? loadLabConfig(opts.configFile) : defaultTopology());
  const paths = labPaths(opts.stateDir);
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  await requireTools();

  let state = readState(paths);
  if (state?.phase === 'up' && !netnsExists(state.topology.bridgeNetns)) {
    // Recorded as up but its network is gone (the machine rebooted): what is left is stale.
    await teardown(paths, state, () => {});
    state = undefined;
  }
  if (state && state.phase === 'up' && !sameTopology(state.topology, topo)) {
    throw new HaupError(
      `a lab with another configuration is up (${state.topology.name}, ${state.topology.range}, state ${paths.stateFile})`,
      1,
      'run `haup lab down` first',
    );
  }
  const alreadyUp = state?.phase === 'up';
  if (state && !alreadyUp) {
    // A crashed or interrupted `up`: remove what it recorded, then start over.
    await teardown(paths, state, () => {});
    state = undefined;
  }
  if (!alreadyUp) await checkRange(topo, false);

  const st: LabState = state ?? {
    version: 1,
    phase: 'creating',
    startedAt: new Date().toISOString(),
    topology: topo,
    netns: [],
    links: [],
    mounts: [],
    cgroups: [],
    dirs: [],
    hosts: {},
    faults: [],
  };
  const rec = recorder(paths, st);
  const { tty, options } = listrOptions(opts.progress ?? 'auto');
  let builtImage = false;
  let builtRepo = false;
  let bootStart = 0;

  const tasks = new Listr(
    [
      {
        title: imageIsCached(cacheDir) ? 'Base image (cached)' : 'Base image: building Debian 12 with debootstrap (first run only, ~1-2 min)',
        task: async (_ctx: unknown, task: Task) => {
          builtImage = await ensureBaseImage(progressOf(task, tty), cacheDir);
        },
      },
      {
        title: repoIsCached(cacheDir) ? 'Local apt repository (cached)' : 'Local apt repository: resolving and downloading packages',
        task: async (_ctx: unknown, task: Task) => {
          builtRepo = await ensureRepo(progressOf(task, tty), cacheDir);
        },
      },
      {
        title: 'SSH key, host keys, known_hosts, VRRP secret',
        task: async () => {
          await ensureLabKey(paths);
          for (const h of topo.hosts) await ensureHostKey(paths, h);
          writeKnownHosts(paths, topo);
          ensureVrrpPass(paths);
          rec.save();
        },
      },
      {
        title: `Network: bridge and ${topo.hosts.length} hosts in ${topo.range}`,
        skip: () => alreadyUp && netnsExists(topo.bridgeNetns),
        task: async () => {
          await createBridge(rec, topo);
          for (const h of topo.hosts) await createHostNet(rec, topo, h);
        },
      },
      {
        title: `Booting ${topo.hosts.map((h) => h.name).join(', ')}`,
        task: async () => {
          bootStart = Date.now();
          const start = { base: baseDir(cacheDir), repo: repoDir(cacheDir) };
          for (const h of topo.hosts) await bootHost(rec, paths, topo, h, start);
        },
      },
      {
        title: 'Waiting until all hosts answer SSH',
        task: async () => {
          await Promise.all(topo.hosts.map((h) => waitForSsh(paths, st, h)));
          st.phase = 'up';
          rec.save();
        },
      },
    ],
    options,
  );
  await tasks.run();
  const total = (Date.now() - t0) / 1000;
  return {
    topology: topo,
    paths,
    hosts: hostInfo(paths, topo),
    alreadyUp,
    seconds: { total, boot: (Date.now() - bootStart) / 1000 },
    builtImage,
    builtRepo,
  };
}

/** Undo everything recorded in state (hosts, mounts, cgroups, links, namespaces, dirs). */
async function teardown(paths: LabPaths, state: LabState, log: (l: string) => void): Promise<void> {
  const rec = recorder(paths, state);
  const topo = state.topology;
  // Orderly poweroff of all hosts at once (short grace), then kill what is left.
  await Promise.all(Object.keys(state.hosts).map((h) => haltHost(rec, topo, h, true, 5_000)));
  for (const h of topo.hosts) {
    // nspawn's own per-machine scratch dir (exact path from the recorded machine name; only if empty).
    const p = `/run/systemd/nspawn/propagate/${h.netns}`;
    if (existsSync(p)) {
      try {
        rmdirSync(p);
      } catch {
        /* not empty: not ours to judge */
      }
    }
  }
  log('hosts stopped');
  for (const m of [...state.mounts].reverse()) await unmount(m);
  for (const cg of [...state.cgroups].reverse()) await removeCgroup(cg);
  await removeNet(state, log);
  for (const d of [...state.dirs].reverse()) rmSync(d, { recursive: true, force: true });
  removeState(paths);
}

export interface LabDownResult {
  /** False when there was no lab to take down. */
  removed: boolean;
}

export async function labDown(opts: LabOptions = {}): Promise<LabDownResult> {
  requireRoot();
  const paths = labPaths(opts.stateDir);
  if (!readState(paths)) return { removed: false };
  return withCacheLock(paths.stateDir, () => labDownLocked(paths, opts));
}

async function labDownLocked(paths: LabPaths, opts: LabOptions): Promise<LabDownResult> {
  const state = readState(paths);
  if (!state) return { removed: false };
  const { options } = listrOptions(opts.progress ?? 'auto');
  await new Listr(
    [
      {
        title: `Taking down the lab (${state.topology.hosts.map((h) => h.name).join(', ')})`,
        task: async (_ctx: unknown, task: Task) => teardown(paths, state, (l) => (task.output = l)),
      },
    ],
    options,
  ).run();
  return { removed: true };
}

export interface LabHostStatus extends LabHostInfo {
  running: boolean;
  pid?: number;
}

export interface LabStatus {
  up: boolean;
  phase?: LabState['phase'];
  range?: string;
  vip?: string;
  hosts: LabHostStatus[];
  faults: LabState['faults'];
  stateFile: string;
}

export function labStatus(opts: LabOptions = {}): LabStatus {
  const paths = labPaths(opts.stateDir);
  const state = readState(paths);
  if (!state) return { up: false, hosts: [], faults: [], stateFile: paths.stateFile };
  const hosts = hostInfo(paths, state.topology).map((h) => {
    const running = hostProcessAlive(state, h.name);
    const pid = state.hosts[h.name]?.pid;
    return { ...h, running, ...(running && pid ? { pid } : {}) };
  });
  return {
    up: state.phase === 'up' && hosts.every((h) => h.running),
    phase: state.phase,
    range: state.topology.range,
    vip: state.topology.vip,
    hosts,
    faults: state.faults,
    stateFile: paths.stateFile,
  };
}

/** The state of a lab that must be up (for exec and faults). */
export function upState(opts: LabOptions = {}): { paths: LabPaths; state: LabState } {
  const paths = labPaths(opts.stateDir);
  const state = readState(paths);
  if (!state || state.phase !== 'up') throw new HaupError('the lab is not up', 1, 'run `haup lab up` first');
  return { paths, state };
}

export function findHost(state: LabState, name: string): LabHost {
  const h = state.topology.hosts.find((x) => x.name === name);
  if (!h) {
    throw new HaupError(`no lab host named ${name}`, 2, `hosts: ${state.topology.hosts.map((x) => x.name).join(', ')}`);
  }
  return h;
}

export interface ExecOptions extends LabOptions {
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  allowFail?: boolean;
  input?: string;
}

/** Run a shell command on a lab host over SSH (strict host-key checking, the lab key). */
export async function labExec(host: string, cmd: string, opts: ExecOptions = {}): Promise<RunResult> {
  const { paths, state } = upState(opts);
  const h = findHost(state, host);
  const r = await run('ssh', [...sshArgs(paths, h.address), cmd], {
    allowFail: true,
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (r.code !== 0 && !opts.allowFail) {
    const tail = r.stderr.trim().split('\n').slice(-5).join('\n');
    throw new HostError(host, `\`${cmd}\` failed (exit ${r.code})${tail ? `: ${tail}` : ''}`);
  }
  return r;
}

export { recorder as labRecorder };
