// `haup deploy INVENTORY`: the inventory -> roles -> the engine, then the recap and the deploy id.
// Exit 0: every host ok/changed; 1: a host failed or was unreachable; 2: bad input (the inventory,
// the options), and then no connection was opened.
//
// The heavy modules (ssh, the engine, the roles' templates) are imported when deploy runs, not
// when the CLI starts: every other haup command would otherwise pay ~0.3 s to load them.
import type { Command } from 'commander';
import type { DeployResult } from '../engine/types.ts';
import type { Host } from '../inventory/model.ts';
import type { HaupdArtifact } from '../roles/artifact.ts';
import { InputError, formatDiagnostic } from '../util/errors.ts';

export interface DeployCliOptions {
  check?: boolean;
  diff?: boolean;
  limit?: string[];
  forks?: string;
  json?: boolean;
  verbose?: boolean;
  acceptNewHostKeys?: boolean;
  journalDir?: string;
  haupdArtifact?: string;
}

export function parseForks(text: string | undefined): number {
  if (text === undefined) return 10;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > 100) throw new InputError(`--forks: expected a whole number 1..100, got "${text}"`);
  return Number(text);
}

export async function connectHost(h: Host, acceptNewHostKeys: boolean) {
  const { connectSsh } = await import('../connectors/ssh.ts');
  return connectSsh({
    host: h.name,
    address: h.ssh.host,
    port: h.ssh.port,
    user: h.ssh.user,
    privateKeyPath: h.ssh.privateKey,
    ...(h.ssh.passphrase ? { passphrase: h.ssh.passphrase.reveal() } : {}),
    knownHostsPath: h.ssh.knownHosts,
    acceptNewHostKeys,
    become: h.ssh.become === 'sudo',
    connectTimeoutMs: h.ssh.connectTimeout * 1000,
  });
}

export async function deploy(file: string, o: DeployCliOptions): Promise<{ result: DeployResult; code: number }> {
  const [{ loadInventory }, { runDeploy, selectHosts }, { exitCodeFor, recap, toJson }, { buildHaupdArtifact, readHaupdArtifact }, { hostSpecs, phasesFor }] = await Promise.all([
    import('../inventory/load.ts'),
    import('../engine/runner.ts'),
    import('../engine/recap.ts'),
    import('../roles/artifact.ts'),
    import('../roles/index.ts'),
  ]);
  const inv = await loadInventory(file, { secrets: 'require' });
  const forks = parseForks(o.forks);
  const out = o.json ? process.stderr : process.stdout;
  for (const w of inv.warnings) process.stderr.write(formatDiagnostic(w) + '\n');
  const connect = (h: Host) => connectHost(h, o.acceptNewHostKeys === true);
  // Which hosts --limit selects (a usage error surfaces here, before anything is built or
  // contacted); the haupd artifact is built only when an LB is among them.
  const noArtifact: HaupdArtifact = { version: 'none', files: [] };
  const needsArtifact = selectHosts(hostSpecs(inv, { artifact: noArtifact, connect }), o.limit).some((h) => h.groups.includes('lb'));
  const artifact = !needsArtifact ? noArtifact : o.haupdArtifact ? await readHaupdArtifact(o.haupdArtifact) : await buildHaupdArtifact();
  const hosts = hostSpecs(inv, { artifact, connect });
  const result = await runDeploy({
    hosts,
    phases: phasesFor(inv),
    check: o.check === true,
    diff: o.diff === true,
    verbose: o.verbose === true,
    ...(o.limit ? { limit: o.limit } : {}),
    forks,
    ...(o.journalDir ? { journalDir: o.journalDir } : {}),
    // With --json, stdout carries only the JSON document: progress goes to stderr, plain.
    ...(o.json ? { output: 'plain' as const, stream: process.stderr } : {}),
  });
  if (o.json) process.stdout.write(toJson(result) + '\n');
  out.write(recap(result) + '\n');
  return { result, code: exitCodeFor(result) };
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('deploy the inventory: nginx on the webs, nginx + haupd on the LBs (backups first, master last)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--check', 'plan only: report what would change, change nothing on any host')
    .option('--diff', 'show unified diffs of the files that change (secret files: never their content)')
    .option('--limit <hosts>', 'only these hosts or groups (comma separated; repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--forks <n>', 'hosts in parallel within a phase (default 10)')
    .option('--json', 'print the result as JSON on stdout (progress and recap on stderr)')
    .option('--accept-new-host-keys', 'record the key of a host not yet in known_hosts (a CHANGED key is never accepted)')
    .option('--haupd-artifact <dir>', 'install this haupd build (a directory made by src/vrrp/bundle.ts) instead of building one from this checkout')
    .option('--journal-dir <dir>', 'where the deploy journals go on this machine (default $XDG_STATE_HOME/haup/journal)')
    .addHelpText('after', '\nhaup -v deploy ...: also every task that is ok, and the commands run (or, with --check, that would run).\nExit codes: 0 every host ok or changed, 1 a host failed or was unreachable, 2 bad input (nothing contacted).')
    .action(async (file: string, opts: DeployCliOptions, cmd: Command) => {
      const verbose = cmd.optsWithGlobals<{ verbose?: boolean }>().verbose === true;
      const { code } = await deploy(file, { ...opts, verbose });
      process.exitCode = code;
    });
}
