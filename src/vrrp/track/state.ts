// Pure tracking logic shared by track scripts, track interfaces and the partition guard:
// rise/fall hysteresis and keepalived's weight semantics. No clock, no I/O.
//
// Rise/fall as keepalived: from OK, `fall` consecutive failures make it FAILED; from FAILED,
// `rise` consecutive successes make it OK; a result in the other direction resets the streak.
// Before the first result a check is UNKNOWN. keepalived starts a script one success short of OK
// (the first result decides); we do the same, and treat UNKNOWN like FAILED for the priority so a
// node never takes over before its first check has run (it runs at once, long before Master_Down).

export type CheckStatus = 'unknown' | 'ok' | 'failed';

export interface CheckState {
  status: CheckStatus;
  /** Consecutive results pointing away from `status` (towards the other state). */
  streak: number;
}

export interface RiseFall {
  rise: number;
  fall: number;
}

export const initialCheckState: CheckState = { status: 'unknown', streak: 0 };

export function recordResult(state: CheckState, ok: boolean, rf: RiseFall): CheckState {
  if (state.status === 'unknown') return { status: ok ? 'ok' : 'failed', streak: 0 };
  if (state.status === 'ok') {
    if (ok) return { status: 'ok', streak: 0 };
    const streak = state.streak + 1;
    return streak >= Math.max(1, rf.fall) ? { status: 'failed', streak: 0 } : { status: 'ok', streak };
  }
  if (!ok) return { status: 'failed', streak: 0 };
  const streak = state.streak + 1;
  return streak >= Math.max(1, rf.rise) ? { status: 'ok', streak: 0 } : { status: 'failed', streak };
}

export interface TrackedItem {
  name: string;
  status: CheckStatus;
  /** keepalived: 0 = FAULT while failing; > 0 added while OK; < 0 subtracted while failing. */
  weight: number;
}

export interface TrackEffect {
  /** Some weight-0 item is failing (or unknown): the instance must be in FAULT. */
  fault: boolean;
  /** Sum of the weights that apply now. */
  delta: number;
  /** Names of the weight-0 items that cause the fault. */
  faultBy: string[];
}

export function trackEffect(items: readonly TrackedItem[]): TrackEffect {
  let delta = 0;
  const faultBy: string[] = [];
  for (const it of items) {
    const ok = it.status === 'ok';
    if (it.weight === 0) {
      if (!ok) faultBy.push(it.name);
    } else if (it.weight > 0) {
      if (ok) delta += it.weight;
    } else if (!ok) {
      delta += it.weight;
    }
  }
  return { fault: faultBy.length > 0, delta, faultBy };
}

/**
 * Priority the instance advertises: base + delta clamped to 1..254. An address owner (255) keeps
 * 255: keepalived ignores tracking weights for it, an owner must always answer for its address.
 */
export function effectivePriority(base: number, delta: number): number {
  if (base >= 255) return 255;
  return Math.min(254, Math.max(1, base + delta));
}
