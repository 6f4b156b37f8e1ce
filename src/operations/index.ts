// Dispatch by `op`: what facts an operation needs, and its pure plan.
import { emptyFactRequest, type FactRequest, type Facts } from '../facts/types.ts';
import * as absent from './absent.ts';
import * as command from './command.ts';
import * as directory from './directory.ts';
import * as file from './file.ts';
import * as pkg from './package.ts';
import * as service from './service.ts';
import type { Change, OperationSpec } from './types.ts';

export function needsOf(spec: OperationSpec): Partial<FactRequest> {
  switch (spec.op) {
    case 'package':
      return pkg.needs(spec);
    case 'file':
      return file.needs(spec);
    case 'absent':
      return absent.needs(spec);
    case 'directory':
      return directory.needs(spec);
    case 'service':
      return service.needs(spec);
    case 'command':
      return command.needs(spec);
  }
}

export function planOperation(spec: OperationSpec, facts: Facts): Change {
  switch (spec.op) {
    case 'package':
      return pkg.plan(spec, facts);
    case 'file':
      return file.plan(spec, facts);
    case 'absent':
      return absent.plan(spec, facts);
    case 'directory':
      return directory.plan(spec, facts);
    case 'service':
      return service.plan(spec, facts);
    case 'command':
      return command.plan(spec, facts);
  }
}

/** The union of what a list of operations needs: one facts round trip serves them all. */
export function factRequestFor(specs: OperationSpec[]): FactRequest {
  const req = emptyFactRequest();
  for (const s of specs) {
    const n = needsOf(s);
    req.paths.push(...(n.paths ?? []));
    req.services.push(...(n.services ?? []));
    req.probes.push(...(n.probes ?? []));
  }
  return { paths: [...new Set(req.paths)], services: [...new Set(req.services)], probes: [...new Set(req.probes)] };
}
