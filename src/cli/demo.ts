// `haup lab demo`: the one command that shows what haup is for. Brings the lab up (or checks
// it), deploys inventories/lab.yml, runs `verify --failover` and prints the measured table.
// Registered under the lab command: registerLabDemo(labCommand).
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { labUp, requireRoot } from '../lab/lab.ts';
import { EXIT } from '../util/errors.ts';
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
  out.write(`\n== 3/3 haup verify --failover${o.splitBrain ? ' --split-brain' : ''} ${inventory}\n`);
  const v = await verify(inventory, { failover: true, splitBrain: o.splitBrain === true, ...(o.stateDir ? { labStateDir: o.stateDir } : {}) });
  out.write(`\ndemo ${v.code === EXIT.ok ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s. The lab stays up: \`haup status ${inventory}\`, \`haup lab ssh lb5\`, \`haup lab down\`.\n`);
  return v.code;
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
