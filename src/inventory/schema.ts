// The inventory file's shape (zod 4). Strict objects everywhere: an unknown key is an error, so a
// typo never passes silently. Optional keys stay optional here; defaults are applied when the raw
// value is resolved into the model (resolve.ts), so semantic checks can still tell "written by the
// user" from "defaulted". Checks that need more than one value live in checks.ts.
import { z } from 'zod';
import { describeValue } from '../config/validate.ts';
import { parseCidr, parseHostPort, parseIPv4 } from './net.ts';

const got = (iss: { input?: unknown }) => `got ${describeValue(iss.input)}`;

const ipv4 = z
  .string()
  .refine((s) => parseIPv4(s) !== undefined, { error: (iss) => `expected an IPv4 address like 10.0.0.5, ${got(iss)}` });

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  error: (iss) => `expected an IPv4 address with its prefix length, like 10.0.0.3/24, ${got(iss)}`,
});

const seconds = z.number().positive();
const port = z.int().min(1).max(65535);
const nonEmpty = z.string().min(1);

/** Names become file names, systemd unit arguments and metric labels: keep them plain. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const name = (what: string) =>
  z.string().regex(NAME_RE, {
    error: (iss) =>
      `${what} must start with a letter or digit and use only letters, digits, '_', '.' and '-' (at most 63), ${got(iss)}`,
  });

/** Linux interface names: 1..15 bytes, no '/', ':' or whitespace. */
const ifname = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, { error: (iss) => `expected a network interface name like eth0 (at most 15 characters), ${got(iss)}` });

/** `{ env: NAME }` or `{ file: PATH }`. Inline secrets are refused: they end up in git. */
export const secretRefSchema = z
  .strictObject(
    {
      env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (iss) => `expected an environment variable name, ${got(iss)}` }).optional(),
      file: nonEmpty.optional(),
    },
    {
      error: (iss) =>
        iss.code === 'invalid_type' ? `a secret is { env: NAME } or { file: PATH } (never inline), ${got(iss)}` : undefined,
    },
  )
  .refine((s) => (s.env === undefined) !== (s.file === undefined), {
    error: 'a secret needs exactly one of env or file',
    // Only judge a well-formed mapping: `{ evn: X }` is already reported as an unknown key.
    when: (payload) => (payload.issues ?? []).length === 0,
  });

const sshFields = {
  user: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, { error: (iss) => `expected a user name, ${got(iss)}` }).optional(),
  port: port.optional(),
  private_key: nonEmpty.optional(),
  passphrase: secretRefSchema.optional(),
  known_hosts: nonEmpty.optional(),
  become: z.enum(['none', 'sudo']).optional(),
  connect_timeout: seconds.optional(),
};
const sshSchema = z.strictObject(sshFields);
/** Per-host SSH settings may also name the address to connect to (a management address). */
const hostSshSchema = z.strictObject({
  host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, { error: (iss) => `expected a host name or address, ${got(iss)}` }).optional(),
  ...sshFields,
});

const plainHost = z.strictObject({ address: ipv4, ssh: hostSshSchema.optional() });
const lbHost = z.strictObject({ address: ipv4, interface: ifname.optional(), ssh: hostSshSchema.optional() });

const group = <H extends z.ZodType>(host: H) =>
  z.strictObject({ ssh: sshSchema.optional(), hosts: z.record(name('a host name'), host) });

const commandList = z.array(nonEmpty);

const instanceSchema = z.strictObject({
  name: name('an instance name'),
  vrid: z.int().min(1, { error: (iss) => `VRID must be 1..255, ${got(iss)}` }).max(255, { error: (iss) => `VRID must be 1..255, ${got(iss)}` }),
  interface: ifname,
  vips: z.array(cidr).min(1),
  priorities: z.record(z.string(), z.int()),
  version: z.literal([2, 3]).optional(),
  advert_int: seconds.optional(),
  auth: z.strictObject({ type: z.enum(['none', 'PASS']), pass: secretRefSchema.optional() }).optional(),
  preempt: z.boolean().optional(),
  preempt_delay: z.number().min(0).max(1000).optional(),
  unicast: z.boolean().optional(),
  checksum: z.enum(['keepalived', 'rfc9568']).optional(),
  garp: z.strictObject({ burst: z.int().min(1).max(100).optional(), repeat_delay: z.number().min(0).max(3600).optional() }).optional(),
  track: z.array(z.string()).optional(),
  notify: z
    .strictObject({ master: commandList.optional(), backup: commandList.optional(), fault: commandList.optional(), stop: commandList.optional() })
    .optional(),
});

const checkSchema = z.strictObject({
  script: nonEmpty,
  interval: seconds.optional(),
  timeout: seconds.optional(),
  rise: z.int().min(1).optional(),
  fall: z.int().min(1).optional(),
  weight: z.int().min(-253).max(253).optional(),
});

const size = z.string().regex(/^[1-9][0-9]*[km]?$/, { error: (iss) => `expected an nginx size like 4k, 8k or 1m, ${got(iss)}` });

const nginxSchema = z.strictObject({
  listen: port.optional(),
  server_name: nonEmpty.optional(),
  backend_port: port.optional(),
  test_page: z.boolean().optional(),
  proxy_params: z
    .strictObject({
      host_header: z.enum(['$host', '$http_host']).optional(),
      x_forwarded_for: z.boolean().optional(),
      connect_timeout: seconds.max(75).optional(),
      send_timeout: seconds.optional(),
      read_timeout: seconds.optional(),
      buffering: z.boolean().optional(),
      buffer_size: size.optional(),
      buffers: z.strictObject({ count: z.int().min(2).max(1024), size }).optional(),
    })
    .optional(),
  upstream: z
    .strictObject({
      method: z.enum(['round_robin', 'least_conn', 'ip_hash']).optional(),
      zone: z.boolean().optional(),
      keepalive: z.int().min(0).optional(),
      max_fails: z.int().min(0).optional(),
      fail_timeout: z.number().min(0).optional(),
    })
    .optional(),
});

const metricsError = (iss: { input?: unknown }) => `expected HOST:PORT like 127.0.0.1:9650, or false to disable metrics, ${got(iss)}`;
const haupdSchema = z.strictObject({
  status_socket: z.string().regex(/^\/\S+$/, { error: (iss) => `expected an absolute path, ${got(iss)}` }).optional(),
  metrics_listen: z
    .union([z.literal(false), z.string().refine((s) => parseHostPort(s) !== undefined, { error: metricsError })], { error: metricsError })
    .optional(),
});

export const inventorySchema = z.strictObject({
  ssh: sshSchema.optional(),
  web: group(plainHost),
  lb: group(lbHost),
  probe: group(plainHost).optional(),
  vrrp: z.strictObject({
    instances: z.array(instanceSchema).min(1),
    checks: z.record(name('a check name'), checkSchema).optional(),
    partition_guard: z
      .strictObject({ gateway: ipv4, interval: seconds.optional(), fall: z.int().min(1).optional(), rise: z.int().min(1).optional() })
      .optional(),
  }),
  nginx: nginxSchema.optional(),
  haupd: haupdSchema.optional(),
  // How many deploys' journals each host (and this machine) keeps: see src/engine/retention.ts.
  deploy: z.strictObject({ keep_journals: z.int().min(1).max(10000).optional() }).optional(),
});

export type RawInventory = z.output<typeof inventorySchema>;
export type RawInstance = z.output<typeof instanceSchema>;
export type RawSecretRef = z.output<typeof secretRefSchema>;
export type RawSsh = z.output<typeof hostSshSchema>;
