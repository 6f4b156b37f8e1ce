// haupd's entry: `bin/haupd` (checkout) and `lib/haupd.cjs` (bundle) both call `main(argv)`.
//
//   haupd [--config FILE]                 run the daemon (default /etc/haup/haupd.yml)
//   haupd --check-config FILE             validate; diagnostics as FILE:LINE:COL; exit 0 / 2
//   haupd --release [--config FILE]       remove our VIPs left behind by a crashed daemon (ExecStopPost)
//   haupd status [--socket PATH | --config FILE]   print the running daemon's status (JSON)
//
// Memory: the daemon itself never loads commander, zod or yaml (together ~25 MB of RSS for the
// daemon's whole life, against a 50 MB budget). A plain daemon run is recognised here and started
// directly; its config is validated by a child (`--resolve-config`, config-child.ts) when running
// from the bundle. Every other form loads the full command line (main-cli.ts) on demand.
import { serializeConfigLoad } from './config-child.ts';
import { runDaemonProcess } from './daemon-run.ts';
import { DEFAULT_CONFIG, IS_BUNDLED } from './version.ts';

/** The config file when argv is a plain daemon run (`[]`, `--config F`, `-c F`, `--config=F`). */
export function plainDaemonRun(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return DEFAULT_CONFIG;
  if (argv.length === 2 && (argv[0] === '--config' || argv[0] === '-c') && argv[1] && !argv[1].startsWith('-')) return argv[1];
  if (argv.length === 1 && argv[0]?.startsWith('--config=') && argv[0].length > '--config='.length) return argv[0].slice('--config='.length);
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  const file = plainDaemonRun(argv);
  if (file !== undefined) {
    if (IS_BUNDLED) return runDaemonProcess(file);
    // From a checkout (tsx) memory does not matter and a second tsx start is slow: in process.
    const { loadConfigFile } = await import('./config.ts');
    return runDaemonProcess(file, (f) => loadConfigFile(f));
  }
  if (argv.length === 2 && argv[0] === '--resolve-config' && argv[1]) {
    // Internal: the daemon's config validator (see config-child.ts). JSON on stdout, exit 0 / 2.
    const { loadConfigFile } = await import('./config.ts');
    const load = await loadConfigFile(argv[1]);
    process.stdout.write(serializeConfigLoad(load) + '\n');
    return load.config ? 0 : 2;
  }
  const { runCli } = await import('./main-cli.ts');
  return runCli(argv);
}
