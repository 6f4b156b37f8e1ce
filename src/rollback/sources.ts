// Where rollback's journals come from, pure: every deploy journal exists twice — on the host
// (/var/lib/haup/journal/ID/) and on the control machine (JOURNAL_DIR/ID/HOST.json, written
// first, by the same bytes). Per deploy and host this picks the copy to trust:
//   both there, same sha256      -> the host's (they are the same bytes)
//   both there, sha256 differs   -> the control machine's (the host's was changed or damaged),
//                                   said in a note with both short hashes
//   one there and readable       -> that one (a note when it is the control machine's)
//   none usable, but the deploy left traces (an after-image, a rollback mark, an unreadable
//   journal)                     -> a problem naming the host, the deploy and what to do
// A deploy directory on the host with nothing in it is no trace: the engine writes the control
// copy, then the host's; a host whose copy failed to write was left unchanged.
import { createHash } from 'node:crypto';
import { parseAfter, type AfterRecord } from '../engine/after.ts';
import { parseJournal, type JournalRecord } from '../engine/journal.ts';
import type { DeployEntry, HostJournals } from './plan.ts';

export type CopyKind = 'journal' | 'after' | 'rollback';

/** The raw texts of one deploy's files in one place (null: the file is not there). */
export type CopyTexts = Record<CopyKind, string | null>;

export interface DeployCopies {
  id: string;
  host: CopyTexts;
  control: CopyTexts;
}

export interface JournalPlaces {
  /** The journal root on the host, e.g. /var/lib/haup/journal. */
  remoteRoot: string;
  /** The journal directory on the control machine. */
  controlDir: string;
}

export interface JournalProblem {
  host: string;
  deployId: string;
  message: string;
}

export interface JournalNote {
  host: string;
  deployId: string;
  /** The whole sentence, starting with `HOST: deploy ID:`. */
  text: string;
}

export interface ResolvedJournals {
  journals: HostJournals;
  /** Which copy was used where it matters (the control machine's, a mismatch). */
  notes: JournalNote[];
  /** Deploys of this host that left traces but have no usable journal anywhere. */
  problems: JournalProblem[];
}

export const noCopies = (): CopyTexts => ({ journal: null, after: null, rollback: null });

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function hostPath(p: JournalPlaces, id: string, kind: CopyKind): string {
  return `${p.remoteRoot}/${id}/${kind === 'rollback' ? 'rollback' : kind}.json`;
}

export function controlPath(p: JournalPlaces, id: string, host: string, kind: CopyKind): string {
  return `${p.controlDir}/${id}/${host}${kind === 'journal' ? '' : `.${kind}`}.json`;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

function parseChecked<T extends { deployId: string; host: string }>(text: string, parse: (t: string) => T, id: string, host: string): Parsed<T> {
  let v: T;
  try {
    v = parse(text);
  } catch (e) {
    return { ok: false, why: `unreadable (${(e as Error).message.split('\n')[0]})` };
  }
  // A copy from another deploy or host (copied by hand to the wrong place) is not this one's.
  if (v.deployId !== id || v.host !== host) return { ok: false, why: `it belongs to deploy ${v.deployId} of ${v.host}` };
  return { ok: true, value: v };
}

interface Pick<T> {
  value: T | null;
  note?: string;
  /** Why neither copy is usable (only when at least one was there). */
  unusable?: string;
}

/** The copy of one kind to use; `what` names it in notes ("journal", "after-image"). */
function pickCopy<T extends { deployId: string; host: string }>(c: DeployCopies, kind: CopyKind, parse: (t: string) => T, host: string, places: JournalPlaces, what: string): Pick<T> {
  const h = c.host[kind];
  const k = c.control[kind];
  const hp = hostPath(places, c.id, kind);
  const kp = controlPath(places, c.id, host, kind);
  const ph = h === null ? null : parseChecked(h, parse, c.id, host);
  const pk = k === null ? null : parseChecked(k, parse, c.id, host);
  if (ph === null && pk === null) return { value: null };
  if (ph && pk) {
    if (h === k && ph.ok) return { value: ph.value };
    if (pk.ok) {
      const why = ph.ok ? `does not match this machine's copy (sha256 ${sha256(h!).slice(0, 12)} on the host, ${sha256(k!).slice(0, 12)} here)` : `is ${ph.why}`;
      return { value: pk.value, note: `${host}: deploy ${c.id}: the host's ${what} ${hp} ${why}: using this machine's copy ${kp}` };
    }
    if (ph.ok) return { value: ph.value, note: `${host}: deploy ${c.id}: this machine's copy of the ${what} ${kp} is ${pk.why}: using the host's ${hp}` };
    return { value: null, unusable: `the host's ${what} ${hp} is ${ph.why} and this machine's copy ${kp} is ${pk.why}` };
  }
  if (ph) {
    if (ph.ok) return { value: ph.value };
    return { value: null, unusable: `the host's ${what} ${hp} is ${ph.why} and this machine has no copy (${kp})` };
  }
  if (pk!.ok) return { value: pk!.value, note: `${host}: deploy ${c.id}: the host has no ${what} (${hp}): using this machine's copy ${kp}` };
  return { value: null, unusable: `the host has no ${what} (${hp}) and this machine's copy ${kp} is ${pk!.why}` };
}

/** Pure: the deploys of one host from both places' copies, with notes and problems. */
export function resolveHostJournals(host: string, copies: DeployCopies[], places: JournalPlaces): ResolvedJournals {
  const notes: JournalNote[] = [];
  const problems: JournalProblem[] = [];
  const deploys: DeployEntry[] = [];
  for (const c of [...copies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const j = pickCopy<JournalRecord>(c, 'journal', parseJournal, host, places, 'journal');
    const a = pickCopy<AfterRecord>(c, 'after', parseAfter, host, places, 'after-image');
    // Rollback marks: either place's mark means rolled back (the host's is written first).
    const m = pickCopy<AfterRecord>(c, 'rollback', parseAfter, host, places, 'rollback mark');
    const note = (text: string) => notes.push({ host, deployId: c.id, text });
    const hostHasNone = c.host.journal === null && c.host.after === null && c.host.rollback === null;
    if (hostHasNone && j.value) {
      // The host's whole deploy directory is gone: one sentence, not one per file.
      const used = (['journal', 'after', 'rollback'] as CopyKind[]).filter((k) => c.control[k] !== null);
      note(`${host}: deploy ${c.id}: the host has no journal directory (${places.remoteRoot}/${c.id}/): using this machine's copies in ${places.controlDir}/${c.id}/ (${used.map((k) => `${host}${k === 'journal' ? '' : `.${k}`}.json`).join(', ')})`);
    } else for (const n of [j.note, a.note, m.note]) if (n) note(n);
    if (j.value) {
      deploys.push({ record: j.value, after: a.value, rolledBack: m.value ? { at: m.value.capturedAt, files: m.value.files } : null });
      continue;
    }
    // Rolled back already: nothing left to undo, the journal is not needed any more.
    if (m.value) {
      note(`${host}: deploy ${c.id}: no usable journal, but it was rolled back already (${m.value.capturedAt})`);
      continue;
    }
    const traces = [c.host.after, c.host.rollback, c.control.after, c.control.rollback].some((t) => t !== null);
    if (j.unusable === undefined && !traces) continue; // an empty directory: the deploy changed nothing here
    const why = j.unusable ?? `the host has no journal (${hostPath(places, c.id, 'journal')}) and this machine has none either (${controlPath(places, c.id, host, 'journal')}), although the deploy left ${[c.host.after || c.control.after ? 'an after-image' : '', c.host.rollback || c.control.rollback ? 'a rollback mark' : ''].filter(Boolean).join(' and ')}`;
    problems.push({ host, deployId: c.id, message: why });
  }
  return { journals: { host, deploys }, notes, problems };
}

/** Pure: the text of the refusal when journals are missing (one line per host and deploy). */
export function describeProblems(problems: JournalProblem[], controlDir: string): { message: string; hint: string } {
  const lines = problems.map((p) => `  ${p.host}: deploy ${p.deployId}: no usable journal: ${p.message}`);
  const ids = [...new Set(problems.map((p) => p.deployId))];
  return {
    message: `cannot plan the rollback: ${problems.length === 1 ? 'one host has' : `${problems.length} host journals have`} no usable journal (nothing was changed on any host):\n${lines.join('\n')}`,
    hint:
      `put a copy of the journal back (from a backup of this machine's ${controlDir} or of the host's journal directory), ` +
      `or run with --journal-dir pointing at the control machine's journal directory of ${ids.length === 1 ? 'that deploy' : 'those deploys'}; ` +
      'without it haup cannot know what the host looked like before the deploy',
  };
}
