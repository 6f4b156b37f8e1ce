// haup's command line. One file per command under src/cli/; each exports `register(program)`.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, exitCodeOf, formatError } from '../util/errors.ts';
import { registerInventory } from './inventory.ts';
import { registerLab } from './lab.ts';
import { registerDeploy } from './deploy.ts';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('haup')
    .description('Highly available load-balancer pairs: nginx + haupd (VRRP), deployed over SSH.')
    .version(pkg.version, '-V, --version')
    .option('-v, --verbose', 'more detail (secrets are never printed)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerInventory(program);
  registerLab(program);
  registerDeploy(program);
  return program;
}

/** Run the CLI; returns the exit code instead of calling process.exit (testable). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(formatError(err, program.opts().verbose === true) + '\n');
    return exitCodeOf(err);
  }
}
