// The staged-tree check with the REAL `nginx -t` (Debian's nginx, installed but never started):
// a copy of Debian's /etc/nginx stands in for a host's live tree. Proves that the stage re-points
// absolute includes and the sites-enabled symlinks, so nginx validates the NEW tree as a whole,
// and that a failure leaves the live tree untouched and reports nginx's own words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connectors/local.ts';
import { runDeploy } from '../../src/engine/runner.ts';
import type { HostSpec, TaskSpec } from '../../src/engine/types.ts';

assert.ok(statSync('/usr/sbin/nginx').isFile(), 'nginx must be installed (.ci/apt-packages)');

const dir = mkdtempSync(join(tmpdir(), 'haup-nginx-tree-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const live = join(dir, 'nginx');
// A "live" tree at another root, wired like Debian's: absolute includes and a symlinked site.
execFileSync('sh', ['-c', `cp -a /etc/nginx ${live} && grep -rlF /etc/nginx/ ${live} | xargs sed -i "s#/etc/nginx/#${live}/#g" && ln -sfn ${live}/sites-available/default ${live}/sites-enabled/default`]);
const check = { name: 'nginx', root: live, command: 'nginx -t -q -c {stage}/nginx.conf' };

function snapshot(): string {
  return execFileSync('sh', ['-c', `cd ${live} && find . -printf '%p %y %m %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`], { encoding: 'utf8' });
}

async function deploy(tasks: TaskSpec[]) {
  const host: HostSpec = { name: 'lb5', groups: ['lb'], phase: 'lb', tasks, treeChecks: [check], connect: async () => new LocalConnection('lb5') };
  return runDeploy({ hosts: [host], phases: [{ name: 'lb' }], output: 'silent', journalDir: join(dir, 'journal'), remoteJournalRoot: join(dir, 'remote-journal') });
}

const upstream = (extra = '') => `upstream webs {\n    zone webs 64k;\n    server 198.18.0.7:80;\n    server 198.18.0.8:80;\n}\nserver {\n    listen 8080;\n    location / {\n        proxy_pass http://webs;\n${extra}    }\n}\n`;

test('an invalid new config fails with nginx\'s message (live paths) and the live tree is untouched', async () => {
  const before = snapshot();
  const r = await deploy([{ name: 'upstream', op: { op: 'file', path: `${live}/conf.d/haup.conf`, content: upstream('        bogus_directive on;\n') } }]);
  assert.equal(r.hosts[0]!.status, 'failed');
  const err = r.hosts[0]!.tasks[0]!.error!;
  assert.match(err, new RegExp(`^nginx check failed: \\S+ \\S+ \\[emerg\\] \\d+#\\d+: unknown directive "bogus_directive" in ${live}/conf\\.d/haup\\.conf:10\nnginx: configuration file ${live}/nginx\\.conf test failed$`));
  assert.ok(!err.includes('haup-stage'), err);
  assert.equal(snapshot(), before);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('haup-stage')), []);
});

test('a bad change reached only through the sites-enabled symlink is caught (the stage re-points it)', async () => {
  const before = snapshot();
  const r = await deploy([{ name: 'default site', op: { op: 'file', path: `${live}/sites-available/default`, content: 'server {\n    listen 8081;\n    no_such_thing;\n}\n' } }]);
  assert.equal(r.hosts[0]!.status, 'failed');
  assert.match(r.hosts[0]!.tasks[0]!.error!, new RegExp(`unknown directive "no_such_thing" in ${live}/sites-enabled/default:3\n`));
  assert.equal(snapshot(), before);
});

test('two files that are only valid together pass together (the whole new tree is checked), then go live', async () => {
  // the server refers to an upstream defined in the other new file: checking one file alone would fail
  const r = await deploy([
    { name: 'upstream', op: { op: 'file', path: `${live}/conf.d/upstream.conf`, content: 'upstream webs {\n    zone webs 64k;\n    server 198.18.0.7:80;\n}\n' } },
    { name: 'server', op: { op: 'file', path: `${live}/conf.d/server.conf`, content: 'server {\n    listen 8080;\n    location / { proxy_pass http://webs; }\n}\n' } },
  ]);
  assert.equal(r.hosts[0]!.status, 'changed', JSON.stringify(r.hosts[0]!.tasks));
  assert.equal(readFileSync(`${live}/conf.d/server.conf`, 'utf8'), 'server {\n    listen 8080;\n    location / { proxy_pass http://webs; }\n}\n');
  assert.equal(readlinkSync(`${live}/sites-enabled/default`), `${live}/sites-available/default`);
  // the live tree itself is valid for nginx afterwards
  execFileSync('nginx', ['-t', '-q', '-c', `${live}/nginx.conf`]);
});
