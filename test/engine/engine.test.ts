// The engine end to end against the control machine (LocalConnection) in a temp directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LocalConnection } from '../../src/connectors/local.ts';
import { runDeploy, type DeployOptions } from '../../src/engine/runner.ts';
import { parseJournal } from '../../src/engine/journal.ts';
import { recap } from '../../src/engine/recap.ts';
import type { HostSpec, TaskSpec } from '../../src/engine/types.ts';
import { HostError } from '../../src/util/errors.ts';

function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'haup-engine-'));
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

function host(name: string, tasks: TaskSpec[], extra: Partial<HostSpec> = {}): HostSpec {
  return { name, groups: ['web'], phase: 'main', tasks, connect: async () => new LocalConnection(name), ...extra };
}

function opts(d: string, hosts: HostSpec[], extra: Partial<DeployOptions> = {}): DeployOptions {
  return { hosts, phases: [{ name: 'main' }], output: 'silent', journalDir: join(d, 'journal'), remoteJournalRoot: join(d, 'remote', 'journal'), ...extra };
}

/** path -> [bytes, mode, mtimeMs, ino] for every file under dir (journal dirs excluded). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const f = join(p, e.name);
      if (f.startsWith(join(dir, 'journal')) || f.startsWith(join(dir, 'remote'))) continue;
      const st = statSync(f);
      out.set(f, `${e.isFile() ? readFileSync(f).toString('hex') : 'dir'}|${st.mode}|${st.mtimeMs}|${st.ino}`);
      if (e.isDirectory()) walk(f);
    }
  };
  walk(dir);
  return out;
}

function webTasks(d: string, page = 'Web7 Service\n'): TaskSpec[] {
  return [
    { name: 'site dir', op: { op: 'directory', path: `${d}/www`, mode: 0o755 } },
    { name: 'index page', op: { op: 'file', path: `${d}/www/index.html`, content: page, mode: 0o644 }, notify: ['reload'] },
    { name: 'auth secret', op: { op: 'file', path: `${d}/www/auth`, content: 'pa55word', mode: 0o600, secret: true } },
    { name: 'init marker', op: { op: 'command', command: `echo once >> ${d}/init.log && touch ${d}/initialized`, creates: `${d}/initialized` } },
  ];
}

const reload = (d: string) => [{ name: 'reload', op: { op: 'command' as const, command: `echo reload >> ${d}/reload.log` } }];

test('first run changes, second run: 0 changed, no mtime changes, handler not run again', async () => {
  const d = tempRoot();
  const hosts = [host('web7', webTasks(d), { handlers: reload(d) })];
  const first = await runDeploy(opts(d, hosts));
  assert.equal(first.ok, true);
  assert.deepEqual(first.hosts[0]!.counts, { ok: 0, changed: 5, failed: 0, skipped: 0 });
  assert.equal(readFileSync(`${d}/www/index.html`, 'utf8'), 'Web7 Service\n');
  assert.equal(statSync(`${d}/www/auth`).mode & 0o777, 0o600);
  assert.equal(readFileSync(`${d}/reload.log`, 'utf8'), 'reload\n');
  const before = snapshot(d);

  const second = await runDeploy(opts(d, hosts));
  assert.equal(second.ok, true);
  assert.deepEqual(second.hosts[0]!.counts, { ok: 4, changed: 0, failed: 0, skipped: 0 });
  assert.equal(second.hosts[0]!.status, 'ok');
  assert.equal(second.hosts[0]!.journal, undefined, 'no write, no journal');
  assert.deepEqual(snapshot(d), before);
  assert.equal(readFileSync(`${d}/reload.log`, 'utf8'), 'reload\n');
  assert.equal(readFileSync(`${d}/init.log`, 'utf8'), 'once\n');
  assert.notEqual(first.deployId, second.deployId);
  assert.ok(first.deployId < second.deployId, 'deploy ids sort by time');
});

test('--check reports the changes and changes nothing (no journal either); --diff masks secrets', async () => {
  const d = tempRoot();
  await runDeploy(opts(d, [host('web7', webTasks(d), { handlers: reload(d) })]));
  const before = snapshot(d);
  const journals = readdirSync(join(d, 'journal')).length;
  const changed = [host('web7', webTasks(d, 'Web7 Service v2\n').map((t) => (t.name === 'auth secret' ? { ...t, op: { ...t.op, content: 'n3wpass' } as TaskSpec['op'] } : t)), { handlers: reload(d) })];
  const r = await runDeploy(opts(d, changed, { check: true, diff: true }));
  assert.equal(r.check, true);
  assert.deepEqual(r.hosts[0]!.counts, { ok: 2, changed: 3, failed: 0, skipped: 0 });
  const page = r.hosts[0]!.tasks.find((t) => t.name === 'index page')!;
  assert.equal(page.status, 'changed');
  assert.match(page.diff!, /-Web7 Service\n\+Web7 Service v2/);
  const secret = r.hosts[0]!.tasks.find((t) => t.name === 'auth secret')!;
  assert.equal(secret.status, 'changed');
  assert.ok(!secret.diff!.includes('pa55word') && !secret.diff!.includes('n3wpass'));
  assert.match(secret.diff!, /secret: content not shown/);
  assert.ok(!JSON.stringify(r).includes('n3wpass'), 'the JSON result never carries secret content');
  assert.deepEqual(r.hosts[0]!.tasks.find((t) => t.handler), { name: 'reload', handler: true, status: 'changed', summary: 'would run (notified)', durationMs: 0 });
  assert.deepEqual(snapshot(d), before);
  assert.equal(readdirSync(join(d, 'journal')).length, journals);
  assert.equal(readFileSync(`${d}/reload.log`, 'utf8'), 'reload\n');
});

test('validate failure: the live file stays byte-identical, no temp file left, later tasks skipped, no handler', async () => {
  const d = tempRoot();
  mkdirSync(`${d}/etc`);
  writeFileSync(`${d}/etc/app.conf`, 'good = 1\n');
  chmodSync(`${d}/etc/app.conf`, 0o640);
  const liveBefore = snapshot(d);
  const tasks: TaskSpec[] = [
    { name: 'config', op: { op: 'file', path: `${d}/etc/app.conf`, content: 'good = 1\nbroken\n', mode: 0o640, validate: `! grep -q broken %s || { echo "line 2: broken is not a directive"; exit 1; }` }, notify: ['reload'] },
    { name: 'after', op: { op: 'command', command: `touch ${d}/after` } },
  ];
  const r = await runDeploy(opts(d, [host('lb5', tasks, { handlers: reload(d) })]));
  assert.equal(r.ok, false);
  const h = r.hosts[0]!;
  assert.equal(h.status, 'failed');
  assert.deepEqual(h.counts, { ok: 0, changed: 0, failed: 1, skipped: 1 });
  assert.equal(h.tasks[0]!.error, `validate failed (! grep -q broken %s || { echo "line 2: broken is not a directive"; exit 1; }): line 2: broken is not a directive`);
  assert.equal(readFileSync(`${d}/etc/app.conf`, 'utf8'), 'good = 1\n');
  assert.deepEqual(readdirSync(`${d}/etc`), ['app.conf']);
  const after = snapshot(d);
  assert.equal(after.get(`${d}/etc/app.conf`), liveBefore.get(`${d}/etc/app.conf`));
  assert.ok(!existsSync(`${d}/after`));
  assert.ok(!existsSync(`${d}/reload.log`));
  assert.match(recap(r), /^lb5  : ok=0 changed=0 failed=1 skipped=1 unreachable=0 {2}\d+\.\d\d s\n {7}failed: config: validate failed \(.*\): line 2: broken is not a directive$/m);
});

test('journal: exact pre-images (bytes, mode, owner, absent, directory), services, installs; 0700/0600 on both sides', async () => {
  const d = tempRoot();
  mkdirSync(`${d}/etc`, { mode: 0o750 });
  chmodSync(`${d}/etc`, 0o750);
  const old = Buffer.from([0x00, 0xff, 0x0a, 0x41]);
  writeFileSync(`${d}/etc/bin.dat`, old);
  chmodSync(`${d}/etc/bin.dat`, 0o604);
  const tasks: TaskSpec[] = [
    { name: 'dir', op: { op: 'directory', path: `${d}/etc`, mode: 0o755 } },
    { name: 'bin', op: { op: 'file', path: `${d}/etc/bin.dat`, content: Buffer.from('new'), mode: 0o644 } },
    { name: 'new', op: { op: 'file', path: `${d}/etc/new.conf`, content: 'x\n' } },
  ];
  const r = await runDeploy(opts(d, [host('lb6', tasks)], { deployId: '20261122T002000000Z-abcd' }));
  assert.equal(r.ok, true);
  const local = join(d, 'journal', '20261122T002000000Z-abcd', 'lb6.json');
  assert.equal(r.hosts[0]!.journal, local);
  const remote = join(d, 'remote', 'journal', '20261122T002000000Z-abcd', 'journal.json');
  assert.equal(readFileSync(local, 'utf8'), readFileSync(remote, 'utf8'));
  for (const p of [join(d, 'journal'), join(d, 'journal', '20261122T002000000Z-abcd'), join(d, 'remote', 'journal'), join(d, 'remote', 'journal', '20261122T002000000Z-abcd')]) {
    assert.equal(statSync(p).mode & 0o777, 0o700, p);
  }
  assert.equal(statSync(local).mode & 0o777, 0o600);
  assert.equal(statSync(remote).mode & 0o777, 0o600);
  const j = parseJournal(readFileSync(local, 'utf8'));
  assert.equal(j.deployId, '20261122T002000000Z-abcd');
  assert.equal(j.host, 'lb6');
  assert.deepEqual(j.files, [
    { path: `${d}/etc`, state: 'directory', mode: 0o750, owner: 'root', group: 'root' },
    { path: `${d}/etc/bin.dat`, state: 'file', mode: 0o604, owner: 'root', group: 'root', sha256: createHash('sha256').update(old).digest('hex'), content: old },
    { path: `${d}/etc/new.conf`, state: 'absent' },
  ]);
  const raw = JSON.parse(readFileSync(local, 'utf8'));
  assert.equal(raw.format, 'haup-journal/1');
  assert.equal(raw.files[1].contentBase64, old.toString('base64'));
  assert.equal(raw.files[1].mode, '0604');
  assert.equal(raw.files[1].sha256, createHash('sha256').update(old).digest('hex'));
});

test('journal records services (from facts) and packages the deploy installs', async () => {
  const { runHost } = await import('../../src/engine/apply.ts');
  const d = tempRoot();
  // A connection whose facts say: apt host with systemd, nginx missing; commands are recorded, not run.
  const ran: string[] = [];
  const local = new LocalConnection('web8');
  const fake = {
    host: 'web8',
    async exec(cmd: string, o?: { stdin?: Buffer | string }) {
      const script = o?.stdin?.toString() ?? '';
      if (cmd === 'sh -s' && script.includes('@@haup pm')) {
        const out = `@@haup os\nID=debian\n@@haup pm\napt\n@@haup init\nsystemd\n@@haup pkgs\nii |curl|7\n@@haup services\nActiveState=inactive\nUnitFileState=\n@@haup end\n`;
        return { code: 0, stdout: Buffer.from(out), stderr: Buffer.alloc(0) };
      }
      if (cmd === 'sh -s' || cmd.includes('journal')) return local.exec(cmd, o);
      ran.push(cmd);
      return { code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    },
    put: local.put.bind(local),
    get: local.get.bind(local),
    close: async () => {},
  };
  const spec = host('web8', [
    { name: 'nginx', op: { op: 'package', names: ['nginx', 'curl'] } },
    { name: 'nginx running', op: { op: 'service', name: 'nginx', enabled: true, state: 'started' } },
  ], { connect: async () => fake });
  const r = await runHost(spec, { deployId: '20261122T002100000Z-0001', check: false, diff: false, verbose: false, journalDir: join(d, 'j'), remoteJournalRoot: join(d, 'rj') }, { note() {}, task() {} });
  assert.equal(r.status, 'changed', JSON.stringify(r));
  assert.deepEqual(ran, [
    'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -o Dpkg::Use-Pty=0 install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold nginx',
    'systemctl enable nginx',
    'systemctl start nginx',
  ]);
  const j = parseJournal(readFileSync(r.journal!, 'utf8'));
  assert.deepEqual(j.services, [{ name: 'nginx', enabled: 'not-found', active: 'inactive' }]);
  assert.deepEqual(j.packagesInstalled, ['nginx']);
  assert.deepEqual(j.files, []);
});

test('failing handler with restoreOnFailure: previous files restored (bytes and mode; new files removed), host failed', async () => {
  const d = tempRoot();
  mkdirSync(`${d}/nginx`);
  writeFileSync(`${d}/nginx/site.conf`, 'server { old }\n');
  chmodSync(`${d}/nginx/site.conf`, 0o640);
  const tasks: TaskSpec[] = [
    { name: 'site', op: { op: 'file', path: `${d}/nginx/site.conf`, content: 'server { new }\n', mode: 0o644 }, notify: ['reload nginx'] },
    { name: 'extra', op: { op: 'file', path: `${d}/nginx/extra.conf`, content: 'x\n' }, notify: ['reload nginx'] },
    { name: 'unrelated', op: { op: 'file', path: `${d}/nginx/other.txt`, content: 'kept\n' } },
  ];
  // "reload" fails while the new config is live, succeeds on the old one.
  const handlers = [{ name: 'reload nginx', restoreOnFailure: true, op: { op: 'command' as const, command: `echo try >> ${d}/reloads; if grep -q new ${d}/nginx/site.conf; then echo "nginx: [emerg] unknown directive new" >&2; exit 1; fi` } }];
  const r = await runDeploy(opts(d, [host('lb5', tasks, { handlers })]));
  const h = r.hosts[0]!;
  assert.equal(h.status, 'failed');
  const hr = h.tasks.find((t) => t.handler)!;
  assert.equal(hr.status, 'failed');
  assert.match(hr.error!, /unknown directive new/);
  assert.match(hr.error!, /restored the previous files: .*site\.conf, .*extra\.conf/);
  assert.match(hr.error!, /reload nginx succeeded on the restored files/);
  assert.equal(readFileSync(`${d}/nginx/site.conf`, 'utf8'), 'server { old }\n');
  assert.equal(statSync(`${d}/nginx/site.conf`).mode & 0o777, 0o640);
  assert.ok(!existsSync(`${d}/nginx/extra.conf`));
  assert.equal(readFileSync(`${d}/nginx/other.txt`, 'utf8'), 'kept\n');
  assert.equal(readFileSync(`${d}/reloads`, 'utf8'), 'try\ntry\n');
});

test('staged tree check: runs against a copy with symlinks and absolute paths re-pointed; failure touches nothing live', async () => {
  const d = tempRoot();
  const root = `${d}/nginx`;
  mkdirSync(`${root}/sites-available`, { recursive: true });
  mkdirSync(`${root}/sites-enabled`);
  writeFileSync(`${root}/nginx.conf`, `include ${root}/sites-enabled/*;\n`);
  writeFileSync(`${root}/sites-available/default`, 'listen 80;\n');
  symlinkSync(`${root}/sites-available/default`, `${root}/sites-enabled/default`);
  // The "validator" reads the staged tree the way nginx -t would: through the include and the symlink.
  const check = { name: 'nginx', root, command: `f=$(sed -n 's/^include \\(.*\\)\\/\\*;$/\\1/p' {stage}/nginx.conf); case "$f" in {stage}/*) ;; *) echo "include not staged: $f"; exit 1;; esac; if grep -q bogus "$f"/default; then echo "nginx: [emerg] unknown directive \\"bogus\\" in {stage}/sites-available/default:1"; exit 1; fi; echo "test is successful"` };
  const before = snapshot(d);
  const bad = await runDeploy(opts(d, [host('lb5', [{ name: 'site', op: { op: 'file', path: `${root}/sites-available/default`, content: 'bogus;\n' } }], { treeChecks: [check] })]));
  assert.equal(bad.hosts[0]!.status, 'failed');
  assert.equal(bad.hosts[0]!.tasks[0]!.error, `nginx check failed: nginx: [emerg] unknown directive "bogus" in ${root}/sites-available/default:1`);
  assert.deepEqual(snapshot(d), before, 'nothing live changed, no stage left behind');

  const good = await runDeploy(opts(d, [host('lb5', [{ name: 'site', op: { op: 'file', path: `${root}/sites-available/default`, content: 'listen 8080;\n' } }], { treeChecks: [check] })]));
  assert.equal(good.hosts[0]!.status, 'changed', JSON.stringify(good.hosts[0]!.tasks));
  assert.equal(readFileSync(`${root}/sites-available/default`, 'utf8'), 'listen 8080;\n');
  assert.deepEqual(readdirSync(d).filter((f) => f.includes('haup-stage')), []);
});

test('phases run in order; --limit by group; requirePreviousSuccess skips later phases after a failure', async () => {
  const d = tempRoot();
  const log = `${d}/order.log`;
  const mk = (name: string, phase: string, groups: string[], fail = false) =>
    host(name, [{ name: 'mark', op: { op: 'command', command: `sleep 0.05; echo ${name} >> ${log}${fail ? '; exit 1' : ''}` } }], { phase, groups });
  const hosts = [mk('lb5', 'master', ['lb']), mk('lb6', 'backup', ['lb']), mk('web7', 'webs', ['web']), mk('web8', 'webs', ['web'])];
  const phases = [{ name: 'webs' }, { name: 'backup', requirePreviousSuccess: true }, { name: 'master', requirePreviousSuccess: true }];
  const r = await runDeploy(opts(d, hosts, { phases }));
  assert.deepEqual(r.hosts.map((h) => h.host), ['web7', 'web8', 'lb6', 'lb5']);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines.slice(2), ['lb6', 'lb5']);
  assert.deepEqual(lines.slice(0, 2).sort(), ['web7', 'web8']);

  rmSync(log);
  const limited = await runDeploy(opts(d, hosts, { phases, limit: ['lb'] }));
  assert.deepEqual(limited.hosts.map((h) => h.host), ['lb6', 'lb5']);
  await assert.rejects(runDeploy(opts(d, hosts, { phases, limit: ['lb7'] })), /--limit: unknown host or group: lb7/);

  rmSync(log);
  const failing = [mk('lb5', 'master', ['lb']), mk('lb6', 'backup', ['lb'], true), mk('web7', 'webs', ['web'])];
  const f = await runDeploy(opts(d, failing, { phases }));
  assert.deepEqual(f.hosts.map((h) => [h.host, h.status]), [['web7', 'changed'], ['lb6', 'failed'], ['lb5', 'skipped']]);
  assert.equal(readFileSync(log, 'utf8'), 'web7\nlb6\n');
  assert.equal(f.ok, false);
  // the task's error is the command and its exit, without the host prefix (it sits under its host)
  assert.equal(f.hosts[1]!.tasks[0]!.error, `sleep 0.05; echo lb6 >> ${log}; exit 1 exited 1`);
});

test('--forks: hosts of a phase run in parallel up to N', async () => {
  // Concurrency counted, not timed (a loaded machine must not make it flaky): each host's command
  // waits until `forks` of them are in flight (bounded: 20 s), so the most seen is exactly N when
  // the engine runs N at once — more would show as more, fewer as a 20 s wait and fewer.
  const d = tempRoot();
  const counted = (forks: number) => {
    let inFlight = 0;
    let most = 0;
    let waiting: (() => void)[] = [];
    const hosts = ['a', 'b', 'c', 'd'].map((n) => {
      const local = new LocalConnection(n);
      const conn = {
        host: n,
        async exec(cmd: string, o?: { stdin?: Buffer | string }) {
          if (cmd !== 'wait-here') return local.exec(cmd, o);
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise<void>((resolve) => {
            const bound = setTimeout(resolve, 20_000);
            waiting.push(() => {
              clearTimeout(bound);
              resolve();
            });
            if (waiting.length === forks) {
              const go = waiting;
              waiting = [];
              for (const w of go) w();
            }
          });
          inFlight--;
          return { code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
        },
        put: local.put.bind(local),
        get: local.get.bind(local),
        close: async () => {},
      };
      return host(n, [{ name: 'wait', op: { op: 'command', command: 'wait-here' } }], { connect: async () => conn });
    });
    return { hosts, most: () => most };
  };
  for (const forks of [4, 2, 1]) {
    const c = counted(forks);
    const r = await runDeploy(opts(d, c.hosts, { forks }));
    assert.equal(r.ok, true);
    assert.equal(c.most(), forks, `forks ${forks}`);
  }
});

test('an unreachable host is reported and the others are deployed; recap and plain output (CI=true)', async () => {
  const d = tempRoot();
  const down = host('web8', webTasks(`${d}/w8`), {
    handlers: reload(`${d}/w8`),
    connect: async () => {
      throw new HostError('web8', 'unreachable: connection refused at 198.18.0.8:22', 'is the host up?');
    },
  });
  mkdirSync(`${d}/w7`);
  const up = host('web7', webTasks(`${d}/w7`), { handlers: reload(`${d}/w7`) });
  let out = '';
  const stream = Object.assign(new Writable({ write(c, _e, cb) { out += c.toString(); cb(); } }), { isTTY: true });
  const r = await runDeploy(opts(d, [up, down], { output: 'auto', stream, env: { CI: 'true' } }));
  assert.deepEqual(r.hosts.map((h) => [h.host, h.status]), [['web7', 'changed'], ['web8', 'unreachable']]);
  assert.deepEqual(r.hosts[1]!.error, { message: 'web8: unreachable: connection refused at 198.18.0.8:22', hint: 'is the host up?' });
  assert.match(out, /^\[web7\] changed: index page — .*index\.html: created$/m);
  assert.match(out, /^\[web8\] UNREACHABLE ok=0 changed=0 failed=0 skipped=0 unreachable=1: web8: unreachable: connection refused at 198\.18\.0\.8:22$/m);
  const text = recap(r);
  assert.match(text, /^web7 : ok=0 changed=5 failed=0 skipped=0 unreachable=0 {2}\d+\.\d\d s$/m);
  assert.match(text, /^web8 : ok=0 changed=0 failed=0 skipped=0 unreachable=1 {2}\d+\.\d\d s$/m);
  assert.match(text, /^ {7}hint: is the host up\?$/m);
  assert.match(text, /^FAILED in /m);
});

test('a task notifying an undeclared handler is a usage error before anything runs', async () => {
  const d = tempRoot();
  await assert.rejects(
    runDeploy(opts(d, [host('web7', [{ name: 'x', op: { op: 'command', command: `touch ${d}/x` }, notify: ['nope'] }])])),
    /host web7: tasks notify unknown handlers: nope/,
  );
  assert.ok(!existsSync(`${d}/x`));
});

test('absent op: the removed symlink is journaled, part of the staged tree, and restored when the handler fails', async () => {
  const d = tempRoot();
  const root = `${d}/nginx`;
  mkdirSync(`${root}/sites-available`, { recursive: true });
  mkdirSync(`${root}/sites-enabled`);
  writeFileSync(`${root}/sites-available/default`, 'listen 80;\n');
  symlinkSync(`${root}/sites-available/default`, `${root}/sites-enabled/default`);
  // the check sees the stage without the default site
  const check = { name: 'tree', root, command: `test ! -e {stage}/sites-enabled/default && test -f {stage}/sites-enabled/haup` };
  const tasks: TaskSpec[] = [
    { name: 'no default site', op: { op: 'absent', path: `${root}/sites-enabled/default` }, notify: ['reload'] },
    { name: 'haup site', op: { op: 'file', path: `${root}/sites-enabled/haup`, content: 'listen 8080;\n' }, notify: ['reload'] },
  ];
  const handlers = [{ name: 'reload', restoreOnFailure: true, op: { op: 'command' as const, command: `test -e ${root}/sites-enabled/default || { echo "reload refused" >&2; exit 1; }` } }];
  const r = await runDeploy(opts(d, [host('lb6', tasks, { handlers, treeChecks: [check] })], { diff: true }));
  const h = r.hosts[0]!;
  assert.equal(h.tasks[0]!.status, 'changed', JSON.stringify(h.tasks));
  assert.equal(h.tasks[0]!.diff, `--- ${root}/sites-enabled/default\n+++ /dev/null\nsymlink -> ${root}/sites-available/default removed\n`);
  assert.equal(h.status, 'failed');
  assert.match(h.tasks[2]!.error!, /reload refused/);
  assert.equal(readlinkSync(`${root}/sites-enabled/default`), `${root}/sites-available/default`);
  assert.ok(!existsSync(`${root}/sites-enabled/haup`));
  const j = parseJournal(readFileSync(h.journal!, 'utf8'));
  assert.deepEqual(j.files, [
    { path: `${root}/sites-enabled/default`, state: 'symlink', target: `${root}/sites-available/default` },
    { path: `${root}/sites-enabled/haup`, state: 'absent' },
  ]);
});

test('every host is connected and planned before the first phase applies; one connection per host', async () => {
  const d = tempRoot();
  const events: string[] = [];
  const mk = (name: string, phase: string) =>
    host(name, [{ name: 'mark', op: { op: 'command', command: `echo ${name} >> ${d}/applied` } }], {
      phase,
      connect: async () => {
        events.push(`connect ${name}`);
        return new LocalConnection(name);
      },
    });
  const r = await runDeploy(opts(d, [mk('lb5', 'master'), mk('lb6', 'backup'), mk('web7', 'webs')], { phases: [{ name: 'webs' }, { name: 'backup' }, { name: 'master' }] }));
  assert.equal(r.ok, true);
  assert.deepEqual(events.sort(), ['connect lb5', 'connect lb6', 'connect web7']);
  assert.equal(readFileSync(`${d}/applied`, 'utf8'), 'web7\nlb6\nlb5\n');
  for (const h of r.hosts) assert.deepEqual(Object.keys(h.timings), ['connect', 'facts', 'plan', 'journal', 'apply']);
});

test('a host listed twice is a usage error', async () => {
  const d = tempRoot();
  await assert.rejects(runDeploy(opts(d, [host('web7', []), host('web7', [])])), /host web7 is listed twice/);
});

test('cold deploy: a file a package created just before is restored as the package made it, not deleted', async () => {
  const d = tempRoot();
  mkdirSync(`${d}/etc`);
  const tasks: TaskSpec[] = [
    // stands in for `apt-get install nginx`, which creates nginx.conf
    { name: 'package', op: { op: 'command', command: `printf 'from the package\\n' > ${d}/etc/nginx.conf`, creates: `${d}/etc/nginx.conf` } },
    { name: 'our config', op: { op: 'file', path: `${d}/etc/nginx.conf`, content: 'ours, broken\n' }, notify: ['reload'] },
  ];
  const handlers = [{ name: 'reload', restoreOnFailure: true, op: { op: 'command' as const, command: `! grep -q broken ${d}/etc/nginx.conf || { echo "emerg: broken" >&2; exit 1; }` } }];
  const r = await runDeploy(opts(d, [host('lb5', tasks, { handlers })]));
  assert.equal(r.hosts[0]!.status, 'failed');
  assert.match(r.hosts[0]!.tasks[2]!.error!, /reload succeeded on the restored files/);
  assert.equal(readFileSync(`${d}/etc/nginx.conf`, 'utf8'), 'from the package\n');
  // the journal still says what was there before the deploy: nothing (rollback removes it)
  assert.deepEqual(parseJournal(readFileSync(r.hosts[0]!.journal!, 'utf8')).files, [{ path: `${d}/etc/nginx.conf`, state: 'absent' }]);
});

/**
 * An apt + systemd host whose facts say "nothing installed"; commands other than the engine's own
 * scripts are logged, not run. With `postinst`, an install behaves like Debian's: afterwards the
 * facts say the package is installed and its service enabled and active.
 */
function fakeAptHost(name: string, log: string[], fail: (cmd: string) => boolean = () => false, postinst = false, installMs = 20, installUntil?: Promise<unknown>) {
  const local = new LocalConnection(name);
  let installed = false;
  return {
    host: name,
    async exec(cmd: string, o?: { stdin?: Buffer | string }) {
      const script = o?.stdin?.toString() ?? '';
      if (cmd === 'sh -s' && script.includes('@@haup pm')) {
        const state = installed ? 'ii |nginx|1\n@@haup services\nActiveState=active\nUnitFileState=enabled\n' : '@@haup services\nActiveState=inactive\nUnitFileState=\n';
        const out = `@@haup os\nID=debian\n@@haup pm\napt\n@@haup init\nsystemd\n@@haup pkgs\n${state}@@haup end\n`;
        return { code: 0, stdout: Buffer.from(out), stderr: Buffer.alloc(0) };
      }
      if (postinst && cmd.includes('apt-get') && cmd.includes(' install ')) installed = true;
      if (cmd === 'sh -s' || cmd.includes('journal')) return local.exec(cmd, o);
      log.push(`${name}: ${cmd.replace(/^DEBIAN_FRONTEND.* install .* /, 'apt-get install ')}`);
      // let the other hosts' stages interleave, as real round trips do
      const install = cmd.includes('apt-get') && cmd.includes(' install ');
      await new Promise((r) => setTimeout(r, install ? installMs : 20));
      if (install && installUntil) await installUntil;
      if (install && (installMs !== 20 || installUntil)) log.push(`${name}: install done`);
      return fail(cmd) ? { code: 1, stdout: Buffer.alloc(0), stderr: Buffer.from('boom') } : { code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    },
    put: local.put.bind(local),
    get: local.get.bind(local),
    close: async () => {},
  };
}

function phasedAptHosts(log: string[], failWeb = false, installMs: Record<string, number> = {}, installUntil: Record<string, Promise<unknown>> = {}): { hosts: HostSpec[]; phases: DeployOptions['phases'] } {
  const tasks = (): TaskSpec[] => [
    { name: 'nginx installed', op: { op: 'package', names: ['nginx'] } },
    { name: 'nginx running', op: { op: 'service', name: 'nginx', enabled: true, state: 'started' } },
  ];
  const web = fakeAptHost('web7', log, (c) => failWeb && c.startsWith('systemctl enable'), false, installMs.web7);
  const lb6 = fakeAptHost('lb6', log, undefined, false, installMs.lb6);
  const lb5 = fakeAptHost('lb5', log, undefined, false, installMs.lb5, installUntil.lb5);
  return {
    hosts: [
      host('web7', tasks(), { phase: 'web', connect: async () => web }),
      host('lb6', tasks(), { phase: 'lb6', groups: ['lb'], connect: async () => lb6 }),
      host('lb5', tasks(), { phase: 'lb5', groups: ['lb'], connect: async () => lb5 }),
    ],
    phases: [{ name: 'web' }, { name: 'lb6', requirePreviousSuccess: true }, { name: 'lb5', requirePreviousSuccess: true }],
  };
}

test('package stage: every host installs before its own configuration; the phases keep their order; results stay in task order', async () => {
  const d = tempRoot();
  const log: string[] = [];
  const { hosts, phases } = phasedAptHosts(log);
  const r = await runDeploy(opts(d, hosts, { phases }));
  assert.equal(r.ok, true, JSON.stringify(r.hosts.map((h) => h.error)));
  const installs = log.filter((l) => l.includes('apt-get install'));
  assert.deepEqual(installs.sort(), ['lb5: apt-get install nginx', 'lb6: apt-get install nginx', 'web7: apt-get install nginx']);
  for (const h of ['web7', 'lb6', 'lb5']) assert.ok(log.indexOf(`${h}: apt-get install nginx`) < log.indexOf(`${h}: systemctl enable nginx`), log.join('\n'));
  // the phases still run one after another: web7, then lb6, then lb5
  assert.deepEqual(log.filter((l) => l.includes('systemctl')), ['web7: systemctl enable nginx', 'web7: systemctl start nginx', 'lb6: systemctl enable nginx', 'lb6: systemctl start nginx', 'lb5: systemctl enable nginx', 'lb5: systemctl start nginx']);
  for (const h of r.hosts) {
    assert.deepEqual(h.tasks.map((t) => [t.name, t.status]), [['nginx installed', 'changed'], ['nginx running', 'changed']]);
    assert.ok(h.timings.journal! >= 0 && h.timings.packages! >= 0, JSON.stringify(h.timings));
    assert.deepEqual(parseJournal(readFileSync(h.journal!, 'utf8')).packagesInstalled, ['nginx'], 'the journal is written before the install');
  }
});

test('package stage: a phase waits only for its own hosts\' installs (and the phases before it): webs and the backup are configured while the master still installs', async () => {
  const d = tempRoot();
  const log: string[] = [];
  // lb5's install ends only once lb6 has been configured (bounded: 20 s, then the order
  // assertions below fail) — whatever the machine's load, no timing race.
  let lb6Done: () => void = () => {};
  const lb6Configured = new Promise<void>((r) => (lb6Done = r));
  const watch = setInterval(() => {
    if (log.includes('lb6: systemctl start nginx')) lb6Done();
  }, 5);
  const bound = setTimeout(lb6Done, 20_000);
  const { hosts, phases } = phasedAptHosts(log, false, { web7: 30, lb6: 60, lb5: 20 }, { lb5: lb6Configured });
  const r = await runDeploy(opts(d, hosts, { phases })).finally(() => {
    clearInterval(watch);
    clearTimeout(bound);
  });
  assert.equal(r.ok, true, JSON.stringify(r.hosts.map((h) => h.error)));
  const at = (l: string) => {
    const i = log.indexOf(l);
    assert.ok(i >= 0, `${l} missing:\n${log.join('\n')}`);
    return i;
  };
  // lb5's install started before lb6 was configured (it was already running, not queued after)
  assert.ok(at('lb5: apt-get install nginx') < at('lb6: systemctl enable nginx'), log.join('\n'));
  // each host is configured only after its own install; phases in order web7 -> lb6 -> lb5
  assert.ok(at('web7: install done') < at('web7: systemctl enable nginx'));
  assert.ok(at('lb6: install done') < at('lb6: systemctl enable nginx'));
  assert.ok(at('web7: systemctl start nginx') < at('lb6: systemctl enable nginx'));
  assert.ok(at('lb6: systemctl start nginx') < at('lb5: systemctl enable nginx'));
  assert.ok(at('lb5: install done') < at('lb5: systemctl enable nginx'));
  // the overlap: web7 and lb6 were done before lb5's slow install finished
  assert.ok(at('lb6: systemctl start nginx') < at('lb5: install done'), log.join('\n'));
  assert.deepEqual(r.hosts.map((h) => [h.host, h.tasks.map((t) => [t.name, t.status])]), ['web7', 'lb6', 'lb5'].map((n) => [n, [['nginx installed', 'changed'], ['nginx running', 'changed']]]));
});

test('package stage: --check runs no install; a host skipped after a failed phase reports what the stage installed', async () => {
  const d = tempRoot();
  const checkLog: string[] = [];
  const checked = await runDeploy(opts(d, phasedAptHosts(checkLog).hosts, { phases: phasedAptHosts([]).phases, check: true }));
  assert.equal(checked.ok, true);
  assert.deepEqual(checkLog, []);
  assert.ok(checked.hosts.every((h) => h.journal === undefined && h.tasks[0]!.status === 'changed'));

  const log: string[] = [];
  const { hosts, phases } = phasedAptHosts(log, true);
  const r = await runDeploy(opts(d, hosts, { phases }));
  assert.equal(r.ok, false);
  const [web, lb6, lb5] = r.hosts;
  assert.equal(web!.status, 'failed');
  for (const lb of [lb6!, lb5!]) {
    assert.equal(lb.status, 'skipped');
    assert.deepEqual(lb.counts, { ok: 0, changed: 1, failed: 0, skipped: 1 });
    assert.deepEqual(lb.tasks.map((t) => [t.name, t.status]), [['nginx installed', 'changed']]);
    assert.deepEqual(parseJournal(readFileSync(lb.journal!, 'utf8')).packagesInstalled, ['nginx']);
  }
  assert.ok(!log.some((l) => l.startsWith('lb') && l.includes('systemctl')), log.join('\n'));
});

test('a notified handler whose guard skips it is reported ok (skipped by its guard), not "ran"; the same with --check', async () => {
  const d = tempRoot();
  const guard = `test -e ${d}/running`;
  const tasks: TaskSpec[] = [{ name: 'config', op: { op: 'file', path: `${d}/app.conf`, content: 'v1\n' }, notify: ['reload app'] }];
  const handlers = [{ name: 'reload app', op: { op: 'command' as const, command: `touch ${d}/reloaded`, onlyIf: guard } }];
  const checked = await runDeploy(opts(d, [host('lb5', tasks, { handlers })], { check: true }));
  assert.deepEqual(checked.hosts[0]!.tasks.find((t) => t.handler), { name: 'reload app', handler: true, status: 'ok', summary: `skipped: \`${guard}\` failed`, durationMs: 0 });
  const r = await runDeploy(opts(d, [host('lb5', tasks, { handlers })]));
  const h = r.hosts[0]!.tasks.find((t) => t.handler)!;
  assert.deepEqual([h.status, h.summary], ['ok', `skipped: \`${guard}\` failed`]);
  assert.deepEqual(r.hosts[0]!.counts, { ok: 1, changed: 1, failed: 0, skipped: 0 });
  assert.equal(existsSync(`${d}/reloaded`), false);
  // guard satisfied: the handler runs and says so
  writeFileSync(`${d}/running`, '');
  const again = await runDeploy(opts(d, [host('lb5', [{ ...tasks[0]!, op: { op: 'file', path: `${d}/app.conf`, content: 'v2\n' } }], { handlers })]));
  assert.deepEqual(again.hosts[0]!.tasks.filter((t) => t.handler).map((t) => [t.status, t.summary]), [['changed', 'ran (notified)']]);
  assert.equal(existsSync(`${d}/reloaded`), true);
});

test('package stage: facts and plan again after the installs, so the phase does not start what the package already started', async () => {
  const d = tempRoot();
  const log: string[] = [];
  const fake = fakeAptHost('web7', log, () => false, true);
  const tasks: TaskSpec[] = [
    { name: 'nginx installed', op: { op: 'package', names: ['nginx'] } },
    { name: 'nginx running', op: { op: 'service', name: 'nginx', enabled: true, state: 'started' } },
  ];
  const r = await runDeploy(opts(d, [host('web7', tasks, { connect: async () => fake })]));
  assert.equal(r.ok, true);
  assert.deepEqual(log, ['web7: apt-get install nginx'], 'no systemctl enable/start: Debian\'s postinst did both');
  const h = r.hosts[0]!;
  assert.deepEqual(h.tasks.map((t) => [t.name, t.status]), [['nginx installed', 'changed'], ['nginx running', 'ok']]);
  assert.ok(h.timings.replan! >= 0, JSON.stringify(h.timings));
  // the journal still has the state before the deploy and the installed package
  const j = parseJournal(readFileSync(h.journal!, 'utf8'));
  assert.deepEqual([j.packagesInstalled, j.services], [['nginx'], [{ name: 'nginx', enabled: 'not-found', active: 'inactive' }]]);
});

test('consecutive plain file writes go at once (one round trip), reported in task order; a validated write or a directory breaks the run', async () => {
  const d = tempRoot();
  const local = new LocalConnection('web7');
  let inFlight = 0;
  let most = 0;
  const writes: string[] = [];
  const conn = {
    host: 'web7',
    async exec(cmd: string, o?: { stdin?: Buffer | string }) {
      const m = /^mv -f \S+ '?([^' \n]+)'? \|\| exit 1$/m.exec(cmd);
      if (m) writes.push(m[1]!);
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        if (m) await new Promise((r) => setTimeout(r, 30));
        return await local.exec(cmd, o);
      } finally {
        inFlight--;
      }
    },
    put: local.put.bind(local),
    get: local.get.bind(local),
    close: async () => {},
  };
  const tasks: TaskSpec[] = [
    { name: 'dir', op: { op: 'directory', path: `${d}/a` } },
    ...[1, 2, 3].map((n) => ({ name: `f${n}`, op: { op: 'file' as const, path: `${d}/a/f${n}`, content: `${n}\n` } })),
    { name: 'checked', op: { op: 'file', path: `${d}/a/checked`, content: 'x\n', validate: 'test -s %s' } },
    { name: 'f4', op: { op: 'file', path: `${d}/a/f4`, content: '4\n' } },
  ];
  const r = await runDeploy(opts(d, [host('web7', tasks, { connect: async () => conn })]));
  assert.equal(r.ok, true, JSON.stringify(r.hosts[0]!.tasks));
  assert.deepEqual(r.hosts[0]!.tasks.map((t) => [t.name, t.status]), [['dir', 'changed'], ['f1', 'changed'], ['f2', 'changed'], ['f3', 'changed'], ['checked', 'changed'], ['f4', 'changed']]);
  assert.equal(most, 3, 'f1..f3 in flight together, nothing else');
  assert.deepEqual(writes.slice(3), [`${d}/a/checked`, `${d}/a/f4`]);
  for (const n of [1, 2, 3, 4]) assert.equal(readFileSync(`${d}/a/f${n}`, 'utf8'), `${n}\n`);

  // a failure inside the run: that task fails, the host fails, what follows the run is skipped
  const bad: TaskSpec[] = [
    { name: 'g1', op: { op: 'file', path: `${d}/b1`, content: '1\n' } },
    { name: 'g2', op: { op: 'file', path: `${d}/missing-dir/b2`, content: '2\n' } },
    { name: 'g3', op: { op: 'file', path: `${d}/b3`, content: '3\n' } },
    { name: 'after', op: { op: 'command', command: `touch ${d}/after` } },
  ];
  const f = await runDeploy(opts(d, [host('web7', bad)]));
  assert.equal(f.ok, false);
  assert.deepEqual(f.hosts[0]!.tasks.map((t) => [t.name, t.status]), [['g1', 'changed'], ['g2', 'failed'], ['g3', 'changed'], ['after', 'skipped']]);
  assert.match(f.hosts[0]!.tasks[1]!.error!, /cannot write .*missing-dir\/b2/);
  assert.equal(existsSync(`${d}/after`), false);
});

test('beforePhaseUnless: a file whose probe fails is written in the package stage (while earlier phases run); a passing probe keeps it in the phase', async () => {
  const d = tempRoot();
  const hosts: HostSpec[] = [
    // phase 1 looks, after a moment, whether lb5's early file is there already
    // (bounded wait, 20 s: if the file came only in lb5's phase, after this one, the answer is "no")
    host('web7', [{ name: 'look', op: { op: 'command', command: `i=0; while [ ! -e ${d}/lb5-early ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; if [ -e ${d}/lb5-early ]; then echo yes; else echo no; fi > ${d}/seen-by-web7` } }], { phase: 'p1' }),
    host('lb5', [
      { name: 'in phase', op: { op: 'command', command: `touch ${d}/lb5-phase` } },
      { name: 'early file', op: { op: 'file', path: `${d}/lb5-early`, content: 'x\n' }, beforePhaseUnless: 'false' },
      { name: 'kept in phase', op: { op: 'file', path: `${d}/lb5-late`, content: 'y\n' }, beforePhaseUnless: 'true' },
    ], { phase: 'p2' }),
  ];
  const r = await runDeploy(opts(d, hosts, { phases: [{ name: 'p1' }, { name: 'p2', requirePreviousSuccess: true }] }));
  assert.equal(r.ok, true, JSON.stringify(r.hosts.map((h) => h.tasks)));
  assert.equal(readFileSync(`${d}/seen-by-web7`, 'utf8'), 'yes\n');
  const lb5 = r.hosts.find((h) => h.host === 'lb5')!;
  assert.deepEqual(lb5.tasks.map((t) => [t.name, t.status]), [['in phase', 'changed'], ['early file', 'changed'], ['kept in phase', 'changed']]);
  assert.ok(lb5.timings['before phase']! >= 0, JSON.stringify(lb5.timings));
  // the journal was written before the early write: the early file's pre-image is "absent"
  const j = parseJournal(readFileSync(lb5.journal!, 'utf8'));
  assert.deepEqual(j.files.find((f) => f.path === `${d}/lb5-early`), { path: `${d}/lb5-early`, state: 'absent' });
  // --check runs nothing early
  rmSync(`${d}/lb5-early`);
  const c = await runDeploy(opts(d, hosts, { phases: [{ name: 'p1' }, { name: 'p2' }], check: true }));
  assert.equal(c.ok, true);
  assert.equal(existsSync(`${d}/lb5-early`), false);
});

test('beforePhaseUnless: an early write that fails (validate) fails the host in its phase, which then runs nothing, not even the tasks before it', async () => {
  const d = tempRoot();
  const hosts: HostSpec[] = [
    host('lb5', [
      { name: 'in phase', op: { op: 'command', command: `touch ${d}/lb5-phase` } },
      { name: 'early file', op: { op: 'file', path: `${d}/lb5-early`, content: 'bad\n', validate: 'false' }, beforePhaseUnless: 'false' },
      { name: 'after', op: { op: 'file', path: `${d}/lb5-after`, content: 'z\n' } },
    ]),
  ];
  const r = await runDeploy(opts(d, hosts));
  assert.equal(r.ok, false);
  assert.deepEqual(r.hosts[0]!.tasks.map((t) => [t.name, t.status]), [['in phase', 'skipped'], ['early file', 'failed'], ['after', 'skipped']]);
  assert.match(r.hosts[0]!.tasks[0]!.summary, /"early file" failed before the phase/);
  assert.match(r.hosts[0]!.tasks[1]!.error!, /validate failed/);
  for (const f of ['lb5-phase', 'lb5-early', 'lb5-after']) assert.equal(existsSync(`${d}/${f}`), false, f);
});
