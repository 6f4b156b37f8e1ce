// File effects on a host, each in ONE round trip: atomic write (temp file in the same directory,
// mode/owner on the temp file, optional validate against it, rename), staged-tree validation,
// and restore from a journal pre-image.
import { posix } from 'node:path';
import { shq, type Connection } from '../connectors/connection.ts';
import { modeString, type Step } from '../operations/types.ts';
import type { PreImage } from './journal.ts';
import type { TreeCheck } from './types.ts';

export type WriteStep = Extract<Step, { kind: 'write' }>;

export const VALIDATE_FAILED = 97;

export function tempPathFor(path: string, deployId: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.haup-${deployId}.tmp`);
}

/** The shell script of one atomic write; the bytes come on stdin. Pure (tests read it). */
export function atomicWriteScript(step: WriteStep, deployId: string): string {
  const tmp = shq(tempPathFor(step.path, deployId));
  const lines = [
    'umask 077',
    `trap 'rm -f ${tmp}' EXIT`,
    `cat > ${tmp} || exit 1`,
    `chmod ${modeString(step.mode)} ${tmp} && chown ${shq(step.owner)}:${shq(step.group)} ${tmp} || exit 1`,
  ];
  if (step.validate) {
    const cmd = step.validate.replaceAll('%s', tmp);
    // A subshell: an `exit` inside the validate command must not end this script.
    lines.push(`if ! ( ${cmd} ) >&2; then exit ${VALIDATE_FAILED}; fi`);
  }
  lines.push(`mv -f ${tmp} ${shq(step.path)} || exit 1`);
  return lines.join('\n');
}

export interface StepOutcome {
  ok: boolean;
  /** The command's own words (stderr, else stdout), trimmed. */
  message: string;
  validateFailed?: boolean;
}

export async function atomicWrite(conn: Connection, step: WriteStep, deployId: string): Promise<StepOutcome> {
  const r = await conn.exec(atomicWriteScript(step, deployId), { stdin: step.content });
  const message = (r.stderr.toString().trim() || r.stdout.toString().trim()).split('\n').slice(-20).join('\n');
  if (r.code === 0) return { ok: true, message };
  if (r.code === VALIDATE_FAILED) return { ok: false, validateFailed: true, message: `validate failed (${step.validate}): ${message}` };
  return { ok: false, message: `cannot write ${step.path} (exit ${r.code}): ${message}` };
}

export function stagePathFor(root: string, deployId: string): string {
  return `${root.replace(/\/+$/, '')}.haup-stage-${deployId}`;
}

/** Pure: the staged-tree check script; new files are embedded base64 (configs are small). */
export function treeCheckScript(check: TreeCheck, writes: WriteStep[], deployId: string, removals: string[] = []): string {
  const root = check.root.replace(/\/+$/, '');
  const stage = stagePathFor(root, deployId);
  const lines = [
    'set -e',
    `root=${shq(root)}; stage=${shq(stage)}`,
    `rm -rf "$stage"; trap 'rm -rf "$stage"' EXIT`,
    `if [ -d "$root" ]; then cp -a "$root" "$stage"; else mkdir -p "$stage"; fi`,
    // Absolute symlinks into the root must lead into the stage (sites-enabled -> sites-available).
    `find "$stage" -type l | while IFS= read -r l; do t=$(readlink "$l"); case "$t" in "$root"/*) ln -sfn "$stage\${t#"$root"}" "$l";; esac; done`,
  ];
  for (const w of writes) {
    const rel = w.path.slice(root.length); // starts with '/'
    lines.push(`mkdir -p "$stage"${shq(posix.dirname(rel))}`);
    lines.push(`base64 -d > "$stage"${shq(rel)} <<'HAUP_EOF'\n${w.content.toString('base64').replace(/(.{76})/g, '$1\n')}\nHAUP_EOF`);
  }
  for (const path of removals) lines.push(`rm -f "$stage"${shq(path.slice(root.length))}`);
  // Absolute references to the root inside the staged files point into the stage.
  lines.push(`grep -rlF "$root/" "$stage" 2>/dev/null | while IFS= read -r f; do sed -i "s#$root/#$stage/#g" "$f"; done`);
  lines.push('set +e');
  lines.push(`{ ${check.command.replaceAll('{stage}', stage)} ; } 2>&1`);
  return lines.join('\n');
}

export function underRoot(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  return path.startsWith(`${r}/`);
}

export async function runTreeCheck(conn: Connection, check: TreeCheck, writes: WriteStep[], deployId: string, removals: string[] = []): Promise<StepOutcome> {
  const r = await conn.exec('sh -s', { stdin: treeCheckScript(check, writes, deployId, removals) });
  const stage = stagePathFor(check.root, deployId);
  // nginx names the staged files in its errors: show the live paths the user knows.
  const message = (r.stdout.toString() + r.stderr.toString()).trim().replaceAll(stage, check.root.replace(/\/+$/, ''));
  return r.code === 0 ? { ok: true, message } : { ok: false, message: `${check.name} check failed: ${message}` };
}

/** Put one path back as the journal recorded it. */
export async function restorePreImage(conn: Connection, pre: PreImage, deployId: string): Promise<StepOutcome> {
  switch (pre.state) {
    case 'file':
      return atomicWrite(conn, { kind: 'write', path: pre.path, content: pre.content, sha256: pre.sha256, mode: pre.mode, owner: pre.owner, group: pre.group }, `${deployId}-restore`);
    case 'absent': {
      const r = await conn.exec(`rm -f -- ${shq(pre.path)}`);
      return { ok: r.code === 0, message: r.stderr.toString().trim() };
    }
    case 'symlink': {
      const r = await conn.exec(`ln -sfn -- ${shq(pre.target)} ${shq(pre.path)}`);
      return { ok: r.code === 0, message: r.stderr.toString().trim() };
    }
    default:
      return { ok: true, message: `${pre.path}: ${pre.state} left as is` };
  }
}
