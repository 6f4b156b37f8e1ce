// haupd's full command line (commander), loaded by main.ts for everything but the plain daemon
// run, which main.ts starts itself without loading commander, zod or yaml.
//
//   haupd [--config FILE]                 run the daemon (default /etc/haup/haupd.yml)
//   haupd --check-config FILE             validate; diagnostics as FILE:LINE:COL; exit 0 / 2
//   haupd --release [--config FILE]       hand over and remove our VIPs left by a crashed daemon (ExecStopPost)
//   haupd status [--socket PATH | --config FILE]   print the running daemon's status (JSON)
import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeOf, formatDiagnostic, formatError, HaupError } from '../util/errors.ts';
import { loadConfigFile } from './config.ts';
import { runDaemonProcess } from './daemon-run.ts';
import { createLogger } from './log.ts';
import { releaseVips } from './release.ts';
import { handOverAll } from './release-handover.ts';
import { queryStatus } from './status.ts';
import { HAUPD_VERSION } from './version.ts';

import { DEFAULT_CONFIG } from './version.ts';

interface Options {
  config?: string;
  checkConfig?: string;
  release?: boolean;
  verbose?: boolean;
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}
function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : text + '\n');
}

async function checkConfig(file: string): Promise<number> {
  const { config, diagnostics } = await loadConfigFile(file);
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (!config) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    err(`${file}: invalid (${errors} error${errors === 1 ? '' : 's'})`);
    return EXIT.usage;
  }
  const names = config.instances.map((i) => `${i.name} (${i.interface} vrid ${i.vrid} v${i.version})`).join(', ');
  out(`${file}: OK, ${config.instances.length} instance${config.instances.length === 1 ? '' : 's'}: ${names}`);
  return EXIT.ok;
}

async function release(file: string): Promise<number> {
  const { config, diagnostics } = await loadConfigFile(file);
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (!config) return EXIT.usage;
  const log = createLogger({ level: config.logLevel });
  // After a crash the VIPs are still here: hand them over first (release-handover.ts).
  const outcomes = await handOverAll(config.instances, log, { timeoutMs: config.handoverTimeoutMs });
  for (const [i, o] of outcomes.entries()) {
    const name = config.instances[i]!.name;
    if (o.kind === 'handed-over') out(`${name}: handed over to ${o.to} (prio ${o.priority}) after ${o.ms} ms`);
    else if (o.kind === 'timeout') out(`${name}: no new master within ${o.ms} ms; releasing anyway`);
    else if (o.kind === 'failed') err(`${name}: handover not possible (${o.error}); releasing at once`);
  }
  const removed = await releaseVips(config, log);
  out(`released ${removed.length} VIP${removed.length === 1 ? '' : 's'}${removed.length ? ': ' + removed.join(', ') : ''}`);
  return EXIT.ok;
}

export function buildProgram(run: (code: number) => void): Command {
  const program = new Command('haupd')
    .description('VRRP daemon (RFC 3768 / 5798), wire-compatible with keepalived.')
    .version(HAUPD_VERSION, '-V, --version')
    .option('-c, --config <file>', `config file (YAML or JSON)`, DEFAULT_CONFIG)
    .option('--check-config <file>', 'validate FILE and exit: 0 valid, 2 invalid (diagnostics on stderr)')
    .option('--release', 'remove the VIPs of every configured instance from this host and exit (ExecStopPost)')
    .option('-v, --verbose', 'stack traces on unexpected errors')
    .showHelpAfterError('(run with --help for usage)')
    // `haupd status --config F`: the subcommand's own --config, not the daemon's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .action(async (opts: Options) => {
      if (opts.checkConfig !== undefined) return run(await checkConfig(opts.checkConfig));
      const file = opts.config ?? DEFAULT_CONFIG;
      if (opts.release) return run(await release(file));
      run(await runDaemonProcess(file));
    });
  program
    .command('status')
    .description("print the running daemon's status (JSON from its status socket)")
    .option('-s, --socket <path>', 'status socket (default: status_socket from the config)')
    .option('-c, --config <file>', 'config file naming the status socket', DEFAULT_CONFIG)
    .action(async (opts: { socket?: string; config: string }) => {
      let socket = opts.socket;
      if (!socket) {
        const { config, diagnostics } = await loadConfigFile(opts.config);
        if (!config) {
          for (const d of diagnostics) err(formatDiagnostic(d));
          return run(EXIT.usage);
        }
        socket = config.statusSocket;
      }
      try {
        out(JSON.stringify(await queryStatus(socket), null, 2));
      } catch (e) {
        throw new HaupError((e as Error).message);
      }
      run(EXIT.ok);
    });
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    err(formatError(e, program.opts<Options>().verbose === true));
    return exitCodeOf(e);
  }
}
