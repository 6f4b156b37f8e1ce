// file: desired bytes + mode + owner. Compared by sha256 with the host's file (facts); written
// atomically by the engine (temp file in the same directory, optional validate, rename).
import { createHash } from 'node:crypto';
import { shq } from '../connectors/connection.ts';
import type { Facts, FactRequest } from '../facts/types.ts';
import { PlanError } from './errors.ts';
import { modeString, type Change, type FileSpec } from './types.ts';

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function needs(spec: FileSpec): Partial<FactRequest> {
  return { paths: [spec.path] };
}

export function plan(spec: FileSpec, facts: Facts): Change {
  if (!spec.path.startsWith('/')) throw new PlanError(`file path must be absolute: ${spec.path}`);
  const content = Buffer.isBuffer(spec.content) ? spec.content : Buffer.from(spec.content, 'utf8');
  const want = { sha256: sha256(content), mode: spec.mode ?? 0o644, owner: spec.owner ?? 'root', group: spec.group ?? 'root' };
  const have = facts.files[spec.path];
  if (have && have.type !== 'file') throw new PlanError(`${spec.path} exists and is a ${have.type}, not a regular file`);
  const secret = spec.secret === true;
  const before = have ? { sha256: have.sha256, mode: have.mode, owner: have.owner, group: have.group } : null;
  const file = { path: spec.path, secret, before };

  const diffs: string[] = [];
  if (!have) diffs.push('created');
  else {
    if (have.sha256 !== want.sha256) diffs.push('content');
    if (have.mode !== want.mode) diffs.push(`mode ${modeString(have.mode)} -> ${modeString(want.mode)}`);
    if (have.owner !== want.owner || have.group !== want.group) diffs.push(`owner ${have.owner}:${have.group} -> ${want.owner}:${want.group}`);
  }
  if (diffs.length === 0) return { status: 'ok', summary: `${spec.path} up to date`, steps: [], file };

  // Content changed (or new): stage, validate, rename. Only attributes changed: chmod/chown in place.
  if (!have || have.sha256 !== want.sha256) {
    return {
      status: 'changed',
      summary: `${spec.path}: ${diffs.join(', ')}`,
      steps: [{ kind: 'write', path: spec.path, content, ...want, ...(spec.validate ? { validate: spec.validate } : {}), ...(secret ? { secret } : {}) }],
      file,
    };
  }
  const q = shq;
  return {
    status: 'changed',
    summary: `${spec.path}: ${diffs.join(', ')}`,
    steps: [{ kind: 'exec', command: `chmod ${modeString(want.mode)} ${q(spec.path)} && chown ${want.owner}:${want.group} ${q(spec.path)}` }],
    file,
  };
}
