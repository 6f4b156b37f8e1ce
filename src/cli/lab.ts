// `haup lab up|down|status|ssh|fault`: the one-machine lab of booted Debian hosts.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { HaupError } from '../util/errors.ts';

// The lab modules (listr2, zod for the lab config) load when a lab command runs, not when the
// CLI starts: `haup --version` or `haup deploy` never pay for them.
// Memoised: after the first load, awaiting them takes no I/O (see loadLabModules).
let labPromise: Promise<typeof import('../lab/lab.ts')> | undefined;
let faultsPromise: Promise<typeof import('../lab/faults.ts')> | undefined;
let sshPromise: Promise<typeof import('../lab/ssh.ts')> | undefined;
const labModule = () => (labPromise ??= import('../lab/lab.ts'));
const faults = () => (faultsPromise ??= import('../lab/faults.ts'));
const sshModule = () => (sshPromise ??= import('../lab/ssh.ts'));

/** Load the lab modules now (tests that capture stdout around a command call this first). */
export function loadLabModules(): Promise<unknown> {
  return Promise.all([labModule(), faults(), sshModule()]);
}

interface LabCliOpts {
  stateDir?: string;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('a lab of booted Debian 12 hosts (systemd, sshd) in network namespaces on this machine (root)')
    .option('--state-dir <dir>', 'lab state directory', '/var/lib/haup/lab');

  const common = (): LabCliOpts => lab.opts() as LabCliOpts;

  lab
    .command('up')
    .description('create the lab (or check and repair it when already up): web7, web8, lb5, lb6, client')
    .option('--config <file>', 'lab config (YAML: name, range, machine, vip, hosts: {name: address})')
    .addHelpText(
      'after',
      '\nFirst run builds a Debian 12 image (debootstrap) and a local apt repository under\n' +
        '/var/cache/haup/lab (a few minutes); later runs boot from the cache in seconds.\n' +
        'SSH: /var/lib/haup/lab/ssh/id_ed25519 and ssh/known_hosts (strict host-key checking works).',
    )
    .action(async (opts: { config?: string }) => {
      const { labUp } = await labModule();
      const r = await labUp({ ...(opts.config ? { configFile: opts.config } : {}), ...(common().stateDir ? { stateDir: common().stateDir } : {}) });
      const out = [
        r.alreadyUp ? 'The lab was already up; every host answers SSH.' : `Lab up in ${r.seconds.total.toFixed(1)} s (hosts booted and answering SSH in ${r.seconds.boot.toFixed(1)} s).`,
        '',
        table([['HOST', 'ADDRESS', 'SSH'], ...r.hosts.map((h) => [h.name, h.address, h.ssh])]),
        '',
        `machine: ${r.topology.machineAddress} on ${r.topology.machineLink}${r.topology.vip ? `   VIP reserved: ${r.topology.vip}` : ''}`,
        `or simply: haup lab ssh HOST [CMD...]      take it down: haup lab down`,
      ];
      process.stdout.write(out.join('\n') + '\n');
    });

  lab
    .command('down')
    .description('remove everything `lab up` made (hosts, mounts, cgroups, links, namespaces)')
    .action(async () => {
      const { labDown } = await labModule();
      const r = await labDown(common());
      process.stdout.write(r.removed ? 'Lab down: nothing of it is left.\n' : 'No lab is up (no state file); nothing to do.\n');
    });

  lab
    .command('status')
    .description('show the lab hosts, whether they run, and active faults')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { labStatus } = await labModule();
      const s = labStatus(common());
      if (opts.json) {
        process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        return;
      }
      if (!s.phase) {
        process.stdout.write('No lab is up.\n');
        process.exitCode = 1;
        return;
      }
      const lines = [
        `lab ${s.up ? 'up' : s.phase === 'creating' ? 'incomplete (an `up` was interrupted: run `haup lab down` or `haup lab up`)' : 'degraded'}: ${s.range}${s.vip ? `, VIP ${s.vip}` : ''}`,
        table([['HOST', 'ADDRESS', 'STATE', 'SSH'], ...s.hosts.map((h) => [h.name, h.address, h.running ? 'running' : 'stopped', h.ssh])]),
      ];
      if (s.faults.length > 0) lines.push('active faults: ' + s.faults.map((f) => `${f.kind} ${f.host}${f.arg ? ` ${f.arg}` : ''}`).join(', '));
      process.stdout.write(lines.join('\n') + '\n');
      if (!s.up) process.exitCode = 1;
    });

  lab
    .command('ssh')
    .description('open a shell on a lab host, or run a command there')
    .argument('<host>', 'lab host name')
    .argument('[cmd...]', 'command to run (default: interactive shell)')
    .allowUnknownOption()
    .addHelpText('after', '\nPut -- before a command that has options: haup lab ssh lb5 -- ls -l /etc/nginx')
    .action(async (host: string, cmd: string[]) => {
      const [{ findHost, requireRoot, upState }, { sshArgs }] = await Promise.all([labModule(), sshModule()]);
      requireRoot();
      const { paths, state } = upState(common());
      const h = findHost(state, host);
      // Interactive: no BatchMode (the user may want prompts), a terminal when there is no command.
      const base = sshArgs(paths, h.address).flatMap((a, i, all) => (a === 'BatchMode=yes' || all[i + 1] === 'BatchMode=yes' ? [] : [a]));
      const cleaned = [...(cmd.length === 0 ? ['-t'] : []), ...base, ...cmd];
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('ssh', cleaned, { stdio: 'inherit' });
        child.on('error', (e) => reject(new HaupError(`cannot run ssh: ${e.message}`)));
        child.on('close', (c) => resolve(c ?? 1));
      });
      process.exitCode = code;
    });

  const fault = lab.command('fault').description('inject a fault into the lab, or undo it (each pair is reversible)');
  const act = (name: string, desc: string, args: string[], fn: (...a: string[]) => Promise<unknown>) => {
    const c = fault.command(name).description(desc);
    for (const a of args) c.argument(`<${a}>`);
    c.action(async (...a: unknown[]) => {
      (await labModule()).requireRoot();
      const r = await fn(...(a.slice(0, args.length) as string[]));
      process.stdout.write(`${name} ${a.slice(0, args.length).join(' ')}: done${Array.isArray(r) ? ` (PIDs ${r.join(' ')})` : ''}\n`);
    });
  };
  const o = () => common();
  act('link-down', "take a host's eth0 down", ['host'], (h) => faults().then((m) => m.linkDown(h!, o())));
  act('link-up', "bring a host's eth0 back up", ['host'], (h) => faults().then((m) => m.linkUp(h!, o())));
  act('block-vrrp', 'drop VRRP (protocol 112) sent by FROM before it reaches TO', ['from', 'to'], (f, t) => faults().then((m) => m.blockVrrp(f!, t!, o())));
  act('unblock-vrrp', 'let VRRP from FROM reach TO again', ['from', 'to'], (f, t) => faults().then((m) => m.unblockVrrp(f!, t!, o())));
  act('freeze', 'SIGSTOP every process with this name on the host', ['host', 'process'], (h, p) => faults().then((m) => m.freeze(h!, p!, o())));
  act('thaw', 'SIGCONT every process with this name on the host', ['host', 'process'], (h, p) => faults().then((m) => m.thaw(h!, p!, o())));
  act('stop', 'power a host off (its disk stays until `lab down`)', ['host'], (h) => faults().then((m) => m.stopHost(h!, o())));
  act('start', 'boot a stopped host and wait for SSH', ['host'], (h) => faults().then((m) => m.startHost(h!, o())));
}
