#!/usr/bin/env node
// `npm run build`: the haup CLI as an esbuild bundle in dist/cli/ (gitignored), so bin/haup starts
// without compiling TypeScript through tsx on every run. bin/haup uses it only while it is up to
// date with src/ and templates/ (scripts/cli-bundle.mjs); otherwise it runs the sources.
//   node scripts/build-cli.mjs [--outdir DIR]     (DIR must be inside the repository: the bundle
//                                                  resolves node_modules from where it lies)
// - Code splitting keeps lazy imports lazy: `haup --version` loads neither the engine nor ssh.
// - Every `import.meta.url` in src/ becomes the source file's own URL, so what a module finds
//   relative to itself (templates/, package.json, the haupd sources the artifact is built from)
//   is found from the bundle exactly as from the sources.
// - node-ssh/ssh2 (optional native crypto), the raw-socket addon and esbuild stay external.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BUILD_FORMAT, bundleDir, sourceStamps } from './cli-bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string' }, quiet: { type: 'boolean' } } });
const outdir = resolve(values.outdir ?? bundleDir(root));
const esbuild = createRequire(join(root, 'package.json'))('esbuild');

export const EXTERNAL = ['node-ssh', 'ssh2', 'cpu-features', '@neuralegion/raw-socket', 'raw-socket', 'esbuild', 'tsx'];

// Stamps first: a file edited while the build runs makes the bundle stale, never wrongly fresh.
const sources = sourceStamps(root);
const tmp = `${outdir}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
const srcDir = join(root, 'src') + '/';
const t0 = performance.now();
await esbuild.build({
  entryPoints: { main: join(root, 'src/cli/main.ts') },
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: `node${process.versions.node.split('.')[0]}`,
  external: EXTERNAL,
  // CommonJS dependencies bundled into ESM chunks call require(): give them one.
  banner: { js: "import { createRequire as __haupRequire } from 'node:module'; const require = __haupRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'source-import-meta-url',
      setup(build) {
        build.onLoad({ filter: /\.ts$/ }, (args) => {
          if (!args.path.startsWith(srcDir)) return undefined;
          const text = readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
          return { contents: text, loader: 'ts' };
        });
      },
    },
  ],
});
writeFileSync(join(tmp, 'build.json'), JSON.stringify({ format: BUILD_FORMAT, root, node: process.versions.node.split('.')[0], builtAt: new Date().toISOString(), sources }, null, 1) + '\n');
// Swap in whole: bin/haup never sees half a bundle.
mkdirSync(dirname(outdir), { recursive: true });
const old = `${outdir}.old-${process.pid}`;
try {
  renameSync(outdir, old);
} catch {
  /* no previous bundle */
}
renameSync(tmp, outdir);
rmSync(old, { recursive: true, force: true });
if (!values.quiet) process.stdout.write(`haup CLI bundle: ${outdir} (${Object.keys(sources).length} sources, ${Math.round(performance.now() - t0)} ms)\n`);
