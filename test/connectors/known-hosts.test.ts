import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  entryMatches,
  fingerprint,
  hostToken,
  keyTypeOf,
  parseKnownHosts,
  preferredHostKeyTypes,
} from '../../src/connectors/known-hosts.ts';

const dir = mkdtempSync(join(tmpdir(), 'haup-kh-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A real key pair from ssh-keygen: the public blob and OpenSSH's own fingerprint of it. */
function keygen(name: string, type: 'ed25519' | 'ecdsa' | 'rsa') {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const pub = readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
  const blob = Buffer.from(pub[1]!, 'base64');
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { type: pub[0]!, b64: pub[1]!, blob, fp };
}

const a = keygen('a', 'ed25519');
const b = keygen('b', 'ed25519');
const e = keygen('e', 'ecdsa');

test('fingerprint and key type match OpenSSH', () => {
  assert.equal(fingerprint(a.blob), a.fp);
  assert.equal(keyTypeOf(a.blob), 'ssh-ed25519');
  assert.equal(keyTypeOf(e.blob), 'ecdsa-sha2-nistp256');
});

test('plain entry: trusted; other key of same type: CHANGED with both fingerprints', () => {
  const entries = parseKnownHosts(`# comment\n198.18.10.2 ${a.type} ${a.b64}\n`);
  assert.deepEqual(checkHostKey(entries, ['198.18.10.2'], 22, a.blob), { status: 'trusted', fingerprint: a.fp });
  assert.deepEqual(checkHostKey(entries, ['198.18.10.2'], 22, b.blob), {
    status: 'changed',
    fingerprint: b.fp,
    keyType: 'ssh-ed25519',
    known: [{ keyType: 'ssh-ed25519', fingerprint: a.fp, line: 2 }],
  });
  assert.deepEqual(checkHostKey(entries, ['198.18.10.9'], 22, a.blob), { status: 'unknown', fingerprint: a.fp, keyType: 'ssh-ed25519' });
});

test('key type must match: only an ed25519 entry on record and the host offers ecdsa -> changed, not trusted', () => {
  const entries = parseKnownHosts(`web7 ${a.type} ${a.b64}\n`);
  const v = checkHostKey(entries, ['198.18.0.7', 'web7'], 22, e.blob);
  assert.equal(v.status, 'changed');
  // an entry whose bytes equal but whose type field differs is not a match either
  const lying = parseKnownHosts(`web7 ecdsa-sha2-nistp256 ${a.b64}\n`);
  assert.equal(checkHostKey(lying, ['web7'], 22, a.blob).status, 'changed');
});

test('non-22 ports use [host]:port; a port-22 entry does not cover port 2222', () => {
  assert.equal(hostToken('198.18.10.2', 22), '198.18.10.2');
  assert.equal(hostToken('198.18.10.2', 2222), '[198.18.10.2]:2222');
  const entries = parseKnownHosts(`198.18.10.2 ${a.type} ${a.b64}\n[198.18.10.2]:2222 ${b.type} ${b.b64}\n`);
  assert.equal(checkHostKey(entries, ['198.18.10.2'], 2222, b.blob).status, 'trusted');
  assert.equal(checkHostKey(entries, ['198.18.10.2'], 2222, a.blob).status, 'changed');
});

test('hashed entries written by ssh-keygen -H match (port 22 and [host]:port)', () => {
  const file = join(dir, 'hashed');
  writeFileSync(file, `198.18.10.2 ${a.type} ${a.b64}\n[198.18.10.3]:2222 ${b.type} ${b.b64}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\|1\|/);
  assert.ok(!text.includes('198.18.10.2'));
  const entries = parseKnownHosts(text);
  assert.equal(checkHostKey(entries, ['198.18.10.2'], 22, a.blob).status, 'trusted');
  assert.equal(checkHostKey(entries, ['198.18.10.3'], 2222, b.blob).status, 'trusted');
  assert.equal(checkHostKey(entries, ['198.18.10.3'], 22, b.blob).status, 'unknown');
  assert.equal(checkHostKey(entries, ['198.18.10.2'], 22, b.blob).status, 'changed');
});

test('patterns: comma lists, wildcards, negation', () => {
  const [entry] = parseKnownHosts(`lb*,198.18.0.?,!lb9 ${a.type} ${a.b64}\n`);
  assert.ok(entryMatches(entry!, 'lb5'));
  assert.ok(entryMatches(entry!, '198.18.0.6'));
  assert.ok(!entryMatches(entry!, '198.18.0.10'));
  assert.ok(!entryMatches(entry!, 'lb9'));
});

test('@revoked wins even over a matching plain entry; @cert-authority is ignored', () => {
  const entries = parseKnownHosts(`198.18.10.2 ${a.type} ${a.b64}\n@revoked * ${a.type} ${a.b64}\n@cert-authority * ${b.type} ${b.b64}\n`);
  assert.deepEqual(checkHostKey(entries, ['198.18.10.2'], 22, a.blob), { status: 'revoked', fingerprint: a.fp, line: 2 });
  assert.equal(checkHostKey(entries, ['198.18.10.9'], 22, b.blob).status, 'unknown');
});

test('preferred host key types: the recorded type first', () => {
  const entries = parseKnownHosts(`198.18.10.2 ${e.type} ${e.b64}\n`);
  const order = preferredHostKeyTypes(entries, ['198.18.10.2'], 22, ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512']);
  assert.deepEqual(order, ['ecdsa-sha2-nistp256', 'ssh-ed25519', 'rsa-sha2-512']);
});

test('appendKnownHost adds one parseable line, after a missing final newline, file 0600', async () => {
  const file = join(dir, 'sub', 'known_hosts');
  await appendKnownHost(file, '198.18.10.2', 2222, a.blob);
  writeFileSync(file, readFileSync(file, 'utf8') + `# no newline`);
  await appendKnownHost(file, '198.18.10.4', 22, b.blob);
  const text = readFileSync(file, 'utf8');
  assert.equal(text, `[198.18.10.2]:2222 ssh-ed25519 ${a.b64}\n# no newline\n198.18.10.4 ssh-ed25519 ${b.b64}\n`);
  const entries = parseKnownHosts(text);
  assert.equal(checkHostKey(entries, ['198.18.10.2'], 2222, a.blob).status, 'trusted');
  assert.equal(checkHostKey(entries, ['198.18.10.4'], 22, b.blob).status, 'trusted');
});
