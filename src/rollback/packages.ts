// `rollback --packages`, pure: which packages to purge so that exactly what the undone deploys
// installed goes — the packages the journal names, plus the dependencies their installs pulled
// in — and never a package that was on the host before the deploy, nor one something else needs.
//
// The journal (haup-journal/1) names only the packages haup asked for. The dependencies come from
// apt's own record of each install (/var/log/apt/history.log*: the `Install:` line lists what
// the run added, `(automatic)` for dependencies): the runs inside a deploy's time window that
// installed one of its packages are the deploy's. A dependency is purged only when it is still
// installed, still marked automatic (a user's `apt-mark manual` keeps it), and apt itself would
// autoremove it once the deploy's packages are gone (nothing else needs it). The final command is
// simulated (`apt-get -s purge`) before anything runs: if apt would remove more than the list
// (a package installed later that depends on nginx), the rollback is refused.

export interface AptHistoryEntry {
  /** Start-Date as UTC ms (converted with the host's UTC offset). */
  startMs: number;
  commandline: string;
  installed: { name: string; automatic: boolean }[];
}

/** `+0100` -> 60 (minutes east of UTC); anything else -> 0. */
export function parseUtcOffset(z: string): number {
  const m = /^([+-])(\d\d)(\d\d)$/.exec(z.trim());
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const stripArch = (name: string) => name.replace(/:[a-z0-9_-]+$/, '');

/** apt's history log (several files concatenated is fine), times in the host's local time. */
export function parseAptHistory(text: string, utcOffsetMin = 0): AptHistoryEntry[] {
  const out: AptHistoryEntry[] = [];
  let cur: AptHistoryEntry | null = null;
  for (const line of text.split('\n')) {
    const start = /^Start-Date: (\d{4})-(\d\d)-(\d\d)\s+(\d\d):(\d\d):(\d\d)/.exec(line);
    if (start) {
      const [, y, mo, d, h, mi, s] = start.map(Number) as number[];
      cur = { startMs: Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) - utcOffsetMin * 60_000, commandline: '', installed: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('Commandline: ')) cur.commandline = line.slice(13);
    else if (line.startsWith('Install: ')) {
      // "nginx:amd64 (1.22.1-9), libnginx-mod-x:amd64 (1.22.1-9, automatic)"; versions hold no ')'.
      for (const m of line.slice(9).matchAll(/([^\s,()]+) \(([^)]*)\)/g)) cur.installed.push({ name: stripArch(m[1]!), automatic: /,\s*automatic$/.test(m[2]!) });
    }
  }
  return out;
}

export interface DeployWindow {
  deployId: string;
  /** The journal's createdAt (before the deploy's first change). */
  fromMs: number;
  /** When the deploy was done (its after-image), else when the next deploy began, else now. */
  toMs: number;
  packages: string[];
}

/** Clock skew between the control machine (journal times) and the host (apt's log) tolerated. */
export const SKEW_MS = 120_000;

/**
 * The packages the undone deploys' apt runs installed, each with whether it was a dependency.
 * A run counts when it started within a deploy's window (± SKEW_MS) and installed, as asked
 * for (not automatic), one of that deploy's journaled packages.
 */
export function installedByDeploys(history: AptHistoryEntry[], windows: DeployWindow[]): { explicit: Set<string>; pulledIn: Set<string>; runs: number } {
  const explicit = new Set<string>();
  const pulledIn = new Set<string>();
  let runs = 0;
  for (const e of history) {
    const w = windows.find((x) => e.startMs >= x.fromMs - SKEW_MS && e.startMs <= x.toMs + SKEW_MS && e.installed.some((i) => !i.automatic && x.packages.includes(i.name)));
    if (!w) continue;
    runs++;
    for (const i of e.installed) (i.automatic ? pulledIn : explicit).add(i.name);
  }
  for (const n of explicit) pulledIn.delete(n);
  return { explicit, pulledIn, runs };
}

/** `apt-get -s` output -> the packages it would remove or purge (Remv / Purg lines). */
export function parseAptSimulation(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/^(?:Remv|Purg) (\S+)/gm)) out.add(stripArch(m[1]!));
  return [...out].sort();
}

export interface PackageState {
  /** Installed now: name -> marked automatic. */
  installed: Record<string, boolean>;
}

export interface PurgeInput {
  /** packagesInstalled of the undone deploys. */
  journaled: string[];
  /** From installedByDeploys; null when apt keeps no record of the deploy's runs. */
  fromHistory: { pulledIn: Set<string>; runs: number } | null;
  /** Packages present before the deploy, when the journal records them (else null). */
  presentBefore: Set<string> | null;
  state: PackageState;
  /** Removals of `apt-get -s purge --autoremove <journaled, installed>`. */
  autoremoveSim: string[];
}

export interface PurgeDecision {
  purge: string[];
  /** Packages looked at and kept, with the reason (for the report). */
  kept: { name: string; why: string }[];
  /** Said once in the report (e.g. no apt record: dependencies kept). */
  notes: string[];
}

export function decidePurge(i: PurgeInput): PurgeDecision {
  const kept: PurgeDecision['kept'] = [];
  const notes: string[] = [];
  const before = i.presentBefore ?? new Set<string>();
  const purge = new Set<string>();
  for (const p of [...new Set(i.journaled)].sort()) {
    if (!(p in i.state.installed)) kept.push({ name: p, why: 'not installed any more' });
    else if (before.has(p)) kept.push({ name: p, why: 'was installed before the deploy' });
    else purge.add(p);
  }
  if (i.fromHistory === null || i.fromHistory.runs === 0) {
    notes.push("dependencies kept: apt's history has no record of the deploy's installs (/var/log/apt/history.log*), so what they pulled in is unknown");
  } else {
    const sim = new Set(i.autoremoveSim);
    for (const p of [...i.fromHistory.pulledIn].sort()) {
      if (purge.has(p)) continue;
      if (!(p in i.state.installed)) continue; // gone already: nothing to say
      if (before.has(p)) kept.push({ name: p, why: 'was installed before the deploy' });
      else if (!i.state.installed[p]) kept.push({ name: p, why: 'marked as manually installed since the deploy' });
      else if (!sim.has(p)) kept.push({ name: p, why: 'still needed by another package' });
      else purge.add(p);
    }
  }
  return { purge: [...purge].sort(), kept, notes };
}

/** Packages the final `apt-get purge` would remove beyond the list (must be none). */
export function extraRemovals(purge: string[], finalSim: string[]): string[] {
  const want = new Set(purge);
  return finalSim.filter((p) => !want.has(p));
}

// ─── Host side (scripts and their output, pure) ─────────────────────────────────────────────

const M = '@@haup';

/** One round trip: the UTC offset, installed packages (auto flag), apt's history (rotated too). */
export function packageStateScript(): string {
  return [
    'export LC_ALL=C',
    `echo "${M} tz $(date +%z)"`,
    `echo "${M} auto"; apt-mark showauto 2>/dev/null`,
    `echo "${M} installed"; dpkg-query -W -f='\${db:Status-Status} \${Package}\\n' 2>/dev/null | sed -n 's/^installed //p'`,
    `echo "${M} history"`,
    'for f in $(ls -1tr /var/log/apt/history.log* 2>/dev/null); do case "$f" in *.gz) zcat -- "$f" 2>/dev/null;; *) cat -- "$f";; esac; echo; done',
    `echo "${M} end"`,
  ].join('\n');
}

export function parsePackageState(out: string): { state: PackageState; history: AptHistoryEntry[] } {
  if (!out.includes(`${M} end`)) throw new Error('the package listing is truncated');
  const sections: Record<string, string[]> = {};
  let cur = '';
  let tz = 0;
  for (const line of out.split('\n')) {
    const m = new RegExp(`^${M} (\\w+)(?: (.*))?$`).exec(line);
    if (m) {
      cur = m[1]!;
      if (cur === 'tz') tz = parseUtcOffset(m[2] ?? '');
      sections[cur] ??= [];
      continue;
    }
    (sections[cur] ??= []).push(line);
  }
  const auto = new Set((sections.auto ?? []).map((l) => stripArch(l.trim())).filter(Boolean));
  const installed: Record<string, boolean> = {};
  for (const l of sections.installed ?? []) {
    const n = stripArch(l.trim());
    if (n) installed[n] = auto.has(n);
  }
  return { state: { installed }, history: parseAptHistory((sections.history ?? []).join('\n'), tz) };
}
