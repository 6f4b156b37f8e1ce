// --diff: unified diffs of files. A file marked secret never shows content, not even a hash
// (a short secret's sha256 can be brute-forced).
import { createTwoFilesPatch } from 'diff';

/** `after` null: the file is removed. */
export function fileDiff(path: string, before: Buffer | null, after: Buffer | null, secret: boolean): string {
  if (secret) return `--- ${path}\n+++ ${path}\n(secret: content not shown)\n`;
  if ((after && isBinary(after)) || (before && isBinary(before))) {
    return `--- ${path}\n+++ ${path}\nbinary content: ${before ? `${before.length} bytes` : 'absent'} -> ${after ? `${after.length} bytes` : 'absent'}\n`;
  }
  const patch = createTwoFilesPatch(before ? path : '/dev/null', after ? path : '/dev/null', before ? before.toString('utf8') : '', after ? after.toString('utf8') : '', undefined, undefined, { context: 3 });
  // drop the "Index:" and "=====" banner lines and the empty header fields' trailing tabs
  return patch
    .split('\n')
    .filter((l, i) => !(i < 2 && (/^=+$/.test(l) || l.startsWith('Index: '))))
    .map((l) => (l.startsWith('--- ') || l.startsWith('+++ ') ? l.replace(/\t$/, '') : l))
    .join('\n');
}

function isBinary(b: Buffer): boolean {
  return b.subarray(0, 8000).includes(0);
}
