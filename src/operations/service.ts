// service: systemd unit enabled/disabled and started/stopped; reloaded/restarted always act
// (they are what handlers run).
import { shq } from '../connectors/connection.ts';
import type { Facts, FactRequest } from '../facts/types.ts';
import { PlanError } from './errors.ts';
import type { Change, ServiceSpec } from './types.ts';

export function needs(spec: ServiceSpec): Partial<FactRequest> {
  return { services: [spec.name] };
}

export function plan(spec: ServiceSpec, facts: Facts): Change {
  if (facts.init !== 'systemd') throw new PlanError(`service ${spec.name}: the host does not run systemd`);
  const have = facts.services[spec.name] ?? { enabled: 'not-found', active: 'inactive' };
  const n = shq(spec.name);
  const cmds: string[] = [];
  const what: string[] = [];
  if (spec.enabled === true && !['enabled', 'static', 'alias', 'enabled-runtime'].includes(have.enabled)) {
    cmds.push(`systemctl enable ${n}`);
    what.push('enabled');
  } else if (spec.enabled === false && have.enabled === 'enabled') {
    cmds.push(`systemctl disable ${n}`);
    what.push('disabled');
  }
  switch (spec.state) {
    case 'started':
      if (have.active !== 'active') {
        cmds.push(`systemctl start ${n}`);
        what.push('started');
      }
      break;
    case 'stopped':
      if (have.active === 'active' || have.active === 'activating' || have.active === 'reloading') {
        cmds.push(`systemctl stop ${n}`);
        what.push('stopped');
      }
      break;
    case 'reloaded':
      cmds.push(`systemctl reload ${n}`);
      what.push('reloaded');
      break;
    case 'restarted':
      cmds.push(`systemctl restart ${n}`);
      what.push('restarted');
      break;
    case undefined:
      break;
  }
  if (cmds.length === 0) return { status: 'ok', summary: `${spec.name} ${[spec.enabled === undefined ? '' : spec.enabled ? 'enabled' : 'disabled', spec.state ?? ''].filter(Boolean).join(', ')}`.trim(), steps: [] };
  return { status: 'changed', summary: `${spec.name} ${what.join(', ')}`, steps: cmds.map((command) => ({ kind: 'exec', command })) };
}
