// An Ansible inventory (YAML) from haup's resolved inventory, so both tools deploy exactly the same
// settings: hosts and addresses, SSH user/key/known_hosts (strict host-key checking), VRRP
// instance (VRID, interface, VIPs, version, advert interval, priorities, PASS file), the tracked
// nginx check, and the nginx upstream/proxy settings. The PASS itself is not copied: the
// playbook reads it from the same 0600 file on the control machine (lookup('file')).
import { stringify } from 'yaml';
import type { Inventory, VrrpInstance } from '../../src/inventory/model.ts';

/** The benchmark compares one VRRP instance tracking the nginx check (the lab's shape). */
function singleInstance(inv: Inventory): VrrpInstance {
  const [inst, ...rest] = inv.vrrp.instances;
  if (!inst || rest.length > 0) throw new Error(`the Ansible baseline handles exactly one VRRP instance (inventory has ${inv.vrrp.instances.length})`);
  if (inst.version !== 2) throw new Error('the Ansible baseline is written for VRRP v2 (PASS auth)');
  return inst;
}

function sshCommonArgs(inv: Inventory): string {
  const first = inv.hosts[0];
  if (!first) throw new Error('inventory has no hosts');
  const s = first.ssh;
  for (const h of inv.hosts) {
    if (h.ssh.privateKey !== s.privateKey || h.ssh.knownHosts !== s.knownHosts || h.ssh.user !== s.user) {
      throw new Error(`host ${h.name}: the Ansible baseline assumes one SSH user/key/known_hosts for every host`);
    }
  }
  // Same strictness as haup: only keys in the lab's known_hosts are accepted.
  return [
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${s.knownHosts}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o IdentitiesOnly=yes',
    `-o ConnectTimeout=${s.connectTimeout}`,
  ].join(' ');
}

export function ansibleInventory(inv: Inventory): string {
  const inst = singleInstance(inv);
  const pass = inst.auth.type === 'PASS' ? inst.auth.pass.ref : undefined;
  if (!pass || pass.source !== 'file') throw new Error('the Ansible baseline reads the VRRP PASS from a file (auth.pass.file)');
  const nginxCheck = inv.vrrp.checks.find((c) => c.builtin === 'nginx' && inst.track.includes(c.name));
  if (!nginxCheck) throw new Error('the instance must track the builtin nginx check');
  const first = inv.hosts[0]!;
  const n = inv.nginx;
  const doc = {
    all: {
      vars: {
        ansible_user: first.ssh.user,
        ansible_port: first.ssh.port,
        ansible_ssh_private_key_file: first.ssh.privateKey,
        ansible_ssh_common_args: sshCommonArgs(inv),
        ansible_python_interpreter: '/usr/bin/python3',
      },
      children: {
        webs: {
          hosts: Object.fromEntries(inv.web.map((h) => [h.name, { ansible_host: h.ssh.host }])),
          vars: { web_port: n.backendPort },
        },
        lbs: {
          hosts: Object.fromEntries(
            inv.lb.map((h) => {
              const m = inst.members.find((x) => x.host === h.name);
              if (!m) throw new Error(`LB ${h.name} is not a member of ${inst.name}`);
              return [h.name, { ansible_host: h.ssh.host, vrrp_priority: m.priority, vrrp_state: inst.master === h.name ? 'MASTER' : 'BACKUP', vrrp_interface: m.interface }];
            }),
          ),
          vars: {
            vrrp: {
              name: inst.name,
              vrid: inst.vrid,
              version: inst.version,
              advert_int: inst.advertIntCs / 100,
              vips: inst.vips.map((v) => v.cidr),
              pass_file: pass.path,
              preempt: inst.preempt,
            },
            check_nginx: {
              interval: nginxCheck.interval,
              timeout: nginxCheck.timeout,
              fall: nginxCheck.fall,
              rise: nginxCheck.rise,
              weight: nginxCheck.weight,
            },
            nginx_listen: n.listen,
            nginx_server_name: n.serverName,
            upstream: {
              zone: n.upstream.zone,
              method: n.upstream.method === 'round_robin' ? null : n.upstream.method,
              keepalive: n.upstream.keepalive,
              max_fails: n.upstream.maxFails,
              fail_timeout: n.upstream.failTimeout,
              servers: inv.web.map((w) => ({ name: w.name, address: w.address, port: n.backendPort })),
            },
            proxy: {
              host_header: n.proxyParams.hostHeader,
              x_forwarded_for: n.proxyParams.xForwardedFor,
              connect_timeout: n.proxyParams.connectTimeout,
              send_timeout: n.proxyParams.sendTimeout,
              read_timeout: n.proxyParams.readTimeout,
              buffering: n.proxyParams.buffering,
              buffer_size: n.proxyParams.bufferSize,
              buffers: `${n.proxyParams.buffers.count} ${n.proxyParams.buffers.size}`,
            },
          },
        },
      },
    },
  };
  return `# Generated from ${inv.file} by bench/ansible/inventory.ts: the same hosts and settings haup deploys.\n${stringify(doc)}`;
}
