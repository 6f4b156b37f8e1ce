// Raw (validated and checked) inventory -> the model: defaults applied, SSH settings merged
// (global < group < host), paths made absolute, members ranked, secrets attached. Pure, given
// the already-resolved Secret values.
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { formatPath, type DataPath } from '../config/source.ts';
import { DEFAULTS } from './defaults.ts';
import type { Host, Inventory, LbHost, SshSettings, TrackCheck, VrrpInstance } from './model.ts';
import { parseCidr, parseHostPort } from './net.ts';
import type { RawInventory, RawSecretRef, RawSsh } from './schema.ts';
import type { Secret, SecretRef } from './secrets.ts';

export interface PathContext {
  /** Directory relative paths are resolved against: the inventory file's. */
  baseDir: string;
  /** Home directory for `~/`. */
  home: string;
}

/** `~/x` -> HOME/x; relative -> against the inventory's directory; absolute stays. */
export function expandPath(p: string, ctx: PathContext): string {
  if (p === '~') return ctx.home;
  if (p.startsWith('~/')) return resolvePath(ctx.home, p.slice(2));
  return isAbsolute(p) ? p : resolvePath(ctx.baseDir, p);
}

export interface SecretUse {
  path: DataPath;
  ref: SecretRef;
  kind: 'vrrp-pass' | 'ssh-passphrase';
}

function toRef(raw: RawSecretRef, ctx: PathContext): SecretRef {
  return raw.env !== undefined ? { source: 'env', name: raw.env } : { source: 'file', path: expandPath(raw.file!, ctx) };
}

/** Every secret the inventory refers to, with where it is written. */
export function collectSecrets(raw: RawInventory, ctx: PathContext): SecretUse[] {
  const uses: SecretUse[] = [];
  const ssh = (s: { passphrase?: RawSecretRef } | undefined, path: DataPath) => {
    if (s?.passphrase) uses.push({ path: [...path, 'passphrase'], ref: toRef(s.passphrase, ctx), kind: 'ssh-passphrase' });
  };
  ssh(raw.ssh, ['ssh']);
  for (const group of ['web', 'lb', 'probe'] as const) {
    const g = raw[group];
    if (!g) continue;
    ssh(g.ssh, [group, 'ssh']);
    for (const [name, host] of Object.entries(g.hosts)) ssh(host.ssh, [group, 'hosts', name, 'ssh']);
  }
  raw.vrrp.instances.forEach((inst, i) => {
    if (inst.auth?.type === 'PASS' && inst.auth.pass) {
      uses.push({ path: ['vrrp', 'instances', i, 'auth', 'pass'], ref: toRef(inst.auth.pass, ctx), kind: 'vrrp-pass' });
    }
  });
  return uses;
}

/** Secrets by formatted path, as the loader resolved them. */
export type SecretTable = Map<string, Secret>;

export function resolveInventory(raw: RawInventory, file: string, ctx: PathContext, secrets: SecretTable): Omit<Inventory, 'warnings'> {
  const secretAt = (path: DataPath): Secret => {
    const s = secrets.get(formatPath(path));
    if (!s) throw new Error(`internal: secret at ${formatPath(path)} was not resolved`);
    return s;
  };

  // SSH: each level overrides the previous key by key; the passphrase is a Secret from its level.
  const mergeSsh = (address: string, levels: { raw: RawSsh | undefined; path: DataPath }[]): SshSettings => {
    let passphrase: Secret | undefined;
    const merged: Partial<RawSsh> = {};
    for (const { raw: level, path } of levels) {
      if (!level) continue;
      Object.assign(merged, level);
      if (level.passphrase) passphrase = secretAt([...path, 'passphrase']);
    }
    const settings: SshSettings = {
      host: merged.host ?? address,
      user: merged.user ?? DEFAULTS.ssh.user,
      port: merged.port ?? DEFAULTS.ssh.port,
      privateKey: expandPath(merged.private_key ?? DEFAULTS.ssh.privateKey, ctx),
      knownHosts: expandPath(merged.known_hosts ?? DEFAULTS.ssh.knownHosts, ctx),
      become: merged.become ?? DEFAULTS.ssh.become,
      connectTimeout: merged.connect_timeout ?? DEFAULTS.ssh.connectTimeout,
    };
    return passphrase ? { ...settings, passphrase } : settings;
  };

  const hostsOf = <R extends Host['role']>(role: R) => {
    const group = raw[role];
    return Object.entries(group?.hosts ?? {}).map(([name, h]) => {
      const ssh = mergeSsh(h.address, [
        { raw: raw.ssh, path: ['ssh'] },
        { raw: group?.ssh, path: [role, 'ssh'] },
        { raw: h.ssh, path: [role, 'hosts', name, 'ssh'] },
      ]);
      const iface = 'interface' in h && typeof h.interface === 'string' ? { interface: h.interface } : {};
      return { name, role, address: h.address, ssh, ...iface };
    });
  };
  const web = hostsOf('web') as Inventory['web'];
  const lb = hostsOf('lb') as LbHost[];
  const probe = hostsOf('probe') as Inventory['probe'];
  const lbByName = new Map(lb.map((h) => [h.name, h]));

  const checks: TrackCheck[] = Object.entries(raw.vrrp.checks ?? {}).map(([name, c]) => {
    const interval = c.interval ?? DEFAULTS.check.interval;
    const builtin = c.script.startsWith('builtin:') ? { builtin: 'nginx' as const } : {};
    return {
      name,
      script: c.script,
      ...builtin,
      interval,
      timeout: c.timeout ?? interval,
      rise: c.rise ?? DEFAULTS.check.rise,
      fall: c.fall ?? DEFAULTS.check.fall,
      weight: c.weight ?? DEFAULTS.check.weight,
    };
  });

  const instances: VrrpInstance[] = raw.vrrp.instances.map((inst, i) => {
    const version = inst.version ?? DEFAULTS.instance.version;
    const ranked = Object.entries(inst.priorities)
      .map(([name, priority]) => {
        const host = lbByName.get(name)!;
        return { host: name, address: host.address, interface: host.interface ?? inst.interface, priority };
      })
      .sort((a, b) => b.priority - a.priority);
    const unicast = inst.unicast ?? DEFAULTS.instance.unicast;
    const members = ranked.map((m) => ({ ...m, unicastPeers: unicast ? ranked.filter((o) => o !== m).map((o) => o.address) : [] }));
    return {
      name: inst.name,
      vrid: inst.vrid,
      interface: inst.interface,
      vips: inst.vips.map((cidr) => ({ ...parseCidr(cidr)!, cidr })),
      version,
      advertIntCs: Math.round((inst.advert_int ?? DEFAULTS.instance.advertInt) * 100),
      members,
      master: members[0]!.host,
      backups: members.slice(1).map((m) => m.host),
      auth: inst.auth?.type === 'PASS' ? { type: 'PASS', pass: secretAt(['vrrp', 'instances', i, 'auth', 'pass']) } : { type: 'none' },
      preempt: inst.preempt ?? DEFAULTS.instance.preempt,
      preemptDelay: inst.preempt_delay ?? DEFAULTS.instance.preemptDelay,
      unicast,
      checksum: inst.checksum ?? DEFAULTS.instance.checksum,
      garp: {
        burst: inst.garp?.burst ?? DEFAULTS.instance.garp.burst,
        repeatDelay: inst.garp?.repeat_delay ?? DEFAULTS.instance.garp.repeatDelay,
      },
      track: inst.track ?? checks.map((c) => c.name),
      notify: {
        master: inst.notify?.master ?? [],
        backup: inst.notify?.backup ?? [],
        fault: inst.notify?.fault ?? [],
        stop: inst.notify?.stop ?? [],
      },
    };
  });

  const guard = raw.vrrp.partition_guard;
  const n = raw.nginx;
  const pp = n?.proxy_params;
  const up = n?.upstream;
  const D = DEFAULTS.nginx;
  const metrics = raw.haupd?.metrics_listen ?? DEFAULTS.haupd.metricsListen;

  return {
    file,
    hosts: [...web, ...lb, ...probe],
    web,
    lb,
    probe,
    vrrp: {
      instances,
      checks,
      ...(guard
        ? {
            partitionGuard: {
              gateway: guard.gateway,
              interval: guard.interval ?? DEFAULTS.partitionGuard.interval,
              fall: guard.fall ?? DEFAULTS.partitionGuard.fall,
              rise: guard.rise ?? DEFAULTS.partitionGuard.rise,
            },
          }
        : {}),
    },
    nginx: {
      listen: n?.listen ?? D.listen,
      serverName: n?.server_name ?? D.serverName,
      backendPort: n?.backend_port ?? D.backendPort,
      testPage: n?.test_page ?? D.testPage,
      proxyParams: {
        hostHeader: pp?.host_header ?? D.proxyParams.hostHeader,
        xForwardedFor: pp?.x_forwarded_for ?? D.proxyParams.xForwardedFor,
        connectTimeout: pp?.connect_timeout ?? D.proxyParams.connectTimeout,
        sendTimeout: pp?.send_timeout ?? D.proxyParams.sendTimeout,
        readTimeout: pp?.read_timeout ?? D.proxyParams.readTimeout,
        buffering: pp?.buffering ?? D.proxyParams.buffering,
        bufferSize: pp?.buffer_size ?? D.proxyParams.bufferSize,
        buffers: pp?.buffers ?? { ...D.proxyParams.buffers },
      },
      upstream: {
        method: up?.method ?? D.upstream.method,
        zone: up?.zone ?? D.upstream.zone,
        keepalive: up?.keepalive ?? D.upstream.keepalive,
        maxFails: up?.max_fails ?? D.upstream.maxFails,
        failTimeout: up?.fail_timeout ?? D.upstream.failTimeout,
      },
    },
    haupd: {
      statusSocket: raw.haupd?.status_socket ?? DEFAULTS.haupd.statusSocket,
      metricsListen: metrics === false ? null : parseHostPort(metrics)!,
    },
    deploy: { keepJournals: raw.deploy?.keep_journals ?? DEFAULTS.deploy.keepJournals },
    secrets: [...secrets].map(([path, secret]) => ({ path, secret })),
  };
}
