// Hand-made facts for the operation fixtures: a Debian host and a RHEL-family host.
import type { Facts } from '../../src/facts/types.ts';

export function debianFacts(over: Partial<Facts> = {}): Facts {
  return {
    os: { family: 'debian', id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    packageManager: 'apt',
    init: 'systemd',
    packages: { 'openssh-server': '1:9.2p1-2+deb12u3', curl: '7.88.1-10+deb12u8' },
    nginxVersion: null,
    haupdVersion: null,
    interfaces: [{ name: 'eth0', up: true, addresses: ['198.18.0.7/24'] }],
    files: {},
    services: {},
    probes: {},
    ...over,
  };
}

export function rhelFacts(pm: 'dnf' | 'yum', over: Partial<Facts> = {}): Facts {
  return debianFacts({
    os: { family: 'rhel', id: 'rocky', versionId: '9.3', prettyName: 'Rocky Linux 9.3 (Blue Onyx)' },
    packageManager: pm,
    packages: { openssh: '8.7p1-34.el9', curl: '7.76.1-26.el9' },
    ...over,
  });
}
