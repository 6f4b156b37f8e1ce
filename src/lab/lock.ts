// A lock on a directory: the shared cache (/var/cache/haup/lab), so two `lab up`s never build
// the image or the repository at the same time, and a lab's state dir, so `up`/`down` of one
// lab never run at once. mkdir is atomic; a lock whose owner PID
// is gone is stale and taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HaupError } from '../util/errors.ts';
import { sleep } from './run.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withCacheLock<T>(cacheDir: string, fn: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  mkdirSync(cacheDir, { recursive: true });
  const lock = join(cacheDir, '.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        /* being created right now */
      }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new HaupError(`timed out waiting for the lab cache lock ${lock} (held by PID ${owner})`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
