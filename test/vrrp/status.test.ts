import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryStatus, startStatusServer } from '../../src/vrrp/status.ts';

const dir = mkdtempSync(join(tmpdir(), 'haup-status-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('serves the current snapshot as JSON to each client; socket mode 0600 in a 0750 directory', async () => {
  const path = join(dir, 'run', 'status.sock');
  let n = 0;
  const server = await startStatusServer(path, () => ({ instances: [{ name: 'VI_1', state: 'MASTER' }], call: ++n }));
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(statSync(path).isSocket());
    assert.equal(statSync(join(dir, 'run')).mode & 0o777, 0o750);
    assert.deepEqual(await queryStatus(path), { instances: [{ name: 'VI_1', state: 'MASTER' }], call: 1 });
    assert.deepEqual(await queryStatus(path), { instances: [{ name: 'VI_1', state: 'MASTER' }], call: 2 });
  } finally {
    await server.close();
  }
  await assert.rejects(queryStatus(path), /cannot read haupd status from .*status\.sock: .*ENOENT.* \(is haupd running\?\)/);
});

test('mode 0660 and a group on request; a snapshot that throws answers with an error document', async () => {
  const path = join(dir, 'g.sock');
  const server = await startStatusServer(
    path,
    () => {
      throw new Error('not ready');
    },
    { mode: 0o660, gid: 4 },
  );
  try {
    assert.equal(statSync(path).mode & 0o777, 0o660);
    assert.equal(statSync(path).gid, 4);
    assert.equal(statSync(path).uid, process.getuid!());
    assert.deepEqual(await queryStatus(path), { error: 'status unavailable: not ready' });
  } finally {
    await server.close();
  }
});

test('a stale socket left by a killed daemon is replaced; a live one or a regular file is refused', async () => {
  const path = join(dir, 'stale.sock');
  // What kill -9 leaves behind: a socket file nobody listens on.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(lstatSync(path).isSocket());
  const server = await startStatusServer(path, () => ({ ok: 1 }));
  try {
    assert.deepEqual(await queryStatus(path), { ok: 1 });
    // A second daemon must not steal the socket of a running one.
    await assert.rejects(startStatusServer(path, () => ({ ok: 2 })), /another haupd is running: .*stale\.sock answers/);
    assert.deepEqual(await queryStatus(path), { ok: 1 });
  } finally {
    await server.close();
  }
  const file = join(dir, 'not-a-socket');
  writeFileSync(file, 'x');
  await assert.rejects(startStatusServer(file, () => ({})), /exists and is not a socket; refusing to replace it/);
});

test('a server that never answers: the client gives up after its timeout', async () => {
  const path = join(dir, 'mute.sock');
  const mute = createServer(() => {});
  await new Promise<void>((r) => mute.listen(path, r));
  try {
    await assert.rejects(queryStatus(path, 150), /no answer from .*mute\.sock within 150 ms/);
  } finally {
    mute.close();
  }
});
