// Build the haupd artifact for /opt/haup on an LB: ONE bundled JS file (no node_modules tree, no
// compiler, no internet needed there) plus the raw-socket addon prebuilt for the two Node ABIs an
// LB may run: abi108 (Node 18, Debian bookworm's nodejs) and abi115 (Node 20).
//
//   node --import tsx src/vrrp/bundle.ts OUTDIR        (npm-free; prints the manifest)
//
// Layout of OUTDIR (copy it to /opt/haup as is):
//   bin/haupd                     #!/bin/sh wrapper: exec node --no-opt lib/haupd.cjs "$@"
//   lib/haupd.cjs                 the daemon, every dependency it needs inlined
//   lib/haupd-cli.cjs             the rest of the command line and the config validator (commander,
//                                 zod, yaml), loaded only by --check-config, --release, status and
//                                 the daemon's short-lived config child: merely parsing them costs
//                                 ~11 MB of RSS, which the long-running daemon does not pay
//   lib/native/raw-socket.abiNNN.node
//   manifest.json                 version, sha256 of every file (deploy compares these: idempotent)
//
// Format: CommonJS, because the addon is loaded with a runtime `require()` of a path computed from
// `__dirname` and `process.versions.modules`; esbuild keeps such a require as Node's own.
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Node flags the launcher passes by default (see the launcher's comment and docs/benchmarks.md):
 * `--no-opt` turns TurboFan off on Node 18 (V8 10.2) and Node 20 (V8 11.3) alike.
 */
export const DEFAULT_NODE_FLAGS = '--no-opt';

/** Node ABIs shipped: 108 = Node 18 (Debian bookworm), 115 = Node 20. */
export const SHIPPED_ABIS = [108, 115] as const;

/**
 * raw-socket finds its addon through node-gyp-build, which probes build/ and prebuilds/ trees next
 * to the package. In the bundle there is no package directory: load our copy by ABI instead, and
 * say clearly which ABIs exist when the LB's node is another one.
 */
const nativeLoader: Plugin = {
  name: 'haupd-native-loader',
  setup(b) {
    b.onResolve({ filter: /^node-gyp-build$/ }, () => ({ path: 'node-gyp-build', namespace: 'haupd-native' }));
    b.onLoad({ filter: /.*/, namespace: 'haupd-native' }, () => ({
      loader: 'js',
      contents: `
        const path = require('path');
        const fs = require('fs');
        module.exports = function load() {
          const abi = process.versions.modules;
          const file = path.join(__dirname, 'native', 'raw-socket.abi' + abi + '.node');
          if (!fs.existsSync(file)) {
            const have = fs.readdirSync(path.join(__dirname, 'native')).join(', ');
            throw new Error('haupd: no raw-socket addon for this node (ABI ' + abi + ', node ' + process.versions.node + '); shipped: ' + have);
          }
          return require(file);
        };`,
    }));
  },
};

/** In the daemon bundle, main.ts's on-demand imports point at the CLI bundle beside it. */
const cliExternal: Plugin = {
  name: 'haupd-cli-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/(main-cli|config)\.ts$/ }, (args) =>
      args.importer.endsWith(path.join('src', 'vrrp', 'main.ts')) ? { path: './haupd-cli.cjs', external: true } : undefined,
    );
  },
};

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface BundleManifest {
  name: 'haupd';
  version: string;
  node: string;
  files: Record<string, { sha256: string; bytes: number }>;
}

export async function bundleHaupd(outDir: string): Promise<BundleManifest> {
  const out = path.resolve(outDir);
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  await mkdir(path.join(out, 'lib', 'native'), { recursive: true });
  await mkdir(path.join(out, 'bin'), { recursive: true });

  const common = {
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    define: { HAUPD_BUNDLED_VERSION: JSON.stringify(pkg.version) },
    legalComments: 'none',
    logLevel: 'silent',
    banner: { js: '// haupd ' + pkg.version + ' — bundled by src/vrrp/bundle.ts; do not edit.' },
  } as const;
  const daemon = await build({
    ...common,
    stdin: {
      contents: `import { main } from './src/vrrp/main.ts';\nmain(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n`,
      resolveDir: repoRoot,
      sourcefile: 'haupd-entry.ts',
      loader: 'ts',
    },
    outfile: path.join(out, 'lib', 'haupd.cjs'),
    plugins: [nativeLoader, cliExternal],
  });
  const cli = await build({
    ...common,
    stdin: {
      contents: `export { runCli } from './src/vrrp/main-cli.ts';\nexport { loadConfigFile } from './src/vrrp/config.ts';\n`,
      resolveDir: repoRoot,
      sourcefile: 'haupd-cli-entry.ts',
      loader: 'ts',
    },
    outfile: path.join(out, 'lib', 'haupd-cli.cjs'),
    plugins: [nativeLoader],
  });
  const warnings = [...daemon.warnings, ...cli.warnings].filter((w) => !/require.*expression|cannot be bundled/i.test(w.text));
  if (warnings.length > 0) {
    throw new Error('esbuild warnings:\n' + warnings.map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`).join('\n'));
  }
  // The daemon bundle must not carry the validator: that is the point of the split.
  const daemonJs = await readFile(path.join(out, 'lib', 'haupd.cjs'), 'utf8');
  for (const heavy of ['node_modules/zod/', 'node_modules/yaml/', 'node_modules/commander/']) {
    if (daemonJs.includes(heavy)) throw new Error(`lib/haupd.cjs includes ${heavy}: a static import leaks the CLI into the daemon`);
  }

  const rawSocketDir = path.dirname(createRequire(path.join(repoRoot, 'package.json')).resolve('@neuralegion/raw-socket/package.json'));
  const prebuilds = path.join(rawSocketDir, 'prebuilds', 'linux-x64');
  const available = await readdir(prebuilds);
  for (const abi of SHIPPED_ABIS) {
    const name = `@neuralegion+raw-socket.abi${abi}.glibc.node`;
    if (!available.includes(name)) throw new Error(`raw-socket has no prebuilt ${name} in ${prebuilds}`);
    await copyFile(path.join(prebuilds, name), path.join(out, 'lib', 'native', `raw-socket.abi${abi}.node`));
  }

  const wrapper = [
    '#!/bin/sh',
    '# haupd launcher: the bundled daemon on the node found in PATH (Debian: /usr/bin/node).',
    `# ${DEFAULT_NODE_FLAGS}: no optimizing compiler (TurboFan). haupd runs little JavaScript per`,
    '# advert; TurboFan costs the long-running daemon ~5 MB of RSS (its code pages and zones) for',
    '# ~0.3 % of a core at 0.01 s adverts (docs/benchmarks.md). Node 18 and 20 both accept it.',
    '# HAUPD_NODE_FLAGS replaces these flags (empty: none).',
    'here=$(dirname "$(readlink -f "$0")")',
    `exec "\${HAUPD_NODE:-node}" \${HAUPD_NODE_FLAGS-${DEFAULT_NODE_FLAGS}} "$here/../lib/haupd.cjs" "$@"`,
    '',
  ].join('\n');
  await writeFile(path.join(out, 'bin', 'haupd'), wrapper);
  await chmod(path.join(out, 'bin', 'haupd'), 0o755);

  const files: BundleManifest['files'] = {};
  const list = ['bin/haupd', 'lib/haupd.cjs', 'lib/haupd-cli.cjs', ...SHIPPED_ABIS.map((a) => `lib/native/raw-socket.abi${a}.node`)];
  for (const rel of list) {
    const data = await readFile(path.join(out, rel));
    files[rel] = { sha256: sha256(data), bytes: data.length };
  }
  const manifest: BundleManifest = { name: 'haupd', version: pkg.version, node: '>=18', files };
  await writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: node --import tsx src/vrrp/bundle.ts OUTDIR\n');
    process.exitCode = 2;
  } else {
    bundleHaupd(outDir).then(
      (m) => process.stdout.write(JSON.stringify(m, null, 2) + '\n'),
      (err: unknown) => {
        process.stderr.write(`bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
