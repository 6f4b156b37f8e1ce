// The shape of haupd's config file (YAML, or JSON which is YAML too). Pure zod: no file access.
// Semantic rules that need the whole document (unique VRIDs, sync-group members exist, v2 whole
// second intervals...) are in `superRefine` so every problem is reported at its own node, all at once.
import { z } from 'zod';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

const ipv4 = z.string().regex(IPV4, 'expected an IPv4 address like 198.18.0.6');
const cidr = z
  .string()
  .refine((s) => {
    const [ip, prefix, ...rest] = s.split('/');
    return rest.length === 0 && ip !== undefined && IPV4.test(ip) && prefix !== undefined && /^(3[0-2]|[12]?\d)$/.test(prefix);
  }, 'expected an IPv4 address with prefix length like 198.18.0.3/24');
const seconds = (min: number, max: number) => z.number().min(min).max(max);
const absPath = z.string().startsWith('/', 'expected an absolute path');

const trackScript = z.strictObject({
  name: z.string().regex(NAME, 'letters, digits, "_", "." and "-" only'),
  /** A command line (run without a shell, split on spaces), `builtin:nginx` or `builtin:nginx:PORT`. */
  script: z
    .string()
    .min(1)
    .refine((s) => !s.trim().startsWith('builtin:') || /^builtin:nginx(:\d{1,5})?$/.test(s.trim()), 'unknown built-in check (known: builtin:nginx, builtin:nginx:PORT)'),
  interval: seconds(0.01, 3600).default(2),
  /** Default: the interval. */
  timeout: seconds(0.01, 3600).optional(),
  rise: z.number().int().min(1).max(100).default(1),
  fall: z.number().int().min(1).max(100).default(1),
  /** keepalived semantics: 0 = Fault while failing, > 0 added while OK, < 0 subtracted while failing. */
  weight: z.number().int().min(-253).max(253).default(0),
});

const trackInterface = z.strictObject({
  name: z.string().regex(IFNAME, 'expected an interface name'),
  /** 0 = Fault while the link is down (keepalived's default); otherwise subtracted while down. */
  weight: z.number().int().min(-253).max(253).default(0),
});

const notifyList = z.array(z.string().min(1)).default([]);

const garp = z.strictObject({
  /** Gratuitous ARPs sent at once on takeover (keepalived: 5). */
  count: z.number().int().min(1).max(100).default(5),
  /** A second burst after `repeat_delay` seconds (keepalived: 5 after 5 s). 0 = none. */
  repeat_count: z.number().int().min(0).max(100).default(5),
  repeat_delay: seconds(0, 3600).default(5),
});

const instance = z.strictObject({
  name: z.string().regex(NAME, 'letters, digits, "_", "." and "-" only'),
  interface: z.string().regex(IFNAME, 'expected an interface name'),
  vrid: z.number().int().min(1).max(255),
  version: z.union([z.literal(2), z.literal(3)]).default(3),
  /** 1..254; 255 only for the owner of the VIP addresses (becomes master at once). */
  priority: z.number().int().min(1).max(255),
  /** Seconds. v2: whole seconds 1..255. v3: 0.01..40.95 in steps of 0.01. */
  advert_int: seconds(0.01, 255).default(1),
  vips: z.array(cidr).min(1),
  auth: z
    .strictObject({
      type: z.literal('PASS'),
      /** File holding the password (mode 0600, owned by root); never the password itself. */
      secret_file: absPath,
    })
    .optional(),
  preempt: z.boolean().default(true),
  preempt_delay: seconds(0, 1000).default(0),
  /** Send adverts to these addresses instead of 224.0.0.18 (and accept them only from them). */
  unicast_peers: z.array(ipv4).default([]),
  /**
   * The whole peer set with their priorities. When known, a backup that sees the master's
   * priority-0 advert and is the highest remaining peer takes over without waiting Skew.
   */
  peers: z.record(z.string().regex(IPV4, 'keys must be IPv4 addresses'), z.number().int().min(1).max(255)).default({}),
  /** v3 IPv4 checksum sent: keepalived's pseudo-header form (default) or RFC 9568 message-only. */
  v3_checksum: z.enum(['pseudo', 'message']).default('pseudo'),
  garp: garp.default({ count: 5, repeat_count: 5, repeat_delay: 5 }),
  track_scripts: z.array(trackScript).default([]),
  track_interfaces: z.array(trackInterface).default([]),
  /** Run in order on every transition with arguments: INSTANCE STATE PRIORITY. */
  notify: notifyList,
  notify_master: notifyList,
  notify_backup: notifyList,
  notify_fault: notifyList,
  notify_stop: notifyList,
});

const syncGroup = z.strictObject({
  name: z.string().regex(NAME, 'letters, digits, "_", "." and "-" only'),
  instances: z.array(z.string()).min(2),
});

const partitionGuard = z.strictObject({
  /** Address that must answer ICMP echo (the default gateway); unreachable = every instance Fault. */
  gateway: ipv4,
  interface: z.string().regex(IFNAME, 'expected an interface name').optional(),
  interval: seconds(0.05, 60).default(1),
  timeout: seconds(0.05, 60).default(1),
  fall: z.number().int().min(1).max(100).default(3),
  rise: z.number().int().min(1).max(100).default(2),
});

const hostPort = z
  .string()
  .refine((s) => {
    const m = /^(.+):(\d{1,5})$/.exec(s);
    return m !== null && IPV4.test(m[1] ?? '') && Number(m[2]) > 0 && Number(m[2]) < 65536;
  }, 'expected ADDRESS:PORT like 127.0.0.1:9651');

export const configSchema = z
  .strictObject({
    log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    status_socket: absPath.default('/run/haupd/status.sock'),
    /** Prometheus metrics listener (as the inventory's haupd.metrics_listen); false disables it. */
    metrics_listen: z.union([hostPort, z.literal(false)]).default('127.0.0.1:9650'),
    /** Seconds a SIGTERM'd master keeps its VIPs while waiting for the new master's advert. */
    handover_timeout: seconds(0, 60).default(3),
    partition_guard: partitionGuard.optional(),
    instances: z.array(instance).min(1),
    sync_groups: z.array(syncGroup).default([]),
  })
  .superRefine((cfg, ctx) => {
    const names = new Map<string, number>();
    const vrids = new Map<string, number>();
    cfg.instances.forEach((inst, i) => {
      const at = (...rest: (string | number)[]) => ['instances', i, ...rest];
      if (names.has(inst.name)) {
        ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate instance name "${inst.name}" (first at instances[${names.get(inst.name)}])` });
      } else names.set(inst.name, i);
      const key = `${inst.interface}/${inst.vrid}`;
      if (vrids.has(key)) {
        ctx.addIssue({ code: 'custom', path: at('vrid'), message: `VRID ${inst.vrid} is already used on ${inst.interface} by instances[${vrids.get(key)}]` });
      } else vrids.set(key, i);
      if (inst.version === 2) {
        // keepalived silently rounds 0.4 s to 0 and floods the link (keepalived#1615): refuse.
        if (!Number.isInteger(inst.advert_int)) {
          ctx.addIssue({ code: 'custom', path: at('advert_int'), message: `VRRPv2 adverts are whole seconds (1..255), got ${inst.advert_int}; use version: 3 for sub-second intervals` });
        }
      } else {
        if (inst.advert_int > 40.95) {
          ctx.addIssue({ code: 'custom', path: at('advert_int'), message: `VRRPv3 advert_int is at most 40.95 s, got ${inst.advert_int}` });
        } else if (Math.abs(Math.round(inst.advert_int * 100) - inst.advert_int * 100) > 1e-6) {
          ctx.addIssue({ code: 'custom', path: at('advert_int'), message: `VRRPv3 advert_int is in steps of 0.01 s, got ${inst.advert_int}` });
        }
        if (inst.auth) {
          ctx.addIssue({ code: 'custom', path: at('auth'), message: 'VRRPv3 has no authentication (RFC 5798 §9); remove auth or use version: 2' });
        }
      }
      const vipSeen = new Set<string>();
      inst.vips.forEach((vip, j) => {
        const addr = vip.split('/')[0] ?? vip;
        if (vipSeen.has(addr)) ctx.addIssue({ code: 'custom', path: at('vips', j), message: `duplicate VIP ${addr}` });
        vipSeen.add(addr);
      });
      if (inst.version === 2 && inst.vips.length > 255) {
        ctx.addIssue({ code: 'custom', path: at('vips'), message: 'at most 255 VIPs fit in one advert' });
      }
      for (const [peer, prio] of Object.entries(inst.peers)) {
        if (prio === 255) ctx.addIssue({ code: 'custom', path: at('peers', peer), message: 'a peer priority of 255 means that peer owns the VIPs; use 1..254' });
      }
      const scriptNames = new Set<string>();
      inst.track_scripts.forEach((t, j) => {
        if (scriptNames.has(t.name)) ctx.addIssue({ code: 'custom', path: at('track_scripts', j, 'name'), message: `duplicate track script "${t.name}"` });
        scriptNames.add(t.name);
        if (t.timeout !== undefined && t.timeout > t.interval) ctx.addIssue({ code: 'custom', path: at('track_scripts', j, 'timeout'), message: `timeout (${t.timeout} s) must not exceed interval (${t.interval} s)` });
      });
    });
    const grouped = new Map<string, string>();
    cfg.sync_groups.forEach((g, i) => {
      g.instances.forEach((member, j) => {
        const path = ['sync_groups', i, 'instances', j];
        if (!names.has(member)) ctx.addIssue({ code: 'custom', path, message: `no instance named "${member}"` });
        else if (grouped.has(member)) ctx.addIssue({ code: 'custom', path, message: `instance "${member}" is already in sync group "${grouped.get(member)}"` });
        else grouped.set(member, g.name);
      });
    });
  });

export type HaupdConfigInput = z.input<typeof configSchema>;
export type HaupdConfigFile = z.output<typeof configSchema>;
export type InstanceConfigFile = HaupdConfigFile['instances'][number];
