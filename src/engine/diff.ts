// --diff: unified diffs of files. A file marked secret never shows content, not even a hash
// (a short secret's sha256 can be brute-forced). A binary or large file (the 1.3 MB haupd bundle)
// is summarised like Ansible does: hashes and sizes, not a megabyte of text.
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';

/** Above this size (either side) a file is summarised, not diffed. */
export const DIFF_MAX_BYTES = 64 * 1024;

/** `after` null: the file is removed. */
export function fileDiff(path: string, before: Buffer | null, after: Buffer | null, secret: boolean): string {
  if (secret) return `--- ${path}\n+++ ${path}\n(secret: content not shown)\n`;
  const binary = (after !== null && isBinary(after)) || (before !== null && isBinary(before));
  const large = (after?.length ?? 0) > DIFF_MAX_BYTES || (before?.length ?? 0) > DIFF_MAX_BYTES;
  if (binary || large) {
    const sha = (b: Buffer | null) => (b ? createHash('sha256').update(b).digest('hex').slice(0, 12) : 'absent');
    const size = (b: Buffer | null) => (b ? `${b.length} bytes` : 'absent');
    const why = binary ? 'binary' : `over ${DIFF_MAX_BYTES / 1024} KiB`;
    return `--- ${path}\n+++ ${path}\n${why}: sha256 ${sha(before)} -> ${sha(after)}, size ${size(before)} -> ${size(after)}\n`;
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
