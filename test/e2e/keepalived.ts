/**
 * Run Debian's keepalived inside a test namespace (never in the root namespace), with its own
 * config file and unique pid files, for the haupd interop tests.
 *
 *   const k = await startKeepalived(lab, 'a', dir, { vrid: 61, version: 2, priority: 150, ... });
 *   ...
 *   await k.stop();            // SIGTERM (planned stop: keepalived sends priority 0)
 *   k.kill('SIGSTOP')          // freeze (hard failure)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NetnsLab } from './netns.ts';

export interface KeepalivedInstance {
  vrid: number;
  version: 2 | 3;
  priority: number;
  /** Seconds (v3 may be fractional). */
  advertInt: number;
  vips: string[];
  /** v2 PASS password (≤ 8 chars). */
  authPass?: string;
  nopreempt?: boolean;
  interface?: string;
}

export interface RunningKeepalived {
  child: ChildProcess;
  /** keepalived's log (stdout + stderr) so far. */
  log(): string;
  /** SIGTERM the parent and wait for it to exit (bounded). */
  stop(timeoutMs?: number): Promise<void>;
  /** Signal the whole process group (parent + VRRP child), e.g. SIGSTOP/SIGCONT/SIGKILL. */
  signal(sig: NodeJS.Signals): void;
}

export function keepalivedConf(name: string, i: KeepalivedInstance): string {
  const lines = [
    'global_defs {',
    `  router_id ${name}`,
    '  enable_script_security',
    '}',
    `vrrp_instance VI_${i.vrid} {`,
    '  state BACKUP',
    `  interface ${i.interface ?? 'eth0'}`,
    `  virtual_router_id ${i.vrid}`,
    `  version ${i.version}`,
    `  priority ${i.priority}`,
    `  advert_int ${i.advertInt}`,
  ];
  if (i.nopreempt) lines.push('  nopreempt');
  if (i.authPass !== undefined) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${i.authPass}`, '  }');
  lines.push('  virtual_ipaddress {', ...i.vips.map((v) => `    ${v}`), '  }', '}', '');
  return lines.join('\n');
}

export async function startKeepalived(lab: NetnsLab, host: string, dir: string, inst: KeepalivedInstance): Promise<RunningKeepalived> {
  const base = path.join(dir, `keepalived-${host}`);
  await mkdir(dir, { recursive: true });
  await writeFile(`${base}.conf`, keepalivedConf(`haupk-${host}`, inst), { mode: 0o600 });
  // -n foreground, -l log to stderr, -D detailed; unique pid files so parallel runs never collide.
  const child = lab.spawn(host, 'keepalived', ['-n', '-l', '-D', '-f', `${base}.conf`, '-p', `${base}.pid`, '-r', `${base}.vrrp.pid`, '-c', `${base}.check.pid`]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const k: RunningKeepalived = {
    child,
    log: () => out,
    signal(sig) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, sig);
        } catch {
          /* gone */
        }
      }
    },
    async stop(timeoutMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // `ip netns exec` execs keepalived (same pid), so SIGTERM reaches keepalived's parent.
      child.kill('SIGTERM');
      const t = setTimeout(() => k.signal('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
  return k;
}
