// The lab's SSH material: one client key (root's authorized key in every host), one ed25519
// host key per host (kept across up/down so known_hosts stays valid), the known_hosts file
// that lets strict host-key checking work unchanged, and the VRRP PASS secret.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.ts';
import { hostPaths, type LabPaths } from './state.ts';
import type { LabHost, LabTopology } from './topology.ts';

async function keygen(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { input: 'y\n', timeoutMs: 20_000 });
}

export async function ensureLabKey(paths: LabPaths): Promise<void> {
  mkdirSync(paths.sshDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.sshDir, 0o700);
  await keygen(paths.privateKey, 'haup-lab');
  chmodSync(paths.privateKey, 0o600);
}

export async function ensureHostKey(paths: LabPaths, host: LabHost): Promise<void> {
  const hp = hostPaths(paths, host.name);
  mkdirSync(hp.keysDir, { recursive: true, mode: 0o700 });
  await keygen(join(hp.keysDir, 'ssh_host_ed25519_key'), `root@${host.name}`);
  chmodSync(join(hp.keysDir, 'ssh_host_ed25519_key'), 0o600);
}

/** `ADDRESS ssh-ed25519 KEY` per host: the address is what every ssh client connects to. */
export function knownHostsText(entries: { address: string; publicKey: string }[]): string {
  return entries.map((e) => `${e.address} ${e.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`).join('');
}

export function writeKnownHosts(paths: LabPaths, topo: LabTopology): void {
  const entries = topo.hosts.map((h) => ({
    address: h.address,
    publicKey: readFileSync(join(hostPaths(paths, h.name).keysDir, 'ssh_host_ed25519_key.pub'), 'utf8'),
  }));
  const tmp = `${paths.knownHosts}.tmp`;
  writeFileSync(tmp, knownHostsText(entries), { mode: 0o644 });
  renameSync(tmp, paths.knownHosts);
}

const PASS_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 8 random characters (VRRPv2 PASS carries at most 8), mode 0600, created once. */
export function ensureVrrpPass(paths: LabPaths): void {
  if (existsSync(paths.vrrpPass)) {
    chmodSync(paths.vrrpPass, 0o600);
    return;
  }
  const bytes = randomBytes(8);
  const pass = [...bytes].map((b) => PASS_ALPHABET[b % PASS_ALPHABET.length]).join('');
  writeFileSync(paths.vrrpPass, pass + '\n', { mode: 0o600, flag: 'wx' });
}

/** ssh arguments for a lab host: strict host-key checking against the lab's known_hosts. */
export function sshArgs(paths: LabPaths, address: string, connectTimeoutS = 5): string[] {
  return [
    '-i', paths.privateKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${paths.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'LogLevel=ERROR',
    `root@${address}`,
  ];
}

/** The short form shown to users in the summary. */
export function sshCommandLine(paths: LabPaths, address: string): string {
  return `ssh -i ${paths.privateKey} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${paths.knownHosts} root@${address}`;
}
