// The lab's network: a bridge in a namespace of its own, one namespace per host whose eth0 is
// a veth to the bridge, and one more veth from the machine's root namespace (the only way in).
// Hosts get no default route: nothing they send can leave the lab range.
import { existsSync, writeFileSync } from 'node:fs';
import { HaupError } from '../util/errors.ts';
import { run } from './run.ts';
import type { LabState } from './state.ts';
import { rangeCollisions, type ExistingNet, type LabHost, type LabTopology } from './topology.ts';

const ip = (args: string[]) => run('ip', args, { timeoutMs: 15_000 });

export const netnsExists = (name: string) => existsSync(`/run/netns/${name}`);

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const r = await run('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', 'dev', name], { allowFail: true, timeoutMs: 10_000 });
  return r.code === 0;
}

/** Addresses and routes of the machine's root namespace (all tables). */
export async function machineNetworks(): Promise<ExistingNet[]> {
  const out: ExistingNet[] = [];
  const addrs = JSON.parse((await ip(['-j', '-4', 'addr', 'show'])).stdout || '[]') as {
    ifname: string;
    addr_info?: { local: string; prefixlen: number }[];
  }[];
  for (const l of addrs) for (const a of l.addr_info ?? []) out.push({ cidr: `${a.local}/${a.prefixlen}`, dev: l.ifname, kind: 'address' });
  const routes = JSON.parse((await ip(['-j', '-4', 'route', 'show', 'table', 'all'])).stdout || '[]') as { dst: string; dev?: string }[];
  for (const r of routes) {
    if (r.dst === 'default') continue;
    out.push({ cidr: r.dst, dev: r.dev ?? '?', kind: 'route' });
  }
  return out;
}

export async function checkRange(topo: LabTopology, ownLinkUp: boolean): Promise<void> {
  const problems = rangeCollisions(topo.range, await machineNetworks(), ownLinkUp ? topo.machineLink : undefined);
  if (problems.length > 0) {
    throw new HaupError(
      `the lab range ${topo.range} collides with this machine's networks:\n  ${problems.join('\n  ')}`,
      1,
      'choose another range in a lab config file (`range:` and host addresses) and pass it with --config',
    );
  }
}

/** Refuse to adopt a namespace or link that exists but is not ours (never delete what we did not make). */
async function refuseForeign(state: LabState, topo: LabTopology): Promise<void> {
  const foreign: string[] = [];
  for (const ns of [topo.bridgeNetns, ...topo.hosts.map((h) => h.netns)]) {
    if (netnsExists(ns) && !state.netns.includes(ns)) foreign.push(`network namespace ${ns}`);
  }
  if (!state.links.some((l) => l.name === topo.machineLink && !l.netns) && (await linkExists(topo.machineLink))) {
    foreign.push(`link ${topo.machineLink}`);
  }
  if (foreign.length > 0) {
    throw new HaupError(
      `${foreign.join(', ')} already exist${foreign.length === 1 ? 's' : ''} and ${foreign.length === 1 ? 'was' : 'were'} not made by this lab`,
      1,
      'remove them yourself, or pick another lab `name:` in a config file',
    );
  }
}

export interface NetRecorder {
  state: LabState;
  save(): void;
}

async function addNetns(rec: NetRecorder, name: string): Promise<void> {
  rec.state.netns.push(name);
  rec.save();
  await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function createBridge(rec: NetRecorder, topo: LabTopology): Promise<void> {
  await refuseForeign(rec.state, topo);
  const br = topo.bridgeNetns;
  await addNetns(rec, br);
  // No STP, no forwarding delay (ports forward at once), no multicast snooping (VRRP floods).
  await ip(['-n', br, 'link', 'add', topo.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
  await ip(['-n', br, 'link', 'set', topo.bridge, 'up']);
  // The machine's veth: one end in the root namespace with the machine address, one on the bridge.
  rec.state.links.push({ name: topo.machineLink });
  rec.save();
  await ip(['link', 'add', topo.machineLink, 'type', 'veth', 'peer', 'name', topo.machinePeer, 'netns', br]);
  await ip(['-n', br, 'link', 'set', topo.machinePeer, 'master', topo.bridge, 'up']);
  // Nothing received from the lab is ever forwarded by the machine (even if ip_forward is on
  // now); and the lab link is IPv4 only, so no IPv6 path out exists either.
  writeFileSync(`/proc/sys/net/ipv4/conf/${topo.machineLink}/forwarding`, '0');
  writeFileSync(`/proc/sys/net/ipv6/conf/${topo.machineLink}/disable_ipv6`, '1');
  await ip(['addr', 'add', `${topo.machineAddress}/${topo.prefix}`, 'dev', topo.machineLink]);
  await ip(['link', 'set', topo.machineLink, 'up']);
  await createFaultTable(topo);
}

export async function createHostNet(rec: NetRecorder, topo: LabTopology, host: LabHost): Promise<void> {
  await addNetns(rec, host.netns);
  rec.state.links.push({ name: 'eth0', netns: host.netns });
  rec.save();
  await ip([
    'link', 'add', 'eth0', 'netns', host.netns, 'address', host.mac,
    'type', 'veth', 'peer', 'name', host.port, 'netns', topo.bridgeNetns,
  ]);
  await ip(['-n', topo.bridgeNetns, 'link', 'set', host.port, 'master', topo.bridge, 'up']);
  await ip(['-n', host.netns, 'addr', 'add', `${host.address}/${topo.prefix}`, 'dev', 'eth0']);
  await ip(['-n', host.netns, 'link', 'set', 'eth0', 'up']);
}

/** Forget any ARP entry the machine has for a host (after it restarts). */
export async function flushNeighbour(topo: LabTopology, host: LabHost): Promise<void> {
  await run('ip', ['neigh', 'flush', 'dev', topo.machineLink, 'to', host.address], { allowFail: true, timeoutMs: 10_000 });
}

// ---- fault plumbing: nftables in the bridge namespace (bridge family, forward hook) ----
export const FAULT_TABLE = 'haup_faults';

async function createFaultTable(topo: LabTopology): Promise<void> {
  const rules = `table bridge ${FAULT_TABLE} {
  set vrrp_block { type ether_addr . ifname; }
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip protocol 112 ether saddr . oifname @vrrp_block counter drop
  }
}
`;
  await run('ip', ['netns', 'exec', topo.bridgeNetns, 'nft', '-f', '-'], { input: rules, timeoutMs: 15_000 });
}

/** Remove recorded links and namespaces (tolerating ones an interrupted `up` never created). */
export async function removeNet(state: LabState, log: (l: string) => void): Promise<void> {
  // Delete veths explicitly: a namespace's deletion removes them only asynchronously, and a
  // quick `up` after `down` would then find the old names still present.
  for (const l of [...state.links].reverse()) {
    const args = [...(l.netns ? ['-n', l.netns] : []), 'link', 'del', 'dev', l.name];
    if (l.netns && !netnsExists(l.netns)) continue;
    const r = await run('ip', args, { allowFail: true, timeoutMs: 15_000 });
    if (r.code === 0) log(`deleted link ${l.name}${l.netns ? ` in ${l.netns}` : ''}`);
  }
  for (const ns of [...state.netns].reverse()) {
    if (!netnsExists(ns)) continue;
    await run('ip', ['netns', 'del', ns], { timeoutMs: 15_000 });
    log(`deleted network namespace ${ns}`);
  }
}
