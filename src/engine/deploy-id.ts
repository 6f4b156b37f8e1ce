// Deploy ids sort by time as plain strings: 20261122T001645123Z-3fa9.
import { randomBytes } from 'node:crypto';

export function newDeployId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export const DEPLOY_ID_RE = /^\d{8}T\d{9}Z-[0-9a-f]{4}$/;
