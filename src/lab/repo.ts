// The lab's local apt repository: the packages deploy and the tests install, plus exactly the
// dependencies the base image lacks, downloaded from Debian's own suites and indexed with
// dpkg-scanpackages. Hosts see it read-only at /srv/repo (`deb [trusted=yes] file:/srv/repo ./`).
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CACHE_DIR } from './state.ts';
import { run } from './run.ts';
import { withCacheLock } from './lock.ts';
import { baseDir, MIRROR } from './image.ts';

/** What hosts can install (deploy: nginx, haupd on Debian's nodejs; tests: the rest). */
export const REPO_PACKAGES = [
  'nginx',
  'keepalived',
  'iputils-arping',
  'curl',
  'tcpdump',
  'nodejs',
  'python3',
  'sudo',
];
const REPO_VERSION = 2;
const MARKER = '.haup-lab-repo';

export const repoDir = (cacheDir = CACHE_DIR) => join(cacheDir, 'repo');

function expectedMarker(cacheDir: string): string {
  // Tied to the image it was computed against: a rebuilt image means a new dependency set.
  let image = '';
  try {
    image = readFileSync(join(baseDir(cacheDir), '.haup-lab-image'), 'utf8');
  } catch {
    /* no image yet */
  }
  return JSON.stringify({ version: REPO_VERSION, packages: REPO_PACKAGES, image });
}

export function repoIsCached(cacheDir = CACHE_DIR): boolean {
  try {
    return readFileSync(join(repoDir(cacheDir), MARKER), 'utf8') === expectedMarker(cacheDir);
  } catch {
    return false;
  }
}

/**
 * A private apt configuration: Debian's bookworm, bookworm-updates and bookworm-security only
 * (this machine also lists nodesource, whose nodejs must not reach the lab), the base image's
 * dpkg status as "installed", Recommends off. APT_CONFIG is read before apt.conf.d, so the
 * machine's own apt settings do not leak in.
 */
function writeAptConfig(cacheDir: string): string {
  const dir = join(cacheDir, 'apt');
  for (const d of ['empty', 'state/lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  writeFileSync(
    join(dir, 'sources.list'),
    [
      `deb [signed-by=${keyring}] ${MIRROR} bookworm main`,
      `deb [signed-by=${keyring}] ${MIRROR} bookworm-updates main`,
      `deb [signed-by=${keyring}] http://deb.debian.org/debian-security bookworm-security main`,
      '',
    ].join('\n'),
  );
  const conf = join(dir, 'apt.conf');
  writeFileSync(
    conf,
    [
      `Dir::Etc::main "/dev/null";`,
      `Dir::Etc::Parts "${dir}/empty";`,
      `Dir::Etc::SourceList "${dir}/sources.list";`,
      `Dir::Etc::SourceParts "${dir}/empty";`,
      `Dir::Etc::Preferences "/dev/null";`,
      `Dir::Etc::PreferencesParts "${dir}/empty";`,
      `Dir::State "${dir}/state";`,
      `Dir::State::status "${join(baseDir(cacheDir), 'var/lib/dpkg/status')}";`,
      `Dir::Cache "${dir}/cache";`,
      `APT::Architecture "amd64";`,
      `APT::Install-Recommends "false";`,
      `APT::Install-Suggests "false";`,
      `Acquire::Languages "none";`,
      `Debug::NoLocking "true";`,
      '',
    ].join('\n'),
  );
  return conf;
}

/** `Inst name [old] (version suite [arch])` lines of an apt simulation -> name=version. */
export function parseSimulation(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) /.exec(line);
    if (m) out.push(`${m[1]}=${m[2]}`);
  }
  return out;
}

/**
 * Packages, Packages.gz and a Release that lists them: with a Release, apt fetches exactly the
 * index that exists instead of probing every compression (noisy "blank filename" errors).
 */
export function releaseText(files: { name: string; data: Buffer }[], date: Date): string {
  const sums = (algo: string) => files.map((f) => ` ${createHash(algo).update(f.data).digest('hex')} ${f.data.length} ${f.name}`);
  return [
    'Origin: haup-lab',
    'Label: haup-lab',
    'Suite: lab',
    'Codename: lab',
    `Date: ${date.toUTCString()}`,
    'Architectures: amd64 all',
    'Description: haup lab local repository',
    'MD5Sum:',
    ...sums('md5'),
    'SHA256:',
    ...sums('sha256'),
    '',
  ].join('\n');
}

function writeIndex(dir: string, packages: string): void {
  const files = [
    { name: 'Packages', data: Buffer.from(packages) },
    { name: 'Packages.gz', data: gzipSync(Buffer.from(packages), { level: 9 }) },
  ];
  for (const f of files) writeFileSync(join(dir, f.name), f.data);
  writeFileSync(join(dir, 'Release'), releaseText(files, new Date()));
}

export async function ensureRepo(progress: (line: string) => void, cacheDir = CACHE_DIR): Promise<boolean> {
  if (repoIsCached(cacheDir)) return false;
  return withCacheLock(cacheDir, async () => {
    if (repoIsCached(cacheDir)) return false;
    const conf = writeAptConfig(cacheDir);
    const env = { ...process.env, APT_CONFIG: conf, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
    progress('apt-get update (Debian bookworm, -updates, -security only)');
    await run('apt-get', ['-q', 'update'], { env, timeoutMs: 5 * 60_000, onLine: (l) => progress(`apt: ${l.trim()}`) });
    progress(`resolving ${REPO_PACKAGES.join(' ')} against the base image`);
    const sim = await run('apt-get', ['-s', '-q', 'install', ...REPO_PACKAGES], { env, timeoutMs: 120_000 });
    const wanted = parseSimulation(sim.stdout);
    if (wanted.length === 0) throw new Error(`apt simulation selected no package:\n${sim.stdout.slice(-2000)}`);
    const final = repoDir(cacheDir);
    const tmp = `${final}.building`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    // .debs of an older repo build are reused (the set rarely changes much).
    const have = new Set(existsSync(final) ? readdirSync(final) : []);
    const missing = wanted.filter((nv) => {
      const [name, version] = nv.split('=') as [string, string];
      const prefix = `${name}_${version.replace(/:/g, '%3a')}_`;
      return ![...have].some((f) => f.startsWith(prefix));
    });
    let done = 0;
    progress(`downloading ${missing.length} of ${wanted.length} packages`);
    if (missing.length > 0) {
      await run('apt-get', ['-q', 'download', ...missing], {
        env,
        cwd: tmp,
        timeoutMs: 10 * 60_000,
        onLine: (l) => {
          if (/^Get:/.test(l)) progress(`download ${++done}/${missing.length}: ${l.replace(/^Get:\d+ \S+ \S+ /, '')}`);
        },
      });
    }
    // The index covers exactly this set: reused .debs are hard-linked in, stale ones left out.
    for (const nv of wanted) {
      const [name, version] = nv.split('=') as [string, string];
      const prefix = `${name}_${version.replace(/:/g, '%3a')}_`;
      const old = [...have].find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
      if (old && !existsSync(join(tmp, old))) linkSync(join(final, old), join(tmp, old));
    }
    progress('indexing (dpkg-scanpackages)');
    const scan = await run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: tmp, timeoutMs: 120_000 });
    writeIndex(tmp, scan.stdout);
    // Move the files into place, keeping the directory itself: running hosts have it
    // bind-mounted, and a replaced directory would vanish from under them.
    mkdirSync(final, { recursive: true });
    const fresh = new Set(readdirSync(tmp));
    for (const f of readdirSync(final)) if (!fresh.has(f)) rmSync(join(final, f), { recursive: true, force: true });
    for (const f of [...fresh].filter((f) => f.endsWith('.deb'))) renameSync(join(tmp, f), join(final, f));
    for (const f of ['Packages', 'Packages.gz', 'Release']) renameSync(join(tmp, f), join(final, f));
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(join(final, MARKER), expectedMarker(cacheDir));
    progress(`repository ready: ${wanted.length} packages`);
    return true;
  });
}
