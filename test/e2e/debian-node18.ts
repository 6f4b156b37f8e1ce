/**
 * Debian bookworm's own Node 18 (what an LB runs: `apt-get install nodejs`, ABI 108), unpacked
 * into a cache directory without installing it, so the e2e tests can run the haupd bundle on it
 * next to this machine's Node 20. The packages come from Debian's mirror through apt-get download.
 *
 *   const node18 = await debianNode18();       // { launcher, version } or { skip: reason }
 *   spawn('unshare', ['-m', '--propagation', 'private', node18.launcher, 'bundle/lib/haupd.cjs', ...])
 *
 * Debian's node loads some of its builtins from /usr/share/nodejs (node-acorn, cjs-module-lexer,
 * undici); the launcher overlays the unpacked /usr/share on the real one inside a private mount
 * namespace, so nothing on the machine changes.
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const CACHE = '/var/cache/haup/node18';
const PACKAGES = ['nodejs', 'libnode108', 'libc-ares2', 'node-acorn', 'node-cjs-module-lexer', 'node-undici', 'node-xtend'];

function run(cmd: string, args: string[], cwd?: string, timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

/** Highest candidate version of `pkg` whose version starts with `prefix` (Debian's, not nodesource's). */
async function debianVersion(pkg: string, prefix: string): Promise<string | undefined> {
  const r = await run('apt-cache', ['madison', pkg]);
  const versions = r.stdout
    .split('\n')
    .map((l) => l.split('|').map((s) => s.trim()))
    .filter((f) => f[1]?.startsWith(prefix) && /debian/.test(f[2] ?? ''))
    .map((f) => f[1] as string);
  return versions[0];
}

export type Node18 = { launcher: string; root: string } | { skip: string };

export async function debianNode18(): Promise<Node18> {
  const root = path.join(CACHE, 'root');
  const launcher = path.join(CACHE, 'node18.sh');
  const ready = await access(path.join(root, 'usr/bin/node')).then(() => access(launcher)).then(() => true, () => false);
  if (!ready) {
    await rm(CACHE, { recursive: true, force: true });
    await mkdir(path.join(CACHE, 'debs'), { recursive: true });
    let nodeVersion = await debianVersion('nodejs', '18.');
    if (!nodeVersion) {
      await run('apt-get', ['update', '-qq'], undefined, 300_000);
      nodeVersion = await debianVersion('nodejs', '18.');
    }
    if (!nodeVersion) return { skip: "Debian's nodejs 18 is not known to apt here" };
    const specs = PACKAGES.map((p) => (p === 'nodejs' || p === 'libnode108' ? `${p}=${nodeVersion}` : p));
    const dl = await run('apt-get', ['download', '-q', ...specs], path.join(CACHE, 'debs'), 300_000);
    if (dl.code !== 0) return { skip: `apt-get download failed: ${dl.stderr.trim().split('\n').pop()}` };
    for (const deb of await readdir(path.join(CACHE, 'debs'))) {
      const x = await run('dpkg-deb', ['-x', path.join(CACHE, 'debs', deb), root]);
      if (x.code !== 0) throw new Error(`dpkg-deb -x ${deb}: ${x.stderr}`);
    }
    await writeFile(
      launcher,
      [
        '#!/bin/sh',
        '# Run Debian bookworm node 18 unpacked here; call inside `unshare -m --propagation private`.',
        `mount -t overlay haup-node18 -o lowerdir=${root}/usr/share:/usr/share /usr/share || exit 97`,
        `LD_LIBRARY_PATH=${root}/usr/lib/x86_64-linux-gnu exec ${root}/usr/bin/node "$@"`,
        '',
      ].join('\n'),
    );
    await chmod(launcher, 0o755);
  }
  const check = await run('unshare', ['-m', '--propagation', 'private', launcher, '-p', 'process.versions.modules']);
  if (check.stdout.trim() !== '108') return { skip: `Debian node 18 does not run here: ${check.stdout}${check.stderr}`.trim() };
  return { launcher, root };
}
