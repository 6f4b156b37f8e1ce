// `haupd --release` after a crash: hand the VIPs over as a SIGTERM would, instead of dropping them.
//
// systemd runs `--release` (ExecStopPost) after every stop. After a graceful stop the daemon has
// handed over already and no VIP is left: nothing to do. After a crash (kill -9, an abort) the VIPs
// are still here and nginx still serves them. Removing them at once left the clients with no holder
// until the backup's Master_Down (90–149 failed requests at 1 s adverts, bench/vrrp kill9). So for
// each instance that still holds a VIP: send priority 0 every advert interval (a backup that knows
// its peers takes over at once, others after Skew), keep the VIPs until another router's advert
// shows a new master, wait the release drain, and only then remove them. Bounded by
// handover_timeout (0 = remove at once, keepalived's behaviour). The removal itself stays in
// release.ts (releaseInstances), which runs after this whatever happened here.
import type { InstanceConfig } from './config.ts';
import { DEFAULT_RELEASE_DRAIN_MS } from './instance.ts';
import type { Logger } from './log.ts';
import { newDropCounters, validateDatagram } from './receive.ts';
import { openVrrpSocket, type VrrpSocket } from './socket.ts';
import { presentVips } from './vip.ts';
import { encodeAdverts, expectedOf } from './wire-config.ts';

export type HandoverOutcome =
  | { kind: 'none' } // no VIP of this instance on the interface: nothing to hand over
  | { kind: 'handed-over'; to: string; priority: number; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'failed'; error: string };

export interface HandoverOptions {
  /** Longest hold; 0 = no handover (remove at once). */
  timeoutMs: number;
  /** Hold after the new master's first advert, for requests already routed here. */
  drainMs?: number;
  /** Tests: open the socket differently. */
  open?: (ifname: string, exclude: readonly string[]) => Promise<VrrpSocket>;
}

/** Hand one instance's VIPs over (never throws); the caller removes them afterwards. */
export async function handOver(cfg: InstanceConfig, log: Logger, o: HandoverOptions): Promise<HandoverOutcome> {
  if (o.timeoutMs <= 0 || cfg.priority === 255) return { kind: 'none' };
  const held = await presentVips(cfg.interface, cfg.vips);
  if ('error' in held || held.length === 0) return { kind: 'none' };
  const vipAddresses = cfg.vips.map((v) => v.address);
  let socket: VrrpSocket;
  try {
    socket = await (o.open ?? ((ifname, exclude) => openVrrpSocket(ifname, { excludeFromPrimary: exclude })))(cfg.interface, vipAddresses);
  } catch (err) {
    return { kind: 'failed', error: (err as Error).message };
  }
  const start = performance.now();
  const lookup = new Map([[cfg.vrid, expectedOf(cfg)]]);
  const counters = newDropCounters();
  const zero = encodeAdverts(cfg, 0, socket.primary);
  log.info('release_handover', { instance: cfg.name, vips: held.map((v) => `${v.address}/${v.prefix}`), timeoutMs: o.timeoutMs });
  try {
    const seen = await new Promise<{ from: string; priority: number } | null>((resolve) => {
      const send = (): void => {
        for (const m of zero) socket.send(m.dst, m.msg).catch((err: Error) => log.warn('release_send_failed', { instance: cfg.name, dst: m.dst, error: err.message }));
      };
      const repeat = setInterval(send, cfg.advertIntervalCs * 10);
      const deadline = setTimeout(() => finish(null), o.timeoutMs);
      const finish = (r: { from: string; priority: number } | null): void => {
        clearInterval(repeat);
        clearTimeout(deadline);
        resolve(r);
      };
      socket.onPacket((packet) => {
        const r = validateDatagram(packet, lookup, counters);
        // Only masters advertise with priority > 0: someone has taken over.
        if (r.ok && r.from !== socket.primary && r.advert.priority > 0) finish({ from: r.from, priority: r.advert.priority });
      });
      send();
    });
    if (!seen) return { kind: 'timeout', ms: Math.round(performance.now() - start) };
    await new Promise((resolve) => setTimeout(resolve, o.drainMs ?? DEFAULT_RELEASE_DRAIN_MS));
    return { kind: 'handed-over', to: seen.from, priority: seen.priority, ms: Math.round(performance.now() - start) };
  } finally {
    socket.close();
  }
}

/** Every instance at once (they are independent); outcomes in config order. */
export function handOverAll(instances: readonly InstanceConfig[], log: Logger, o: HandoverOptions): Promise<HandoverOutcome[]> {
  return Promise.all(instances.map((cfg) => handOver(cfg, log.child({ instance: cfg.name }), o)));
}
