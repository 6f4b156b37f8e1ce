// haupd's config file -> the runtime config the daemon uses. YAML or JSON, validated through the
// generic loader (src/config/) so every problem is reported as FILE:LINE:COL, all at once. The PASS
// secret lives in its own file (mode 0600): it is read here, checked, and never printed.
//
// Example (docs/haupd.md has the full reference):
//   status_socket: /run/haupd/status.sock
//   metrics_listen: 127.0.0.1:9650
//   instances:
//     - name: VI_1
//       interface: eth0
//       vrid: 50
//       version: 2
//       priority: 150
//       advert_int: 1
//       vips: [198.18.0.3/24]
//       auth: { type: PASS, secret_file: /etc/haup/vrrp-pass }
//       peers: { 198.18.0.6: 100 }
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { loadConfigText } from '../config/load.ts';
import { diagnosticAt, sortDiagnostics, type ConfigSource } from '../config/source.ts';
import type { Diagnostic } from '../util/errors.ts';
import { configSchema, type HaupdConfigFile, type InstanceConfigFile } from './config-schema.ts';
import type { LogLevel } from './log.ts';
import type { TrackScriptSpec } from './track/script.ts';

export interface Vip {
  address: string;
  prefix: number;
}

/** A track script as the daemon runs it (track/script.ts owns the shape). */
export type TrackScriptConfig = TrackScriptSpec;

export interface TrackInterfaceConfig {
  name: string;
  weight: number;
}

export interface InstanceConfig {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  priority: number;
  advertIntervalCs: number;
  vips: Vip[];
  /** v2 PASS: the 8 bytes sent on the wire (zero padded). Never logged. */
  auth: { type: 'PASS'; data: Buffer } | null;
  preempt: boolean;
  preemptDelayMs: number;
  unicastPeers: string[];
  /** Known peer set: primary address -> priority (may include this host's own address). */
  peers: Record<string, number>;
  v3Checksum: 'pseudo' | 'message';
  garp: { count: number; repeatCount: number; repeatDelayMs: number };
  trackScripts: TrackScriptConfig[];
  trackInterfaces: TrackInterfaceConfig[];
  notify: { any: string[]; master: string[]; backup: string[]; fault: string[]; stop: string[] };
  syncGroup: string | null;
  /**
   * sha256 over everything above (secret included, so a changed password restarts the instance).
   * A reload keeps an instance running, with its state and mastership, when this is unchanged.
   */
  fingerprint: string;
}

export interface PartitionGuardConfig {
  gateway: string;
  interface: string | null;
  intervalMs: number;
  timeoutMs: number;
  fall: number;
  rise: number;
}

export interface HaupdConfig {
  file: string;
  logLevel: LogLevel;
  statusSocket: string;
  metrics: { host: string; port: number } | null;
  handoverTimeoutMs: number;
  partitionGuard: PartitionGuardConfig | null;
  instances: InstanceConfig[];
  syncGroups: { name: string; instances: string[] }[];
}

export interface ConfigLoad {
  /** Present when there is no error (warnings may remain in `diagnostics`). */
  config?: HaupdConfig;
  diagnostics: Diagnostic[];
}

const ms = (s: number): number => Math.round(s * 1000);

/** Reads a secret file; injectable for tests. */
export interface SecretReader {
  read(path: string): Promise<{ mode: number; text: string }>;
}

export const fileSecretReader: SecretReader = {
  async read(path) {
    const st = await stat(path);
    return { mode: st.mode & 0o777, text: await readFile(path, 'utf8') };
  },
};

async function readSecret(
  source: ConfigSource,
  path: (string | number)[],
  file: string,
  reader: SecretReader,
  diagnostics: Diagnostic[],
): Promise<Buffer | null> {
  let got: { mode: number; text: string };
  try {
    got = await reader.read(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'unreadable';
    diagnostics.push(diagnosticAt(source, path, `cannot read the secret file ${file}: ${why}`));
    return null;
  }
  if ((got.mode & 0o077) !== 0) {
    diagnostics.push(diagnosticAt(source, path, `the secret file ${file} is readable by others (mode ${got.mode.toString(8).padStart(4, '0')}); chmod 600 it`));
    return null;
  }
  const secret = got.text.replace(/\r?\n$/, '');
  if (secret.length === 0) {
    diagnostics.push(diagnosticAt(source, path, `the secret file ${file} is empty`));
    return null;
  }
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length > 8) {
    diagnostics.push(
      diagnosticAt(source, path, `the PASS secret is ${bytes.length} bytes; VRRPv2 sends only the first 8 (keepalived truncates the same way)`, { severity: 'warning' }),
    );
  }
  const data = Buffer.alloc(8);
  bytes.copy(data, 0, 0, 8);
  return data;
}

function resolveInstance(i: InstanceConfigFile, auth: InstanceConfig['auth'], syncGroup: string | null): InstanceConfig {
  const base: Omit<InstanceConfig, 'fingerprint'> = {
    name: i.name,
    interface: i.interface,
    vrid: i.vrid,
    version: i.version,
    priority: i.priority,
    advertIntervalCs: Math.round(i.advert_int * 100),
    vips: i.vips.map((v) => {
      const [address = '', prefix = '32'] = v.split('/');
      return { address, prefix: Number(prefix) };
    }),
    auth,
    preempt: i.preempt,
    preemptDelayMs: ms(i.preempt_delay),
    unicastPeers: i.unicast_peers,
    peers: i.peers,
    v3Checksum: i.v3_checksum,
    garp: { count: i.garp.count, repeatCount: i.garp.repeat_count, repeatDelayMs: ms(i.garp.repeat_delay) },
    trackScripts: i.track_scripts.map((t) => ({
      name: t.name,
      script: t.script,
      intervalMs: ms(t.interval),
      timeoutMs: ms(t.timeout ?? t.interval),
      rise: t.rise,
      fall: t.fall,
      weight: t.weight,
    })),
    trackInterfaces: i.track_interfaces.map((t) => ({ name: t.name, weight: t.weight })),
    notify: { any: i.notify, master: i.notify_master, backup: i.notify_backup, fault: i.notify_fault, stop: i.notify_stop },
    syncGroup,
  };
  // Buffers serialise as byte arrays; hex keeps the fingerprint readable in a debugger.
  const hashed = { ...base, auth: auth ? { type: auth.type, data: auth.data.toString('hex') } : null };
  const hash = createHash('sha256').update(JSON.stringify(hashed));
  return { ...base, fingerprint: hash.digest('hex') };
}

function resolve(file: string, cfg: HaupdConfigFile, auths: (InstanceConfig['auth'])[]): HaupdConfig {
  const groupOf = new Map<string, string>();
  for (const g of cfg.sync_groups) for (const m of g.instances) groupOf.set(m, g.name);
  const metricsMatch = cfg.metrics_listen ? /^(.+):(\d+)$/.exec(cfg.metrics_listen) : null;
  const pg = cfg.partition_guard;
  return {
    file,
    logLevel: cfg.log_level,
    statusSocket: cfg.status_socket,
    metrics: metricsMatch ? { host: metricsMatch[1] ?? '127.0.0.1', port: Number(metricsMatch[2]) } : null,
    handoverTimeoutMs: ms(cfg.handover_timeout),
    partitionGuard: pg
      ? { gateway: pg.gateway, interface: pg.interface ?? null, intervalMs: ms(pg.interval), timeoutMs: ms(pg.timeout), fall: pg.fall, rise: pg.rise }
      : null,
    instances: cfg.instances.map((i, n) => resolveInstance(i, auths[n] ?? null, groupOf.get(i.name) ?? null)),
    syncGroups: cfg.sync_groups.map((g) => ({ name: g.name, instances: g.instances })),
  };
}

/** Validate config text. Secret files are read through `reader` (checked: mode 0600, non-empty). */
export async function loadConfig(text: string, file: string, reader: SecretReader = fileSecretReader): Promise<ConfigLoad> {
  const loaded = loadConfigText(text, file, configSchema);
  if (!loaded.ok) return { diagnostics: loaded.diagnostics };
  const diagnostics = [...loaded.diagnostics];
  const cfg = loaded.value;
  const auths: InstanceConfig['auth'][] = [];
  for (const [n, inst] of cfg.instances.entries()) {
    if (!inst.auth) {
      auths.push(null);
      continue;
    }
    const data = await readSecret(loaded.source, ['instances', n, 'auth', 'secret_file'], inst.auth.secret_file, reader, diagnostics);
    auths.push(data ? { type: 'PASS', data } : null);
  }
  const sorted = sortDiagnostics(diagnostics);
  if (sorted.some((d) => d.severity === 'error')) return { diagnostics: sorted };
  return { config: resolve(file, cfg, auths), diagnostics: sorted };
}

/** Read and validate a config file; an unreadable file is one diagnostic at FILE:1:1. */
export async function loadConfigFile(file: string, reader: SecretReader = fileSecretReader): Promise<ConfigLoad> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : 'unreadable';
    return { diagnostics: [{ file, line: 1, col: 1, path: '', message: `cannot read the config file: ${why}`, severity: 'error' }] };
  }
  return loadConfig(text, file, reader);
}
