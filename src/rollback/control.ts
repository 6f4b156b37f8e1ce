// The control machine's copies of the deploy journals (JOURNAL_DIR/ID/HOST.json, HOST.after.json,
// written by deploy) and of rollback marks (HOST.rollback.json, written here after the host's).
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { controlPath, noCopies, type CopyKind, type CopyTexts } from './sources.ts';

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** Every deploy directory's copies for one host (ids with none of the host's files are left out). */
export async function readControlCopies(controlDir: string, host: string): Promise<Map<string, CopyTexts>> {
  const out = new Map<string, CopyTexts>();
  let ids: string[];
  try {
    ids = (await readdir(controlDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  const places = { remoteRoot: '', controlDir };
  for (const id of ids) {
    const t = noCopies();
    for (const kind of ['journal', 'after', 'rollback'] as CopyKind[]) t[kind] = await readOrNull(controlPath(places, id, host, kind));
    if (t.journal !== null || t.after !== null || t.rollback !== null) out.set(id, t);
  }
  return out;
}

/** Keep this machine's copy of a rollback mark next to the journal (0700 directory, 0600 file). */
export async function writeControlMark(controlDir: string, id: string, host: string, text: string): Promise<void> {
  const dir = join(controlDir, id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = controlPath({ remoteRoot: '', controlDir }, id, host, 'rollback');
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}
