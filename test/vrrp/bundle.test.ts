// The /opt/haup artifact: one JS file + the raw-socket addon for Node 18 (abi108) and 20 (abi115),
// runnable with the system's /usr/bin/node and no node_modules anywhere near it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleHaupd } from '../../src/vrrp/bundle.ts';

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd, timeout: 30_000, env: { PATH: '/usr/bin:/bin' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

test('bundle: one JS file + abi108/abi115 addons + manifest; runs --check-config with /usr/bin/node from a bare directory', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'haupd-bundle-'));
  try {
    const built = path.join(work, 'build');
    const manifest = await bundleHaupd(built);
    assert.deepEqual(Object.keys(manifest.files).sort(), ['bin/haupd', 'lib/haupd-cli.cjs', 'lib/haupd.cjs', 'lib/native/raw-socket.abi108.node', 'lib/native/raw-socket.abi115.node']);
    // The long-running daemon's file carries neither the validator nor the CLI parser.
    const daemonJs = await readFile(path.join(built, 'lib', 'haupd.cjs'), 'utf8');
    assert.ok(!/node_modules\/(zod|yaml|commander)\//.test(daemonJs));
    assert.ok(manifest.files['lib/haupd.cjs']!.bytes < 300_000, `daemon bundle ${manifest.files['lib/haupd.cjs']!.bytes} bytes`);
    for (const [rel, f] of Object.entries(manifest.files)) {
      const data = await readFile(path.join(built, rel));
      assert.equal(createHash('sha256').update(data).digest('hex'), f.sha256, rel);
      assert.equal(data.length, f.bytes);
    }
    assert.deepEqual(JSON.parse(await readFile(path.join(built, 'manifest.json'), 'utf8')), manifest);

    // Installed copy: as on the LB, nothing but the artifact (no node_modules up the tree).
    const opt = path.join(work, 'opt', 'haup');
    await cp(built, opt, { recursive: true });
    assert.deepEqual((await readdir(opt)).sort(), ['bin', 'lib', 'manifest.json']);
    assert.equal((await stat(path.join(opt, 'bin', 'haupd'))).mode & 0o111, 0o111);

    const good = path.join(work, 'haupd.yml');
    await writeFile(good, 'instances:\n  - { name: VI_1, interface: eth0, vrid: 50, priority: 150, vips: [198.18.62.3/24] }\n');
    const ok = await run('/usr/bin/node', [path.join(opt, 'lib', 'haupd.cjs'), '--check-config', good], work);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `${good}: OK, 1 instance: VI_1 (eth0 vrid 50 v3)`);

    const bad = path.join(work, 'bad.yml');
    await writeFile(bad, 'instances:\n  - { name: VI_1, interface: eth0, vrid: 0, priority: 150, vips: [198.18.62.3/24] }\n');
    const no = await run(path.join(opt, 'bin', 'haupd'), ['--check-config', bad], work);
    assert.equal(no.code, 2);
    assert.match(no.stderr, new RegExp(`^${bad.replace(/[/.]/g, '\\$&')}:2:42: instances\\[0\\]\\.vrid: must be at least 1, got the number 0$`, 'm'));

    // The daemon's config child: resolved config as JSON, exit 0 (2 with diagnostics).
    const resolved = await run('/usr/bin/node', [path.join(opt, 'lib', 'haupd.cjs'), '--resolve-config', good], work);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal((JSON.parse(resolved.stdout) as { config: { instances: { vrid: number }[] } }).config.instances[0]!.vrid, 50);
    const unresolved = await run('/usr/bin/node', [path.join(opt, 'lib', 'haupd.cjs'), '--resolve-config', bad], work);
    assert.equal(unresolved.code, 2);
    assert.equal((JSON.parse(unresolved.stdout) as { diagnostics: { line: number; col: number }[] }).diagnostics[0]!.col, 42);

    const version = await run(path.join(opt, 'bin', 'haupd'), ['--version'], work);
    assert.equal(version.stdout.trim(), manifest.version);
    // The addon for this node's ABI loads from lib/native (the daemon's socket module needs it).
    const load = await run('/usr/bin/node', ['-e', `const abi=process.versions.modules; require('${opt}/lib/native/raw-socket.abi'+abi+'.node'); console.log('ok', abi)`], work);
    assert.match(load.stdout, /^ok (108|115)$/m, load.stderr);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('launcher: node gets --no-opt by default; HAUPD_NODE_FLAGS replaces it (empty: no flags)', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'haupd-launcher-'));
  try {
    const built = path.join(work, 'build');
    await bundleHaupd(built);
    // A stand-in node that prints the command line it was given.
    const fakeNode = path.join(work, 'node');
    await writeFile(fakeNode, '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
    const launch = (extra: Record<string, string>): Promise<string> =>
      new Promise((resolve, reject) =>
        execFile(path.join(built, 'bin', 'haupd'), ['--config', '/etc/haup/haupd.yml'], { env: { PATH: '/usr/bin:/bin', HAUPD_NODE: fakeNode, ...extra }, timeout: 10_000 }, (err, stdout) =>
          err ? reject(err) : resolve(stdout.trim()),
        ),
      );
    const entry = `${path.join(built, 'bin')}/../lib/haupd.cjs`;
    assert.equal(await launch({}), `--no-opt ${entry} --config /etc/haup/haupd.yml`);
    assert.equal(await launch({ HAUPD_NODE_FLAGS: '' }), `${entry} --config /etc/haup/haupd.yml`);
    assert.equal(await launch({ HAUPD_NODE_FLAGS: '--max-semi-space-size=1 --no-opt' }), `--max-semi-space-size=1 --no-opt ${entry} --config /etc/haup/haupd.yml`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
