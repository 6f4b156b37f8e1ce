import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { Secret, readSecret, type SecretIO } from '../../src/inventory/secrets.ts';

const realIO = (env: Record<string, string> = {}): SecretIO => ({
  env,
  readFile: (p) => readFile(p, 'utf8'),
  stat: async (p) => {
    const st = await stat(p);
    return { mode: st.mode & 0o777, isFile: st.isFile(), size: st.size };
  },
});

test('a Secret never prints its value', () => {
  const s = new Secret({ source: 'env', name: 'X' }, 'hunter2');
  const renderings = [String(s), `${s}`, JSON.stringify({ s }), inspect(s), inspect({ deep: { s } }, { depth: 10 }), format('%s %o %O %j', s, s, s, s)];
  for (const r of renderings) assert.equal(r.includes('hunter2'), false, r);
  assert.equal(String(s), '[secret]');
  assert.equal(JSON.stringify({ s }), '{"s":"[secret]"}');
  assert.equal(inspect(s), '[secret]');
  // console.dir turns custom inspection off: the value is a private field, still invisible.
  assert.equal(inspect(s, { customInspect: false, showHidden: true }).includes('hunter2'), false);
  assert.equal(s.reveal(), 'hunter2');
});

test('env secret: set, unset, empty', async () => {
  const io = realIO({ A: 'pw', E: '' });
  assert.deepEqual(await readSecret({ source: 'env', name: 'A' }, io), { ok: true, value: 'pw' });
  assert.deepEqual(await readSecret({ source: 'env', name: 'B' }, io), { ok: false, reason: 'unset', message: 'environment variable B is not set' });
  assert.deepEqual(await readSecret({ source: 'env', name: 'E' }, io), { ok: false, reason: 'invalid', message: 'environment variable E is empty' });
});

test('file secret on disk: trailing newline dropped, mode checked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haup-secrets-test-'));
  try {
    const file = join(dir, 'pass');
    await writeFile(file, 'abc def\n', { mode: 0o600 });
    await chmod(file, 0o600);
    assert.deepEqual(await readSecret({ source: 'file', path: file }, realIO()), { ok: true, value: 'abc def' });
    await chmod(file, 0o604);
    assert.deepEqual(await readSecret({ source: 'file', path: file }, realIO()), {
      ok: true,
      value: 'abc def',
      warning: `secret file ${file} is accessible to others (mode 0604); run chmod 600 ${file}`,
    });
    await writeFile(file, 'two\nlines\r\n');
    await chmod(file, 0o600);
    assert.deepEqual(await readSecret({ source: 'file', path: file }, realIO()), { ok: true, value: 'two\nlines' });
    assert.deepEqual(await readSecret({ source: 'file', path: dir }, realIO()), {
      ok: false,
      reason: 'invalid',
      message: `secret file ${dir} is not a regular file`,
    });
    assert.deepEqual(await readSecret({ source: 'file', path: '/dev/zero' }, realIO()), {
      ok: false,
      reason: 'invalid',
      message: 'secret file /dev/zero is not a regular file',
    });
    const big = join(dir, 'big');
    await writeFile(big, Buffer.alloc(65 * 1024, 'a'), { mode: 0o600 });
    assert.deepEqual(await readSecret({ source: 'file', path: big }, realIO()), {
      ok: false,
      reason: 'invalid',
      message: `secret file ${big} is 66560 bytes; a secret file holds one short secret`,
    });
    assert.deepEqual(await readSecret({ source: 'file', path: join(dir, 'nope') }, realIO()), {
      ok: false,
      reason: 'unreadable',
      message: `cannot read secret file ${join(dir, 'nope')}: no such file`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
