// Journal fixtures for the rollback tests: host lb5, deploy D1 (the first: creates files, installs
// nginx and nodejs) and D2 (changes the upstream), with their after-images.
import { createHash } from 'node:crypto';
import type { AfterRecord, PathState } from '../../src/engine/after.ts';
import type { JournalRecord, PreImage } from '../../src/engine/journal.ts';
import type { DeployEntry, HostJournals } from '../../src/rollback/plan.ts';

export const D1 = '20261122T010000000Z-0001';
export const D2 = '20261122T011000000Z-0002';
export const CONF = '/etc/nginx/conf.d/haup-lb.conf';
export const ETC = '/etc/haup';
export const CFG = '/etc/haup/haupd.yml';
export const UNIT = '/etc/systemd/system/haupd.service';
export const DEFAULT_SITE = '/etc/nginx/sites-enabled/default';

export const sha = (text: string) => createHash('sha256').update(text).digest('hex');
export const filePre = (path: string, text: string, mode = 0o644): PreImage => ({ path, state: 'file', mode, owner: 'root', group: 'root', sha256: sha(text), content: Buffer.from(text) });
export const fileState = (path: string, text: string, mode = 0o644): PathState => ({ path, state: 'file', sha256: sha(text), mode, owner: 'root', group: 'root' });
export const dirState = (path: string): PathState => ({ path, state: 'directory', mode: 0o755, owner: 'root', group: 'root' });
export const absent = (path: string): PathState => ({ path, state: 'absent' });

export const V1 = { conf: 'upstream haup_web { server 198.18.0.7:80; }\n', cfg: 'instances: v1\n', unit: '[Service]\n' };
export const V2 = { conf: 'upstream haup_web { server 198.18.0.7:80; server 198.18.0.8:80; }\n' };

/** The state after D1 (= what D2 found), and after D2. */
export const afterD1: PathState[] = [fileState(CONF, V1.conf), dirState(ETC), fileState(CFG, V1.cfg), fileState(UNIT, V1.unit), absent(DEFAULT_SITE)];
export const afterD2: PathState[] = [fileState(CONF, V2.conf), dirState(ETC), fileState(CFG, V1.cfg), fileState(UNIT, V1.unit), absent(DEFAULT_SITE)];

export function d1(): DeployEntry {
  const record: JournalRecord = {
    deployId: D1,
    host: 'lb5',
    createdAt: '2026-11-22T01:00:00.000Z',
    files: [{ path: CONF, state: 'absent' }, { path: ETC, state: 'absent' }, { path: CFG, state: 'absent' }, { path: UNIT, state: 'absent' }, { path: DEFAULT_SITE, state: 'symlink', target: '/etc/nginx/sites-available/default' }],
    services: [
      { name: 'nginx', enabled: 'not-found', active: 'inactive' },
      { name: 'haupd.service', enabled: 'not-found', active: 'inactive' },
    ],
    packagesInstalled: ['nginx', 'nodejs'],
  };
  const after: AfterRecord = { deployId: D1, host: 'lb5', capturedAt: '2026-11-22T01:00:09.000Z', files: afterD1 };
  return { record, after, rolledBack: null };
}

export function d2(): DeployEntry {
  const record: JournalRecord = {
    deployId: D2,
    host: 'lb5',
    createdAt: '2026-11-22T01:10:00.000Z',
    files: [filePre(CONF, V1.conf), { path: ETC, state: 'directory', mode: 0o755, owner: 'root', group: 'root' }, filePre(CFG, V1.cfg), filePre(UNIT, V1.unit), { path: DEFAULT_SITE, state: 'absent' }],
    services: [
      { name: 'nginx', enabled: 'enabled', active: 'active' },
      { name: 'haupd.service', enabled: 'enabled', active: 'active' },
    ],
    packagesInstalled: [],
  };
  const after: AfterRecord = { deployId: D2, host: 'lb5', capturedAt: '2026-11-22T01:10:04.000Z', files: afterD2 };
  return { record, after, rolledBack: null };
}

export const lb5 = (...deploys: DeployEntry[]): HostJournals => ({ host: 'lb5', deploys });
export const running = { nginx: { enabled: 'enabled', active: 'active' }, 'haupd.service': { enabled: 'enabled', active: 'active' } };
