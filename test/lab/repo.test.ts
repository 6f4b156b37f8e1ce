import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseSimulation, releaseText } from '../../src/lab/repo.ts';
import { knownHostsText } from '../../src/lab/ssh.ts';

test('parseSimulation: new installs and upgrades, with epochs; Conf lines ignored', () => {
  const out = [
    'NOTE: This is only a simulation!',
    'Inst perl-base [5.36.0-7+deb12u1] (5.36.0-7+deb12u4 Debian-Security:12/stable-security [amd64])',
    'Inst keepalived (1:2.2.7-1+b2 Debian:12.11/stable [amd64])',
    'Inst nginx (1.22.1-9+deb12u11 Debian-Security:12/stable-security [amd64])',
    'Conf nginx (1.22.1-9+deb12u11 Debian-Security:12/stable-security [amd64])',
  ].join('\n');
  assert.deepEqual(parseSimulation(out), ['perl-base=5.36.0-7+deb12u4', 'keepalived=1:2.2.7-1+b2', 'nginx=1.22.1-9+deb12u11']);
  assert.deepEqual(parseSimulation('0 upgraded, 0 newly installed'), []);
});

test('releaseText: size and digests of each index file', () => {
  const data = Buffer.from('Package: x\n');
  const text = releaseText([{ name: 'Packages', data }], new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
  const sha = createHash('sha256').update(data).digest('hex');
  const md5 = createHash('md5').update(data).digest('hex');
  assert.match(text, /^Date: Fri, 02 Jan 2026 03:04:05 GMT$/m);
  assert.ok(text.includes(`MD5Sum:\n ${md5} 11 Packages\n`));
  assert.ok(text.includes(`SHA256:\n ${sha} 11 Packages\n`));
});

test('knownHostsText: address then key type and key, comment dropped', () => {
  assert.equal(
    knownHostsText([
      { address: '198.18.0.5', publicKey: 'ssh-ed25519 AAAAC3Nza root@lb5\n' },
      { address: '198.18.0.6', publicKey: 'ssh-ed25519 AAAAC3Nzb' },
    ]),
    '198.18.0.5 ssh-ed25519 AAAAC3Nza\n198.18.0.6 ssh-ed25519 AAAAC3Nzb\n',
  );
});
