// haup's command line. One file per command under src/cli/; each exports `register…(program)`.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, exitCodeOf, formatError } from '../util/errors.ts';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

type Register = (program: Command) => void;

// Each command's module is imported only when that command runs (or for help): a no-op deploy
// should not pay for loading verify, rollback and the lab (~120 ms of the CLI's start-up).
const COMMANDS: Record<string, () => Promise<Register[]>> = {
  inventory: async () => [(await import('./inventory.ts')).registerInventory],
  lab: async () => {
    const [{ registerLab }, { registerLabDemo }] = await Promise.all([import('./lab.ts'), import('./demo.ts')]);
    return [registerLab, (p) => registerLabDemo(p.commands.find((c) => c.name() === 'lab')!)];
  },
  deploy: async () => [(await import('./deploy.ts')).registerDeploy],
  verify: async () => [(await import('./verify.ts')).registerVerify],
  rollback: async () => [(await import('./rollback.ts')).registerRollback],
  status: async () => [(await import('./status.ts')).registerStatus],
};

/** The program with the commands `argv` needs: the named one, or all of them (help, --version, typos). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('haup')
    .description('Highly available load-balancer pairs: nginx + haupd (VRRP), deployed over SSH.')
    .version(pkg.version, '-V, --version')
    .option('-v, --verbose', 'more detail (secrets are never printed)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = argv.find((a) => !a.startsWith('-'));
  const versionOnly = named === undefined && argv.some((a) => a === '-V' || a === '--version');
  const wanted = versionOnly ? [] : named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((name) => COMMANDS[name]!()));
  for (const register of registers.flat()) register(program);
  return program;
}

/** Run the CLI; returns the exit code instead of calling process.exit (testable). */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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
