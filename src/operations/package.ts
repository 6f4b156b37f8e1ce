// package: install/remove with apt (Debian family) or dnf/yum (RHEL family). Non-interactive,
// no recommends / weak dependencies, and existing config files kept on upgrade.
import { shq } from '../connectors/connection.ts';
import type { Facts, FactRequest } from '../facts/types.ts';
import { PlanError } from './errors.ts';
import type { Change, PackageSpec } from './types.ts';

// Wait for the dpkg lock (an apt timer or another tool may hold it) instead of failing at once.
// No pty for dpkg: its progress bar is of no use over a non-interactive channel.
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -o Dpkg::Use-Pty=0';
const APT_INSTALL_OPTS = '-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

/** Ansible's cache_valid_time, on by default: an index younger than this is not refreshed. */
export const DEFAULT_CACHE_VALID_SECONDS = 3600;

export const POLICY_RC_D = '/usr/sbin/policy-rc.d';
/** The marker line of the policy-rc.d haup writes: only a file with it is ever removed by haup. */
export const POLICY_MARKER = '# haup: no service starts during this apt-get run';

/**
 * `noStart`: Debian's own mechanism (policy-rc.d, as debootstrap and container builds use it) so
 * that the packages' maintainer scripts do not start their services: the role starts them once
 * their configuration is in place. Written inside apt's lock (DPkg::Pre-Invoke, so a concurrent
 * apt run of another tool never sees it), only when the host has no policy-rc.d of its own, and
 * removed right after dpkg (Post-Invoke, and again by the command itself whatever apt's exit).
 * nginx is the case that pays: its postinst finds the server nginx-common's postinst just started
 * and does an online binary upgrade that sleeps 1 s.
 */
const policyWrite = `[ -e ${POLICY_RC_D} ] || { printf '#!/bin/sh\\n${POLICY_MARKER}\\nexit 101\\n' > ${POLICY_RC_D}.haup && chmod 755 ${POLICY_RC_D}.haup && mv -f ${POLICY_RC_D}.haup ${POLICY_RC_D}; }`;
const policyRemove = `if grep -qsxF ${shq(POLICY_MARKER)} ${POLICY_RC_D}; then rm -f ${POLICY_RC_D}; fi`;

export function needs(_spec: PackageSpec): Partial<FactRequest> {
  return {};
}

/**
 * Pure: whether `apt-get update` must run before installing. The index is refreshed when the
 * host has none, when its age is unknown, or when it is older than the cache validity; a fresh
 * index is trusted, but the install is simulated first and the index refreshed anyway when a
 * package cannot be resolved from it (a package added to the archive since).
 */
export function aptUpdateDecision(spec: PackageSpec, facts: Facts): 'update' | 'if-unresolvable' | 'none' {
  if (!spec.update) return 'none';
  const age = facts.aptIndexAgeSeconds;
  const valid = spec.cacheValidSeconds ?? DEFAULT_CACHE_VALID_SECONDS;
  if (age === undefined || age === null || age < 0 || age >= valid) return 'update';
  return 'if-unresolvable';
}

function aptInstall(spec: PackageSpec, facts: Facts, list: string): string[] {
  const commands: string[] = [];
  const decision = aptUpdateDecision(spec, facts);
  if (decision === 'update') commands.push(`${APT} update -q`);
  if (decision === 'if-unresolvable') commands.push(`apt-get install -s -qq --no-install-recommends ${list} >/dev/null 2>&1 || ${APT} update -q`);
  const install = `${APT} install ${APT_INSTALL_OPTS} ${list}`;
  if (!spec.noStart) commands.push(install);
  else {
    const hooks = `-o ${shq(`DPkg::Pre-Invoke::=${policyWrite}`)} -o ${shq(`DPkg::Post-Invoke::=${policyRemove}`)}`;
    commands.push([`${APT} ${hooks} install ${APT_INSTALL_OPTS} ${list}; rc=$?`, policyRemove, 'exit $rc'].join('\n'));
  }
  return commands;
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
      if (state === 'present') commands.push(...aptInstall(spec, facts, list));
      else commands.push(`${APT} remove -y -q ${list}`);
      break;
    case 'dnf':
      // dnf/yum packages do not start their services on install: noStart needs nothing here.
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
