// absent: a file or symlink that must not exist. Directories are refused: removing a tree is
// never a side effect of a deploy.
import type { Facts, FactRequest } from '../facts/types.ts';
import { PlanError } from './errors.ts';
import type { AbsentSpec, Change } from './types.ts';

export function needs(spec: AbsentSpec): Partial<FactRequest> {
  return { paths: [spec.path] };
}

export function plan(spec: AbsentSpec, facts: Facts): Change {
  if (!spec.path.startsWith('/')) throw new PlanError(`path must be absolute: ${spec.path}`);
  const have = facts.files[spec.path];
  if (!have) return { status: 'ok', summary: `${spec.path} absent`, steps: [] };
  if (have.type === 'directory') throw new PlanError(`${spec.path} is a directory: haup removes files and symlinks only`);
  const before = { mode: have.mode, owner: have.owner, group: have.group, ...(have.sha256 ? { sha256: have.sha256 } : {}) };
  return {
    status: 'changed',
    summary: `${spec.path}: removed (${have.type})`,
    steps: [{ kind: 'remove', path: spec.path }],
    file: { path: spec.path, secret: false, before },
  };
}
