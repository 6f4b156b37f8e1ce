// The prebuilt CLI bundle (dist/cli/, gitignored): where it is, what it was built from, and
// whether it may run. Plain JavaScript: bin/haup imports it before any TypeScript loader exists.
//
// The bundle may run only when every file it was built from is unchanged. build.json records,
// taken BEFORE the build, the size and mtime of every file under src/ and templates/ plus
// package.json and package-lock.json; a file added, removed, touched or resized since means
// "stale" and bin/haup runs the sources through tsx instead. The check is a walk with statSync
// (~125 files: a millisecond or two), far cheaper than the ~0.5 s tsx costs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const BUILD_FORMAT = 'haup-cli-bundle/1';
/** Trees and files the bundle is built from (relative to the repository root). */
export const SOURCE_TREES = ['src', 'templates'];
export const SOURCE_FILES = ['package.json', 'package-lock.json'];

export function bundleDir(root) {
  return join(root, 'dist', 'cli');
}

/** relative path -> "size:mtimeMs" of every source the bundle depends on. */
export function sourceStamps(root) {
  const out = {};
  const add = (abs) => {
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st && st.isFile()) out[relative(root, abs).split(sep).join('/')] = `${st.size}:${st.mtimeMs}`;
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else add(abs);
    }
  };
  for (const t of SOURCE_TREES) walk(join(root, t));
  for (const f of SOURCE_FILES) add(join(root, f));
  return out;
}

/**
 * Why the bundle in `dir` must not run for the sources under `root`, or null when it may.
 * `stamps` defaults to a fresh walk of the sources.
 */
export function staleReason(root, dir = bundleDir(root), stamps = undefined) {
  let build;
  try {
    build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8'));
  } catch {
    return 'no bundle (npm run build)';
  }
  if (build.format !== BUILD_FORMAT) return `bundle format ${build.format}, expected ${BUILD_FORMAT}`;
  if (build.root !== root) return `bundle built for ${build.root}`;
  if (build.node !== process.versions.node.split('.')[0]) return `bundle built for node ${build.node}`;
  const now = stamps ?? sourceStamps(root);
  const was = build.sources ?? {};
  for (const [f, s] of Object.entries(now)) if (was[f] !== s) return `${f} ${f in was ? 'changed' : 'added'} since the build`;
  for (const f of Object.keys(was)) if (!(f in now)) return `${f} removed since the build`;
  return null;
}

/**
 * Whether bin/haup runs the bundle: never under node's test runner (the suite exercises the
 * sources) or with HAUP_FROM_SOURCE=1, and only when it is up to date.
 */
export function useBundle(root, env = process.env) {
  if (env.HAUP_FROM_SOURCE === '1' || env.NODE_TEST_CONTEXT) return false;
  return staleReason(root) === null;
}
