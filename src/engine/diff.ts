// --diff: unified diffs of files. A file marked secret never shows content, not even a hash
// (a short secret's sha256 can be brute-forced).
import { createTwoFilesPatch } from 'diff';

export function fileDiff(path: string, before: Buffer | null, after: Buffer, secret: boolean): string {
  if (secret) return `--- ${path}\n+++ ${path}\n(secret: content not shown)\n`;
  if (isBinary(after) || (before && isBinary(before))) {
    return `--- ${path}\n+++ ${path}\nbinary content: ${before ? `${before.length} bytes` : 'absent'} -> ${after.length} bytes\n`;
  }
  const patch = createTwoFilesPatch(before ? path : '/dev/null', path, before ? before.toString('utf8') : '', after.toString('utf8'), undefined, undefined, { context: 3 });
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
