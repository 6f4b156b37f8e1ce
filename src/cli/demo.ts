// `haup lab demo`: the one command that shows what haup is for. Brings the lab up (or checks
// it), deploys inventories/lab.yml, runs `verify --failover` and prints the measured table.
// Registered under the lab command: registerLabDemo(labCommand).
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { labUp, requireRoot } from '../lab/lab.ts';
import { loadInventory } from '../inventory/load.ts';
import { EXIT } from '../util/errors.ts';
import { runChecks } from '../verify/checks.ts';
import { Cluster } from '../verify/cluster.ts';
import { deploy } from './deploy.ts';
import { verify } from './verify.ts';

export const LAB_INVENTORY = fileURLToPath(new URL('../../inventories/lab.yml', import.meta.url));

export interface DemoOptions {
  inventory?: string;
  splitBrain?: boolean;
  stateDir?: string;
}

export async function runDemo(o: DemoOptions = {}): Promise<number> {
  requireRoot();
  const out = process.stdout;
  const inventory = o.inventory ?? LAB_INVENTORY;
  const t0 = Date.now();
  out.write('== 1/3 lab up\n');
  const up = await labUp({ ...(o.stateDir ? { stateDir: o.stateDir } : {}) });
  out.write(up.alreadyUp ? 'the lab was already up\n' : `lab up in ${up.seconds.total.toFixed(1)} s\n`);
  out.write(`\n== 2/3 haup deploy ${inventory}\n`);
  const d = await deploy(inventory, {});
  if (d.code !== EXIT.ok) {
    out.write('demo: the deploy failed; not verifying\n');
    return d.code;
  }
  // A deploy that restarted haupd leaves the LBs electing for a few seconds (Master_Down at start,
  // the partition guard): wait until the checks pass (bounded) so the table measures a settled
  // cluster, not the deploy's own restart.
  const settled = await waitSettled(inventory, 60_000);
  out.write(settled ? `the cluster settled ${settled} s after the deploy\n` : 'the cluster did not settle within 60 s; verifying anyway\n');
  out.write(`\n== 3/3 haup verify --failover${o.splitBrain ? ' --split-brain' : ''} ${inventory}\n`);
  const v = await verify(inventory, { failover: true, splitBrain: o.splitBrain === true, ...(o.stateDir ? { labStateDir: o.stateDir } : {}) });
  out.write(`\ndemo ${v.code === EXIT.ok ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s. The lab stays up: \`haup status ${inventory}\`, \`haup lab ssh lb5\`, \`haup lab down\`.\n`);
  return v.code;
}

/** Seconds until every verify check passed (null: not within `timeoutMs`). */
async function waitSettled(inventory: string, timeoutMs: number): Promise<number | null> {
  const t0 = Date.now();
  const cluster = new Cluster(await loadInventory(inventory, { secrets: 'require' }));
  try {
    while (Date.now() - t0 < timeoutMs) {
      if ((await runChecks(cluster)).every((c) => c.ok)) return Math.round((Date.now() - t0) / 1000);
      await new Promise((r) => setTimeout(r, 1000));
    }
    return null;
  } finally {
    await cluster.close();
  }
}

export function registerLabDemo(lab: Command): void {
  lab
    .command('demo')
    .description('bring the lab up, deploy inventories/lab.yml, run verify --failover and print the measured table (root)')
    .option('--split-brain', 'also run the split-brain scenario')
    .option('--inventory <file>', 'another inventory for the lab', LAB_INVENTORY)
    .action(async (opts: { splitBrain?: boolean; inventory?: string }) => {
      const stateDir = (lab.opts() as { stateDir?: string }).stateDir;
      process.exitCode = await runDemo({ ...opts, ...(stateDir ? { stateDir } : {}) });
    });
}
