// The confirmed nginx reload (nginxReloadScript): against a stand-in master process that, like
// nginx, answers SIGHUP either by starting new workers (the new config is live) or by logging
// [emerg] and keeping its old workers (e.g. bind() failed: the port is taken), or not at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxReloadHandler, nginxReloadScript } from '../../src/roles/nginx.ts';

const BIND = (t: string) => `2026/11/22 01:00:0${t} [emerg] 812#812: bind() to 0.0.0.0:8080 failed (98: Address already in use)`;

// The stand-in master: on SIGHUP it starts a new worker ('ok') or does nothing. Anything it ran
// itself would be its child, i.e. look like a new worker, so the failed reload's log lines are
// written by the fake `systemctl reload` (as nginx's, a few over ~1 s: a bind() retried, then
// given up).
const MASTER = `
mode=$1
sleep 300 &
hup() { if [ "$mode" = ok ]; then sleep 300 & fi; }
trap hup HUP
trap 'exit 0' TERM
while :; do wait; done
`;
const EMERG_WRITER = `echo '${BIND('0')}' >> "$LOG"; sleep 0.5; echo '${BIND('1')}' >> "$LOG"; sleep 0.5; echo '2026/11/22 01:00:02 [emerg] 812#812: still could not bind()' >> "$LOG"`;

async function withMaster(mode: 'ok' | 'emerg' | 'silent', fn: (env: NodeJS.ProcessEnv, log: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'haup-nginx-reload-'));
  const log = join(dir, 'error.log');
  // an [emerg] from an earlier, unrelated failure must not count
  writeFileSync(log, '2026/11/21 23:00:00 [emerg] 700#700: an old error\n');
  const master = spawn('sh', ['-c', MASTER, 'master', mode], { detached: true, stdio: 'ignore' });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  await new Promise((r) => setTimeout(r, 300)); // the master's first worker is up
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh\ncase "$1" in show) echo ${master.pid} ;; reload) kill -HUP ${master.pid}${mode === 'emerg' ? ` && LOG='${log}' setsid sh '${join(dir, 'emerg.sh')}' >/dev/null 2>&1 &` : ''} ;; *) exit 2 ;; esac\n`,
  );
  chmodSync(join(bin, 'systemctl'), 0o755);
  writeFileSync(join(dir, 'emerg.sh'), EMERG_WRITER + '\n');
  try {
    await fn({ ...process.env, PATH: `${bin}:${process.env.PATH}` }, log);
  } finally {
    try {
      process.kill(-master.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function runScript(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr, ms: performance.now() - t0 });
    });
  });
}

test('nginx reload handler: the confirmed reload script, and restoreOnFailure', () => {
  const h = nginxReloadHandler();
  assert.deepEqual(h, { name: 'reload nginx', op: { op: 'command', command: nginxReloadScript(), onlyIf: 'systemctl is-active --quiet nginx.service' }, restoreOnFailure: true });
  assert.match(nginxReloadScript(), /^systemctl reload nginx\.service \|\| exit 1$/m);
  assert.match(nginxReloadScript(), /^log=\/var\/log\/nginx\/error\.log$/m);
});

test('reload confirmed: the master started a new worker -> exit 0 (an old [emerg] in the log does not count)', async () => {
  await withMaster('ok', async (env, log) => {
    const r = await runScript(nginxReloadScript({ log }), env);
    assert.deepEqual([r.code, r.stderr], [0, '']);
  });
});

test('reload that nginx could not apply (bind() failed): exit 1 with nginx\'s messages once each, after its retries', async () => {
  await withMaster('emerg', async (env, log) => {
    const r = await runScript(nginxReloadScript({ log }), env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'nginx kept its previous configuration:\n[emerg] bind() to 0.0.0.0:8080 failed (98: Address already in use)\n[emerg] still could not bind()\n');
    assert.ok(r.ms < 8000, `${r.ms} ms`);
  });
});

test('reload with neither new workers nor an error: bounded wait, then exit 1', async () => {
  await withMaster('silent', async (env, log) => {
    const r = await runScript(nginxReloadScript({ log, waitTenths: 10 }), env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `nginx started no new worker within 1 s of the reload and logged no error in ${log}\n`);
  });
});
