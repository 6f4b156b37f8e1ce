// The resolved inventory: what deploy, verify, the lab and haupd's config rendering consume.
// Every default is applied, every name is checked, every path is absolute, secrets are Secret
// values. Field names are camelCase; the YAML keys they come from are in docs/inventory.md.
import type { Diagnostic } from '../util/errors.ts';
import type { Secret } from './secrets.ts';

export type Role = 'web' | 'lb' | 'probe';

/** How to reach a host over SSH (global `ssh`, then group `ssh`, then host `ssh`; last wins). */
export interface SshSettings {
  /** Address or name to connect to; defaults to the host's `address`. */
  host: string;
  user: string;
  port: number;
  /** Absolute path of the private key on the control machine. */
  privateKey: string;
  /** Passphrase of the private key, when it has one. */
  passphrase?: Secret;
  /** Absolute path of the known_hosts file used for strict host-key checking. */
  knownHosts: string;
  /** Run remote commands through sudo (`sudo`) or as the SSH user (`none`). */
  become: 'none' | 'sudo';
  /** Seconds to wait for the TCP connection and SSH handshake. */
  connectTimeout: number;
}

export interface Host {
  /** Inventory name (the key under `hosts:`), unique across all groups. */
  name: string;
  role: Role;
  /** IPv4 address on the service network: VRRP peers, nginx upstream, VIP subnet checks. */
  address: string;
  ssh: SshSettings;
}

export interface WebHost extends Host {
  role: 'web';
}

export interface ProbeHost extends Host {
  role: 'probe';
}

export interface LbHost extends Host {
  role: 'lb';
  /** Per-host interface override; when absent each instance's `interface` applies. */
  interface?: string;
}

/** A VIP: `10.0.0.3/24` -> address 10.0.0.3, prefix 24. */
export interface Vip {
  address: string;
  prefix: number;
  /** As written: `10.0.0.3/24`. */
  cidr: string;
}

/** One LB taking part in an instance. */
export interface VrrpMember {
  /** LB host name. */
  host: string;
  address: string;
  /** Interface this LB runs the instance on (host override, else the instance's). */
  interface: string;
  /** Base priority 1..255 (255 only for the owner of a VIP address). */
  priority: number;
  /** Addresses this member sends adverts to when `unicast` (the other members); else empty. */
  unicastPeers: string[];
}

export type VrrpAuth = { type: 'none' } | { type: 'PASS'; pass: Secret };

export interface VrrpInstance {
  name: string;
  /** Virtual router id 1..255, unique per interface. */
  vrid: number;
  /** The instance's interface as written (members may override it, see VrrpMember.interface). */
  interface: string;
  vips: Vip[];
  version: 2 | 3;
  /** Advertisement interval in centiseconds (v2: whole seconds x 100; v3: 1..4095). */
  advertIntCs: number;
  /** Members by priority, highest first: members[0] is the initial master. */
  members: VrrpMember[];
  /** Name of the initial master (highest priority). */
  master: string;
  /** Names of the backups, highest priority first. */
  backups: string[];
  auth: VrrpAuth;
  /** false = keepalived's `nopreempt`: a recovered higher-priority LB waits as backup. */
  preempt: boolean;
  /** Seconds a higher-priority backup waits before taking over (0 = at once). */
  preemptDelay: number;
  /** Send adverts to the other members' addresses instead of 224.0.0.18. */
  unicast: boolean;
  /** v3 checksum: keepalived's (IPv4 pseudo-header, the default) or RFC 9568's (message only). */
  checksum: 'keepalived' | 'rfc9568';
  /** Gratuitous ARP on becoming master: `burst` at once, then `burst` more after `repeatDelay` s (0 = no repeat). */
  garp: { burst: number; repeatDelay: number };
  /** Names of the checks (Inventory.vrrp.checks) this instance tracks. */
  track: string[];
  /** Commands run in order on each transition. */
  notify: { master: string[]; backup: string[]; fault: string[]; stop: string[] };
}

/** A tracked check: run every `interval` s; `fall` failures -> failing, `rise` successes -> ok. */
export interface TrackCheck {
  name: string;
  /** `builtin:nginx` or a shell command run on the LB. */
  script: string;
  builtin?: 'nginx';
  interval: number;
  timeout: number;
  rise: number;
  fall: number;
  /** 0: failing -> FAULT. >0: added to the priority while ok. <0: subtracted while failing. */
  weight: number;
}

/** Partition guard: an LB that cannot reach `gateway` for `fall` probes goes FAULT (drops its VIPs). */
export interface PartitionGuard {
  gateway: string;
  interval: number;
  fall: number;
  rise: number;
}

export interface NginxSettings {
  /** Port the LBs listen on (on the VIP and their own address). */
  listen: number;
  serverName: string;
  /** Port the web hosts serve on; the upstream points there. */
  backendPort: number;
  /** Each web host serves a page naming itself, so `verify` can tell who answered. */
  testPage: boolean;
  proxyParams: {
    hostHeader: '$host' | '$http_host';
    xForwardedFor: boolean;
    connectTimeout: number;
    sendTimeout: number;
    readTimeout: number;
    buffering: boolean;
    bufferSize: string;
    buffers: { count: number; size: string };
  };
  upstream: {
    method: 'round_robin' | 'least_conn' | 'ip_hash';
    /** Shared memory zone: the balancing state is shared by all workers. */
    zone: boolean;
    /** Idle keepalive connections per worker to the backends (0 = none). */
    keepalive: number;
    maxFails: number;
    failTimeout: number;
  };
}

export interface HaupdSettings {
  /** Unix socket where haupd answers JSON status requests. */
  statusSocket: string;
  /** Prometheus metrics endpoint, or null when disabled. */
  metricsListen: { host: string; port: number } | null;
}

export interface Inventory {
  /** Path of the inventory file as given. */
  file: string;
  /** Every host, in file order: web, then lb, then probe. */
  hosts: Host[];
  web: WebHost[];
  lb: LbHost[];
  /** Hosts `verify` runs its client requests from (may be empty). */
  probe: ProbeHost[];
  vrrp: {
    instances: VrrpInstance[];
    checks: TrackCheck[];
    partitionGuard?: PartitionGuard;
  };
  nginx: NginxSettings;
  haupd: HaupdSettings;
  /** Deploy settings (resolve.ts always sets them; optional for hand-built inventories). */
  deploy?: { keepJournals: number };
  /** Every Secret in the inventory with the path it was written at (auth passes, passphrases). */
  secrets: { path: string; secret: Secret }[];
  /** Non-fatal findings, located. */
  warnings: Diagnostic[];
}
