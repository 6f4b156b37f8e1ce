// The vrrp role: haupd on an LB. Debian's nodejs (the artifact targets node18) and arping; the
// artifact under /opt/haup (sha256-idempotent); /etc/haup/haupd.yml rendered from the inventory
// with each VRRP PASS in its own 0600 root file; check scripts; a systemd unit with only
// CAP_NET_RAW and CAP_NET_ADMIN. Handlers: reload (SIGHUP) on config change, daemon-reload +
// restart on artifact or unit change.
import { posix } from 'node:path';
import Handlebars from 'handlebars';
import type { HandlerSpec, TaskSpec } from '../engine/types.ts';
import type { Inventory, LbHost, TrackCheck, VrrpInstance } from '../inventory/model.ts';
import { renderTemplate } from '../templates/loader.ts';
import { HaupError } from '../util/errors.ts';
import type { HaupdArtifact } from './artifact.ts';
import type { RoleTasks } from './types.ts';

export const HAUPD_ROOT = '/opt/haup';
export const HAUPD_BIN = '/opt/haup/bin/haupd';
export const HAUPD_ETC = '/etc/haup';
export const HAUPD_CONFIG = '/etc/haup/haupd.yml';
export const HAUPD_SECRETS = '/etc/haup/secrets';
export const HAUPD_CHECKS = '/etc/haup/checks';
export const HAUPD_UNIT = '/etc/systemd/system/haupd.service';
export const RELOAD_HAUPD = 'reload haupd';
/**
 * Succeeds while anything may read haupd's files: the unit enabled (a boot), active, or
 * restarting. When it fails (a fresh LB), haupd's files are inert until the phase's "haupd
 * running" starts it, so they may be written before the phase (TaskSpec.beforePhaseUnless): the
 * master's files are then in place while its backup is rolled out, and only its activation
 * (enable, start) waits for its turn.
 */
export const HAUPD_MAY_READ = 'systemctl is-enabled --quiet haupd.service || systemctl is-active --quiet haupd.service || [ "$(systemctl show -p ActiveState --value haupd.service)" = activating ]';
export const RESTART_HAUPD = 'restart haupd';

// JSON is YAML: every value in the haupd config is written as JSON, so quoting is never wrong.
Handlebars.registerHelper('json', (v: unknown) => JSON.stringify(v));

export const secretFileFor = (instance: string): string => `${HAUPD_SECRETS}/${instance}.pass`;
export const checkScriptFor = (check: string): string => `${HAUPD_CHECKS}/${check}`;

function checkScript(inv: Inventory, c: TrackCheck): string {
  if (c.builtin === 'nginx') return renderTemplate('haupd/check-nginx.sh.hbs', { name: c.name, port: inv.nginx.listen, timeout: c.timeout });
  return renderTemplate('haupd/check-command.sh.hbs', { name: c.name, command: c.script });
}

function instancesOf(inv: Inventory, host: LbHost): VrrpInstance[] {
  return inv.vrrp.instances.filter((i) => i.members.some((m) => m.host === host.name));
}

function checksOf(inv: Inventory, host: LbHost): TrackCheck[] {
  const names = new Set(instancesOf(inv, host).flatMap((i) => i.track));
  return inv.vrrp.checks.filter((c) => names.has(c.name));
}

/** Pure: /etc/haup/haupd.yml for one LB (no secret in it: secret_file points at the 0600 file). */
export function renderHaupdConfig(inv: Inventory, host: LbHost): string {
  const checks = new Map(inv.vrrp.checks.map((c) => [c.name, c]));
  const pg = inv.vrrp.partitionGuard;
  const instances = instancesOf(inv, host).map((i) => {
    const me = i.members.find((m) => m.host === host.name)!;
    return {
      name: i.name,
      interface: me.interface,
      vrid: i.vrid,
      version: i.version,
      priority: me.priority,
      advertInt: i.advertIntCs / 100,
      vips: i.vips.map((v) => v.cidr),
      secretFile: i.auth.type === 'PASS' ? secretFileFor(i.name) : null,
      preempt: i.preempt,
      preemptDelay: i.preemptDelay,
      unicastPeers: me.unicastPeers,
      peers: Object.fromEntries(i.members.map((m) => [m.address, m.priority])),
      v3Checksum: i.version === 3 ? (i.checksum === 'rfc9568' ? 'message' : 'pseudo') : null,
      garp: { count: i.garp.burst, repeat_count: i.garp.repeatDelay > 0 ? i.garp.burst : 0, repeat_delay: i.garp.repeatDelay },
      trackScripts: i.track.map((name) => {
        const c = checks.get(name);
        if (!c) throw new HaupError(`instance ${i.name} tracks an unknown check "${name}"`);
        return { name: c.name, script: checkScriptFor(c.name), interval: c.interval, timeout: c.timeout, rise: c.rise, fall: c.fall, weight: c.weight };
      }),
      notify: i.notify,
    };
  });
  return renderTemplate('haupd/haupd.yml.hbs', {
    host: host.name,
    statusSocket: inv.haupd.statusSocket,
    metrics: inv.haupd.metricsListen ? `${inv.haupd.metricsListen.host}:${inv.haupd.metricsListen.port}` : false,
    partitionGuard: pg ? { gateway: pg.gateway, interval: pg.interval, timeout: pg.interval, fall: pg.fall, rise: pg.rise } : null,
    instances,
  });
}

/** The PASS files this LB's haupd reads (one per instance with PASS auth). */
function passInstances(inv: Inventory, host: LbHost): VrrpInstance[] {
  return instancesOf(inv, host).filter((i) => i.auth.type === 'PASS');
}

/** Pure: the unit for one LB (its LoadCredential lines name that LB's PASS files). */
export function renderHaupdUnit(inv: Inventory, host: LbHost): string {
  const credentials = passInstances(inv, host).map((i) => ({ id: posix.basename(secretFileFor(i.name)), path: secretFileFor(i.name) }));
  return renderTemplate('haupd/haupd.service.hbs', { bin: HAUPD_BIN, config: HAUPD_CONFIG, credentials, credentialsDir: '/run/credentials/haupd.service', secretsDir: HAUPD_SECRETS });
}

/** The PASS file's bytes (never shown: the task is marked secret). */
function passFile(i: VrrpInstance): string {
  if (i.auth.type !== 'PASS') throw new Error('no PASS');
  return `${i.auth.pass.reveal()}\n`;
}

export function vrrpRole(inv: Inventory, host: LbHost, artifact: HaupdArtifact): RoleTasks {
  const dirs = new Set<string>([HAUPD_ROOT]);
  for (const f of artifact.files) for (let d = posix.dirname(`${HAUPD_ROOT}/${f.path}`); d !== HAUPD_ROOT; d = posix.dirname(d)) dirs.add(d);
  const early = { beforePhaseUnless: HAUPD_MAY_READ };
  const dirTasks: TaskSpec[] = [...dirs].sort().map((d) => ({ name: `directory ${d}`, op: { op: 'directory', path: d, mode: 0o755 }, ...early }));
  const artifactTasks: TaskSpec[] = artifact.files.map((f) => ({
    name: `haupd ${artifact.version}: ${f.path}`,
    op: { op: 'file', path: `${HAUPD_ROOT}/${f.path}`, content: f.content, mode: f.mode },
    notify: [RESTART_HAUPD],
    ...early,
  }));
  // haupd sees a copy of each PASS file made when it starts (LoadCredential): a new PASS needs a
  // restart, a reload would keep the old one.
  const secretTasks: TaskSpec[] = passInstances(inv, host).map((i) => ({
    name: `VRRP PASS of ${i.name}`,
    op: { op: 'file', path: secretFileFor(i.name), content: passFile(i), mode: 0o600, owner: 'root', group: 'root', secret: true },
    notify: [RESTART_HAUPD],
    ...early,
  }));
  const checkTasks: TaskSpec[] = checksOf(inv, host).map((c) => ({
    name: `check script ${c.name}`,
    op: { op: 'file', path: checkScriptFor(c.name), content: checkScript(inv, c), mode: 0o755 },
    notify: [RELOAD_HAUPD],
    ...early,
  }));
  const active = 'systemctl is-active --quiet haupd.service';
  // systemd must see the unit file as written. `systemctl enable` (the task before, on a first
  // deploy) already reloaded it: a second daemon-reload costs 0.2-0.3 s on an LB, in the ordered
  // (serial) part of the rollout. Reload only when systemd says the loaded unit is stale.
  const reloadUnitsIfStale =
    'if [ "$(systemctl show -p LoadState --value haupd.service)" != loaded ] || [ "$(systemctl show -p NeedDaemonReload --value haupd.service)" != no ]; then systemctl daemon-reload || exit 1; fi';
  const tasks: TaskSpec[] = [
    // curl and pgrep: the nginx check script uses them.
    { name: 'nodejs, arping, curl, procps installed', op: { op: 'package', names: ['nodejs', 'iputils-arping', 'curl', 'procps'], update: true, noStart: true } },
    ...dirTasks,
    ...artifactTasks,
    { name: `directory ${HAUPD_ETC}`, op: { op: 'directory', path: HAUPD_ETC, mode: 0o755 }, ...early },
    { name: `directory ${HAUPD_SECRETS}`, op: { op: 'directory', path: HAUPD_SECRETS, mode: 0o700 }, ...early },
    { name: `directory ${HAUPD_CHECKS}`, op: { op: 'directory', path: HAUPD_CHECKS, mode: 0o755 }, ...early },
    ...secretTasks,
    ...checkTasks,
    {
      name: 'haupd config',
      // haupd itself validates the staged file (and the secret files it names) before it goes live.
      op: { op: 'file', path: HAUPD_CONFIG, content: renderHaupdConfig(inv, host), validate: `${HAUPD_BIN} --check-config %s` },
      notify: [RELOAD_HAUPD],
      ...early,
    },
    { name: 'haupd systemd unit', op: { op: 'file', path: HAUPD_UNIT, content: renderHaupdUnit(inv, host) }, notify: [RESTART_HAUPD], ...early },
    { name: 'haupd enabled', op: { op: 'service', name: 'haupd.service', enabled: true } },
    {
      // Not running when the deploy began: start it on the files just written (daemon-reload
      // first, the unit may have changed). Running: the handlers reload or restart it.
      name: 'haupd running',
      op: { op: 'command', command: `${reloadUnitsIfStale}\nsystemctl start haupd.service`, unless: active },
    },
  ];
  // Handler guards are evaluated with the facts, BEFORE this deploy: a haupd that was not running
  // was just started on the new files above and needs neither a reload nor a restart.
  const handlers: HandlerSpec[] = [
    { name: RELOAD_HAUPD, op: { op: 'command', command: 'systemctl reload haupd.service', onlyIf: active }, restoreOnFailure: true },
    { name: RESTART_HAUPD, op: { op: 'command', command: `${reloadUnitsIfStale}\nsystemctl restart haupd.service`, onlyIf: active }, restoreOnFailure: true },
  ];
  return { tasks, handlers, treeChecks: [] };
}
