import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connectors/local.ts';
import { gatherFacts } from '../../src/facts/gather.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import { factsScript } from '../../src/facts/script.ts';

const debianOutput = `@@haup os
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
@@haup pm
apt
@@haup init
systemd
@@haup pkgs
ii |nginx|1.22.1-9+deb12u3
rc |apache2|2.4.62-1~deb12u2
ii |openssh-server|1:9.2p1-2+deb12u3
@@haup nginx
nginx version: nginx/1.22.1
@@haup haupd
0.1.0+3f2a
@@haup links
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:05 brd ff:ff:ff:ff:ff:ff link-netnsid 0
3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN
@@haup addrs
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 198.18.0.5/24 brd 198.18.0.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 198.18.0.3/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
@@haup stat
regular file|644|root|root|/etc/nginx/nginx.conf
directory|755|root|root|/etc/nginx
regular empty file|600|root|root|/etc/haup/a|b
@@haup sha256
9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  /etc/nginx/nginx.conf
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  /etc/haup/a|b
@@haup services
ActiveState=active
UnitFileState=enabled
--
ActiveState=inactive
UnitFileState=
@@haup probes
0|0
1|1
@@haup end
`;

const req = { paths: ['/etc/nginx/nginx.conf', '/etc/nginx', '/etc/haup/a|b', '/etc/absent'], services: ['nginx', 'haupd'], probes: ['id haup', 'test -f /x'] };

test('debian output: every section parsed', () => {
  const f = parseFacts(debianOutput, req);
  assert.deepEqual(f.os, { family: 'debian', id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
  assert.equal(f.packageManager, 'apt');
  assert.equal(f.init, 'systemd');
  assert.deepEqual(f.packages, { nginx: '1.22.1-9+deb12u3', 'openssh-server': '1:9.2p1-2+deb12u3' }); // rc (removed) is not installed
  assert.equal(f.nginxVersion, '1.22.1');
  assert.equal(f.haupdVersion, '0.1.0+3f2a');
  assert.deepEqual(f.interfaces, [
    { name: 'lo', up: true, addresses: ['127.0.0.1/8'] },
    { name: 'eth0', up: true, addresses: ['198.18.0.5/24', '198.18.0.3/24'] },
    { name: 'eth1', up: false, addresses: [] },
  ]);
  assert.deepEqual(f.files, {
    '/etc/nginx/nginx.conf': { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' },
    '/etc/nginx': { type: 'directory', mode: 0o755, owner: 'root', group: 'root' },
    '/etc/haup/a|b': { type: 'file', mode: 0o600, owner: 'root', group: 'root', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  });
  assert.deepEqual(f.services, { nginx: { enabled: 'enabled', active: 'active' }, haupd: { enabled: 'not-found', active: 'inactive' } });
  assert.deepEqual(f.probes, { 'id haup': 0, 'test -f /x': 1 });
});

test('rhel output: family rhel, dnf, rpm packages', () => {
  const out = `@@haup os
NAME="Rocky Linux"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
@@haup pm
dnf
@@haup init
systemd
@@haup pkgs
ii |nginx|1.20.1-14.el9_2.1
@@haup nginx
@@haup haupd
@@haup links
@@haup addrs
@@haup end
`;
  const f = parseFacts(out, { paths: [], services: [], probes: [] });
  assert.equal(f.os.family, 'rhel');
  assert.equal(f.os.id, 'rocky');
  assert.equal(f.packageManager, 'dnf');
  assert.deepEqual(f.packages, { nginx: '1.20.1-14.el9_2.1' });
  assert.equal(f.nginxVersion, null);
  assert.equal(f.haupdVersion, null);
});

test('truncated output is refused', () => {
  assert.throws(() => parseFacts(debianOutput.replace('@@haup end\n', ''), req), /truncated/);
});

test('the script asks for files, services and probes only when needed', () => {
  const bare = factsScript({ paths: [], services: [], probes: [] });
  assert.ok(!bare.includes('@@haup stat') && !bare.includes('@@haup services') && !bare.includes('@@haup probes'));
  const full = factsScript(req);
  assert.ok(full.includes("stat -c '%F|%a|%U|%G|%n' -- /etc/nginx/nginx.conf /etc/nginx '/etc/haup/a|b' /etc/absent"));
});

test('gatherFacts on this machine: one exec, files with sha256/mode/owner, absent paths missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-facts-'));
  try {
    const file = join(dir, 'with space.conf');
    writeFileSync(file, 'test');
    chmodSync(file, 0o640);
    mkdirSync(join(dir, 'sub'), { mode: 0o711 });
    let execs = 0;
    const conn = new LocalConnection('here');
    const counted = Object.assign(Object.create(conn) as LocalConnection, { exec: (c: string, o?: object) => (execs++, conn.exec(c, o)) });
    const f = await gatherFacts(counted, { paths: [file, join(dir, 'sub'), join(dir, 'nope')], services: [], probes: ['true', 'exit 3'] });
    assert.equal(execs, 1);
    assert.deepEqual(f.files[file], { type: 'file', mode: 0o640, owner: 'root', group: 'root', sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' });
    assert.deepEqual(f.files[join(dir, 'sub')], { type: 'directory', mode: 0o711, owner: 'root', group: 'root' });
    assert.equal(f.files[join(dir, 'nope')], undefined);
    assert.deepEqual(f.probes, { true: 0, 'exit 3': 3 });
    assert.equal(f.os.family, 'debian');
    assert.equal(f.packageManager, 'apt');
    assert.ok('bash' in f.packages);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apt index age: now minus the newest Packages list; null without an index; absent on non-apt hosts', () => {
  const req = { paths: [], services: [], probes: [] };
  const base = '@@haup os\nID=debian\n@@haup pm\napt\n';
  assert.equal(parseFacts(`${base}@@haup apt\n1763780000\n1763779000\n@@haup end\n`, req).aptIndexAgeSeconds, 1000);
  assert.equal(parseFacts(`${base}@@haup apt\n1763780000\n@@haup end\n`, req).aptIndexAgeSeconds, null, 'lists dir without any Packages file');
  assert.equal(parseFacts(`${base}@@haup end\n`, req).aptIndexAgeSeconds, null);
  assert.equal('aptIndexAgeSeconds' in parseFacts('@@haup os\nID=rocky\n@@haup pm\ndnf\n@@haup end\n', req), false);
});
