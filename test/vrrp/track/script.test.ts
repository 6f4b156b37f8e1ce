// Track scripts with real processes (no network): exit codes, timeouts that kill the whole
// process group, leftovers killed, and the rise/fall loop on a real clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseScript, runScriptProbe, startTrackScript } from '../../../src/vrrp/track/script.ts';
import type { CheckStatus } from '../../../src/vrrp/track/state.ts';

const dir = mkdtempSync(join(tmpdir(), 'haup-track-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

/** Processes whose command line contains `marker` (a unique sleep duration). */
function alive(marker: string): number {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

test('parseScript: builtins and command lines', () => {
  assert.deepEqual(parseScript('builtin:nginx'), { kind: 'builtin-nginx' });
  assert.deepEqual(parseScript(' builtin:nginx:8080 '), { kind: 'builtin-nginx', port: 8080 });
  assert.deepEqual(parseScript('/usr/local/bin/check  --fast x'), { kind: 'command', argv: ['/usr/local/bin/check', '--fast', 'x'] });
  assert.throws(() => parseScript('builtin:haproxy'), /unknown built-in check "builtin:haproxy"/);
  assert.throws(() => parseScript('builtin:nginx:70000'), /bad port/);
  assert.throws(() => parseScript('   '), /empty track script/);
});

test('exit 0 is OK; a non-zero exit and a missing program fail with a reason', async () => {
  assert.deepEqual(await runScriptProbe(['true'], 2000), { ok: true });
  assert.deepEqual(await runScriptProbe([script('fail3', 'echo broken >&2; exit 3')], 2000), { ok: false, detail: 'exit 3: broken' });
  const missing = await runScriptProbe([join(dir, 'does-not-exist')], 2000);
  assert.equal(missing.ok, false);
  assert.match(missing.detail ?? '', /could not start: .*ENOENT/);
});

test('timeout kills the whole process group (the shell and its children)', async () => {
  const marker = '31.41592';
  const p = script('hang', `sleep ${marker} & sleep ${marker}; echo never`);
  const t0 = performance.now();
  const r = await runScriptProbe([p], 300);
  const took = performance.now() - t0;
  assert.equal(r.ok, false);
  assert.match(r.detail ?? '', /^timed out after \d+ ms \(process group killed\)$/);
  assert.ok(took >= 300 && took < 1500, `took ${took} ms`);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(alive(marker), 0);
});

test('what a check leaves running in its group is killed when it exits', async () => {
  const marker = '27.18281';
  const p = script('leaky', `sleep ${marker} >/dev/null 2>&1 & exit 0`);
  assert.deepEqual(await runScriptProbe([p], 2000), { ok: true });
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(alive(marker), 0);
});

test('a track script on a real clock: fails after `fall` runs, recovers after `rise`', async () => {
  const flag = join(dir, 'healthy');
  writeFileSync(flag, '');
  const p = script('flagcheck', `test -e ${flag}`);
  const changes: [CheckStatus, number][] = [];
  const t0 = performance.now();
  const t = startTrackScript({ name: 'flag', script: p, intervalMs: 50, timeoutMs: 1000, rise: 2, fall: 3, weight: 0 }, (s) =>
    changes.push([s, performance.now() - t0]),
  );
  try {
    await waitUntil(() => changes.length === 1, 2000);
    assert.equal(changes[0]![0], 'ok');
    rmSync(flag);
    const failedAfterRun = t.runs;
    await waitUntil(() => changes.length === 2, 3000);
    assert.equal(changes[1]![0], 'failed');
    // exactly `fall` failing runs (the run in flight when the flag went may still have passed)
    assert.ok(t.runs - failedAfterRun >= 3 && t.runs - failedAfterRun <= 4, `runs ${t.runs - failedAfterRun}`);
    assert.match(t.last?.detail ?? '', /^exit 1$/);
    writeFileSync(flag, '');
    await waitUntil(() => changes.length === 3, 3000);
    assert.equal(changes[2]![0], 'ok');
  } finally {
    t.stop();
  }
  const runs = t.runs;
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(t.runs <= runs + 1, 'stopped');
});

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
