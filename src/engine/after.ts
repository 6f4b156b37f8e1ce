// After-images: what a deploy LEFT on a host (type, sha256, mode, owner of every managed path),
// recorded next to the journal once the deploy's writes and handlers are done. The journal says
// what to put back; the after-image lets `haup rollback` see whether someone changed a managed
// file since (a hand edit that a rollback would silently destroy).
//
// ON-DISK FORMAT (format "haup-after/1"), next to the journal (see journal.ts):
//   on the host:             /var/lib/haup/journal/DEPLOY_ID/after.json   (0600, root)
//   on the control machine:  JOURNAL_DIR/DEPLOY_ID/HOST.after.json
//   { "format": "haup-after/1", "deployId": "...", "host": "lb5", "capturedAt": "<ISO time>",
//     "files": [ { "path": "/etc/x", "state": "file", "sha256": "<hex>", "mode": "0644", "owner": "root", "group": "root" },
//                { "path": "/etc/d", "state": "directory", "mode": "0755", "owner": "root", "group": "root" },
//                { "path": "/l", "state": "symlink", "target": "/y" }, { "path": "/gone", "state": "absent" } ] }
// No content: hashes only (the file is root-only all the same, like the journal).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shq, type Connection } from '../connectors/connection.ts';
import { HostError } from '../util/errors.ts';
import { MARK, parseNonFileState, pathCaptureScript, REMOTE_JOURNAL_ROOT } from './journal.ts';

export const AFTER_FORMAT = 'haup-after/1';

export type PathState =
  | { path: string; state: 'file'; sha256: string; mode: number; owner: string; group: string }
  | { path: string; state: 'directory'; mode: number; owner: string; group: string }
  | { path: string; state: 'symlink'; target: string }
  | { path: string; state: 'absent' }
  | { path: string; state: 'other' };

export interface AfterRecord {
  deployId: string;
  host: string;
  capturedAt: string;
  files: PathState[];
}

/** One round trip: type, mode, owner and (regular files) sha256 of every path. Pure. */
export function pathStateScript(paths: string[]): string {
  return pathCaptureScript(paths, `printf '${MARK} file|%s|%s|%s\\n' "$(sha256sum < "$p" | cut -d' ' -f1)" "$(stat -c '%a|%U|%G' -- "$p")" "$p"`);
}

export function parsePathStates(output: string): PathState[] {
  const lines = output.split('\n');
  if (!lines.includes(`${MARK} end`)) throw new Error('path state output is truncated (no end marker)');
  const out: PathState[] = [];
  for (const l of lines) {
    if (!l.startsWith(`${MARK} `) || l === `${MARK} end`) continue;
    const [kind, ...rest] = l.slice(MARK.length + 1).split('|');
    if (kind === 'file') {
      const [sha256, mode, owner, group] = rest;
      out.push({ path: rest.slice(4).join('|'), state: 'file', sha256: sha256!, mode: parseInt(mode!, 8), owner: owner!, group: group! });
    } else {
      const other = parseNonFileState(kind, rest);
      if (other) out.push(other);
    }
  }
  return out;
}

export async function capturePathStates(conn: Connection, paths: string[]): Promise<PathState[]> {
  if (paths.length === 0) return [];
  const r = await conn.exec('sh -s', { stdin: pathStateScript(paths) });
  if (r.code !== 0) throw new HostError(conn.host, `cannot read the state of the managed files: ${r.stderr.toString().trim()}`);
  return parsePathStates(r.stdout.toString('latin1'));
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

export function serializeAfter(rec: AfterRecord): string {
  const files = rec.files.map((f) => (f.state === 'file' || f.state === 'directory' ? { ...f, mode: octal(f.mode) } : f));
  return JSON.stringify({ format: AFTER_FORMAT, deployId: rec.deployId, host: rec.host, capturedAt: rec.capturedAt, files }, null, 2) + '\n';
}

export function parseAfter(text: string): AfterRecord {
  const j = JSON.parse(text) as Record<string, unknown>;
  if (j.format !== AFTER_FORMAT) throw new Error(`not a ${AFTER_FORMAT} record (format: ${String(j.format)})`);
  const files = (j.files as Record<string, unknown>[]).map((f): PathState => {
    const path = String(f.path);
    switch (f.state) {
      case 'file':
        return { path, state: 'file', sha256: String(f.sha256), mode: parseInt(String(f.mode), 8), owner: String(f.owner), group: String(f.group) };
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
  return { deployId: String(j.deployId), host: String(j.host), capturedAt: String(j.capturedAt), files };
}

/** Capture the managed paths now and write the after-image on the host and on this machine. */
export async function recordAfterImages(conn: Connection, ids: { deployId: string; host: string }, paths: string[], localDir: string, remoteRoot = REMOTE_JOURNAL_ROOT): Promise<void> {
  const rec: AfterRecord = { ...ids, capturedAt: new Date().toISOString(), files: await capturePathStates(conn, paths) };
  const text = serializeAfter(rec);
  const dir = join(localDir, ids.deployId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const local = join(dir, `${ids.host}.after.json`);
  await writeFile(local, text, { mode: 0o600 });
  await chmod(local, 0o600);
  const rdir = `${remoteRoot}/${ids.deployId}`;
  // One script on stdin (the JSON in a quoted here-document): the same `sh -s` shape as the
  // journal's other reads, so connectors and test fakes treat it alike.
  const script = `umask 077 && mkdir -p ${shq(rdir)} && cat > ${shq(rdir)}/after.json <<'HAUP_AFTER_EOF'\n${text}HAUP_AFTER_EOF\n`;
  const r = await conn.exec('sh -s', { stdin: script });
  if (r.code !== 0) throw new HostError(conn.host, `cannot write the after-image to ${rdir}: ${r.stderr.toString().trim()}`);
}
