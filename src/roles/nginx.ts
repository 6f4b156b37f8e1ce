// What the web and lb roles share about nginx: the package, the service, the reload handler that
// puts the old files back when nginx refuses the new ones, and the staged-tree check.
import { shq } from '../connectors/connection.ts';
import type { HandlerSpec, TaskSpec, TreeCheck } from '../engine/types.ts';

export const NGINX_ROOT = '/etc/nginx';
export const RELOAD_NGINX = 'reload nginx';
export const NGINX_ACTIVE = 'systemctl is-active --quiet nginx.service';

export function nginxPackageTask(): TaskSpec {
  // `update`: the index is refreshed only when nginx is missing (a no-op deploy runs no apt).
  // `noStart`: nginx starts once its configuration is in place (the service task), not with
  // Debian's default site from its postinst (which then also does a binary upgrade: 1 s).
  return { name: 'nginx installed', op: { op: 'package', names: ['nginx'], update: true, noStart: true } };
}

export function nginxServiceTask(): TaskSpec {
  return { name: 'nginx enabled and running', op: { op: 'service', name: 'nginx', enabled: true, state: 'started' } };
}

export function nginxReloadHandler(): HandlerSpec {
  // Not running when the deploy began (e.g. just installed, not started by its package): the
  // service task starts it on the new files, a reload would only repeat that.
  return { name: RELOAD_NGINX, op: { op: 'command', command: nginxReloadScript(), onlyIf: NGINX_ACTIVE }, restoreOnFailure: true };
}

/** Debian's nginx logs here (nginx.conf: error_log); haup does not manage nginx.conf. */
export const NGINX_ERROR_LOG = '/var/log/nginx/error.log';

/**
 * `systemctl reload nginx`, confirmed. The reload only signals the master: when the new config
 * cannot be applied (a listen port already in use: `bind() ... failed`), systemctl still succeeds,
 * the master logs [emerg] and keeps serving the OLD config. So: note the master's children and the
 * error log's size, reload, then wait (bounded) until the master has started a child that was not
 * there before (the new config is live) or the log has a new [emerg]/[alert] line (it is not:
 * exit 1 with nginx's messages, and the handler's restoreOnFailure puts the previous files back).
 * POSIX sh; the children are found in /proc (no procps needed on a web host).
 */
export function nginxReloadScript(o: { log?: string; waitTenths?: number } = {}): string {
  const log = o.log ?? NGINX_ERROR_LOG;
  const tenths = o.waitTenths ?? 100;
  return [
    `# reload nginx, then wait until its master runs the new config (new workers) or logs why not`,
    `log=${shq(log)}`,
    `master=$(systemctl show -p MainPID --value nginx.service)`,
    `kids() { for s in /proc/[0-9]*/stat; do read -r l 2>/dev/null < "$s" || continue; set -- \${l##*) }; [ "$2" = "$master" ] || continue; p=\${s#/proc/}; printf '%s ' "\${p%/stat}"; done; }`,
    `before=" $(kids) "`,
    `size=$(stat -c %s "$log" 2>/dev/null || echo 0)`,
    `systemctl reload nginx.service || exit 1`,
    `i=0`,
    `while [ "$i" -lt ${tenths} ]; do`,
    `  if tail -c +$((size + 1)) "$log" 2>/dev/null | grep -qE '\\[(emerg|alert)\\]'; then`,
    // nginx retries a failed bind() for ~2.5 s, logging each try: wait until its log is quiet for
    // 1 s (the master is done; a reload that follows is not confused by late lines), then report
    // each distinct message once, without the timestamp and pid prefix.
    `    last=-1; n=0`,
    `    while [ "$n" -lt 10 ]; do now=$(stat -c %s "$log"); [ "$now" = "$last" ] && break; last=$now; sleep 1; n=$((n + 1)); done`,
    `    printf 'nginx kept its previous configuration:\\n' >&2`,
    `    tail -c +$((size + 1)) "$log" | grep -E '\\[(emerg|alert)\\]' | sed 's/^[0-9/]* [0-9:]* \\[\\([a-z]*\\)\\] [0-9#]*: /[\\1] /' | awk '!seen[$0]++' >&2`,
    `    exit 1`,
    `  fi`,
    `  for k in $(kids); do case "$before" in *" $k "*) ;; *) exit 0 ;; esac; done`,
    `  sleep 0.1; i=$((i + 1))`,
    `done`,
    `echo "nginx started no new worker within ${tenths / 10} s of the reload and logged no error in $log" >&2`,
    `exit 1`,
    '',
  ].join('\n');
}

/**
 * `nginx -t` on a copy of /etc/nginx holding the new files (the engine re-points the absolute
 * /etc/nginx paths of the copy into it): the whole tree is checked before any live file changes.
 */
export function nginxTreeCheck(): TreeCheck {
  return { name: 'nginx -t', root: NGINX_ROOT, command: `nginx -t -q -c {stage}/nginx.conf` };
}
