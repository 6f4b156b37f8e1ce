// state.json: the recorded ids of everything `lab up` made. Each id is recorded BEFORE the
// thing is created, so `lab down` can also clean up after an `up` that crashed half-way;
// `down` removes exactly these ids and never searches by name pattern.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HaupError } from '../util/errors.ts';
import type { LabTopology } from './topology.ts';

export const DEFAULT_STATE_DIR = '/var/lib/haup/lab';
export const CACHE_DIR = '/var/cache/haup/lab';

export interface LabPaths {
  stateDir: string;
  stateFile: string;
  sshDir: string;
  privateKey: string;
  publicKey: string;
  knownHosts: string;
  vrrpPass: string;
  hostsDir: string;
}

export function labPaths(stateDir = DEFAULT_STATE_DIR): LabPaths {
  const sshDir = join(stateDir, 'ssh');
  return {
    stateDir,
    stateFile: join(stateDir, 'state.json'),
    sshDir,
    privateKey: join(sshDir, 'id_ed25519'),
    publicKey: join(sshDir, 'id_ed25519.pub'),
    knownHosts: join(sshDir, 'known_hosts'),
    vrrpPass: join(stateDir, 'vrrp-pass'),
    hostsDir: join(stateDir, 'hosts'),
  };
}

export interface HostPaths {
  dir: string;
  /** sshd host key pair, bind-mounted read-only at /etc/ssh/lab (kept across up/down). */
  keysDir: string;
  upper: string;
  work: string;
  /** The overlay mount point: the host's / (base image below, upper on top). */
  root: string;
  log: string;
}

export function hostPaths(paths: LabPaths, host: string): HostPaths {
  const dir = join(paths.hostsDir, host);
  return {
    dir,
    keysDir: join(dir, 'keys'),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    log: join(dir, 'nspawn.log'),
  };
}

export interface RecordedLink {
  name: string;
  /** Namespace holding the link; absent = the machine's root namespace. */
  netns?: string;
}

export interface RecordedHost {
  uuid: string;
  /** systemd-nspawn's PID and its start time (field 22 of /proc/PID/stat) against PID reuse. */
  pid?: number;
  pidStart?: string;
}

export interface RecordedFault {
  kind: 'link-down' | 'vrrp-block' | 'freeze' | 'host-stop';
  host: string;
  /** vrrp-block: receiving host; freeze: process name. */
  arg?: string;
}

export interface LabState {
  version: 1;
  phase: 'creating' | 'up';
  startedAt: string;
  topology: LabTopology;
  netns: string[];
  links: RecordedLink[];
  /** Overlay mount points in the machine's mount namespace. */
  mounts: string[];
  /** cgroup directories (both hierarchies), parents first. */
  cgroups: string[];
  /** Directories `up` created that `down` deletes (upper/work/root of each host). */
  dirs: string[];
  hosts: Record<string, RecordedHost>;
  faults: RecordedFault[];
}

export function readState(paths: LabPaths): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(paths.stateFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as LabState;
    if (state.version !== 1) throw new Error(`unknown version ${String(state.version)}`);
    return state;
  } catch (err) {
    throw new HaupError(
      `${paths.stateFile} is unreadable: ${(err as Error).message}`,
      1,
      'nothing was touched; inspect the file (it lists what the lab created) and remove it by hand',
    );
  }
}

/** Atomic write: a crash never leaves a half-written state file. */
export function writeState(paths: LabPaths, state: LabState): void {
  mkdirSync(paths.stateDir, { recursive: true });
  const tmp = `${paths.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, paths.stateFile);
}

export function removeState(paths: LabPaths): void {
  rmSync(paths.stateFile, { force: true });
}
