// command: runs unless a guard says it is done. Guards come from facts (creates/removes: the
// batch stat; unless/onlyIf: exit codes probed in the facts round trip), so plan stays pure.
import type { Facts, FactRequest } from '../facts/types.ts';
import type { Change, CommandSpec } from './types.ts';

export function needs(spec: CommandSpec): Partial<FactRequest> {
  const paths = [spec.creates, spec.removes].filter((p): p is string => p !== undefined);
  const probes = [spec.unless, spec.onlyIf].filter((p): p is string => p !== undefined);
  return { paths, probes };
}

export function plan(spec: CommandSpec, facts: Facts): Change {
  const skip = (why: string): Change => ({ status: 'ok', summary: `skipped: ${why}`, steps: [] });
  if (spec.creates !== undefined && facts.files[spec.creates]) return skip(`${spec.creates} exists`);
  if (spec.removes !== undefined && !facts.files[spec.removes]) return skip(`${spec.removes} does not exist`);
  if (spec.unless !== undefined && facts.probes[spec.unless] === 0) return skip(`\`${spec.unless}\` succeeded`);
  if (spec.onlyIf !== undefined && facts.probes[spec.onlyIf] !== 0) return skip(`\`${spec.onlyIf}\` failed`);
  return { status: 'changed', summary: `run ${spec.command.split('\n')[0]}`, steps: [{ kind: 'exec', command: spec.command }] };
}
