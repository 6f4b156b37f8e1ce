// Shared fixture for inventory tests: a small valid inventory, edited line by line per test, and
// a fake secret IO so tests need neither environment variables nor files.
import { formatDiagnostic } from '../../src/util/errors.ts';
import { loadInventoryText, type LoadInventoryOptions } from '../../src/inventory/load.ts';
import type { SecretIO } from '../../src/inventory/secrets.ts';

/** Line numbers matter: tests replace lines by number and assert exact line:col. */
export const BASE_LINES = [
  /*  1 */ 'ssh: { user: root }',
  /*  2 */ 'web:',
  /*  3 */ '  hosts:',
  /*  4 */ '    web7: { address: 10.0.0.7 }',
  /*  5 */ '    web8: { address: 10.0.0.8 }',
  /*  6 */ 'lb:',
  /*  7 */ '  hosts:',
  /*  8 */ '    lb5: { address: 10.0.0.5 }',
  /*  9 */ '    lb6: { address: 10.0.0.6 }',
  /* 10 */ 'vrrp:',
  /* 11 */ '  instances:',
  /* 12 */ '    - name: VI_1',
  /* 13 */ '      vrid: 50',
  /* 14 */ '      interface: eth0',
  /* 15 */ '      vips: [10.0.0.3/24]',
  /* 16 */ '      priorities: { lb5: 150, lb6: 100 }',
  /* 17 */ '      auth: { type: PASS, pass: { env: PASS } }',
  /* 18 */ '  checks:',
  /* 19 */ '    nginx: { script: builtin:nginx }',
];

/** The base inventory with some lines replaced (1-based; a replacement may span several lines). */
export function inventory(changes: Record<number, string> = {}): string {
  return BASE_LINES.map((line, i) => changes[i + 1] ?? line).join('\n') + '\n';
}

export function fakeIO(env: Record<string, string> = { PASS: 'secret' }, files: Record<string, { text: string; mode: number }> = {}): SecretIO {
  return {
    env,
    readFile: async (path) => {
      const f = files[path];
      if (!f) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return f.text;
    },
    stat: async (path) => {
      const f = files[path];
      if (!f) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return { mode: f.mode, isFile: true, size: Buffer.byteLength(f.text) };
    },
  };
}

/** Every diagnostic, formatted exactly as the CLI prints it. */
export async function problems(text: string, options: LoadInventoryOptions = {}): Promise<string[]> {
  const outcome = await loadInventoryText(text, 'inv.yml', { io: fakeIO(), home: '/home/u', ...options });
  return outcome.diagnostics.map(formatDiagnostic);
}

/** A valid inventory's model; fails the test with the diagnostics otherwise. */
export async function model(text: string, options: LoadInventoryOptions = {}) {
  const outcome = await loadInventoryText(text, '/srv/inv/inv.yml', { io: fakeIO(), home: '/home/u', ...options });
  if (!outcome.ok) throw new Error(`expected a valid inventory:\n${outcome.diagnostics.map(formatDiagnostic).join('\n')}`);
  return outcome.inventory;
}
