// `haup deploy ARGS` for the e2e test, through the same registerDeploy the haup CLI uses (the
// test does not depend on src/cli/main.ts, which another change wires up).
import { Command, CommanderError } from 'commander';
import { registerDeploy } from '../../src/cli/deploy.ts';
import { exitCodeOf, formatError } from '../../src/util/errors.ts';

const program = new Command('haup').option('-v, --verbose').exitOverride();
registerDeploy(program);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else {
    process.stderr.write(formatError(e) + '\n');
    process.exitCode = exitCodeOf(e);
  }
}
