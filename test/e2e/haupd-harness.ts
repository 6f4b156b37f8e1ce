/**
 * Running haupd inside test namespaces: write a config, start the daemon from the checkout (tsx) or
 * from a bundle, read its JSON log lines, find who holds a VIP.
 *
 *   const d = await startHaupd(lab, 'a', dir, { instances: [...] });
 *   await d.waitLog((e) => e.event === 'transition' && e.to === 'Master');
 *   d.signal('SIGSTOP');
 */
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HaupdConfigInput } from '../../src/vrrp/config-schema.ts';
import { waitFor, type NetnsLab } from './netns.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type LogEntry = Record<string, unknown> & { ts: string; level: string; event: string };

export interface RunningHaupd {
  host: string;
  child: ChildProcess;
  configFile: string;
  /** Every JSON log line so far, in order. */
  logs: LogEntry[];
  /** Non-JSON output (stderr, crashes) so far. */
  raw(): string;
  waitLog(match: (e: LogEntry) => boolean, timeoutMs?: number, what?: string): Promise<LogEntry>;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGTERM and wait (bounded; SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number | string>;
  /** Rewrite the config file (for SIGHUP reload tests). */
  rewrite(config: HaupdConfigInput): Promise<void>;
}

export interface StartOptions {
  /** Run `node BUNDLE/lib/haupd.cjs` instead of the checkout's bin/haupd. */
  bundleDir?: string;
  /** Command that runs node (default: this process's node), e.g. ['unshare', ..., 'node18.sh']. */
  node?: string[];
  extraArgs?: string[];
}

export async function writeConfig(file: string, config: HaupdConfigInput): Promise<void> {
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

export async function writeSecret(file: string, secret: string): Promise<void> {
  await writeFile(file, secret + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
}

export async function startHaupd(lab: NetnsLab, host: string, dir: string, config: HaupdConfigInput, opts: StartOptions = {}): Promise<RunningHaupd> {
  await mkdir(dir, { recursive: true });
  const configFile = path.join(dir, `haupd-${host}.json`);
  await writeConfig(configFile, config);
  const entry = opts.bundleDir ? [path.join(opts.bundleDir, 'lib', 'haupd.cjs')] : [path.join(repoRoot, 'bin', 'haupd')];
  const [cmd = process.execPath, ...pre] = opts.node ?? [process.execPath];
  const child = lab.spawn(host, cmd, [...pre, ...entry, '--config', configFile, ...(opts.extraArgs ?? [])]);
  const logs: LogEntry[] = [];
  const waiters = new Set<() => void>();
  let raw = '';
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogEntry);
      } catch {
        raw += line + '\n';
      }
    }
    for (const w of [...waiters]) w();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (raw += chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  const d: RunningHaupd = {
    host,
    child,
    configFile,
    logs,
    raw: () => raw,
    waitLog(match, timeoutMs = 10_000, what = 'a log line') {
      const found = logs.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = logs.find(match);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`[${host}] timed out after ${timeoutMs} ms waiting for ${what}\nlast logs:\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n${raw.slice(-2000)}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (waiters.has(check)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`[${host}] haupd exited while waiting for ${what}\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n${raw.slice(-2000)}`));
          }
        });
      });
    },
    signal(sig) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, sig);
        } catch {
          /* gone */
        }
      }
    },
    exited,
    async stop(timeoutMs = 8000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      d.signal('SIGTERM');
      const t = setTimeout(() => d.signal('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    rewrite: (c) => writeConfig(configFile, c),
  };
  return d;
}

/** IPv4 addresses on a host's eth0 (no prefix). */
export async function addrsOf(lab: NetnsLab, host: string, ifname = 'eth0'): Promise<string[]> {
  const r = await lab.exec(host, 'ip', ['-j', '-4', 'addr', 'show', 'dev', ifname]);
  if (r.code !== 0) return [];
  const data = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string }[] }[];
  return data.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter(Boolean);
}

/** The hosts (of `hosts`) that hold `vip` right now. */
export async function holders(lab: NetnsLab, hosts: string[], vip: string): Promise<string[]> {
  const out: string[] = [];
  for (const h of hosts) if ((await addrsOf(lab, h)).includes(vip)) out.push(h);
  return out;
}

/** Wait until exactly `expected` holds the VIP (and nobody else of `hosts`). */
export async function waitHolder(lab: NetnsLab, hosts: string[], vip: string, expected: string, timeoutMs = 10_000): Promise<true> {
  let last: string[] = [];
  try {
    return await waitFor(`${vip} held by ${expected} only`, async () => {
      last = await holders(lab, hosts, vip);
      return last.length === 1 && last[0] === expected ? true : undefined;
    }, timeoutMs, 20);
  } catch (err) {
    throw new Error(`${(err as Error).message} (held by: ${last.join(', ') || 'nobody'})`);
  }
}

/**
 * Sample who holds the VIP for `durationMs`; returns every sample where the holder set was not
 * exactly one host (two masters, or nobody).
 */
export async function watchSingleHolder(lab: NetnsLab, hosts: string[], vip: string, durationMs: number, everyMs = 100): Promise<{ samples: number; bad: string[][] }> {
  const end = Date.now() + durationMs;
  const bad: string[][] = [];
  let samples = 0;
  while (Date.now() < end) {
    const h = await holders(lab, hosts, vip);
    samples++;
    if (h.length !== 1) bad.push(h);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return { samples, bad };
}

export function tmpDirFor(prefix: string): string {
  return path.join('/tmp', `haup-e2e-${prefix}-${process.pid}`);
}
