// Deploy benchmark: `haup deploy` against the equivalent Ansible playbook (bench/ansible/) on a lab
// of its own (bench/deploy/lab.ts: hbdep, 198.18.44.0/24). For every tool/profile and run:
//   fresh hosts (lab down + up, not timed) -> [Ansible: python3 installed, not timed] ->
//   cold deploy (timed) -> the VIP serves both webs and sits on the master only (checked, not
//   timed) -> no-op re-deploys (timed, must report 0 changed).
// Tools are interleaved run by run, so load from other work on the machine spreads over all.
//   node --import tsx bench/deploy/run.ts [--runs 5] [--noops 2] [--tools haup,ansible-default,ansible-pipelining]
//                                         [--budget-min 45] [--out bench/deploy/results/NAME.json]
// Needs root (the lab) and Debian's ansible (apt-get install ansible). Prints a Markdown table.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadInventory } from '../../src/inventory/load.ts';
import { labDown, labExec, labUp } from '../../src/lab/lab.ts';
import { CACHE_DIR } from '../../src/lab/state.ts';
import { buildHaupdArtifact } from '../../src/roles/artifact.ts';
import type { DeployResult } from '../../src/engine/types.ts';
import { ansibleInventory } from '../ansible/inventory.ts';
import { BENCH_NET, BENCH_STATE_DIR, benchTopology, haupInventoryText, readLabInventory } from './lab.ts';
import { formatSummary, parseAnsibleRecap, recapTotals, summarize } from './stats.ts';

const TOOLS = ['haup', 'ansible-default', 'ansible-pipelining'] as const;
type Tool = (typeof TOOLS)[number];
const REPO = new URL('../../', import.meta.url).pathname;
const ANSIBLE_DIR = join(REPO, 'bench/ansible');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    noops: { type: 'string', default: '2' },
    tools: { type: 'string', default: TOOLS.join(',') },
    'budget-min': { type: 'string', default: '45' },
    out: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const NOOPS = Number(args.noops);
const BUDGET_MS = Number(args['budget-min']) * 60_000;
const tools = args.tools.split(',').map((t) => t.trim()) as Tool[];
for (const t of tools) if (!TOOLS.includes(t)) throw new Error(`unknown tool ${t} (${TOOLS.join(', ')})`);
if (!(RUNS >= 1 && NOOPS >= 1)) throw new Error('--runs and --noops must be >= 1');

const COLD_TIMEOUT_MS = 300_000;
const NOOP_TIMEOUT_MS = 120_000;
const VIP = `${BENCH_NET}.3`;
const lab = { stateDir: BENCH_STATE_DIR, progress: 'silent' as const };
const work = mkdtempSync(join(tmpdir(), 'haup-bench-deploy-'));
const started = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a command in its own process group; on timeout the whole group is killed. */
function exec(cmd: string, argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number, cwd = REPO): Promise<Exec> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (signal) reject(new Error(`${cmd} ${argv.join(' ')}: killed by ${signal} after ${Math.round(ms)} ms (limit ${timeoutMs} ms)\n${stderr.slice(-2000)}`));
      else resolve({ code: code ?? -1, stdout, stderr, ms });
    });
  });
}

// ---- inventories (generated once; the lab keeps its SSH keys and PASS file across up/down) ----
const haupInventory = join(work, 'haup-inventory.yml');
const ansibleInventoryFile = join(work, 'ansible-inventory.yml');

async function writeInventories(): Promise<void> {
  writeFileSync(haupInventory, haupInventoryText(readLabInventory(), BENCH_NET, BENCH_STATE_DIR));
  const inv = await loadInventory(haupInventory);
  writeFileSync(ansibleInventoryFile, ansibleInventory(inv));
}

// ---- one deploy per tool ----
interface DeployRun {
  ms: number;
  changed: number;
  /** haup: its own durationMs (without node/tsx start-up); per host timings. */
  inner?: { durationMs: number; hosts: Record<string, Record<string, number>> };
}

const haupEnv = { ...process.env, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache'), CI: 'true' };

async function haupDeploy(timeoutMs: number): Promise<DeployRun> {
  const r = await exec(process.execPath, [join(REPO, 'bin/haup'), 'deploy', haupInventory, '--json'], haupEnv, timeoutMs);
  let json: DeployResult;
  try {
    json = JSON.parse(r.stdout) as DeployResult;
  } catch {
    throw new Error(`haup deploy (exit ${r.code}) printed no JSON result:\n${r.stderr.slice(-3000)}`);
  }
  const failed = json.hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
  if (r.code !== 0 || !json.ok || failed.length > 0 || json.hosts.length !== 4) {
    throw new Error(`haup deploy failed (exit ${r.code}): ${failed.map((h) => `${h.host}: ${h.error?.message ?? h.status}`).join('; ')}\n${r.stderr.slice(-3000)}`);
  }
  return {
    ms: r.ms,
    changed: json.hosts.reduce((n, h) => n + h.counts.changed, 0),
    inner: { durationMs: json.durationMs, hosts: Object.fromEntries(json.hosts.map((h) => [h.host, h.timings])) },
  };
}

function ansibleEnv(tool: Tool, controlDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_LOCAL_TEMP: join(work, 'ansible-tmp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_PIPELINING: tool === 'ansible-pipelining' ? 'True' : 'False',
  };
}

async function ansibleDeploy(tool: Tool, controlDir: string, timeoutMs: number): Promise<DeployRun> {
  const r = await exec('ansible-playbook', ['-i', ansibleInventoryFile, join(ANSIBLE_DIR, 'site.yml')], ansibleEnv(tool, controlDir), timeoutMs);
  const t = recapTotals(parseAnsibleRecap(r.stdout));
  if (r.code !== 0 || t.hosts !== 4 || t.failed > 0 || t.unreachable > 0) {
    throw new Error(`ansible-playbook (${tool}) failed (exit ${r.code}, recap ${JSON.stringify(t)}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  }
  return { ms: r.ms, changed: t.changed };
}

/** End the ssh ControlPersist masters this run started (their sockets are in our own dir). */
async function closeControlMasters(controlDir: string): Promise<void> {
  let socks: string[] = [];
  try {
    socks = readdirSync(controlDir);
  } catch {
    return;
  }
  for (const s of socks) {
    await exec('ssh', ['-o', `ControlPath=${join(controlDir, s)}`, '-O', 'exit', 'bench-master'], process.env, 10_000).catch(() => {});
  }
  rmSync(controlDir, { recursive: true, force: true });
}

// ---- lab steps (not timed) ----
// A lab host must see its own namespace's /sys/class/net. Lab hosts once saw the MACHINE's
// (nspawn bind-mounted the machine's sysfs): haupd read the wrong ifindex for eth0, its multicast
// join failed (EADDRNOTAVAIL) and the pair never took the VIP. Where that is still so, the net
// part of a sysfs mounted inside the host's namespace is put in place (every tool alike, not timed).
const IFINDEX_MATCHES = 'test "$(cat /sys/class/net/eth0/ifindex)" = "$(ip -o link show dev eth0 | cut -d: -f1)"';
const OWN_NET_SYSFS = [
  `if ${IFINDEX_MATCHES}; then exit 0; fi`,
  'set -e',
  'mkdir -p /run/netns-sysfs',
  'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /run/netns-sysfs',
  'mount --bind /run/netns-sysfs/class/net /sys/class/net',
  'mount --bind /run/netns-sysfs/devices/virtual/net /sys/devices/virtual/net',
  IFINDEX_MATCHES,
].join('\n');

async function freshHosts(): Promise<number> {
  const t0 = Date.now();
  await labDown(lab);
  await labUp({ ...lab, topology: benchTopology() });
  await Promise.all(['lb5', 'lb6', 'web7', 'web8'].map((h) => labExec(h, OWN_NET_SYSFS, { ...lab, timeoutMs: 20_000 })));
  return Date.now() - t0;
}

// Ansible's prerequisites on a Debian host: python3 (in the lab's repo) and python3-apt for the
// apt module (not in the lab's repo: downloaded once on this machine and copied over).
const PY_APT_DEBS = '/var/cache/haup/bench-deploy-debs';
const PY_APT_PACKAGES = ['python3-apt', 'python-apt-common', 'distro-info-data'];

async function pythonAptDebs(): Promise<string> {
  mkdirSync(PY_APT_DEBS, { recursive: true });
  const have = readdirSync(PY_APT_DEBS).filter((f) => f.endsWith('.deb'));
  if (PY_APT_PACKAGES.some((p) => !have.some((f) => f.startsWith(`${p}_`)))) {
    const r = await exec('apt-get', ['download', ...PY_APT_PACKAGES], { ...process.env }, 120_000, PY_APT_DEBS);
    if (r.code !== 0) throw new Error(`apt-get download ${PY_APT_PACKAGES.join(' ')} failed: ${r.stderr}`);
  }
  return execFileSync('tar', ['-C', PY_APT_DEBS, '-c', '.']).toString('base64');
}

/** python3 + python3-apt on every host, then the apt lists removed again so the playbook's apt
 *  task starts from the same empty index haup's deploy sees. Not timed. */
async function bootstrapPython(debsTarB64: string): Promise<number> {
  const t0 = Date.now();
  const cmd = [
    'set -e',
    'mkdir -p /tmp/bench-debs && base64 -d | tar -x -C /tmp/bench-debs',
    'apt-get update -qq',
    'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 /tmp/bench-debs/*.deb >/dev/null 2>&1',
    // An empty index again, and an old mtime on lists/ as in the image (the apt module's
    // cache_valid_time looks at that mtime).
    'rm -rf /tmp/bench-debs /var/lib/apt/lists/* && mkdir -p /var/lib/apt/lists/partial && touch -d 2000-01-01 /var/lib/apt/lists',
  ].join('\n');
  await Promise.all(['lb5', 'lb6', 'web7', 'web8'].map((h) => labExec(h, cmd, { ...lab, timeoutMs: 180_000, input: debsTarB64 })));
  return Date.now() - t0;
}

/** The deployed pair works: the VIP answers with both webs' pages and sits on lb5 only. */
async function checkServes(): Promise<number> {
  const t0 = Date.now();
  const deadline = t0 + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await exec('curl', ['-s', '--noproxy', '*', '--max-time', '2', `http://${VIP}/`], process.env, 5_000);
      const m = /<h1>(\w+) Service<\/h1>/.exec(r.stdout);
      if (m) seen.add(m[1]!.toLowerCase());
    }
    const on5 = (await labExec('lb5', 'ip -4 -o addr show dev eth0', lab)).stdout.includes(`${VIP}/`);
    const on6 = (await labExec('lb6', 'ip -4 -o addr show dev eth0', lab)).stdout.includes(`${VIP}/`);
    last = `pages from ${[...seen].join(',') || 'nobody'}; VIP on lb5 ${on5}, on lb6 ${on6}`;
    if (seen.has('web7') && seen.has('web8') && on5 && !on6) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`after the cold deploy the pair does not serve as expected within 30 s: ${last}`);
}

// ---- the runs ----
interface ToolRun {
  tool: Tool;
  run: number;
  labUpMs: number;
  pythonMs?: number;
  cold: DeployRun;
  servedAfterMs: number;
  noops: DeployRun[];
  /** 1-minute load average of the machine (2 cores, shared) before the cold deploy and at the end. */
  load: [number, number];
}

async function oneRun(tool: Tool, run: number, debsTar: string): Promise<ToolRun> {
  const labUpMs = await freshHosts();
  const rec: Partial<ToolRun> = { tool, run, labUpMs, load: [loadavg()[0]!, 0] };
  if (tool === 'haup') {
    // The haupd bundle is built once per haup source version (esbuild); warmed here, not timed.
    await buildHaupdArtifact(join(haupEnv.XDG_CACHE_HOME, 'haup', 'haupd-artifact'));
    rec.cold = await haupDeploy(COLD_TIMEOUT_MS);
    rec.servedAfterMs = await checkServes();
    rec.noops = [];
    for (let i = 0; i < NOOPS; i++) {
      await buildHaupdArtifact(join(haupEnv.XDG_CACHE_HOME, 'haup', 'haupd-artifact'));
      rec.noops.push(await haupDeploy(NOOP_TIMEOUT_MS));
    }
  } else {
    rec.pythonMs = await bootstrapPython(debsTar);
    const controlDir = mkdtempSync(join(work, 'cp-'));
    try {
      rec.cold = await ansibleDeploy(tool, controlDir, COLD_TIMEOUT_MS);
      rec.servedAfterMs = await checkServes();
      rec.noops = [];
      for (let i = 0; i < NOOPS; i++) rec.noops.push(await ansibleDeploy(tool, controlDir, NOOP_TIMEOUT_MS));
    } finally {
      await closeControlMasters(controlDir);
    }
  }
  const r = rec as ToolRun;
  r.load[1] = loadavg()[0]!;
  const bad = r.noops.filter((n) => n.changed !== 0);
  if (bad.length > 0) throw new Error(`${tool}: a no-op re-deploy reported changed=${bad.map((b) => b.changed).join(',')}`);
  return r;
}

/** Versions of everything measured; host packages as the lab's repo holds them (what hosts install). */
async function versions(): Promise<Record<string, string>> {
  const first = async (cmd: string, argv: string[]) => (await exec(cmd, argv, process.env, 30_000).catch(() => ({ stdout: '?' }))).stdout.split('\n')[0]!.trim();
  const repo = join(CACHE_DIR, 'repo');
  const debs = readdirSync(repo).filter((f) => /^(nginx|keepalived|nodejs|python3)_/.test(f));
  const rev = await first('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']);
  return {
    ansible: await first('ansible', ['--version']),
    node: process.version,
    // Run from a snapshot (no .git there): HAUP_REV says which commit it was taken from.
    haup: process.env.HAUP_REV ?? (rev || '?'),
    hostPackages: debs.map((f) => decodeURIComponent(f).replace(/_(all|amd64)\.deb$/, '').replace('_', '=')).join(' '),
    kernel: await first('uname', ['-r']),
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  };
}

function table(runs: ToolRun[]): string {
  const rows = ['| tool / profile | cold deploy | no-op re-deploy | runs (cold / no-op) |', '|---|---|---|---|'];
  for (const tool of tools) {
    const mine = runs.filter((r) => r.tool === tool);
    const cold = summarize(mine.map((r) => r.cold.ms));
    const noop = summarize(mine.flatMap((r) => r.noops.map((n) => n.ms)));
    rows.push(`| ${tool} | ${formatSummary(cold)} | ${formatSummary(noop, 2)} | ${cold?.n ?? 0} / ${noop?.n ?? 0} |`);
  }
  return rows.join('\n');
}

const results: ToolRun[] = [];
let stopped = '';
try {
  await writeInventories();
  const debsTar = tools.some((t) => t !== 'haup') ? await pythonAptDebs() : '';
  for (let run = 1; run <= RUNS && !stopped; run++) {
    // Rotate the order every run so no tool always runs first (or right after a lab boot storm).
    const order = tools.map((_, i) => tools[(i + run - 1) % tools.length]!);
    for (const tool of order) {
      if (Date.now() - started > BUDGET_MS) {
        stopped = `time budget of ${args['budget-min']} min reached before ${tool} run ${run}`;
        break;
      }
      const r = await oneRun(tool, run, debsTar);
      results.push(r);
      log(`${tool} run ${run}: cold ${(r.cold.ms / 1000).toFixed(2)} s (changed ${r.cold.changed}), no-op ${r.noops.map((n) => (n.ms / 1000).toFixed(2)).join(', ')} s; lab up ${(r.labUpMs / 1000).toFixed(1)} s${r.pythonMs ? `, python3 ${(r.pythonMs / 1000).toFixed(1)} s` : ''}, served ${(r.servedAfterMs / 1000).toFixed(1)} s after; load ${r.load.map((l) => l.toFixed(1)).join(' -> ')}`);
    }
  }
  if (stopped) log(stopped);
  const meta = { date: new Date().toISOString(), versions: await versions(), runs: RUNS, noopsPerRun: NOOPS, stopped: stopped || undefined };
  const out = args.out ?? join(REPO, 'bench/deploy/results', `deploy-${meta.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify({ ...meta, results }, null, 2) + '\n');
  process.stdout.write(`${table(results)}\n\nversions: ${JSON.stringify(meta.versions)}\nraw runs: ${out}\n`);
} finally {
  await labDown(lab).catch((e: unknown) => log(`lab down failed: ${String(e)}`));
  rmSync(work, { recursive: true, force: true });
}
