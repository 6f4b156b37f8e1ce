// What the web and lb roles share about nginx: the package, the service, the reload handler that
// puts the old files back when nginx refuses the new ones, and the staged-tree check.
import type { HandlerSpec, TaskSpec, TreeCheck } from '../engine/types.ts';

export const NGINX_ROOT = '/etc/nginx';
export const RELOAD_NGINX = 'reload nginx';

export function nginxPackageTask(): TaskSpec {
  // `update`: the index is refreshed only when nginx is missing (a no-op deploy runs no apt).
  return { name: 'nginx installed', op: { op: 'package', names: ['nginx'], update: true } };
}

export function nginxServiceTask(): TaskSpec {
  return { name: 'nginx enabled and running', op: { op: 'service', name: 'nginx', enabled: true, state: 'started' } };
}

export function nginxReloadHandler(): HandlerSpec {
  return { name: RELOAD_NGINX, op: { op: 'service', name: 'nginx', state: 'reloaded' }, restoreOnFailure: true };
}

/**
 * `nginx -t` on a copy of /etc/nginx holding the new files (the engine re-points the absolute
 * /etc/nginx paths of the copy into it): the whole tree is checked before any live file changes.
 */
export function nginxTreeCheck(): TreeCheck {
  return { name: 'nginx -t', root: NGINX_ROOT, command: `nginx -t -q -c {stage}/nginx.conf` };
}
