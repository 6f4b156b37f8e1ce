// The lb role: nginx as the load balancer of every web host. An upstream with a shared `zone`
// (round-robin is then exact across workers), proxy settings from the inventory in their own file,
// and a server on the listen port. The whole staged /etc/nginx is checked with `nginx -t` before
// any live file changes; nginx reloads only when a file changed, and a failed reload puts the old
// files back (nginx keeps serving the old config all along).
import type { Inventory, LbHost } from '../inventory/model.ts';
import { renderTemplate } from '../templates/loader.ts';
import { RELOAD_NGINX, nginxPackageTask, nginxReloadHandler, nginxServiceTask, nginxTreeCheck } from './nginx.ts';
import type { RoleTasks } from './types.ts';

export const LB_SITE = '/etc/nginx/conf.d/haup-lb.conf';
export const LB_PROXY_PARAMS = '/etc/nginx/haup-proxy-params';
export const DEBIAN_DEFAULT_SITE = '/etc/nginx/sites-enabled/default';
export const UPSTREAM_NAME = 'haup_web';
export const HEALTH_PATH = '/haup-health';

const METHOD_DIRECTIVE: Record<Inventory['nginx']['upstream']['method'], string | null> = {
  round_robin: null, // nginx's default: no directive
  least_conn: 'least_conn',
  ip_hash: 'ip_hash',
};

export function renderProxyParams(inv: Inventory): string {
  const p = inv.nginx.proxyParams;
  return renderTemplate('nginx/proxy_params.hbs', { ...p, keepalive: inv.nginx.upstream.keepalive > 0 });
}

export function renderLbSite(inv: Inventory): string {
  const n = inv.nginx;
  return renderTemplate('nginx/lb-site.conf.hbs', {
    upstreamName: UPSTREAM_NAME,
    zone: n.upstream.zone,
    method: METHOD_DIRECTIVE[n.upstream.method],
    servers: inv.web.map((w) => ({ name: w.name, address: w.address, port: n.backendPort, maxFails: n.upstream.maxFails, failTimeout: n.upstream.failTimeout })),
    keepalive: n.upstream.keepalive > 0 ? n.upstream.keepalive : null,
    listen: n.listen,
    serverName: n.serverName,
    proxyParamsPath: LB_PROXY_PARAMS,
  });
}

export function lbRole(inv: Inventory, _host: LbHost): RoleTasks {
  return {
    tasks: [
      nginxPackageTask(),
      // Our server is the default_server on the listen port; Debian's default site is one too,
      // and nginx refuses two. Present before the deploy: removed and journaled (rollback puts it
      // back). Created by `apt-get install nginx` in this very deploy (the plan, made from the
      // facts before it, cannot see it): removed once, while our site is not there yet.
      { name: "Debian's default site disabled", op: { op: 'absent', path: DEBIAN_DEFAULT_SITE }, notify: [RELOAD_NGINX] },
      {
        name: "Debian's default site disabled (if nginx was installed by this deploy)",
        op: { op: 'command', command: `rm -f ${DEBIAN_DEFAULT_SITE}`, creates: LB_SITE },
        notify: [RELOAD_NGINX],
      },
      { name: 'nginx proxy_params', op: { op: 'file', path: LB_PROXY_PARAMS, content: renderProxyParams(inv) }, notify: [RELOAD_NGINX] },
      { name: 'nginx upstream and LB server', op: { op: 'file', path: LB_SITE, content: renderLbSite(inv) }, notify: [RELOAD_NGINX] },
      nginxServiceTask(),
    ],
    handlers: [nginxReloadHandler()],
    treeChecks: [nginxTreeCheck()],
  };
}
