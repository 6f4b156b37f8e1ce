// The daemon's config loader: validation (zod + yaml, ~19 MB of RSS that would stay for the
// daemon's whole life) runs in a short-lived child of the same program, `haupd --resolve-config
// FILE`, which prints the resolved config as JSON on stdout. The PASS secret crosses the pipe as
// hex; it is never written anywhere else.
import { execFile } from 'node:child_process';
import type { ConfigLoad, HaupdConfig } from './config.ts';

/** Resolved config -> JSON-safe value (the secret's Buffer as hex). */
export function serializeConfigLoad(load: ConfigLoad): string {
  return JSON.stringify(load, (_key, value: unknown) => {
    if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'PASS' && Buffer.isBuffer((value as { data?: unknown }).data)) {
      return { type: 'PASS', dataHex: (value as { data: Buffer }).data.toString('hex') };
    }
    return value;
  });
}

export function parseConfigLoad(text: string): ConfigLoad {
  const load = JSON.parse(text) as ConfigLoad & { config?: HaupdConfig & { instances: { auth: unknown }[] } };
  for (const inst of load.config?.instances ?? []) {
    const auth = inst.auth as { type: 'PASS'; dataHex: string } | null;
    inst.auth = auth ? { type: 'PASS', data: Buffer.from(auth.dataHex, 'hex') } : null;
  }
  return load;
}

/** Run `haupd --resolve-config FILE` with the same node, flags and entry point as this process. */
export function loadConfigInChild(file: string, timeoutMs = 30_000): Promise<ConfigLoad> {
  const entry = process.argv[1];
  return new Promise((resolve) => {
    const fail = (why: string): void =>
      resolve({ diagnostics: [{ file, line: 1, col: 1, path: '', message: `cannot validate the config: ${why}`, severity: 'error' }] });
    if (!entry) return fail('no entry point to run the validator');
    execFile(process.execPath, [...process.execArgv, entry, '--resolve-config', file], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      try {
        resolve(parseConfigLoad(stdout));
      } catch {
        fail((stderr.trim() || err?.message || 'no output').split('\n')[0] ?? 'no output');
      }
    });
  });
}
