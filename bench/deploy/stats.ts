// Pure helpers of the deploy benchmark: summary statistics and reading each tool's own recap.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median (mean of the middle two for an even count), min and max; undefined for no samples. */
export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, min: s[0]!, max: s[s.length - 1]! };
}

/** "12.7 s (12.4–13.5)" from milliseconds; "—" when there are no samples. */
export function formatSummary(sum: Summary | undefined, digits = 1): string {
  if (!sum) return '—';
  const f = (ms: number) => (ms / 1000).toFixed(digits);
  return `${f(sum.median)} s (${f(sum.min)}–${f(sum.max)})`;
}

export interface RecapCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

/**
 * The PLAY RECAP of ansible-playbook's default output: one line per host,
 * `web7 : ok=4 changed=2 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0`.
 */
export function parseAnsibleRecap(output: string): Map<string, RecapCounts> {
  const out = new Map<string, RecapCounts>();
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) return out;
  for (const line of output.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line.trim());
    if (!m) continue;
    out.set(m[1]!, { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) });
  }
  return out;
}

/** Totals over hosts; `hosts` is how many hosts the recap named. */
export function recapTotals(recap: Map<string, RecapCounts>): RecapCounts & { hosts: number } {
  const t = { ok: 0, changed: 0, unreachable: 0, failed: 0, hosts: recap.size };
  for (const c of recap.values()) {
    t.ok += c.ok;
    t.changed += c.changed;
    t.unreachable += c.unreachable;
    t.failed += c.failed;
  }
  return t;
}
