// The client side of `verify --failover`: a bounded loop that starts one HTTP request through the
// VIP every 20 ms (each on a new connection, in the background, so a hanging request never delays
// the next one) and prints one line per request: start time (ns, the loop's slot), HTTP code,
// seconds taken, curl's exit code (7 refused, 28 timed out, 52 empty reply, 56 reset: what a
// failure was) and when curl returned (ns): on a loaded host curl may start well after its
// slot, and end - seconds taken is when it really ran.
// It runs over SSH on the probe host, or on the control machine. Script building, parsing and
// statistics are pure.
import { shq } from '../connectors/connection.ts';

export const PROBE_PERIOD_MS = 20;
/** Each request gives up after this long (a VIP with no holder must not stall the statistics). */
export const PROBE_REQUEST_TIMEOUT_S = 1;

export interface ProbeScriptOptions {
  url: string;
  /** Hard limit on the loop (it also stops as soon as `stopFile` exists). */
  maxSeconds: number;
  stopFile: string;
  periodMs?: number;
}

export function probeScript(o: ProbeScriptOptions): string {
  const periodUs = Math.round((o.periodMs ?? PROBE_PERIOD_MS) * 1000);
  const stop = shq(o.stopFile);
  const request = `curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time ${PROBE_REQUEST_TIMEOUT_S} ${shq(o.url)}`;
  return [
    'export LC_ALL=C',
    // The probe is a measuring instrument: on a busy probe host (the lab's client shares the
    // machine's cores) a starved loop would skip its 20 ms slots. Higher priority when allowed
    // (root, CAP_SYS_NICE); its requests inherit it.
    'renice -n -5 -p $$ >/dev/null 2>&1 || :',
    `rm -f ${stop}`,
    // The caller waits for this before it injects the fault (output comes only at the end).
    `: > ${shq(`${o.stopFile}.started`)}`,
    'if [ -n "$BASH_VERSION" ]; then',
    // bash: the clock without a fork ($EPOCHREALTIME), and each start paced on a fixed grid, so
    // the period stays 20 ms on a loaded machine (the sleep absorbs the loop's own cost).
    `  eval 'tick() { now=\${EPOCHREALTIME/./}; }'`,
    '  tick; next=$now; end=$(( now + ' + Math.round(o.maxSeconds * 1e6) + ' ))',
    `  while [ ! -e ${stop} ] && [ "$now" -lt "$end" ]; do`,
    `    ( r=$(${request}); c=$?; e=\${EPOCHREALTIME/./}; echo "@p \${now}000 $r $c \${e}000" ) &`,
    `    next=$(( next + ${periodUs} )); tick; d=$(( next - now ))`,
    "    if [ $d -gt 0 ]; then printf -v pause '0.%06d' $d; sleep $pause; tick; fi",
    '  done',
    'else',
    `  end=$(( $(date +%s%N) + ${Math.round(o.maxSeconds * 1000)}000000 ))`,
    `  while [ ! -e ${stop} ]; do`,
    '    now=$(date +%s%N)',
    '    [ "$now" -ge "$end" ] && break',
    // One write per line (shorter than PIPE_BUF): concurrent requests never interleave.
    `    ( r=$(${request}); c=$?; echo "@p $now $r $c $(date +%s%N)" ) &`,
    `    sleep ${(periodUs / 1e6).toFixed(3)}`,
    '  done',
    'fi',
    'wait',
    `rm -f ${stop} ${shq(`${o.stopFile}.started`)}`,
    'echo "@p end"',
  ].join('\n');
}

/** The command that runs the probe script (given on stdin): bash when the host has it, else sh. */
export const PROBE_COMMAND = 'if command -v bash >/dev/null 2>&1; then exec bash -s; else exec sh -s; fi';

export interface ProbeSample {
  /** Request start, ms since the epoch (probe host's clock). */
  startMs: number;
  ok: boolean;
  code: number;
  durationMs: number;
  /** curl's exit code (0 ok, 7 refused, 28 timeout, 52 empty reply, 56 reset); null: not reported. */
  curlExit: number | null;
  /** When curl returned (ms since the epoch); null: not reported. */
  endMs: number | null;
}

export function parseProbeOutput(text: string): { samples: ProbeSample[]; complete: boolean } {
  const samples: ProbeSample[] = [];
  let complete = false;
  for (const line of text.split('\n')) {
    if (line === '@p end') complete = true;
    const m = /^@p (\d+) (\d{3})(?: ([\d.]+))?(?: (\d+))?(?: (\d+))?$/.exec(line.trim());
    if (!m) continue;
    const code = Number(m[2]);
    const ms = (ns: string) => Number(BigInt(ns) / 1000n) / 1000;
    samples.push({ startMs: ms(m[1]!), ok: code === 200, code, durationMs: m[3] ? Number(m[3]) * 1000 : 0, curlExit: m[4] === undefined ? null : Number(m[4]), endMs: m[5] === undefined ? null : ms(m[5]) });
  }
  samples.sort((a, b) => a.startMs - b.startMs);
  return { samples, complete };
}

export interface ProbeStats {
  total: number;
  failed: number;
  /** Longest time between the starts of two successful requests (window edges count). */
  longestGapMs: number;
  /** Offsets (ms from the first request) of the first and last failed request. */
  firstFailMs: number | null;
  lastFailMs: number | null;
  /** Status codes of the failures (000 = no answer / connection refused / timeout). */
  failCodes: Record<string, number>;
  windowMs: number;
  /**
   * Every failed request: when curl ran (ms since the epoch, probe host's clock: its end minus
   * its duration when reported, else the loop's slot), HTTP code, curl's exit code, duration.
   */
  failures: { startMs: number; code: number; curlExit: number | null; durationMs: number }[];
}

export function probeStats(samples: ProbeSample[]): ProbeStats {
  if (samples.length === 0) return { total: 0, failed: 0, longestGapMs: 0, firstFailMs: null, lastFailMs: null, failCodes: {}, windowMs: 0, failures: [] };
  const first = samples[0]!.startMs;
  const last = samples[samples.length - 1]!.startMs;
  let gap = 0;
  let prev = first;
  let seenOk = false;
  const failCodes: Record<string, number> = {};
  let firstFail: number | null = null;
  let lastFail: number | null = null;
  for (const x of samples) {
    if (x.ok) {
      // Before the first success the gap runs from the window start; it includes that request.
      gap = Math.max(gap, x.startMs - prev);
      prev = x.startMs;
      seenOk = true;
    } else {
      const key = String(x.code).padStart(3, '0');
      failCodes[key] = (failCodes[key] ?? 0) + 1;
      firstFail ??= x.startMs - first;
      lastFail = x.startMs - first;
    }
  }
  // A trailing run of failures is a gap up to the end of the window.
  gap = Math.max(gap, last - prev);
  if (!seenOk) gap = last - first;
  const failures = samples.filter((x) => !x.ok).map((x) => ({ startMs: x.endMs === null ? x.startMs : Math.round((x.endMs - x.durationMs) * 1000) / 1000, code: x.code, curlExit: x.curlExit, durationMs: Math.round(x.durationMs) }));
  return { total: samples.length, failed: failures.length, longestGapMs: Math.round(gap), firstFailMs: firstFail === null ? null : Math.round(firstFail), lastFailMs: lastFail === null ? null : Math.round(lastFail), failCodes, windowMs: Math.round(last - first), failures };
}

/** Several probes (one per VIP) as one: counts summed, the longest gap the longest of any. Pure. */
export function mergeStats(all: ProbeStats[]): ProbeStats {
  if (all.length === 1) return all[0]!;
  const failCodes: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.failCodes)) failCodes[k] = (failCodes[k] ?? 0) + v;
  const firsts = all.map((s) => s.firstFailMs).filter((x): x is number => x !== null);
  const lasts = all.map((s) => s.lastFailMs).filter((x): x is number => x !== null);
  return {
    total: all.reduce((a, s) => a + s.total, 0),
    failed: all.reduce((a, s) => a + s.failed, 0),
    longestGapMs: Math.max(0, ...all.map((s) => s.longestGapMs)),
    firstFailMs: firsts.length ? Math.min(...firsts) : null,
    lastFailMs: lasts.length ? Math.max(...lasts) : null,
    failCodes,
    windowMs: Math.max(0, ...all.map((s) => s.windowMs)),
    failures: all.flatMap((s) => s.failures).sort((a, b) => a.startMs - b.startMs),
  };
}

/**
 * The handover of one VIP, epoch ms on the LBs' clocks: from the new holder adding it to the old
 * holder removing it. The clients' ARP entries switch somewhere inside (when the gratuitous ARP
 * reaches them).
 */
export interface SwitchWindow {
  fromEpochMs: number;
  toEpochMs: number;
}

/** Slack around a switch window: the probe host's clock against the LBs' `ip monitor` times. */
export const SWITCH_SLACK_MS = 100;

/** curl exits for a connection that was accepted and then broken: 52 empty reply, 55 send, 56 receive (reset). */
const CONNECTION_BROKEN = new Set([52, 55, 56]);

/**
 * Pure: a failure that is a connection broken in flight by the ARP switch. It was accepted by
 * one LB and its next packets reached the other after the client's ARP entry changed, which
 * answers with a reset: no VRRP pair without connection sync keeps such a connection
 * (keepalived neither). Refused or timed-out requests (no holder) are never this.
 */
export function brokenAcrossSwitch(f: ProbeStats['failures'][number], w: SwitchWindow): boolean {
  if (f.curlExit === null || !CONNECTION_BROKEN.has(f.curlExit)) return false;
  return f.startMs <= w.toEpochMs + SWITCH_SLACK_MS && f.startMs + f.durationMs >= w.fromEpochMs - SWITCH_SLACK_MS;
}

/**
 * The failed requests for the report, each as `+OFFSET ms curl EXIT/HTTP (DURATION ms)`, OFFSET
 * in ms from the fault (`faultEpochMs`, this machine's clock; the probe host's clock is the same
 * in the lab) to when curl ran. With the VIP's switch window, the connections broken in flight
 * across it are listed apart (see brokenAcrossSwitch); the others found no holder (7 refused,
 * 28 timed out) or a broken one.
 */
export function describeFailures(failures: ProbeStats['failures'], faultEpochMs: number, window: SwitchWindow | null = null): string {
  const one = (f: ProbeStats['failures'][number]) => `${f.startMs - faultEpochMs >= 0 ? '+' : ''}${Math.round(f.startMs - faultEpochMs)} ms curl ${f.curlExit ?? '?'}/${String(f.code).padStart(3, '0')} (${f.durationMs} ms)`;
  if (window === null) return failures.map(one).join(', ');
  const across = failures.filter((f) => brokenAcrossSwitch(f, window));
  const others = failures.filter((f) => !across.includes(f));
  const at = (epoch: number) => Math.round(epoch - faultEpochMs);
  const parts: string[] = [];
  if (across.length) parts.push(`${across.length} reset in flight across the switch (+${at(window.fromEpochMs)}..+${at(window.toEpochMs)} ms): ${across.map(one).join(', ')}`);
  if (others.length) parts.push(`${across.length ? `${others.length} others: ` : ''}${others.map(one).join(', ')}`);
  return parts.join('; ');
}
