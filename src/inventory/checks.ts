// Semantic checks: rules that span several values, run after the schema accepted the file.
// Pure: raw inventory in, problems (data path + message) out; the loader locates them in the file.
import { didYouMean } from '../config/suggest.ts';
import type { DataPath } from '../config/source.ts';
import { BUILTIN_CHECKS, DEFAULTS } from './defaults.ts';
import { isNetworkOrBroadcast, parseCidr, sameSubnet } from './net.ts';
import type { RawInstance, RawInventory } from './schema.ts';

export interface Problem {
  path: DataPath;
  message: string;
  severity: 'error' | 'warning';
  /** Point at the key rather than the value (names, unknown references). */
  anchor?: 'key' | 'value';
}

const GROUPS = ['web', 'lb', 'probe'] as const;
type Group = (typeof GROUPS)[number];

interface HostInfo {
  group: Group;
  address: string;
  interface?: string;
}

export function checkInventory(inv: RawInventory): Problem[] {
  const problems: Problem[] = [];
  const error = (path: DataPath, message: string, anchor?: 'key') => problems.push({ path, message, severity: 'error', ...(anchor ? { anchor } : {}) });
  const warn = (path: DataPath, message: string, anchor?: 'key') => problems.push({ path, message, severity: 'warning', ...(anchor ? { anchor } : {}) });

  // Hosts: names unique across groups, addresses unique across everything.
  const hosts = new Map<string, HostInfo>();
  const byAddress = new Map<string, string>();
  for (const group of GROUPS) {
    const entries = Object.entries(inv[group]?.hosts ?? {});
    for (const [name, host] of entries) {
      const other = hosts.get(name);
      if (other) {
        error([group, 'hosts', name], `host name ${name} is already used in the ${other.group} group; names must be unique across web, lb and probe`, 'key');
        continue;
      }
      const iface = 'interface' in host && typeof host.interface === 'string' ? host.interface : undefined;
      hosts.set(name, iface ? { group, address: host.address, interface: iface } : { group, address: host.address });
      const owner = byAddress.get(host.address);
      if (owner) error([group, 'hosts', name, 'address'], `address ${host.address} is already used by ${owner}`);
      else byAddress.set(host.address, name);
    }
  }
  const lbNames = [...hosts].filter(([, h]) => h.group === 'lb').map(([n]) => n);
  if (Object.keys(inv.web.hosts).length === 0) error(['web', 'hosts'], 'at least one web host is needed (the nginx upstream would be empty)', 'key');
  if (lbNames.length < 2) error(['lb', 'hosts'], `at least two LB hosts are needed for a VRRP pair, got ${lbNames.length}`, 'key');

  const checks = inv.vrrp.checks ?? {};
  for (const [name, check] of Object.entries(checks)) {
    if (check.script.startsWith('builtin:')) {
      const which = check.script.slice('builtin:'.length);
      if (!(BUILTIN_CHECKS as readonly string[]).includes(which)) {
        const known = BUILTIN_CHECKS.map((b) => `builtin:${b}`);
        error(['vrrp', 'checks', name, 'script'], `unknown built-in check ${check.script}${didYouMean(check.script, known)}; built-ins: ${known.join(', ')}`);
      }
    }
  }

  const instanceNames = new Map<string, number>();
  const vipOwners = new Map<string, string>(); // VIP address -> instance name
  const vridUse = new Map<string, string>(); // host \0 interface \0 vrid -> instance name
  const tracked = new Set<string>();
  inv.vrrp.instances.forEach((inst, i) => {
    const at = (...rest: (string | number)[]): DataPath => ['vrrp', 'instances', i, ...rest];
    if (instanceNames.has(inst.name)) error(at('name'), `instance name ${inst.name} is already used by vrrp.instances[${instanceNames.get(inst.name)}]`);
    else instanceNames.set(inst.name, i);

    // Members: every name a defined LB, at least two, priorities in range and distinct.
    const members: { name: string; address: string; priority: number; interface: string }[] = [];
    const entries = Object.entries(inst.priorities);
    for (const [name, priority] of entries) {
      const host = hosts.get(name);
      if (!host) error(at('priorities', name), `${name} is not an LB host${didYouMean(name, lbNames.filter((n) => !(n in inst.priorities)))}`, 'key');
      else if (host.group !== 'lb') error(at('priorities', name), `${name} is a ${host.group} host; only LB hosts take part in VRRP`, 'key');
      else members.push({ name, address: host.address, priority, interface: host.interface ?? inst.interface });
    }
    if (entries.length < 2) {
      error(at('priorities'), `an instance needs at least two LBs, got ${entries.length}${entries.length ? ` (${entries.map(([n]) => n).join(', ')})` : ''}`, 'key');
    }
    const vipAddresses = inst.vips.map((v) => parseCidr(v)?.address);
    const seenPriority = new Map<number, string>();
    for (const [name, priority] of entries) {
      const host = hosts.get(name);
      if (priority < 1 || priority > 255) {
        error(at('priorities', name), `priority must be 1..254 (255 only for the owner of a VIP address), got ${priority}`);
        continue;
      }
      if (priority === 255 && host && !vipAddresses.includes(host.address)) {
        error(at('priorities', name), `priority 255 is reserved for the address owner, but ${name}'s address ${host.address} is not a VIP of ${inst.name}`);
      }
      const twin = seenPriority.get(priority);
      if (twin) error(at('priorities', name), `priority ${priority} is also ${twin}'s; priorities within an instance must be distinct (a tie would be broken by IP address, not by intent)`);
      else seenPriority.set(priority, name);
    }

    // VIPs: inside every member's subnet, no host's address (except an owner's), not reused.
    inst.vips.forEach((text, j) => {
      const vip = parseCidr(text)!;
      const path = at('vips', j);
      const previous = vipOwners.get(vip.address);
      if (previous === inst.name) {
        error(path, `VIP ${vip.address} is listed twice`);
        return;
      }
      if (previous) {
        error(path, `VIP ${vip.address} is already a VIP of instance ${previous}`);
        return;
      }
      vipOwners.set(vip.address, inst.name);
      if (isNetworkOrBroadcast(vip.address, vip.prefix)) {
        error(path, `${text} is the network or broadcast address of its subnet`);
        return;
      }
      for (const m of members) {
        if (!sameSubnet(vip.address, m.address, vip.prefix)) {
          error(path, `VIP ${text} is outside ${m.name}'s subnet (${m.address}/${vip.prefix}); every LB of the instance must be in the VIP's subnet`);
        }
      }
      const holder = [...hosts].find(([, h]) => h.address === vip.address);
      if (holder) {
        const [holderName, h] = holder;
        const owner = h.group === 'lb' && inst.priorities[holderName] === 255;
        if (!owner && h.group === 'lb' && holderName in inst.priorities) {
          error(path, `VIP ${vip.address} is ${holderName}'s own address: give ${holderName} priority 255 (address owner) or choose a free address`);
        } else if (!owner) {
          error(path, `VIP ${vip.address} is the address of ${h.group} host ${holderName}`);
        }
      }
    });

    // Version, advert interval, auth, v3-only settings.
    const version = inst.version ?? DEFAULTS.instance.version;
    checkAdvertInt(inst, version, at('advert_int'), error);
    if (inst.auth?.type === 'PASS' && version === 3) {
      error(at('auth', 'type'), 'auth type PASS exists only in VRRP v2 (v3 has no authentication, RFC 5798); use version: 2 or remove auth');
    }
    if (inst.auth?.type === 'PASS' && !inst.auth.pass) error(at('auth', 'pass'), 'auth type PASS needs pass: { env: NAME } or { file: PATH }');
    if (inst.auth?.type === 'none' && inst.auth.pass) error(at('auth', 'pass'), 'pass is only used with type PASS', 'key');
    if (inst.checksum !== undefined && version === 2) {
      error(at('checksum'), 'checksum applies to VRRP v3 only (the v2 checksum always covers the message alone)', 'key');
    }
    if (inst.preempt === false && (inst.preempt_delay ?? 0) > 0) {
      error(at('preempt_delay'), 'preempt_delay has no effect with preempt: false', 'key');
    }

    // VRID: one instance per VRID on each interface of each LB.
    for (const m of members) {
      const key = `${m.name}\0${m.interface}\0${inst.vrid}`;
      const other = vridUse.get(key);
      if (other && other !== inst.name) {
        error(at('vrid'), `VRID ${inst.vrid} is already used by instance ${other} on ${m.interface} of ${m.name}; VRIDs must be unique per interface`);
        break;
      }
      vridUse.set(key, inst.name);
    }

    // Tracked checks exist; a negative weight that cannot move the VIP is almost always a mistake.
    const track = inst.track ?? Object.keys(checks);
    const seenTrack = new Set<string>();
    track.forEach((name, j) => {
      if (seenTrack.has(name)) {
        error(at('track', j), `check ${name} is listed twice`);
        return;
      }
      seenTrack.add(name);
      const check = checks[name];
      if (!check) {
        error(at('track', j), `no check named ${name} in vrrp.checks${didYouMean(name, Object.keys(checks))}`);
        return;
      }
      tracked.add(name);
      const weight = check.weight ?? DEFAULTS.check.weight;
      const ranked = [...members].sort((a, b) => b.priority - a.priority);
      const [master, backup] = ranked;
      if (weight < 0 && master && backup && master.priority + weight >= backup.priority) {
        const path = inst.track ? at('track', j) : (['vrrp', 'checks', name, 'weight'] as DataPath);
        warn(path, `a failing ${name} check lowers ${master.name} of ${inst.name} to ${master.priority}${weight}=${master.priority + weight}, not below ${backup.name} (${backup.priority}): it will not move the VIP`);
      }
    });
  });

  for (const name of Object.keys(checks)) {
    if (!tracked.has(name)) warn(['vrrp', 'checks', name], `check ${name} is tracked by no instance`, 'key');
  }
  for (const name of lbNames) {
    if (!inv.vrrp.instances.some((inst) => name in inst.priorities)) warn(['lb', 'hosts', name], `${name} takes part in no VRRP instance`, 'key');
  }

  const guard = inv.vrrp.partition_guard;
  if (guard) {
    const vipOf = vipOwners.get(guard.gateway);
    const hostOf = byAddress.get(guard.gateway);
    if (vipOf) error(['vrrp', 'partition_guard', 'gateway'], `the gateway ${guard.gateway} is a VIP of ${vipOf}: a master would always reach itself`);
    else if (hostOf) error(['vrrp', 'partition_guard', 'gateway'], `the gateway ${guard.gateway} is the address of ${hostOf}, not a router`);
  }
  return problems;
}

/** v2 carries whole seconds in 8 bits; v3 centiseconds in 12 bits. */
function checkAdvertInt(inst: RawInstance, version: 2 | 3, path: DataPath, error: (p: DataPath, m: string) => void): void {
  const advert = inst.advert_int;
  if (advert === undefined) return;
  if (version === 2) {
    if (!Number.isInteger(advert)) {
      error(path, `VRRP v2 advertises whole seconds; ${advert} is refused (keepalived silently rounds it down, 0.4 becoming 0, and floods: keepalived#1615); use 1..255, or version: 3 for sub-second adverts`);
    } else if (advert > 255) {
      error(path, `VRRP v2 advert_int must be 1..255 seconds, got ${advert}`);
    }
    return;
  }
  const cs = advert * 100;
  if (Math.abs(cs - Math.round(cs)) > 1e-6 || Math.round(cs) < 1 || Math.round(cs) > 4095) {
    error(path, `VRRP v3 advert_int must be 0.01..40.95 seconds in steps of 0.01, got ${advert}`);
  }
}
