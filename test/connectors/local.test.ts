import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connectors/local.ts';
import { run, shq } from '../../src/connectors/connection.ts';
import { Semaphore } from '../../src/connectors/semaphore.ts';
import { HostError } from '../../src/util/errors.ts';

test('exec: exit code, stdout/stderr as bytes, stdin', async () => {
  const c = new LocalConnection('box');
  const r = await c.exec('cat; echo err >&2; exit 7', { stdin: Buffer.from([1, 2, 0, 255]) });
  assert.equal(r.code, 7);
  assert.deepEqual([...r.stdout], [1, 2, 0, 255]);
  assert.equal(r.stderr.toString(), 'err\n');
});

test('run(): non-zero exit becomes a HostError naming the host and the command output', async () => {
  await assert.rejects(run(new LocalConnection('box'), 'echo boom >&2; exit 3', 'frobnicate'), (e: unknown) => e instanceof HostError && e.message === 'box: frobnicate exited 3:\n  boom');
});

test('exec timeout kills the command and names it', async () => {
  const t0 = Date.now();
  await assert.rejects(new LocalConnection('box').exec('sleep 5', { timeoutMs: 200 }), /box: command timed out after 0.2 s: sleep 5/);
  assert.ok(Date.now() - t0 < 2000);
});

test('put/get round trip of binary bytes with mode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-local-'));
  try {
    const c = new LocalConnection();
    const bytes = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7) % 256));
    await c.put(join(dir, 'f'), bytes, { mode: 0o640 });
    assert.ok((await c.get(join(dir, 'f'))).equals(bytes));
    assert.equal(statSync(join(dir, 'f')).mode & 0o777, 0o640);
    await assert.rejects(c.get(join(dir, 'none')), /localhost: cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shq quotes for sh', async () => {
  assert.equal(shq('/etc/nginx/nginx.conf'), '/etc/nginx/nginx.conf');
  const nasty = `it's $(rm -rf /) "x"`;
  const r = await new LocalConnection().exec(`printf %s ${shq(nasty)}`);
  assert.equal(r.stdout.toString(), nasty);
});

test('semaphore: never more than the limit at once, all complete', async () => {
  const s = new Semaphore(10);
  let now = 0;
  let max = 0;
  const done = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      s.use(async () => {
        now++;
        max = Math.max(max, now);
        await new Promise((r) => setTimeout(r, 2 + (i % 5)));
        now--;
        return i;
      }),
    ),
  );
  assert.equal(max, 10);
  assert.equal(s.maxSeen, 10);
  assert.deepEqual(done, Array.from({ length: 50 }, (_, i) => i));
});
