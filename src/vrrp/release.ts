// `haupd --release` and the start-up cleanup: remove every copy of the configured VIPs from their
// interfaces. keepalived leaves the VIP on a `kill -9`'d master while the backup takes it too (two
// holders, DESIGN.md §5); systemd's ExecStopPost runs this after any stop, and a starting daemon
// runs it before it opens a socket, so no stale holder survives a crash.
import type { HaupdConfig, InstanceConfig } from './config.ts';
import type { Logger } from './log.ts';
import { formatVip, removeStaleVips } from './vip.ts';

/**
 * A priority-255 instance owns its addresses (they are the interface's real addresses, RFC 5798
 * §1): those are never removed.
 */
export function releasable(inst: InstanceConfig): boolean {
  return inst.priority !== 255;
}

/** Remove stale VIPs of the given instances; returns the VIPs removed (as `addr/prefix@ifname`). */
export async function releaseInstances(instances: readonly InstanceConfig[], log: Logger): Promise<string[]> {
  const removed: string[] = [];
  await Promise.all(
    instances.filter(releasable).map(async (inst) => {
      const results = await removeStaleVips(inst.interface, inst.vips);
      if ('error' in results) {
        // No such interface (yet): nothing of ours can be on it.
        log.warn('release_failed', { instance: inst.name, interface: inst.interface, error: results.error });
        return;
      }
      for (const r of results) {
        if (r.ok && !r.already) {
          removed.push(`${formatVip(r.vip)}@${inst.interface}`);
          log.info('stale_vip_removed', { instance: inst.name, interface: inst.interface, vip: formatVip(r.vip) });
        } else if (!r.ok) {
          log.error('stale_vip_remove_failed', { instance: inst.name, interface: inst.interface, vip: formatVip(r.vip), error: r.error });
        }
      }
    }),
  );
  return removed.sort();
}

export function releaseVips(config: HaupdConfig, log: Logger): Promise<string[]> {
  return releaseInstances(config.instances, log);
}
