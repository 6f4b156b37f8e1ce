// `haup inventory check FILE`: validate an inventory and print what it resolves to.
// Reads one file and the secrets it names; opens no network connection.
import type { Command } from 'commander';
import { formatDiagnostic } from '../util/errors.ts';

export function registerInventory(program: Command): void {
  const inventory = program.command('inventory').description('inspect and validate inventory files');

  inventory
    .command('check')
    .description('validate an inventory file and print the resolved hosts and VRRP instances')
    .argument('<file>', 'inventory file (YAML or JSON)')
    .option('--require-secrets', 'fail when a secret is not set here, as deploy does')
    .addHelpText(
      'after',
      '\nSecrets ({ env: NAME } / { file: PATH }) that are not available on this machine are reported as\n' +
        'warnings, so an inventory can be checked anywhere; deploy requires them (--require-secrets: here too).\n' +
        'Exit codes: 0 valid, 2 invalid (every problem is listed as FILE:LINE:COL: path: message).',
    )
    .action(async (file: string, opts: { requireSecrets?: boolean }) => {
      // zod and yaml load when the command runs, not when the CLI starts
      const [{ loadInventory }, { formatSummary }] = await Promise.all([import('../inventory/load.ts'), import('../inventory/summary.ts')]);
      const inv = await loadInventory(file, { secrets: opts.requireSecrets ? 'require' : 'report' });
      for (const w of inv.warnings) process.stderr.write(formatDiagnostic(w) + '\n');
      process.stdout.write(formatSummary(inv, { verbose: program.opts().verbose === true }) + '\n');
    });
}
