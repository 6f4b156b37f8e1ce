// The deploy benchmark's own lab: same shape as the conventional lab (lb5, lb6, web7, web8; VIP .3)
// but its own name prefix, range and state dir, so it never touches the shared lab or another
// helper's. No `client` host: neither tool deploys anything there.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseLabConfig } from '../../src/lab/config.ts';
import type { LabTopology } from '../../src/lab/topology.ts';

export const BENCH_LAB_NAME = 'hbdep';
export const BENCH_NET = '198.18.44';
export const BENCH_STATE_DIR = '/var/lib/haup/bench-deploy-lab';
export const BENCH_HOSTS: Readonly<Record<string, number>> = { lb5: 5, lb6: 6, web7: 7, web8: 8 };

export function benchTopology(net = BENCH_NET, name = BENCH_LAB_NAME): LabTopology {
  const lines = [
    `name: ${name}`,
    `range: ${net}.0/24`,
    `machine: ${net}.1`,
    `vip: ${net}.3`,
    'hosts:',
    ...Object.entries(BENCH_HOSTS).map(([h, n]) => `  ${h}: ${net}.${n}`),
    '',
  ];
  return parseLabConfig(lines.join('\n'), 'bench/deploy/lab.ts');
}

/**
 * inventories/lab.yml moved onto the bench lab: its addresses and state paths swapped, and the
 * `probe` group dropped (the bench lab has no client). Everything else — VRID, priorities, auth,
 * checks, nginx settings — stays exactly as the project's lab inventory says.
 */
export function haupInventoryText(labYml: string, net: string, stateDir: string): string {
  const moved = labYml.replaceAll('198.18.0.', `${net}.`).replaceAll('/var/lib/haup/lab/', `${stateDir}/`);
  const doc = parseDocument(moved);
  doc.delete('probe');
  return doc.toString();
}

export function readLabInventory(): string {
  return readFileSync(new URL('../../inventories/lab.yml', import.meta.url), 'utf8');
}
