// Shared by the role tests: inventories/lab.yml (or an edited copy) loaded with a fake secret IO
// (no files, no environment), a fixed fake artifact, and facts that say "everything is in place".
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Facts } from '../../src/facts/types.ts';
import { loadInventoryText } from '../../src/inventory/load.ts';
import type { Inventory } from '../../src/inventory/model.ts';
import type { SecretIO } from '../../src/inventory/secrets.ts';
import type { HaupdArtifact } from '../../src/roles/artifact.ts';
import type { TaskSpec } from '../../src/engine/types.ts';

export const LAB_YML = readFileSync(new URL('../../inventories/lab.yml', import.meta.url), 'utf8');
export const PASS = 'Zq7#pW2x';

export const secretIO: SecretIO = {
  env: {},
  readFile: async (path) => {
    if (path === '/var/lib/haup/lab/vrrp-pass') return `${PASS}\n`;
    throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  },
  stat: async () => ({ mode: 0o600, isFile: true, size: PASS.length + 1 }),
};

export async function labInventory(edit: (text: string) => string = (t) => t): Promise<Inventory> {
  const r = await loadInventoryText(edit(LAB_YML), 'inventories/lab.yml', { io: secretIO });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'));
  return r.inventory;
}

export const fakeArtifact: HaupdArtifact = {
  version: '9.9.9',
  files: [
    { path: 'bin/haupd', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
    { path: 'lib/haupd.cjs', content: Buffer.from('// bundle\n'), mode: 0o644 },
    { path: 'lib/native/raw-socket.abi108.node', content: Buffer.from([0, 1, 2]), mode: 0o644 },
    { path: 'VERSION', content: Buffer.from('9.9.9\n'), mode: 0o644 },
  ],
};

export function golden(name: string): string {
  return readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8');
}

export function fileTask(tasks: TaskSpec[], path: string): TaskSpec & { op: { op: 'file'; content: string | Buffer } } {
  const t = tasks.find((x) => x.op.op === 'file' && x.op.path === path);
  if (!t) throw new Error(`no file task for ${path}`);
  return t as TaskSpec & { op: { op: 'file'; content: string | Buffer } };
}

export function content(t: TaskSpec): string {
  if (t.op.op !== 'file') throw new Error('not a file task');
  return Buffer.isBuffer(t.op.content) ? t.op.content.toString('utf8') : t.op.content;
}

/** Facts of a Debian host on which every task of `tasks` is already done (a second deploy). */
export function convergedFacts(tasks: TaskSpec[], services: string[]): Facts {
  const files: Facts['files'] = {};
  const packages: Record<string, string> = {};
  const probes: Record<string, number> = {};
  for (const t of tasks) {
    const op = t.op;
    if (op.op === 'file') {
      const bytes = Buffer.isBuffer(op.content) ? op.content : Buffer.from(op.content);
      files[op.path] = { type: 'file', mode: op.mode ?? 0o644, owner: op.owner ?? 'root', group: op.group ?? 'root', sha256: createHash('sha256').update(bytes).digest('hex') };
    } else if (op.op === 'directory') files[op.path] = { type: 'directory', mode: op.mode ?? 0o755, owner: 'root', group: 'root' };
    else if (op.op === 'package') for (const n of op.names) packages[n] = '1.0';
    else if (op.op === 'command') {
      if (op.creates) files[op.creates] = { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: 'x' };
      if (op.unless) probes[op.unless] = 0;
      if (op.onlyIf) probes[op.onlyIf] = 0;
    }
  }
  return {
    os: { family: 'debian', id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    packageManager: 'apt',
    init: 'systemd',
    packages,
    nginxVersion: '1.22.1',
    haupdVersion: '9.9.9',
    interfaces: [],
    files,
    services: Object.fromEntries(services.map((s) => [s, { enabled: 'enabled', active: 'active' }])),
    probes,
  };
}
