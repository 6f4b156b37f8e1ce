// Pure parser of the facts script's output (script.ts). Unknown or empty sections give safe
// defaults (e.g. "no packages"), never a crash: a minimal host is still a host.
import { MARK, unique } from './script.ts';
import type { FactRequest, Facts, FileFact, OsFamily, PackageManager } from './types.ts';

export function splitSections(output: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${MARK} `)) {
      current = [];
      sections.set(line.slice(MARK.length + 1).trim(), current);
    } else if (current && line !== '') current.push(line);
  }
  return sections;
}

export function parseOsRelease(lines: string[]): Facts['os'] {
  const kv = new Map<string, string>();
  for (const l of lines) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l);
    if (m) kv.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
  }
  const id = kv.get('ID') ?? '';
  const like = (kv.get('ID_LIKE') ?? '').split(/\s+/);
  const ids = [id, ...like];
  let family: OsFamily = 'unknown';
  if (ids.some((x) => x === 'debian' || x === 'ubuntu')) family = 'debian';
  else if (ids.some((x) => ['rhel', 'centos', 'fedora', 'rocky', 'almalinux'].includes(x))) family = 'rhel';
  return { family, id, versionId: kv.get('VERSION_ID') ?? '', prettyName: kv.get('PRETTY_NAME') ?? id };
}

function fileType(t: string): FileFact['type'] {
  if (t.startsWith('regular')) return 'file';
  if (t === 'directory') return 'directory';
  if (t === 'symbolic link') return 'symlink';
  return 'other';
}

export function parseFacts(output: string, req: FactRequest): Facts {
  const s = splitSections(output);
  if (!s.has('end')) throw new Error('facts output is truncated (no end marker)');
  const get = (name: string) => s.get(name) ?? [];

  const packages: Record<string, string> = {};
  for (const l of get('pkgs')) {
    const [status, name, version] = l.split('|');
    if (status?.startsWith('ii') && name && version !== undefined) packages[name] = version;
  }

  const nginxLine = get('nginx').join(' ');
  const nginxVersion = /nginx\/(\S+)/.exec(nginxLine)?.[1] ?? null;
  const haupdVersion = get('haupd')[0]?.trim() || null;

  const interfaces = new Map<string, { name: string; up: boolean; addresses: string[] }>();
  for (const l of get('links')) {
    // "2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ..."
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/.exec(l);
    if (m) interfaces.set(m[1]!, { name: m[1]!, up: m[2]!.split(',').includes('UP'), addresses: [] });
  }
  for (const l of get('addrs')) {
    // "2: eth0    inet 198.18.0.5/24 brd 198.18.0.255 scope global eth0\ ..."
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(l);
    if (!m) continue;
    const iface = interfaces.get(m[1]!) ?? { name: m[1]!, up: true, addresses: [] };
    iface.addresses.push(m[2]!);
    interfaces.set(iface.name, iface);
  }

  const files: Record<string, FileFact> = {};
  const wanted = new Set(req.paths);
  for (const l of get('stat')) {
    const parts = l.split('|');
    if (parts.length < 5) continue;
    const [type, mode, owner, group] = parts;
    const path = parts.slice(4).join('|');
    if (!wanted.has(path)) continue;
    files[path] = { type: fileType(type!), mode: parseInt(mode!, 8), owner: owner!, group: group! };
  }
  for (const l of get('sha256')) {
    const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(l);
    if (m && files[m[2]!]) files[m[2]!]!.sha256 = m[1]!;
  }

  // `systemctl show` blocks (separated by "--"), one per requested unit, in request order.
  const services: Facts['services'] = {};
  const serviceNames = unique(req.services);
  let block: Record<string, string> = {};
  let index = 0;
  const flush = () => {
    const name = serviceNames[index++];
    if (name !== undefined) services[name] = { enabled: block.UnitFileState || 'not-found', active: block.ActiveState || 'unknown' };
    block = {};
  };
  const serviceLines = get('services');
  for (const l of serviceLines) {
    if (l === '--') flush();
    else {
      const eq = l.indexOf('=');
      if (eq > 0) block[l.slice(0, eq)] = l.slice(eq + 1);
    }
  }
  if (serviceLines.length > 0) flush();

  const probes: Record<string, number> = {};
  const probeList = unique(req.probes);
  for (const l of get('probes')) {
    const [i, code] = l.split('|');
    const cmd = probeList[Number(i)];
    if (cmd !== undefined) probes[cmd] = Number(code);
  }

  const pm = (get('pm')[0] ?? 'none').trim();
  const [now, newest] = get('apt').map((l) => Number(l.trim()));
  const facts: Facts = {
    os: parseOsRelease(get('os')),
    packageManager: (['apt', 'dnf', 'yum'].includes(pm) ? pm : 'none') as PackageManager,
    init: get('init')[0]?.trim() === 'systemd' ? 'systemd' : 'other',
    packages,
    nginxVersion,
    haupdVersion,
    interfaces: [...interfaces.values()],
    files,
    services,
    probes,
  };
  if (pm === 'apt') facts.aptIndexAgeSeconds = now !== undefined && newest !== undefined && Number.isFinite(now) && Number.isFinite(newest) ? now - newest : null;
  return facts;
}
