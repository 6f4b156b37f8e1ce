// The namespace harness itself: topology, validation, and cleanup that also happens when a test
// throws, when its process dies on an uncaught error, or is killed with SIGTERM.
// Lab names: prefix "nst*", 198.18.48.0/24 and 198.18.49.0/24.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNetnsLab, withNetnsLab } from './netns.ts';

const HARNESS = fileURLToPath(new URL('./netns.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** Running (a killed process whose parent has not reaped it yet is a zombie: not running). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('hosts on one bridge reach each other; processes inside, tracked or not, die with the lab', async () => {
  const lab = await createNetnsLab({ prefix: 'nst', subnet: 48, hosts: ['x', 'y'] });
  let stray = 0;
  try {
    assert.deepEqual(
      lab.hosts.map((h) => [h.name, h.ns, h.ip, h.mac]),
      [
        ['x', 'haup-nst-x', '198.18.48.1', '02:48:30:00:00:01'],
        ['y', 'haup-nst-y', '198.18.48.2', '02:48:30:00:00:02'],
      ],
    );
    assert.deepEqual(namespaces().filter((n) => n.startsWith('haup-nst-')).sort(), ['haup-nst-br', 'haup-nst-x', 'haup-nst-y']);
    const arp = await lab.run('x', 'arping', ['-c', '1', '-w', '2', '-I', 'eth0', '198.18.48.2']);
    assert.match(arp, /reply from 198\.18\.48\.2 \[02:48:30:00:00:02\]/i);
    // A process started in the background (not tracked by spawn) must still be killed.
    const out = await lab.run('y', 'sh', ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!']);
    stray = Number(out.trim());
    const tracked = lab.spawn('x', 'sleep', ['300']);
    assert.ok(alive(stray) && tracked.pid !== undefined);
    await lab.setLink('y', false);
    assert.equal((await lab.run('y', 'cat', ['/sys/class/net/eth0/carrier'])).trim(), '0');
    const failed = await lab.exec('y', 'false');
    assert.equal(failed.code, 1);
    await assert.rejects(lab.run('y', 'false'), { message: "[y] false -> exit 1\n" });
  } finally {
    await lab.cleanup();
  }
  assert.equal(alive(stray), false);
  assert.deepEqual(namespaces().filter((n) => n.startsWith('haup-nst-')), []);
  await lab.cleanup(); // idempotent
});

test('withNetnsLab cleans up when the test body throws, and rethrows', async () => {
  await assert.rejects(
    withNetnsLab({ prefix: 'nstw', subnet: 49, hosts: ['x'] }, async () => {
      assert.ok(namespaces().includes('haup-nstw-x'));
      throw new Error('test body failed');
    }),
    /test body failed/,
  );
  assert.deepEqual(namespaces().filter((n) => n.startsWith('haup-nstw-')), []);
});

test('bad options are refused before anything is created', async () => {
  await assert.rejects(createNetnsLab({ prefix: 'nstv', subnet: 5, hosts: ['x'] }), /subnet must be 10\.\.255/);
  await assert.rejects(createNetnsLab({ prefix: 'NST', subnet: 49, hosts: ['x'] }), /prefix must match/);
  await assert.rejects(createNetnsLab({ prefix: 'nstv', subnet: 49, hosts: ['x', 'x'] }), /unique/);
  assert.deepEqual(namespaces().filter((n) => n.startsWith('haup-nstv-')), []);
});

for (const how of ['uncaught', 'SIGTERM'] as const) {
  test(`a test process that dies (${how}) leaves no namespace or process behind`, async () => {
    const script = `
      import { createNetnsLab } from ${JSON.stringify(HARNESS)};
      const lab = await createNetnsLab({ prefix: 'nstd', subnet: 49, hosts: ['x'] });
      const p = lab.spawn('x', 'sleep', ['300']);
      await new Promise((r) => setTimeout(r, 200));
      console.log(p.pid);
      ${how === 'uncaught' ? "setTimeout(() => { throw new Error('boom'); }, 10);" : 'setTimeout(() => {}, 60000);'}
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    assert.ok(namespaces().includes('haup-nstd-x'));
    if (how === 'SIGTERM') child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    assert.notEqual(code, 0);
    assert.deepEqual(namespaces().filter((n) => n.startsWith('haup-nstd-')), []);
    assert.equal(alive(pid), false);
  });
}
