// directory: exists with mode and owner.
import { shq } from '../connectors/connection.ts';
import type { Facts, FactRequest } from '../facts/types.ts';
import { PlanError } from './errors.ts';
import { modeString, type Change, type DirectorySpec } from './types.ts';

export function needs(spec: DirectorySpec): Partial<FactRequest> {
  return { paths: [spec.path] };
}

export function plan(spec: DirectorySpec, facts: Facts): Change {
  if (!spec.path.startsWith('/')) throw new PlanError(`directory path must be absolute: ${spec.path}`);
  const mode = spec.mode ?? 0o755;
  const owner = spec.owner ?? 'root';
  const group = spec.group ?? 'root';
  const have = facts.files[spec.path];
  if (have && have.type !== 'directory') throw new PlanError(`${spec.path} exists and is a ${have.type}, not a directory`);
  const p = shq(spec.path);
  if (!have) {
    return {
      status: 'changed',
      summary: `${spec.path}: created`,
      steps: [{ kind: 'exec', command: `mkdir -p ${p} && chmod ${modeString(mode)} ${p} && chown ${owner}:${group} ${p}` }],
    };
  }
  const cmds: string[] = [];
  const what: string[] = [];
  if (have.mode !== mode) {
    cmds.push(`chmod ${modeString(mode)} ${p}`);
    what.push(`mode ${modeString(have.mode)} -> ${modeString(mode)}`);
  }
  if (have.owner !== owner || have.group !== group) {
    cmds.push(`chown ${owner}:${group} ${p}`);
    what.push(`owner ${have.owner}:${have.group} -> ${owner}:${group}`);
  }
  if (cmds.length === 0) return { status: 'ok', summary: `${spec.path} up to date`, steps: [] };
  return { status: 'changed', summary: `${spec.path}: ${what.join(', ')}`, steps: [{ kind: 'exec', command: cmds.join(' && ') }] };
}
