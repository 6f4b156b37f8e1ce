// The prebuilt CLI bundle (scripts/build-cli.mjs, scripts/cli-bundle.mjs): bin/haup may run it only
// while it matches the sources, never under the test runner; and what the bundle runs finds the
// repository's templates and package.json as the sources do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error plain JavaScript module (bin/haup loads it before any TypeScript loader)
import { BUILD_FORMAT, sourceStamps, staleReason, useBundle } from '../../scripts/cli-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function fakeRepo(): { dir: string; bundle: string; writeBuild: (extra?: object) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'haup-bundle-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  mkdirSync(join(dir, 'templates/web'), { recursive: true });
  writeFileSync(join(dir, 'src/cli/main.ts'), 'export const x = 1;\n');
  writeFileSync(join(dir, 'templates/web/index.html.hbs'), '<h1>{{title}}</h1>\n');
  writeFileSync(join(dir, 'package.json'), '{}\n');
  const bundle = join(dir, 'dist/cli');
  mkdirSync(bundle, { recursive: true });
  const writeBuild = (extra: object = {}) =>
    writeFileSync(join(bundle, 'build.json'), JSON.stringify({ format: BUILD_FORMAT, root: dir, node: process.versions.node.split('.')[0], sources: sourceStamps(dir), ...extra }));
  return { dir, bundle, writeBuild };
}

test('staleReason: fresh right after the build; any source changed, added or removed makes it stale', () => {
  const { dir, bundle, writeBuild } = fakeRepo();
  assert.equal(staleReason(dir, bundle), 'no bundle (npm run build)');
  writeBuild();
  assert.equal(staleReason(dir, bundle), null);

  // same size, new mtime (an edit that keeps the length, or a checkout)
  const main = join(dir, 'src/cli/main.ts');
  writeFileSync(main, 'export const x = 2;\n');
  utimesSync(main, new Date(), new Date(Date.now() + 5000));
  assert.equal(staleReason(dir, bundle), 'src/cli/main.ts changed since the build');
  writeBuild();
  writeFileSync(join(dir, 'templates/web/new.hbs'), 'x');
  assert.equal(staleReason(dir, bundle), 'templates/web/new.hbs added since the build');
  writeBuild();
  rmSync(join(dir, 'templates/web/index.html.hbs'));
  assert.equal(staleReason(dir, bundle), 'templates/web/index.html.hbs removed since the build');
  writeBuild();
  writeFileSync(join(dir, 'package.json'), '{ "version": "2" }\n');
  assert.equal(staleReason(dir, bundle), 'package.json changed since the build');

  writeBuild({ root: '/elsewhere' });
  assert.equal(staleReason(dir, bundle), 'bundle built for /elsewhere');
  writeBuild({ node: '1' });
  assert.equal(staleReason(dir, bundle), 'bundle built for node 1');
});

test('useBundle: never under the test runner or with HAUP_FROM_SOURCE=1; otherwise only when fresh', () => {
  const { dir, writeBuild } = fakeRepo();
  writeBuild();
  assert.equal(useBundle(dir, {}), true);
  assert.equal(useBundle(dir, { HAUP_FROM_SOURCE: '1' }), false);
  assert.equal(useBundle(dir, { NODE_TEST_CONTEXT: 'child-v8' }), false);
  assert.ok(process.env.NODE_TEST_CONTEXT, 'this suite runs under node --test, so bin/haup runs the sources here');
  writeFileSync(join(dir, 'src/cli/other.ts'), '');
  assert.equal(useBundle(dir, {}), false);
});

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('the bundle runs: --version from package.json; deploy renders the roles\' templates from the repository', async () => {
  // Inside the repository: the bundle resolves its external packages from node_modules.
  const out = join(root, 'dist', `.test-${process.pid}`, 'cli');
  process.on('exit', () => rmSync(dirname(out), { recursive: true, force: true }));
  const build = await run(join(root, 'scripts/build-cli.mjs'), ['--outdir', out, '--quiet']);
  assert.equal(build.code, 0, build.stderr);
  const built = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { root: string; sources: Record<string, string> };
  assert.equal(built.root, root);
  assert.ok('src/cli/main.ts' in built.sources && 'templates/web/index.html.hbs' in built.sources);

  const runner = join(dirname(out), 'run.mjs');
  writeFileSync(runner, `const { main } = await import(${JSON.stringify(pathToFileURL(join(out, 'main.js')).href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const version = await run(runner, ['--version']);
  assert.deepEqual([version.code, version.stdout], [0, `${pkg.version}\n`]);

  // The hosts are never reached: the private key does not exist, so each fails before any socket
  // opens; but every role (web, lb, vrrp) has rendered its templates by then.
  const work = mkdtempSync(join(tmpdir(), 'haup-bundle-deploy-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'pass'), 'secret12\n', { mode: 0o600 });
  const inv = readFileSync(join(root, 'inventories/lab.yml'), 'utf8')
    .replace('/var/lib/haup/lab/ssh/id_ed25519', join(work, 'missing-key'))
    .replace('/var/lib/haup/lab/ssh/known_hosts', join(work, 'known_hosts'))
    .replace('/var/lib/haup/lab/vrrp-pass', join(work, 'pass'));
  writeFileSync(join(work, 'inv.yml'), inv);
  const deploy = await run(runner, ['deploy', join(work, 'inv.yml'), '--check', '--limit', 'web7', '--journal-dir', join(work, 'j')], { CI: 'true' });
  assert.equal(deploy.code, 1, deploy.stderr);
  assert.match(deploy.stdout, /web7 +: ok=0 changed=0 failed=0 skipped=0 unreachable=1/);
  assert.match(deploy.stdout, /cannot read private key .*missing-key: ENOENT/);
  assert.doesNotMatch(deploy.stdout + deploy.stderr, /template .*cannot read/);
});
