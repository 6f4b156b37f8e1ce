// A resolved inventory for the verify/status/rollback unit tests: the lab's layout (lb5 150 master,
// lb6 100, web7, web8, probe client), with lines replaceable per test. No file or env is read.
import { loadInventoryText } from '../../src/inventory/load.ts';
import type { Inventory } from '../../src/inventory/model.ts';
import type { SecretIO } from '../../src/inventory/secrets.ts';

const io: SecretIO = {
  env: { PASS: 'secret' },
  readFile: async () => 'x',
  stat: async () => ({ mode: 0o600, isFile: true, size: 1 }),
};

export const LINES: Record<string, string> = {
  ssh: 'ssh: { user: root, private_key: /k, known_hosts: /kh }',
  web: 'web: { hosts: { web7: { address: 198.18.0.7 }, web8: { address: 198.18.0.8 } } }',
  lb: 'lb: { hosts: { lb5: { address: 198.18.0.5 }, lb6: { address: 198.18.0.6 } } }',
  probe: 'probe: { hosts: { client: { address: 198.18.0.9 } } }',
  vrrp: 'vrrp:',
  instances: '  instances:',
  inst: '    - { name: VI_1, vrid: 50, interface: eth0, vips: [198.18.0.3/24], priorities: { lb5: 150, lb6: 100 }, version: 2, advert_int: 1, auth: { type: PASS, pass: { env: PASS } }, track: [nginx] }',
  checks: '  checks: { nginx: { script: builtin:nginx, interval: 1, fall: 2, rise: 2, weight: -60 } }',
};

export async function labInventory(changes: Partial<Record<keyof typeof LINES, string>> = {}): Promise<Inventory> {
  const text = Object.keys(LINES).map((k) => changes[k] ?? LINES[k]).join('\n') + '\n';
  const r = await loadInventoryText(text, 'lab.yml', { io });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.line}:${d.col} ${d.path}: ${d.message}`).join('\n'));
  return r.inventory;
}
