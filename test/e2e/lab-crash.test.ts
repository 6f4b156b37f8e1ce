// An `up` killed half-way (SIGKILL: no cleanup code runs) leaves booted hosts, namespaces,
// mounts and cgroups behind; `down` must remove all of them from state.json alone, and a later
// `up` must start over cleanly. Own lab instance: hlabc, 198.18.48.0/24, temp state dir.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labStatus, labUp } from '../../src/lab/lab.ts';
import { labPaths, type LabState } from '../../src/lab/state.ts';
import { parseLabConfig } from '../../src/lab/config.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'haup-labcrash-'));
const paths = labPaths(stateDir);
const configFile = join(stateDir, 'lab.yml');
const CONFIG = 'name: hlabc\nrange: 198.18.48.0/24\nmachine: 198.18.48.1\nhosts:\n  a: 198.18.48.5\n  b: 198.18.48.6\n';
writeFileSync(configFile, CONFIG);

after(async () => {
  await labDown({ stateDir, progress: 'silent' }).catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

function readStateFile(): LabState | undefined {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

test('down cleans up after an up that was killed mid-way; up afterwards starts fresh', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `import('./src/lab/lab.ts').then((m) => m.labUp({ stateDir: ${JSON.stringify(stateDir)}, configFile: ${JSON.stringify(configFile)}, progress: 'silent' }))`],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // Kill it as soon as the first host's nspawn is recorded: the network exists, a host boots.
  const deadline = Date.now() + 120_000;
  let crashed: LabState | undefined;
  while (Date.now() < deadline) {
    const s = readStateFile();
    if (s && Object.values(s.hosts).some((h) => h.pid)) {
      crashed = s;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await exited;
  crashed = readStateFile() ?? crashed;
  assert.ok(crashed, 'state.json was written before anything was created');
  assert.equal(crashed.phase, 'creating');
  const pids = Object.values(crashed.hosts).flatMap((h) => (h.pid ? [h.pid] : []));
  assert.ok(pids.length >= 1);
  assert.ok(pids.every((p) => existsSync(`/proc/${p}`)), 'hosts outlive the killed up');
  assert.equal(labStatus({ stateDir }).up, false);

  assert.equal((await labDown({ stateDir, progress: 'silent' })).removed, true);
  for (const p of pids) assert.equal(existsSync(`/proc/${p}`), false, `nspawn ${p} gone`);
  for (const ns of crashed.netns) assert.equal(existsSync(`/run/netns/${ns}`), false, `${ns} gone`);
  assert.equal(spawnSync('ip', ['link', 'show', 'dev', 'hlabc0']).status, 1);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.equal(mounts.includes(stateDir), false);
  for (const cg of crashed.cgroups) assert.equal(existsSync(cg), false, `${cg} gone`);
  assert.equal(existsSync(paths.stateFile), false);

  // Crash again, then `up` directly: it removes the leftovers itself and builds a working lab.
  const topology = parseLabConfig(CONFIG, 'lab.yml');
  const child2 = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `import('./src/lab/lab.ts').then((m) => m.labUp({ stateDir: ${JSON.stringify(stateDir)}, configFile: ${JSON.stringify(configFile)}, progress: 'silent' }))`],
    { stdio: 'ignore' },
  );
  const exited2 = new Promise<void>((r) => child2.on('exit', () => r()));
  const deadline2 = Date.now() + 120_000;
  while (Date.now() < deadline2 && !readStateFile()?.netns.includes('hlabc-a')) await new Promise((r) => setTimeout(r, 10));
  child2.kill('SIGKILL');
  await exited2;
  const r = await labUp({ stateDir, topology, progress: 'silent' });
  assert.equal(r.alreadyUp, false);
  assert.equal(labStatus({ stateDir }).up, true);
  await labDown({ stateDir, progress: 'silent' });
  assert.equal(existsSync('/run/netns/hlabc-br'), false);
});

test('two concurrent ups of one lab: one builds it, the other waits and finds it up', async () => {
  const topology = parseLabConfig(CONFIG, 'lab.yml');
  const [a, b] = await Promise.all([
    labUp({ stateDir, topology, progress: 'silent' }),
    labUp({ stateDir, topology, progress: 'silent' }),
  ]);
  assert.deepEqual([a.alreadyUp, b.alreadyUp].sort(), [false, true]);
  const s = labStatus({ stateDir });
  assert.equal(s.up, true);
  assert.equal(s.hosts.length, 2);
  const [da, db] = await Promise.all([labDown({ stateDir, progress: 'silent' }), labDown({ stateDir, progress: 'silent' })]);
  assert.deepEqual([da.removed, db.removed].sort(), [false, true]);
  assert.equal(existsSync('/run/netns/hlabc-br'), false);
});
