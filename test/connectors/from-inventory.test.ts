import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sshOptionsFor } from '../../src/connectors/from-inventory.ts';
import { Secret } from '../../src/inventory/secrets.ts';
import type { Host } from '../../src/inventory/model.ts';

const host: Host = {
  name: 'lb5',
  role: 'lb',
  address: '198.18.0.5',
  ssh: { host: '198.18.0.5', user: 'deploy', port: 2222, privateKey: '/keys/id', knownHosts: '/keys/known_hosts', become: 'sudo', connectTimeout: 5 },
};

test('inventory ssh settings map onto the connector (become sudo, timeout in ms, strict by default)', () => {
  assert.deepEqual(sshOptionsFor(host), {
    host: 'lb5',
    address: '198.18.0.5',
    port: 2222,
    user: 'deploy',
    privateKeyPath: '/keys/id',
    knownHostsPath: '/keys/known_hosts',
    become: true,
    connectTimeoutMs: 5000,
    acceptNewHostKeys: false,
  });
  assert.equal(sshOptionsFor(host, { acceptNewHostKeys: true }).acceptNewHostKeys, true);
  assert.equal(sshOptionsFor({ ...host, ssh: { ...host.ssh, become: 'none' } }).become, false);
});

test('the key passphrase Secret is revealed only into the options', () => {
  const o = sshOptionsFor({ ...host, ssh: { ...host.ssh, passphrase: new Secret({ source: 'env', name: 'KEY_PASS' }, 'hunter2') } });
  assert.equal(o.passphrase, 'hunter2');
});
