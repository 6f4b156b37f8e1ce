// A check that runs every `intervalMs` (start to start, never overlapping: the next run waits for
// the previous one, which its own timeout bounds) and turns results into OK/FAILED with rise/fall.
// The clock is injected so tests drive it by hand.
import { initialCheckState, recordResult, type CheckState, type CheckStatus } from './state.ts';

export interface ProbeResult {
  ok: boolean;
  /** Why it failed (or what it saw), for logs and the status socket. */
  detail?: string;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface PeriodicCheckOptions {
  intervalMs: number;
  rise: number;
  fall: number;
  /** One probe. Must settle on its own (its own timeout); aborting the signal means "stop now". */
  probe(signal: AbortSignal): Promise<ProbeResult>;
  /** Called when the status changes (unknown -> ok/failed, ok <-> failed). */
  onChange(status: CheckStatus, last: ProbeResult): void;
  clock?: Clock;
}

export interface PeriodicCheck {
  readonly status: CheckStatus;
  readonly last: ProbeResult | undefined;
  /** Probes run so far. */
  readonly runs: number;
  stop(): void;
}

export function startPeriodicCheck(opts: PeriodicCheckOptions): PeriodicCheck {
  const clock = opts.clock ?? realClock;
  const abort = new AbortController();
  let state: CheckState = initialCheckState;
  let last: ProbeResult | undefined;
  let runs = 0;
  let timer: unknown;

  const runOnce = async (): Promise<void> => {
    if (abort.signal.aborted) return;
    const started = clock.now();
    let result: ProbeResult;
    try {
      result = await opts.probe(abort.signal);
    } catch (err) {
      result = { ok: false, detail: `probe error: ${(err as Error).message}` };
    }
    if (abort.signal.aborted) return;
    runs++;
    last = result;
    const before = state.status;
    state = recordResult(state, result.ok, opts);
    if (state.status !== before) opts.onChange(state.status, result);
    const wait = Math.max(0, started + opts.intervalMs - clock.now());
    timer = clock.setTimeout(() => void runOnce(), wait);
  };
  void runOnce();

  return {
    get status() {
      return state.status;
    },
    get last() {
      return last;
    },
    get runs() {
      return runs;
    },
    stop() {
      abort.abort();
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
