// `haup verify INVENTORY [--failover] [--split-brain] [--json]`: checks (and fault scenarios)
// against a deployed cluster. Exit 0: everything passed; 1: a check or scenario failed; 2: bad input.
import type { Command } from 'commander';
import { loadInventory } from '../inventory/load.ts';
import { EXIT, InputError } from '../util/errors.ts';
import { runChecks, type CheckResult } from '../verify/checks.ts';
import { Cluster } from '../verify/cluster.ts';
import { isLabInventory, labDriver, sshDriver } from '../verify/faults.ts';
import { renderChecks, renderFailover } from '../verify/report.ts';
import { SCENARIO_TITLES, runFailover, type ScenarioId, type ScenarioResult } from '../verify/scenarios.ts';

export interface VerifyOptions {
  failover?: boolean;
  splitBrain?: boolean;
  json?: boolean;
  only?: string;
  /** `lab` = the lab's fault hooks, `ssh` = commands over SSH, `auto` = the lab when the inventory is the running lab. */
  faults?: 'auto' | 'lab' | 'ssh';
  labStateDir?: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export interface VerifyResult {
  ok: boolean;
  checks: CheckResult[];
  failover?: ScenarioResult[];
  faultDriver?: 'lab' | 'ssh';
}

function parseOnly(text: string | undefined): ScenarioId[] | undefined {
  if (!text) return undefined;
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const known = Object.keys(SCENARIO_TITLES);
  const bad = ids.filter((i) => !known.includes(i));
  if (bad.length) throw new InputError(`--only: unknown scenario ${bad.join(', ')}`, [], `known: ${known.join(', ')}`);
  return ids as ScenarioId[];
}

/** Runs verify on a loaded inventory's cluster; prints unless `quiet`. */
export async function verifyCluster(cluster: Cluster, o: VerifyOptions = {}): Promise<VerifyResult> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const only = parseOnly(o.only);
  const checks = await runChecks(cluster);
  const result: VerifyResult = { ok: checks.every((c) => c.ok), checks };
  if (!o.json) out.write(renderChecks(checks) + '\n');
  if (o.failover || o.splitBrain) {
    const useLab = o.faults === 'lab' || ((o.faults ?? 'auto') === 'auto' && isLabInventory(cluster.inv, o.labStateDir));
    const driver = useLab ? labDriver(o.labStateDir) : sshDriver(cluster);
    result.faultDriver = driver.kind;
    if (!o.json) out.write(`\nfailover scenarios (faults via ${driver.kind === 'lab' ? "the lab's fault hooks" : 'SSH commands'}):\n`);
    const scenarios = await runFailover(cluster, driver, {
      splitBrain: o.splitBrain === true,
      log: (l) => err.write(`verify: ${l}\n`),
      ...(only ? { only } : {}),
    });
    result.failover = scenarios;
    if (!scenarios.every((s) => s.ok)) result.ok = false;
    if (!o.json) out.write(renderFailover(scenarios) + '\n');
  }
  if (o.json) out.write(JSON.stringify(result, null, 2) + '\n');
  return result;
}

export async function verify(file: string, o: VerifyOptions = {}): Promise<{ result: VerifyResult; code: number }> {
  parseOnly(o.only);
  const inv = await loadInventory(file, { secrets: 'require' });
  const cluster = new Cluster(inv);
  try {
    const result = await verifyCluster(cluster, o);
    return { result, code: result.ok ? EXIT.ok : EXIT.failed };
  } finally {
    await cluster.close();
  }
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check a deployed cluster: nginx, backends, one VIP holder, haupd agreement, HTTP through every VIP')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--failover', 'also run the fault scenarios (planned stop, freeze, link down, nginx dies, backend dies, recovery) and measure them')
    .option('--split-brain', 'also block VRRP between the LBs (lab only), show the dual master, heal')
    .option('--only <ids>', `failover scenarios to run (comma separated: ${Object.keys(SCENARIO_TITLES).join(', ')})`)
    .option('--faults <how>', 'how faults are made: auto (the lab hooks when the inventory is the running lab), lab, ssh', 'auto')
    .option('--lab-state-dir <dir>', "the lab's state directory, for its fault hooks (default /var/lib/haup/lab)")
    .option('--json', 'print the results as JSON on stdout (progress on stderr)')
    .addHelpText('after', '\nExit codes: 0 every check passed, 1 a check or scenario failed, 2 bad input.')
    .action(async (file: string, opts: VerifyOptions) => {
      if (opts.faults && !['auto', 'lab', 'ssh'].includes(opts.faults)) throw new InputError(`--faults: expected auto, lab or ssh, got "${opts.faults}"`);
      const { code } = await verify(file, opts);
      process.exitCode = code;
    });
}
