// The deploy journal: what a host looked like before haup's FIRST write of a deploy, so that
// `haup rollback DEPLOY_ID` can put it back byte for byte.
//
// ON-DISK FORMAT (format "haup-journal/1"; one JSON document per host and deploy)
//   on the host:             /var/lib/haup/journal/DEPLOY_ID/journal.json   (dirs 0700, file 0600, root)
//   on the control machine:  JOURNAL_DIR/DEPLOY_ID/HOST.json                (dirs 0700, file 0600)
//     JOURNAL_DIR = the path given (deploy --journal-dir), else $XDG_STATE_HOME/haup/journal,
//     else ~/.local/state/haup/journal. DEPLOY_ID sorts by time (20261122T001645123Z-3fa9).
//   {
//     "format": "haup-journal/1",
//     "deployId": "20261122T001645123Z-3fa9",
//     "host": "lb5",                       // inventory name
//     "createdAt": "2026-11-22T00:16:45.123Z",
//     "files": [                            // every path the deploy manages, in task order
//       { "path": "/etc/nginx/conf.d/haup.conf", "state": "file", "mode": "0644",
//         "owner": "root", "group": "root", "sha256": "<hex>", "contentBase64": "<bytes>" },
//       { "path": "/etc/haup", "state": "directory", "mode": "0755", "owner": "root", "group": "root" },
//       { "path": "/etc/haup/haupd.yml", "state": "absent" },
//       { "path": "/x", "state": "symlink", "target": "/y" },   // "other": a device, fifo, ...
//     ],
//     "services": [ { "name": "nginx", "enabled": "enabled", "active": "active" } ],
//                                           // systemctl is-enabled / is-active before the deploy
//     "packagesInstalled": ["nginx"]        // packages this deploy installs (absent before it)
//   }
// Retention (retention.ts): after a deploy writes its journal, older deploys' directories beyond
// the newest `keep` (deploy.keep_journals, default 20) are removed on both sides, except the ones
// a rollback of the current state needs. The format itself is unchanged.
// Rollback: write back each "file" (atomically, with mode/owner), remove each "absent" path,
// restore service states, remove packagesInstalled. The journal holds secrets' pre-images too:
// that is why it is root-only.
import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { shq, type Connection } from '../connectors/connection.ts';
import type { ServiceFact } from '../facts/types.ts';
import { HostError } from '../util/errors.ts';
import { journalListingScript } from './retention.ts';

export const JOURNAL_FORMAT = 'haup-journal/1';
export const REMOTE_JOURNAL_ROOT = '/var/lib/haup/journal';

export type PreImage =
  | { path: string; state: 'file'; mode: number; owner: string; group: string; sha256: string; content: Buffer }
  | { path: string; state: 'directory'; mode: number; owner: string; group: string }
  | { path: string; state: 'symlink'; target: string }
  | { path: string; state: 'absent' }
  | { path: string; state: 'other' };

export interface JournalRecord {
  deployId: string;
  host: string;
  createdAt: string;
  files: PreImage[];
  services: ({ name: string } & ServiceFact)[];
  packagesInstalled: string[];
}

/** Prefix of the lines the capture scripts print (pre-images here, after-images in after.ts). */
export const MARK = '@@haup';

/** A captured path that is not a regular file: the same line format in both capture scripts. */
export type NonFileState = Exclude<PreImage, { state: 'file' }>;

/** Parse a `directory|…`, `symlink|…`, `other|…` or `absent|…` line; undefined for any other kind. */
export function parseNonFileState(kind: string | undefined, rest: string[]): NonFileState | undefined {
  if (kind === 'directory') {
    const [mode, owner, group] = rest;
    return { path: rest.slice(3).join('|'), state: 'directory', mode: parseInt(mode!, 8), owner: owner!, group: group! };
  }
  if (kind === 'symlink') {
    // the target may contain '|': the path is last, targets rarely hold '|' — split at the last one
    const joined = rest.join('|');
    const cut = joined.lastIndexOf('|');
    return { path: joined.slice(cut + 1), state: 'symlink', target: joined.slice(0, cut) };
  }
  if (kind === 'other') return { path: rest.join('|'), state: 'other' };
  if (kind === 'absent') return { path: rest.join('|'), state: 'absent' };
  return undefined;
}

/**
 * A shell script printing one `MARK kind|…|path` line per path (symlink, directory, other, absent),
 * with `fileLine` for a regular file — the shared shape of the pre- and after-image captures.
 */
export function pathCaptureScript(paths: string[], fileLine: string): string {
  return [
    'export LC_ALL=C',
    `for p in ${paths.map(shq).join(' ')}; do`,
    `  if [ -L "$p" ]; then printf '${MARK} symlink|%s|%s\\n' "$(readlink -- "$p")" "$p"`,
    `  elif [ -f "$p" ]; then ${fileLine}`,
    `  elif [ -d "$p" ]; then printf '${MARK} directory|%s|%s\\n' "$(stat -c '%a|%U|%G' -- "$p")" "$p"`,
    `  elif [ -e "$p" ]; then printf '${MARK} other|%s\\n' "$p"`,
    `  else printf '${MARK} absent|%s\\n' "$p"; fi`,
    'done',
    `echo '${MARK} end'`,
  ].join('\n');
}

/** One round trip: type, mode, owner and (regular files) the bytes of every path. */
export function preImageScript(paths: string[]): string {
  return pathCaptureScript(paths, `printf '${MARK} file|%s|%s\\n' "$(stat -c '%a|%U|%G' -- "$p")" "$p"; base64 -w0 -- "$p" || exit 1; echo`);
}

export function parsePreImages(output: string): PreImage[] {
  const lines = output.split('\n');
  if (!lines.includes(`${MARK} end`)) throw new Error('pre-image output is truncated (no end marker)');
  const out: PreImage[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.startsWith(`${MARK} `) || l === `${MARK} end`) continue;
    const [kind, ...rest] = l.slice(MARK.length + 1).split('|');
    if (kind === 'file') {
      const [mode, owner, group] = rest;
      const path = rest.slice(3).join('|');
      const content = Buffer.from(lines[++i] ?? '', 'base64');
      out.push({ path, state: 'file', mode: parseInt(mode!, 8), owner: owner!, group: group!, sha256: createHash('sha256').update(content).digest('hex'), content });
    } else {
      const other = parseNonFileState(kind, rest);
      if (other) out.push(other);
    }
  }
  return out;
}

export async function capturePreImages(conn: Connection, paths: string[]): Promise<PreImage[]> {
  if (paths.length === 0) return [];
  const r = await conn.exec('sh -s', { stdin: preImageScript(paths) });
  if (r.code !== 0) throw new HostError(conn.host, `cannot read the files' pre-images: ${r.stderr.toString().trim()}`);
  return parsePreImages(r.stdout.toString('latin1'));
}

export function serializeJournal(rec: JournalRecord): string {
  const files = rec.files.map((f) => {
    if (f.state === 'file') {
      const { content, mode, ...rest } = f;
      return { ...rest, mode: octal(mode), contentBase64: content.toString('base64') };
    }
    if (f.state === 'directory') return { ...f, mode: octal(f.mode) };
    return f;
  });
  return JSON.stringify({ format: JOURNAL_FORMAT, deployId: rec.deployId, host: rec.host, createdAt: rec.createdAt, files, services: rec.services, packagesInstalled: rec.packagesInstalled }, null, 2) + '\n';
}

/** Inverse of serializeJournal (the rollback command reads journals with it). */
export function parseJournal(text: string): JournalRecord {
  const j = JSON.parse(text) as Record<string, unknown>;
  if (j.format !== JOURNAL_FORMAT) throw new Error(`not a ${JOURNAL_FORMAT} journal (format: ${String(j.format)})`);
  const files = (j.files as Record<string, unknown>[]).map((f): PreImage => {
    const path = String(f.path);
    switch (f.state) {
      case 'file':
        return { path, state: 'file', mode: parseInt(String(f.mode), 8), owner: String(f.owner), group: String(f.group), sha256: String(f.sha256), content: Buffer.from(String(f.contentBase64), 'base64') };
      case 'directory':
        return { path, state: 'directory', mode: parseInt(String(f.mode), 8), owner: String(f.owner), group: String(f.group) };
      case 'symlink':
        return { path, state: 'symlink', target: String(f.target) };
      case 'absent':
        return { path, state: 'absent' };
      default:
        return { path, state: 'other' };
    }
  });
  return {
    deployId: String(j.deployId),
    host: String(j.host),
    createdAt: String(j.createdAt),
    files,
    services: j.services as JournalRecord['services'],
    packagesInstalled: j.packagesInstalled as string[],
  };
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function defaultJournalDir(env = process.env): string {
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'haup', 'journal');
}

/**
 * Writes the journal on the control machine and on the host; returns the local path. In the same
 * round trip the host lists its journal directories (retention.ts), handed to `onListing`.
 */
export async function writeJournal(conn: Connection, rec: JournalRecord, localDir: string, remoteRoot = REMOTE_JOURNAL_ROOT, onListing?: (stdout: string) => void): Promise<string> {
  const text = serializeJournal(rec);
  const dir = join(localDir, rec.deployId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(localDir, 0o700);
  await chmod(dir, 0o700);
  const local = join(dir, `${rec.host}.json`);
  await writeFile(local, text, { mode: 0o600 });
  await chmod(local, 0o600);

  const rdir = `${remoteRoot}/${rec.deployId}`;
  const parent = remoteRoot.replace(/\/[^/]+\/?$/, '') || '/';
  // The parent (/var/lib/haup) keeps normal permissions; the journal itself is root-only.
  let cmd = `mkdir -p ${shq(parent)} && umask 077 && mkdir -p ${shq(rdir)} && chmod 0700 ${shq(remoteRoot)} ${shq(rdir)} && cat > ${shq(rdir)}/journal.json`;
  if (onListing) cmd += ` && { ${journalListingScript(remoteRoot)}; }`;
  const r = await conn.exec(cmd, { stdin: text });
  if (r.code === 0 && onListing) onListing(r.stdout.toString());
  if (r.code !== 0) throw new HostError(conn.host, `cannot write the journal to ${rdir}: ${r.stderr.toString().trim()}`, 'haup needs root on the host (user root or become: true)');
  return local;
}
