// `haup ARGS` for the verify and rollback e2e tests, through the same register functions the haup
// CLI uses (independent of src/cli/main.ts, which is wired up elsewhere).
import { Command, CommanderError } from 'commander';
import { registerDeploy } from '../../src/cli/deploy.ts';
import { registerRollback } from '../../src/cli/rollback.ts';
import { registerStatus } from '../../src/cli/status.ts';
import { registerVerify } from '../../src/cli/verify.ts';
import { exitCodeOf, formatError } from '../../src/util/errors.ts';

const program = new Command('haup').option('-v, --verbose').exitOverride();
registerDeploy(program);
registerVerify(program);
registerRollback(program);
registerStatus(program);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else {
    process.stderr.write(formatError(e) + '\n');
    process.exitCode = exitCodeOf(e);
  }
}
