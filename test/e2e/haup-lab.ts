// Shared by the verify and rollback e2e tests: a lab of the test's own (own name, range and state
// dir, so the shared lab is never touched), lab.yml rewritten for it, and `haup` run as a child.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig } from '../../src/lab/config.ts';
import { labExec } from '../../src/lab/lab.ts';
import { labPaths } from '../../src/lab/state.ts';

export interface OwnLab {
  net: string;
  vip: string;
  work: string;
  stateDir: string;
  opts: { stateDir: string; progress: 'silent' };
  topology: ReturnType<typeof parseLabConfig>;
  artifact: string;
  env: NodeJS.ProcessEnv;
  /** lab.yml for this lab with `edit` applied; returns its path. */
  inventory(name: string, edit?: (t: string) => string): string;
  sh(host: string, cmd: string): Promise<string>;
  haup(args: string[], timeoutMs?: number): Promise<Run>;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const LAB_YML = readFileSync(new URL('../../inventories/lab.yml', import.meta.url), 'utf8');

export function ownLab(name: string, net: string, file: string): OwnLab {
  const work = mkdtempSync(join(tmpdir(), `haup-${name}-e2e-`));
  const stateDir = join(work, 'lab');
  const hosts = { lb5: 5, lb6: 6, web7: 7, web8: 8, client: 9 };
  const topology = parseLabConfig(
    [`name: ${name}`, `range: ${net}.0/24`, `machine: ${net}.1`, `vip: ${net}.3`, 'hosts:', ...Object.entries(hosts).map(([h, n]) => `  ${h}: ${net}.${n}`), ''].join('\n'),
    file,
  );
  const opts = { stateDir, progress: 'silent' as const };
  const env = { ...process.env, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache'), CI: 'true' };
  const lab: OwnLab = {
    net,
    vip: `${net}.3`,
    work,
    stateDir,
    opts,
    topology,
    artifact: join(work, 'haupd-artifact'),
    env,
    inventory(iname, edit = (t) => t) {
      const text = edit(LAB_YML.replaceAll('198.18.0.', `${net}.`).replaceAll('/var/lib/haup/lab/', `${labPaths(stateDir).stateDir}/`));
      const f = join(work, iname);
      writeFileSync(f, text);
      return f;
    },
    sh: async (host, cmd) => (await labExec(host, cmd, { ...opts, timeoutMs: 60_000 })).stdout,
    haup(args, timeoutMs = 300_000) {
      if (args[0] === 'deploy') args = [...args, '--haupd-artifact', lab.artifact];
      if (args[0] === 'verify') args = [...args, '--lab-state-dir', stateDir];
      const t0 = performance.now();
      return new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', new URL('./haup-cli.ts', import.meta.url).pathname, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
        p.on('error', reject);
        p.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 });
        });
      });
    },
  };
  return lab;
}
