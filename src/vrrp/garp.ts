// Gratuitous ARP on takeover: `arping -U -c N -I IF -s VIP VIP` (Debian's iputils-arping).
//
// Without it clients keep the old master's MAC until their ARP entry expires (30-45 s measured,
// DESIGN.md §5). Linux neighbours update an existing entry from an unsolicited ARP (they do not
// create new ones unless arp_accept=1), which is exactly the case that matters: a client that
// talked to the VIP before.
//
// Pacing: keepalived sends its burst back to back. iputils-arping only takes whole-second
// intervals (`-i 0.01` is rejected, `-i 0` sends one probe and hangs), so one arping per VIP sends
// the first packet at once and the rest of the burst one per second; the repeat burst starts
// `repeatDelayMs` after takeover (keepalived: 5 more after 5 s). The first packet, the one that
// moves the clients, is as fast as keepalived's; the spacing covers a longer loss window.
// Cancel on release kills the arping processes and the pending repeat. Errors are logged, never
// thrown: a missing arping must not stop a takeover.
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
}

/** The argv of one arping burst (pure; exported for tests). */
export function arpingArgs(ifname: string, vip: string, count: number): string[] {
  return ['-U', '-c', String(count), '-I', ifname, '-s', vip, vip];
}

export function sendGratuitousArp(ifname: string, vips: readonly string[], opts: GarpOptions, log: IoLogger = silentLogger): GarpRun {
  const abort = new AbortController();
  let repeatTimer: NodeJS.Timeout | undefined;
  let wakeRepeat: (() => void) | undefined;

  const burst = async (count: number, which: 'burst' | 'repeat'): Promise<void> => {
    if (count <= 0 || abort.signal.aborted) return;
    await Promise.all(
      vips.map(async (vip) => {
        // arping waits one interval after its last probe: count seconds + slack.
        const r = await runCommand('arping', arpingArgs(ifname, vip, count), { timeoutMs: count * 1000 + 2000, signal: abort.signal });
        if (abort.signal.aborted) return;
        if (r.code !== 0) log.warn('garp_failed', { interface: ifname, vip, which, error: describeFailure(r) });
        else log.debug('garp_sent', { interface: ifname, vip, which, count });
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
  })().catch((err: unknown) => log.error('garp_error', { interface: ifname, error: err }));

  return {
    cancel() {
      if (abort.signal.aborted) return;
      abort.abort();
      clearTimeout(repeatTimer);
      wakeRepeat?.();
    },
    done,
  };
}
