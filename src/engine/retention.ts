// Journal retention: every deploy that writes leaves a journal per host, on the host
// (/var/lib/haup/journal/ID/) and on the control machine (JOURNAL_DIR/ID/HOST*.json). Without a
// bound they pile up forever. After a deploy writes its journal, the older ones beyond the newest
// `keep` are pruned, on both sides — but never one a rollback of the current state needs: the
// newest deploy that is not rolled back (what `haup rollback` undoes next; this deploy's own
// journal) and every deploy after it (rolled back ones, whose marks are drift references) stay.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { shq, type Connection } from '../connectors/connection.ts';
import { DEPLOY_ID_RE } from './deploy-id.ts';

/** Deploys kept per host when the inventory says nothing (deploy.keep_journals). */
export const DEFAULT_KEEP_JOURNALS = 20;

export interface JournalEntry {
  id: string;
  /** A rollback undid this deploy (its rollback mark exists). */
  rolledBack: boolean;
}

/**
 * Pure: the deploy ids to prune. Only ids shaped like haup's deploy ids are considered (a
 * directory someone else put there is never touched). Kept: the newest `keep` (at least 1), the
 * deploy `current` (this one), and the newest not-rolled-back deploy with everything after it.
 */
export function journalsToPrune(entries: JournalEntry[], keep: number, current: string): string[] {
  const sorted = entries.filter((e) => DEPLOY_ID_RE.test(e.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const kept = new Set(sorted.slice(-Math.max(1, Math.floor(keep))).map((e) => e.id));
  kept.add(current);
  const live = [...sorted].reverse().find((e) => !e.rolledBack);
  if (live) for (const e of sorted) if (e.id >= live.id) kept.add(e.id);
  return sorted.filter((e) => !kept.has(e.id)).map((e) => e.id);
}

export const LISTING_MARK = '@@haup-journal';

/** Shell lines printing `MARK ID r|-` for every directory under root (r: rolled back). Pure. */
export function journalListingScript(root: string): string {
  return `for d in ${shq(root)}/*/; do [ -d "$d" ] || continue; i=$(basename "$d"); if [ -f "$d/rollback.json" ]; then echo "${LISTING_MARK} $i r"; else echo "${LISTING_MARK} $i -"; fi; done`;
}

export function parseJournalListing(out: string): JournalEntry[] {
  return out.split('\n').flatMap((l) => {
    const m = new RegExp(`^${LISTING_MARK} (\\S+) ([r-])$`).exec(l.trim());
    return m ? [{ id: m[1]!, rolledBack: m[2] === 'r' }] : [];
  });
}

/** Remove the host's journal directories of `ids` (one round trip; ids are checked again). */
export async function pruneRemoteJournals(conn: Connection, root: string, ids: string[]): Promise<void> {
  const safe = ids.filter((id) => DEPLOY_ID_RE.test(id));
  if (safe.length === 0) return;
  const r = await conn.exec(`rm -rf -- ${safe.map((id) => shq(`${root}/${id}`)).join(' ')}`);
  if (r.code !== 0) throw new Error(`cannot prune old journals in ${root}: ${r.stderr.toString().trim()}`);
}

/** The control machine's copies of one host: JOURNAL_DIR/ID/HOST.json (+ .after, .rollback). */
export async function localJournalEntries(dir: string, host: string): Promise<JournalEntry[]> {
  let ids: string[];
  try {
    ids = await readdir(dir);
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (const id of ids.filter((i) => DEPLOY_ID_RE.test(i))) {
    const files = await readdir(join(dir, id)).catch(() => [] as string[]);
    if (files.includes(`${host}.json`)) out.push({ id, rolledBack: files.includes(`${host}.rollback.json`) });
  }
  return out;
}

export async function pruneLocalJournals(dir: string, host: string, ids: string[]): Promise<void> {
  for (const id of ids.filter((i) => DEPLOY_ID_RE.test(i))) {
    for (const f of [`${host}.json`, `${host}.after.json`, `${host}.rollback.json`]) await rm(join(dir, id, f), { force: true });
    await rmdir(join(dir, id)).catch(() => {}); // other hosts' copies may still be there
  }
}
