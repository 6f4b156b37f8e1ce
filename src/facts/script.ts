// ONE shell script gathers every fact in one round trip. Its output is sectioned by marker lines
// `@@haup SECTION` and parsed by parse.ts (pure). POSIX sh only: it also runs on RHEL-family hosts.
import { shq } from '../connectors/connection.ts';
import type { FactRequest } from './types.ts';

export const MARK = '@@haup';

export function factsScript(req: FactRequest): string {
  const paths = unique(req.paths).map(shq).join(' ');
  const lines = [
    'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"',
    `echo '${MARK} os'; cat /etc/os-release 2>/dev/null`,
    `echo '${MARK} pm'; if command -v apt-get >/dev/null 2>&1; then echo apt; elif command -v dnf >/dev/null 2>&1; then echo dnf; elif command -v yum >/dev/null 2>&1; then echo yum; else echo none; fi`,
    `echo '${MARK} init'; if [ -d /run/systemd/system ]; then echo systemd; else echo other; fi`,
    `echo '${MARK} pkgs'; if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='\${db:Status-Abbrev}|\${Package}|\${Version}\\n' 2>/dev/null; elif command -v rpm >/dev/null 2>&1; then rpm -qa --qf 'ii |%{NAME}|%{VERSION}-%{RELEASE}\\n' 2>/dev/null; fi`,
    `echo '${MARK} nginx'; command -v nginx >/dev/null 2>&1 && nginx -v 2>&1`,
    `echo '${MARK} haupd'; cat /opt/haup/VERSION 2>/dev/null`,
    // apt's index age (its cache_valid_time decision): now, then the newest Packages list's mtime.
    `echo '${MARK} apt'; if [ -d /var/lib/apt/lists ]; then date +%s; stat -c %Y /var/lib/apt/lists/*_Packages* 2>/dev/null | sort -n | tail -n 1; fi`,
    `echo '${MARK} links'; ip -o link show 2>/dev/null`,
    `echo '${MARK} addrs'; ip -o -4 addr show 2>/dev/null`,
  ];
  if (paths) {
    // One stat and one sha256sum over the whole list; absent paths print nothing.
    lines.push(`echo '${MARK} stat'; stat -c '%F|%a|%U|%G|%n' -- ${paths} 2>/dev/null`);
    lines.push(`echo '${MARK} sha256'; set --; for f in ${paths}; do [ -f "$f" ] && [ ! -L "$f" ] && set -- "$@" "$f"; done; [ $# -gt 0 ] && sha256sum -- "$@" 2>/dev/null; true`);
  }
  const services = unique(req.services);
  if (services.length > 0) {
    // One systemctl for all units: blank-line separated blocks, in the order asked.
    lines.push(`echo '${MARK} services'; systemctl show --property=UnitFileState,ActiveState -- ${services.map(shq).join(' ')} 2>/dev/null | sed 's/^$/--/'`);
  }
  const probes = unique(req.probes);
  if (probes.length > 0) {
    lines.push(`echo '${MARK} probes'`);
    probes.forEach((p, i) => lines.push(`( ${p} ) </dev/null >/dev/null 2>&1; echo "${i}|$?"`));
  }
  lines.push(`echo '${MARK} end'`);
  return lines.join('\n') + '\n';
}

export function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
