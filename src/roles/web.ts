// The web role: nginx installed, enabled and running, serving a page that names the host
// ("Web7 Service") as the default site's index, so a client can tell which web answered.
import type { Inventory, WebHost } from '../inventory/model.ts';
import type { RoleTasks } from './types.ts';
import { renderTemplate } from '../templates/loader.ts';
import { RELOAD_NGINX, nginxPackageTask, nginxReloadHandler, nginxServiceTask, nginxTreeCheck } from './nginx.ts';

export const WEB_INDEX = '/var/www/html/index.html';
export const WEB_SITE = '/etc/nginx/conf.d/haup-web.conf';

/** "web7" -> "Web7 Service". */
export function serviceTitle(host: string): string {
  return `${host.charAt(0).toUpperCase()}${host.slice(1)} Service`;
}

export function renderWebIndex(host: WebHost): string {
  return renderTemplate('web/index.html.hbs', { title: serviceTitle(host.name), host: host.name, address: host.address });
}

export function webRole(inv: Inventory, host: WebHost): RoleTasks {
  const tasks: RoleTasks['tasks'] = [nginxPackageTask()];
  // Debian's default site already serves /var/www/html on port 80; another backend port gets a
  // server of its own (no default_server: it must not clash with Debian's site).
  if (inv.nginx.backendPort !== 80) {
    tasks.push({
      name: `nginx site on port ${inv.nginx.backendPort}`,
      op: { op: 'file', path: WEB_SITE, content: renderTemplate('nginx/web-site.conf.hbs', { port: inv.nginx.backendPort }) },
      notify: [RELOAD_NGINX],
    });
  }
  if (inv.nginx.testPage) {
    tasks.push({ name: 'page naming the host', op: { op: 'file', path: WEB_INDEX, content: renderWebIndex(host) } });
  }
  tasks.push(nginxServiceTask());
  return { tasks, handlers: [nginxReloadHandler()], treeChecks: [nginxTreeCheck()] };
}
