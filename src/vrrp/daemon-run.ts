// Running the daemon as a process: load the config, start, wire the signals (SIGHUP reload,
// SIGTERM handover, SIGINT release at once), log what nothing else catches, exit code.
import { loadConfigInChild } from './config-child.ts';
import { Daemon, type ConfigLoader } from './daemon.ts';
import { IoServices, type DaemonIo } from './daemon-io.ts';
import { createLogger, type Logger } from './log.ts';
import { formatDiagnostic } from '../util/errors.ts';

export interface DaemonOptions {
  configFile: string;
  /** Default: validation in a child process (config-child.ts). */
  loadConfig?: ConfigLoader;
  /** Tests inject a logger; by default JSON lines on stdout. */
  log?: Logger;
  /** Install SIGHUP/SIGTERM/SIGINT handlers (default true). */
  signals?: boolean;
  /** I/O services (GARP, notify, tracking, status, metrics); tests may replace them. */
  io?: DaemonIo;
}

/** Load the config, start the daemon, wire the signals; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const loadConfig = opts.loadConfig ?? loadConfigInChild;
  const { config, diagnostics } = await loadConfig(opts.configFile);
  const log = opts.log ?? createLogger({ level: config?.logLevel ?? 'info' });
  for (const d of diagnostics) log[d.severity === 'error' ? 'error' : 'warn']('config_diagnostic', { diagnostic: formatDiagnostic(d) });
  if (!config) {
    process.stderr.write(diagnostics.map(formatDiagnostic).join('\n') + '\n');
    return 2;
  }
  const daemon = new Daemon(config, log, opts.io ?? new IoServices(log), loadConfig);
  // A signal that arrives while starting is applied once start() is done (a SIGTERM then still
  // hands over; a SIGHUP reloads), never lost and never acted on half-started.
  let started = false;
  const deferred: (() => void)[] = [];
  const when = (fn: () => void) => () => (started ? fn() : void deferred.push(fn));
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGHUP', when(() => void daemon.reload())],
    ['SIGTERM', when(() => daemon.shutdown(false))],
    ['SIGINT', when(() => daemon.shutdown(true))],
  ];
  if (opts.signals !== false) for (const [sig, h] of handlers) process.on(sig, h);
  // Last resort: an exception outside any instance handler is logged, never silent.
  const onUncaught = (err: unknown): void => log.error('uncaught_exception', { error: err });
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  try {
    await daemon.start();
  } catch (err) {
    log.error('start_failed', { error: err });
    daemon.shutdown(true);
  }
  started = true;
  for (const fn of deferred.splice(0)) fn();
  const code = await daemon.exited;
  for (const [sig, h] of handlers) process.off(sig, h);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  return code;
}

/** `haupd [--config FILE]`: run until stopped; never hangs on a stray handle after the end. */
export async function runDaemonProcess(configFile: string, loadConfig?: ConfigLoader): Promise<number> {
  const code = await runDaemon({ configFile, ...(loadConfig ? { loadConfig } : {}) });
  // Everything was closed; should a stray handle keep the loop alive, do not hang systemd.
  setTimeout(() => process.exit(code), 3000).unref();
  return code;
}
