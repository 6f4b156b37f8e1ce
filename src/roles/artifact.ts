// The haupd artifact, built ONCE per deploy on the control machine (src/vrrp/bundle.ts) and held
// in memory: every LB gets the same bytes, compared by sha256 with what /opt/haup holds.
// The build is cached by a hash of its inputs (every source file, package-lock.json): a no-op
// deploy then skips esbuild (~250 ms on the lab machine) and reads ~1.3 MB from the cache.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleManifest } from '../vrrp/bundle.ts';
import { HaupError, InputError } from '../util/errors.ts';

export interface ArtifactFile {
  /** Relative to the install root (/opt/haup): bin/haupd, lib/haupd.cjs, ... */
  path: string;
  content: Buffer;
  mode: number;
}

export interface HaupdArtifact {
  version: string;
  files: ArtifactFile[];
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function defaultArtifactCache(env = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'haup', 'haupd-artifact');
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await tsFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Hash of everything the bundle can depend on (over-inclusive on purpose: src/ as a whole). */
export async function artifactInputsHash(repo = REPO): Promise<string> {
  const h = createHash('sha256');
  const files = [...(await tsFiles(join(repo, 'src'))), join(repo, 'package.json'), join(repo, 'package-lock.json')].sort();
  for (const f of files) {
    h.update(relative(repo, f)).update('\0');
    h.update(existsSync(f) ? await readFile(f) : Buffer.alloc(0)).update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

async function readArtifact(dir: string): Promise<HaupdArtifact> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  const rels = [...Object.keys(manifest.files), 'manifest.json'];
  const files = await Promise.all(
    rels.map(async (rel) => ({ path: rel, content: await readFile(join(dir, rel)), mode: rel.startsWith('bin/') ? 0o755 : 0o644 })),
  );
  for (const f of files) {
    const want = manifest.files[f.path]?.sha256;
    if (want && createHash('sha256').update(f.content).digest('hex') !== want) throw new Error(`${f.path}: sha256 differs from the manifest`);
  }
  // The facts script reads /opt/haup/VERSION (facts.haupdVersion).
  files.push({ path: 'VERSION', content: Buffer.from(`${manifest.version}\n`), mode: 0o644 });
  return { version: manifest.version, files };
}

/** A build made elsewhere (`node --import tsx src/vrrp/bundle.ts DIR`): checked against its manifest. */
export async function readHaupdArtifact(dir: string): Promise<HaupdArtifact> {
  try {
    return await readArtifact(dir);
  } catch (e) {
    throw new InputError(`--haupd-artifact ${dir}: not a haupd build (${(e as Error).message})`, [], 'make one with: node --import tsx src/vrrp/bundle.ts DIR');
  }
}

export async function buildHaupdArtifact(cacheDir = defaultArtifactCache()): Promise<HaupdArtifact> {
  const key = await artifactInputsHash();
  const dir = join(cacheDir, key);
  if (existsSync(join(dir, 'manifest.json'))) {
    try {
      return await readArtifact(dir);
    } catch {
      await rm(dir, { recursive: true, force: true }); // damaged: build again
    }
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  try {
    const { bundleHaupd } = await import('../vrrp/bundle.ts'); // esbuild only when building
    await bundleHaupd(tmp);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new HaupError(`cannot build the haupd artifact: ${(e as Error).message}`);
  }
  // Older builds are of no use any more.
  for (const e of await readdir(cacheDir)) if (e !== key && !e.includes('.tmp-')) await rm(join(cacheDir, e), { recursive: true, force: true });
  return readArtifact(dir);
}
