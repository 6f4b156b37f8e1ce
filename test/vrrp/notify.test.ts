import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, notifyCommands } from '../../src/vrrp/notify.ts';

const dir = mkdtempSync(join(tmpdir(), 'haup-notify-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

function memoryLog() {
  const lines: [string, string, Record<string, unknown>][] = [];
  const at = (level: string) => (event: string, fields: Record<string, unknown> = {}) => void lines.push([level, event, fields]);
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

test('commands of one transition: the state script as configured, then notify with INSTANCE NAME STATE PRIORITY', () => {
  const cmds = notifyCommands(
    { notify: ['/bin/n1 --x'], master: ['/bin/m1', ' /bin/m2  a '], backup: ['/bin/b1'] },
    { instance: 'VI_1', state: 'MASTER', previousState: 'BACKUP', priority: 150, reason: 'master down timer' },
  );
  const env = { HAUPD_INSTANCE: 'VI_1', HAUPD_STATE: 'MASTER', HAUPD_PREVIOUS_STATE: 'BACKUP', HAUPD_PRIORITY: '150', HAUPD_REASON: 'master down timer' };
  assert.deepEqual(cmds, [
    { argv: ['/bin/m1'], env },
    { argv: ['/bin/m2', 'a'], env },
    { argv: ['/bin/n1', '--x', 'INSTANCE', 'VI_1', 'MASTER', '150'], env },
  ]);
  assert.deepEqual(notifyCommands({ master: ['/bin/m1'] }, { instance: 'VI_1', state: 'FAULT', priority: 100 }), []);
});

test('scripts run strictly in order even when an earlier one is slower', async () => {
  const out = join(dir, 'order.log');
  const slow = script('slow', `sleep 0.3; echo "slow $HAUPD_STATE $HAUPD_PRIORITY" >> ${out}`);
  const fast = script('fast', `echo "fast $HAUPD_STATE $*" >> ${out}`);
  const { log, lines } = memoryLog();
  const n = createNotifier({ timeoutMs: 5000, log });
  n.notify({ master: [slow], notify: [fast] }, { instance: 'VI_1', state: 'MASTER', priority: 150 });
  n.notify({ backup: [slow], notify: [fast] }, { instance: 'VI_1', state: 'BACKUP', priority: 100 });
  assert.equal(n.pending, 4);
  assert.equal(await n.drain(5000), true);
  assert.equal(
    readFileSync(out, 'utf8'),
    'slow MASTER 150\nfast MASTER INSTANCE VI_1 MASTER 150\nslow BACKUP 100\nfast BACKUP INSTANCE VI_1 BACKUP 100\n',
  );
  assert.deepEqual(
    lines.map(([level, event]) => `${level} ${event}`),
    ['info notify_done', 'info notify_done', 'info notify_done', 'info notify_done'],
  );
});

test('a script that hangs is killed at its timeout and the queue moves on; failures are logged', async () => {
  const out = join(dir, 'after.log');
  const hang = script('hang', 'sleep 30');
  const fail = script('fail', 'echo nope >&2; exit 4');
  const next = script('next', `echo next >> ${out}`);
  const { log, lines } = memoryLog();
  const n = createNotifier({ timeoutMs: 200, log });
  const t0 = performance.now();
  n.notify({ fault: [hang, fail, next] }, { instance: 'VI_2', state: 'FAULT', priority: 100 });
  assert.equal(await n.drain(5000), true);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(readFileSync(out, 'utf8'), 'next\n');
  const got = lines.map(([level, event, f]) => [level, event, String(f.error ?? '')]);
  assert.equal(got.length, 3);
  assert.deepEqual(got[0]!.slice(0, 2), ['warn', 'notify_failed']);
  assert.match(got[0]![2]!, /^timed out after \d+ ms \(process group killed\)$/);
  assert.deepEqual(got.slice(1), [
    ['warn', 'notify_failed', 'exit 4: nope'],
    ['info', 'notify_done', ''],
  ]);
});

test('the queue is bounded: beyond maxQueued commands are dropped with an error', async () => {
  const { log, lines } = memoryLog();
  const n = createNotifier({ timeoutMs: 1000, maxQueued: 2, log });
  n.notify({ stop: ['true', 'true', 'true'] }, { instance: 'VI_3', state: 'STOP', priority: 0 });
  assert.equal(lines.filter(([, e]) => e === 'notify_dropped').length, 1);
  assert.equal(await n.drain(3000), true);
  assert.equal(lines.filter(([, e]) => e === 'notify_done').length, 2);
});

test('drain reports false when the queue does not empty in time', async () => {
  const n = createNotifier({ timeoutMs: 2000 });
  n.notify({ master: [script('long', 'sleep 0.5')] }, { instance: 'VI_4', state: 'MASTER', priority: 100 });
  assert.equal(await n.drain(50), false);
  assert.equal(await n.drain(3000), true);
});
