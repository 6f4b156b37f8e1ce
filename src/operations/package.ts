// package: install/remove with apt (Debian family) or dnf/yum (RHEL family). Non-interactive,
// no recommends / weak dependencies, and existing config files kept on upgrade.
import { shq } from '../connectors/connection.ts';
import type { Facts, FactRequest } from '../facts/types.ts';
import { PlanError } from './errors.ts';
import type { Change, PackageSpec } from './types.ts';

// Wait for the dpkg lock (an apt timer or another tool may hold it) instead of failing at once.
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120';
const APT_INSTALL_OPTS = '-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

export function needs(_spec: PackageSpec): Partial<FactRequest> {
  return {};
}

export function plan(spec: PackageSpec, facts: Facts): Change {
  const state = spec.state ?? 'present';
  const targets = state === 'present' ? spec.names.filter((n) => !(n in facts.packages)) : spec.names.filter((n) => n in facts.packages);
  if (targets.length === 0) {
    return { status: 'ok', summary: `${spec.names.join(', ')} ${state === 'present' ? 'installed' : 'absent'}`, steps: [] };
  }
  const list = targets.map(shq).join(' ');
  const commands: string[] = [];
  switch (facts.packageManager) {
    case 'apt':
      if (state === 'present') {
        if (spec.update) commands.push(`${APT} update -q`);
        commands.push(`${APT} install ${APT_INSTALL_OPTS} ${list}`);
      } else commands.push(`${APT} remove -y -q ${list}`);
      break;
    case 'dnf':
      if (state === 'present') commands.push(`dnf install -y -q --setopt=install_weak_deps=False${spec.update ? ' --refresh' : ''} ${list}`);
      else commands.push(`dnf remove -y -q ${list}`);
      break;
    case 'yum':
      // yum (EL7) has no weak dependencies; makecache is its index refresh.
      if (state === 'present') {
        if (spec.update) commands.push('yum makecache -q');
        commands.push(`yum install -y -q ${list}`);
      } else commands.push(`yum remove -y -q ${list}`);
      break;
    case 'none':
      throw new PlanError(`no supported package manager (apt, dnf, yum) on ${facts.os.prettyName || 'this host'}`);
  }
  const change: Change = {
    status: 'changed',
    summary: `${state === 'present' ? 'install' : 'remove'} ${targets.join(', ')}`,
    steps: commands.map((command) => ({ kind: 'exec', command })),
  };
  if (state === 'present') change.installs = targets;
  return change;
}
