// Gratuitous ARP on takeover: `arping -U -c N -I IF -s VIP VIP` (Debian's iputils-arping).
//
// Without it clients keep the old master's MAC until their ARP entry expires (30-45 s measured,
// DESIGN.md §5). Linux neighbours update an existing entry from an unsolicited ARP (they do not
// create new ones unless arp_accept=1), which is exactly the case that matters: a client that
// talked to the VIP before.
//
// Pacing: keepalived sends its burst back to back. iputils-arping only takes whole-second
// intervals (`-i 0.01` is rejected, `-i 0` sends one probe and hangs), so a burst of N is N
// `arping -c 1` started together: the packets leave within a few ms, like keepalived's. Each
// arping then idles ~1 s (it waits one interval after its last probe) and exits; short-lived
// processes also mean a daemon killed with -9 leaves no arping announcing a VIP it no longer
// holds for more than ~1 s (under systemd the unit's cgroup is killed anyway). At most
// MAX_ARPING_PER_BURST processes per burst: with many VIPs each gets fewer copies (at least one).
// The repeat burst starts `repeatDelayMs` after takeover (keepalived: 5 more after 5 s).
// Call it after the VIPs are on the interface: arping binds to the VIP as source and fails
// ("bind: Cannot assign requested address", exit 2, logged) for an address that is not local.
// Cancel on release kills the arping processes and drops the pending repeat. Errors are logged,
// never thrown: a missing arping must not stop a takeover.
import { describeFailure, runCommand, silentLogger, type IoLogger } from './exec.ts';

export interface GarpOptions {
  /** Packets in the first burst (keepalived: 5). 0 = none. */
  count: number;
  /** Packets in the repeat burst (keepalived: 5). 0 = no repeat. */
  repeatCount: number;
  /** Delay from takeover to the repeat burst (keepalived: 5000 ms). */
  repeatDelayMs: number;
}

export const KEEPALIVED_GARP: GarpOptions = { count: 5, repeatCount: 5, repeatDelayMs: 5000 };

export interface GarpRun {
  /** Stop sending: kills running arping processes, drops the repeat. Idempotent. */
  cancel(): void;
  /** Resolves when both bursts are done or cancelled (never rejects). */
  done: Promise<void>;
  /**
   * Resolves once every arping of the first burst has started (or failed to): the packets leave
   * ~3 ms later. A planned takeover sends its advert only after this, because the old master
   * releases the VIP 100 ms after that advert and clients must have our MAC by then.
   */
  started: Promise<void>;
}

export const MAX_ARPING_PER_BURST = 64;

/** The argv of one arping (pure; exported for tests). */
export function arpingArgs(ifname: string, vip: string, count: number): string[] {
  return ['-U', '-c', String(count), '-I', ifname, '-s', vip, vip];
}

/** Copies per VIP in a burst of `count`, within MAX_ARPING_PER_BURST processes. */
export function copiesPerVip(count: number, vips: number): number {
  if (count <= 0 || vips <= 0) return 0;
  return Math.max(1, Math.min(count, Math.floor(MAX_ARPING_PER_BURST / vips)));
}

export function sendGratuitousArp(ifname: string, vips: readonly string[], opts: GarpOptions, log: IoLogger = silentLogger): GarpRun {
  const abort = new AbortController();
  let repeatTimer: NodeJS.Timeout | undefined;
  let wakeRepeat: (() => void) | undefined;

  let firstStarted!: () => void;
  const started = new Promise<void>((resolve) => (firstStarted = resolve));

  const burst = async (count: number, which: 'burst' | 'repeat'): Promise<void> => {
    const copies = copiesPerVip(count, vips.length);
    const onFirst = which === 'burst' ? firstStarted : undefined;
    if (copies === 0 || abort.signal.aborted) return onFirst?.();
    let pending = copies * vips.length;
    const onStarted = onFirst ? () => --pending === 0 && onFirst() : undefined;
    await Promise.all(
      vips.map(async (vip) => {
        const results = await Promise.all(
          Array.from({ length: copies }, () => runCommand('arping', arpingArgs(ifname, vip, 1), { timeoutMs: 3000, signal: abort.signal, ...(onStarted ? { onStarted } : {}) })),
        );
        if (abort.signal.aborted) return;
        const failed = results.filter((r) => r.code !== 0);
        if (failed.length > 0) log.warn('garp_failed', { interface: ifname, vip, which, failed: failed.length, of: copies, error: describeFailure(failed[0]!) });
        else log.debug('garp_sent', { interface: ifname, vip, which, count: copies });
      }),
    );
  };

  const done = (async () => {
    const first = burst(opts.count, 'burst');
    if (opts.repeatCount > 0 && !abort.signal.aborted) {
      await new Promise<void>((resolve) => {
        wakeRepeat = resolve;
        repeatTimer = setTimeout(resolve, opts.repeatDelayMs);
      });
      await burst(opts.repeatCount, 'repeat');
    }
    await first;
  })()
    .catch((err: unknown) => log.error('garp_error', { interface: ifname, error: err }))
    .finally(() => firstStarted());

  return {
    cancel() {
      if (abort.signal.aborted) return;
      abort.abort();
      clearTimeout(repeatTimer);
      wakeRepeat?.();
    },
    done,
    started,
  };
}
