// What one instance's configuration means on the wire: the advert it sends and the advert it
// expects. Shared by the daemon and by `haupd --release`'s handover (release-handover.ts), so both
// speak exactly the same packets.
import { encodeAdvert, type Advert } from './codec.ts';
import type { InstanceConfig } from './config.ts';
import { expectedInstance, type ExpectedInstance } from './receive.ts';
import { VRRP_MULTICAST_GROUP } from './socket.ts';

/** The receive checks' view of the instance (VRID, version, interval, VIPs, PASS, unicast peers). */
export function expectedOf(cfg: InstanceConfig): ExpectedInstance {
  const exp = expectedInstance({
    version: cfg.version,
    vrid: cfg.vrid,
    advertIntervalCs: cfg.advertIntervalCs,
    addresses: cfg.vips.map((v) => v.address),
    unicastPeers: cfg.unicastPeers,
  });
  // The PASS bytes come from the secret file already padded to 8 (never a string we could log).
  return cfg.auth ? { ...exp, authType: 1, authData: cfg.auth.data } : exp;
}

/** The encoded adverts (one per destination: the multicast group or each unicast peer). */
export function encodeAdverts(cfg: InstanceConfig, priority: number, src: string, addresses: readonly string[] = cfg.vips.map((v) => v.address)): { dst: string; msg: Buffer }[] {
  const advert: Advert = {
    version: cfg.version,
    vrid: cfg.vrid,
    priority,
    addresses: [...addresses],
    advertIntervalCs: cfg.advertIntervalCs,
    authType: cfg.version === 2 && cfg.auth ? 1 : 0,
    authData: cfg.version === 2 ? (cfg.auth?.data ?? Buffer.alloc(8)) : Buffer.alloc(0),
    checksum: 0,
  };
  const targets = cfg.unicastPeers.length > 0 ? cfg.unicastPeers : [VRRP_MULTICAST_GROUP];
  return targets.map((dst) => ({ dst, msg: encodeAdvert(advert, { src, dst, v3Checksum: cfg.v3Checksum }) }));
}
