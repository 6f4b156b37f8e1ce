// The exact times of VIP changes on an LB: `ip -ts -4 monitor address` runs there for the whole
// scenario (one SSH channel, no polling: the kernel reports each address added or deleted, and
// `ip` stamps it). Script building and parsing are pure; VipWatch runs it and folds the events
// into its timeline when the LB's clock agrees with ours.
import { shq } from '../connectors/connection.ts';
import { parseUtcOffset } from '../rollback/packages.ts';

export interface AddressEvent {
  /** When `ip` saw it (ms since the epoch, the LB's clock). */
  epochMs: number;
  iface: string;
  address: string;
  added: boolean;
}

const M = '@w';

/** Runs until `stopFile` exists or `maxSeconds` passed; prints the UTC offset, a start mark, the events. */
export function monitorScript(stopFile: string, maxSeconds: number): string {
  const stop = shq(stopFile);
  return [
    'export LC_ALL=C',
    `rm -f ${stop}`,
    `echo "${M} tz $(date +%z)"`,
    // Line-buffered when stdbuf is there, so nothing is lost when the monitor is stopped.
    'if command -v stdbuf >/dev/null 2>&1; then lb="stdbuf -oL"; else lb=""; fi',
    '$lb ip -ts -4 monitor address & m=$!',
    // Subscribed before the mark (netlink is set up at start).
    `sleep 0.05; echo "${M} start $(date +%s%N)"`,
    `i=0; while [ ! -e ${stop} ] && [ $i -lt ${Math.ceil(maxSeconds * 10)} ]; do sleep 0.1; i=$((i+1)); done`,
    'kill $m 2>/dev/null; wait $m 2>/dev/null',
    `rm -f ${stop}`,
    `echo "${M} end"`,
  ].join('\n');
}

export interface MonitorOutput {
  /** When the monitor was listening (ms since the epoch, the LB's clock); null: never said. */
  startEpochMs: number | null;
  events: AddressEvent[];
  complete: boolean;
}

export function parseMonitorOutput(text: string): MonitorOutput {
  let offsetMin = 0;
  let startEpochMs: number | null = null;
  let complete = false;
  const events: AddressEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(`${M} tz `)) offsetMin = parseUtcOffset(line.slice(M.length + 4));
    else if (line.startsWith(`${M} start `)) startEpochMs = Number(BigInt(line.slice(M.length + 7).trim()) / 1000n) / 1000;
    else if (line === `${M} end`) complete = true;
    const m = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\] (Deleted )?\d+: (\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (!m) continue;
    const [y, mo, d, h, mi, s, us] = m.slice(1, 8).map(Number) as number[];
    const epochMs = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) + us! / 1000 - offsetMin * 60_000;
    events.push({ epochMs, iface: m[9]!, address: m[10]!, added: m[8] === undefined });
  }
  return { startEpochMs, events, complete };
}

/**
 * Pure: the host's timeline from its state when the monitor started plus the events after it:
 * one entry per change of the watched VIPs it holds. `initial` null: unknown (no timeline).
 */
export function timelineFromEvents(initial: string[] | null, out: MonitorOutput, iface: string, vips: string[]): { epochMs: number; held: string[] }[] {
  if (initial === null || out.startEpochMs === null) return [];
  const held = new Set(initial);
  const timeline: { epochMs: number; held: string[] }[] = [];
  for (const e of [...out.events].sort((a, b) => a.epochMs - b.epochMs)) {
    if (e.iface !== iface || !vips.includes(e.address) || e.epochMs < out.startEpochMs) continue;
    const had = held.has(e.address);
    if (e.added === had) continue;
    if (e.added) held.add(e.address);
    else held.delete(e.address);
    timeline.push({ epochMs: e.epochMs, held: vips.filter((v) => held.has(v)) });
  }
  return timeline;
}
