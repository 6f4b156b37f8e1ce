// The lab's shape, as pure data: which hosts, which addresses, and the names of every namespace
// and link `lab up` creates. Everything effectful works from a LabTopology so that names are
// decided in one place (and recorded in state.json before anything is created).
import { z } from 'zod';
import {
  broadcastOf,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  parseCidr,
  parseIpv4,
  type Cidr,
} from './ipv4.ts';

const ipv4 = z.string().refine((s) => parseIpv4(s) !== undefined, 'not an IPv4 address (a.b.c.d)');

/** The lab config file (`haup lab up --config FILE`); every key optional, defaults below. */
export const labConfigSchema = z.strictObject({
  /** Prefix of every namespace and link name the lab creates (so two labs never share a name). */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,7}$/, '2-8 lowercase letters/digits, starting with a letter')
    .default('hauplab'),
  range: z
    .string()
    .refine((s) => parseCidr(s) !== undefined && s.includes('/'), 'not an IPv4 CIDR (a.b.c.d/len)')
    .refine((s) => {
      const c = parseCidr(s);
      return c === undefined || (c.prefix >= 16 && c.prefix <= 29);
    }, 'prefix length must be between /16 and /29')
    .default('198.18.0.0/24'),
  /** The machine's own address on its veth into the lab (default: the range's first address). */
  machine: ipv4.optional(),
  /** Reserved for the VRRP virtual address: no host may take it. */
  vip: ipv4.optional(),
  hosts: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, 'host names: 1-12 of a-z 0-9 -, starting with a letter'),
      ipv4,
    )
    .optional(),
});
export type LabConfigInput = z.input<typeof labConfigSchema>;
export type LabConfig = z.output<typeof labConfigSchema>;

/** lab-conventions.md: the addresses inventories/lab.yml uses. */
export const DEFAULT_HOSTS: Readonly<Record<string, string>> = {
  lb5: '198.18.0.5',
  lb6: '198.18.0.6',
  web7: '198.18.0.7',
  web8: '198.18.0.8',
  client: '198.18.0.9',
};
export const DEFAULT_VIP = '198.18.0.3';

export interface LabHost {
  name: string;
  address: string;
  /** Fixed per address so a restarted host never leaves a stale ARP entry behind. */
  mac: string;
  /** The host's own network namespace (holds its eth0). */
  netns: string;
  /** The veth end in the bridge namespace, enslaved to the bridge. */
  port: string;
}

export interface LabTopology {
  name: string;
  range: string;
  prefix: number;
  machineAddress: string;
  /** The machine's veth (root namespace). */
  machineLink: string;
  /** Its peer inside the bridge namespace. */
  machinePeer: string;
  bridgeNetns: string;
  bridge: string;
  vip: string | undefined;
  hosts: LabHost[];
}

export function macFor(address: number): string {
  const bytes = [0x02, 0x00, ...[24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface TopologyProblem {
  /** Config path, e.g. `hosts.lb5`. */
  path: string;
  message: string;
}

/**
 * Derive the topology from a parsed config. Returns problems (all of them) instead of throwing,
 * so the caller can point at the config file's lines.
 */
export function buildTopology(cfg: LabConfig): { topology?: LabTopology; problems: TopologyProblem[] } {
  const problems: TopologyProblem[] = [];
  const range = parseCidr(cfg.range) as Cidr;
  const usingDefaults = cfg.hosts === undefined;
  const hosts = cfg.hosts ?? DEFAULT_HOSTS;
  const vip = cfg.vip ?? (usingDefaults ? DEFAULT_VIP : undefined);
  const taken = new Map<number, string>();

  const checkAddress = (path: string, text: string, what: string): number | undefined => {
    const ip = parseIpv4(text) as number;
    if (!cidrContains(range, ip)) {
      problems.push({ path, message: `${what} ${text} is outside the lab range ${formatCidr(range)}` });
      return undefined;
    }
    if (ip === range.network || ip === broadcastOf(range)) {
      problems.push({ path, message: `${what} ${text} is the network or broadcast address of ${formatCidr(range)}` });
      return undefined;
    }
    const other = taken.get(ip);
    if (other !== undefined) {
      problems.push({ path, message: `${what} ${text} is already used by ${other}` });
      return undefined;
    }
    taken.set(ip, what);
    return ip;
  };

  const machine = cfg.machine ?? formatIpv4(range.network + 1);
  checkAddress('machine', machine, 'the machine address');
  if (vip !== undefined) checkAddress('vip', vip, 'the VIP');
  const names = Object.keys(hosts);
  if (names.length === 0) problems.push({ path: 'hosts', message: 'the lab needs at least one host' });
  if (names.length > 64) problems.push({ path: 'hosts', message: 'at most 64 hosts' });
  const labHosts: LabHost[] = [];
  for (const name of names) {
    const text = hosts[name] as string;
    const ip = checkAddress(`hosts.${name}`, text, `host ${name}`);
    if (ip === undefined) continue;
    labHosts.push({
      name,
      address: formatIpv4(ip),
      mac: macFor(ip),
      netns: `${cfg.name}-${name}`,
      port: `p-${name}`,
    });
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    topology: {
      name: cfg.name,
      range: formatCidr(range),
      prefix: range.prefix,
      machineAddress: machine,
      machineLink: `${cfg.name}0`,
      machinePeer: 'up0',
      bridgeNetns: `${cfg.name}-br`,
      bridge: 'br0',
      vip,
      hosts: labHosts,
    },
  };
}

/** One address or route that exists on the machine (root namespace), as `ip -j` reports it. */
export interface ExistingNet {
  cidr: string;
  dev: string;
  kind: 'address' | 'route';
}

/**
 * The lab range must not overlap anything the machine already routes or owns, or lab traffic
 * could leak (or the machine lose a real network). The default route is everywhere by nature
 * and does not count. `ownLink` is the lab's own veth when it is already up (up twice).
 */
export function rangeCollisions(range: string, existing: ExistingNet[], ownLink?: string): string[] {
  const lab = parseCidr(range);
  if (!lab) return [`not a CIDR: ${range}`];
  const out: string[] = [];
  for (const e of existing) {
    if (ownLink !== undefined && e.dev === ownLink) continue;
    const c = parseCidr(e.cidr);
    if (!c || (e.kind === 'route' && c.prefix === 0)) continue;
    if (cidrsOverlap(lab, c)) out.push(`${e.kind} ${e.cidr} on ${e.dev} overlaps the lab range ${range}`);
  }
  return out;
}
