// The short resolved summary `haup inventory check` prints. Pure: model in, text out. Secrets
// appear only as their source (env NAME / file PATH) and whether they are set — never the value.
import type { Host, Inventory, VrrpInstance } from './model.ts';
import { describeRef, type Secret } from './secrets.ts';

/** Centiseconds as seconds without trailing zeros: 100 -> "1", 10 -> "0.1". */
export function formatSeconds(cs: number): string {
  return String(cs / 100);
}

function secretState(secret: Secret): string {
  return `${describeRef(secret.ref)}${secret.available ? '' : ', not available here'}`;
}

function hostLines(role: string, hosts: Host[], width: number, verbose: boolean): string[] {
  if (hosts.length === 0) return [`${role.padEnd(6)} (none)`];
  return hosts.map((h, i) => {
    const head = `${(i === 0 ? role : '').padEnd(6)} ${h.name.padEnd(width)} ${h.address}`;
    if (!verbose) return head;
    const s = h.ssh;
    const extra = [`ssh ${s.user}@${s.host}:${s.port}`, `key ${s.privateKey}`, s.passphrase ? `passphrase ${secretState(s.passphrase)}` : '', s.become === 'sudo' ? 'sudo' : '']
      .filter(Boolean)
      .join(', ');
    return `${head}  (${extra})`;
  });
}

function instanceLines(inst: VrrpInstance, inv: Inventory): string[] {
  const who = (name: string) => {
    const m = inst.members.find((x) => x.host === name)!;
    const iface = m.interface !== inst.interface ? `, on ${m.interface}` : '';
    return `${name} (priority ${m.priority}${iface})`;
  };
  const auth = inst.auth.type === 'PASS' ? `auth PASS from ${secretState(inst.auth.pass)}` : 'no auth';
  const preempt = inst.preempt ? (inst.preemptDelay > 0 ? `preempt after ${inst.preemptDelay} s` : 'preempt') : 'nopreempt';
  const transport = inst.unicast ? 'unicast to the peers' : 'multicast 224.0.0.18';
  const checksum = inst.version === 3 ? `, ${inst.checksum} checksum` : '';
  const tracks = inst.track.map((name) => {
    const c = inv.vrrp.checks.find((x) => x.name === name)!;
    const effect = c.weight === 0 ? 'fault on failure' : `weight ${c.weight > 0 ? '+' : ''}${c.weight}`;
    return `${name} (${c.script}, every ${c.interval} s, ${effect})`;
  });
  return [
    `instance ${inst.name}`,
    `  vips     ${inst.vips.map((v) => v.cidr).join(', ')}`,
    `  vrid     ${inst.vrid} on ${inst.interface}`,
    `  vrrp     v${inst.version}, advert every ${formatSeconds(inst.advertIntCs)} s, ${auth}${checksum}`,
    `  mode     ${preempt}, ${transport}`,
    `  master   ${who(inst.master)}`,
    `  backups  ${inst.backups.map(who).join(', ')}`,
    `  tracks   ${tracks.length ? tracks.join('; ') : '(nothing)'}`,
  ];
}

export function formatSummary(inv: Inventory, options: { verbose?: boolean } = {}): string {
  const verbose = options.verbose === true;
  const width = Math.max(...inv.hosts.map((h) => h.name.length));
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const lines = [
    `${inv.file}: ok (${count(inv.hosts.length, 'host')}, ${count(inv.vrrp.instances.length, 'VRRP instance')}, ${count(inv.warnings.length, 'warning')})`,
    ...hostLines('web', inv.web, width, verbose),
    ...hostLines('lb', inv.lb, width, verbose),
    ...hostLines('probe', inv.probe, width, verbose),
  ];
  for (const inst of inv.vrrp.instances) lines.push(...instanceLines(inst, inv));
  const g = inv.vrrp.partitionGuard;
  lines.push(g ? `partition guard: gateway ${g.gateway}, every ${g.interval} s, fault after ${g.fall} misses` : 'partition guard: off');
  if (verbose) {
    const n = inv.nginx;
    const p = n.proxyParams;
    const u = n.upstream;
    lines.push(
      `nginx: listen ${n.listen}, server_name ${n.serverName}, backends on port ${n.backendPort}, test page ${n.testPage ? 'on' : 'off'}`,
      `  proxy: Host ${p.hostHeader}, X-Forwarded-For ${p.xForwardedFor ? 'on' : 'off'}, timeouts connect ${p.connectTimeout} s / send ${p.sendTimeout} s / read ${p.readTimeout} s, buffering ${p.buffering ? 'on' : 'off'} (${p.buffers.count} x ${p.buffers.size}, first ${p.bufferSize})`,
      `  upstream: ${u.method}, zone ${u.zone ? 'on' : 'off'}, keepalive ${u.keepalive}, max_fails ${u.maxFails}, fail_timeout ${u.failTimeout} s`,
      `haupd: status ${inv.haupd.statusSocket}, metrics ${inv.haupd.metricsListen ? `${inv.haupd.metricsListen.host}:${inv.haupd.metricsListen.port}` : 'off'}`,
    );
  }
  return lines.join('\n');
}
