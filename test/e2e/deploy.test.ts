// End-to-end `haup deploy` on a lab of its own (name hdep, 198.18.62.0/24, state in a temp dir):
// fresh Debian hosts every run, and the shared lab other work uses is never touched. The
// inventory is inventories/lab.yml with the lab's addresses and state paths swapped for this one.
//   cold deploy -> VIP serves both webs, VIP on the master only, haupd active on both LBs
//   no-op deploy -> 0 changed, no mtime changes, no service restarted (timings measured)
//   --check on a changed inventory -> reports, changes nothing (sha256 of every managed file)
//   nginx-invalid inventory -> fails on the LB with nginx's error, live files identical, VIP serves
//   a listen port taken on the backup LB -> reload fails (nginx's bind message), files restored, serves on
//   a stopped web, a changed host key -> per-host errors, the other hosts reported and intact
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig } from '../../src/lab/config.ts';
import { startHost, stopHost } from '../../src/lab/faults.ts';
import { labDown, labExec, labUp } from '../../src/lab/lab.ts';
import { labPaths } from '../../src/lab/state.ts';
import type { DeployResult } from '../../src/engine/types.ts';
import { bundleHaupd } from '../../src/vrrp/bundle.ts';

const NET = '198.18.62';
const VIP = `${NET}.3`;
const HOSTS = { lb5: 5, lb6: 6, web7: 7, web8: 8, client: 9 } as const;
const topology = parseLabConfig(
  ['name: hdep', `range: ${NET}.0/24`, `machine: ${NET}.1`, `vip: ${VIP}`, 'hosts:', ...Object.entries(HOSTS).map(([h, n]) => `  ${h}: ${NET}.${n}`), ''].join('\n'),
  'deploy.test.ts',
);
const work = mkdtempSync(join(tmpdir(), 'haup-deploy-e2e-'));
const stateDir = join(work, 'lab');
const opts = { stateDir, progress: 'silent' as const };
const paths = labPaths(stateDir);
const env = { ...process.env, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache'), CI: 'true' };
const LAB_YML = readFileSync(new URL('../../inventories/lab.yml', import.meta.url), 'utf8');
let PASS = '';
/** Every PASS this file uses: none may appear in haup's output. */
const secrets: string[] = [];

/** lab.yml for this lab, with `edit` applied. */
function inventory(name: string, edit: (t: string) => string = (t) => t): string {
  const text = edit(LAB_YML.replaceAll('198.18.0.', `${NET}.`).replaceAll('/var/lib/haup/lab/', `${stateDir}/`));
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}
const withProxy = (extra: string) => (t: string) => t.replace('nginx:\n  listen: 80', `nginx:\n  listen: 80\n  proxy_params: { ${extra} }`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  json?: DeployResult;
}
const outputs: string[] = [];

function deploy(args: string[]): Promise<Run> {
  args = [...args, '--haupd-artifact', ARTIFACT];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [new URL('../../bin/haup', import.meta.url).pathname, 'deploy', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 180_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      outputs.push(stdout, stderr);
      const r: Run = { code: code ?? -1, stdout, stderr, ms: performance.now() - t0 };
      if (args.includes('--json')) r.json = JSON.parse(stdout) as DeployResult;
      resolve(r);
    });
  });
}

const sh = async (host: string, cmd: string) => (await labExec(host, cmd, { ...opts, timeoutMs: 30_000 })).stdout;
const hostResult = (r: Run, host: string) => r.json!.hosts.find((h) => h.host === host)!;

const MANAGED: Record<'web' | 'lb', string[]> = {
  web: ['/var/www/html/index.html'],
  lb: [
    '/etc/nginx/conf.d/haup-lb.conf',
    '/etc/nginx/haup-proxy-params',
    '/etc/haup/haupd.yml',
    '/etc/haup/secrets/VI_1.pass',
    '/etc/haup/checks/nginx',
    '/etc/systemd/system/haupd.service',
    '/opt/haup/bin/haupd',
    '/opt/haup/lib/haupd.cjs',
    '/opt/haup/VERSION',
  ],
};
const roleOf = (h: string) => (h.startsWith('web') ? 'web' : 'lb');
/** sha256, mtime (ns), mode and owner of every managed file of a host. */
const fileState = (h: string) => sh(h, `stat -c '%y %a %U:%G %n' ${MANAGED[roleOf(h)].join(' ')} && sha256sum ${MANAGED[roleOf(h)].join(' ')}`);
const serviceState = (h: string) =>
  sh(h, `systemctl show -p MainPID -p ActiveEnterTimestamp -p ActiveState nginx${roleOf(h) === 'lb' ? ' haupd' : ''}`);
const DEPLOYED = ['web7', 'web8', 'lb5', 'lb6'];

async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const h of DEPLOYED) out[h] = (await fileState(h)) + (await serviceState(h));
  return out;
}

/** `n` requests from the client to `address` (default: the VIP): the page titles in order. */
async function viaVip(n: number, address = VIP): Promise<string[]> {
  const out = await sh('client', `for i in $(seq ${n}); do curl -s --max-time 2 http://${address}/ | grep -o '<h1>[^<]*' | cut -c5- || echo FAIL; done`);
  return out.trim().split('\n');
}
const strictAlternation = (pages: string[]) => {
  assert.deepEqual(new Set(pages), new Set(['Web7 Service', 'Web8 Service']), pages.join(', '));
  for (let i = 1; i < pages.length; i++) assert.notEqual(pages[i], pages[i - 1], `strict round-robin (shared zone): ${pages.join(', ')}`);
};

async function eventually(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}
const vipHolders = async () => {
  const held: string[] = [];
  for (const h of ['lb5', 'lb6']) if ((await sh(h, 'ip -4 -o addr show dev eth0')).includes(` ${VIP}/`)) held.push(h);
  return held;
};

const timings: Record<string, number[]> = { cold: [], noop: [] };

const ARTIFACT = join(work, 'haupd-artifact');

before(async () => {
  // One haupd build for every deploy of this file: the checkout may change while it runs.
  await bundleHaupd(ARTIFACT);
  await labUp({ ...opts, topology });
  PASS = readFileSync(paths.vrrpPass, 'utf8').trim();
  secrets.push(PASS);
});

after(async () => {
  await labDown(opts).catch(() => {});
  // The PASS never appeared in anything haup printed (stdout, stderr, --json, --diff).
  const leaked = secrets.some((p) => p !== '' && outputs.some((o) => o.includes(p)));
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(`# deploy timings (ms): ${JSON.stringify(timings)}\n`);
  assert.equal(leaked, false, 'the VRRP PASS appeared in haup output');
});

test('cold deploy from fresh hosts: webs, then lb6 (backup), then lb5 (master); the VIP serves both webs', async () => {
  // -v and --diff too: the PASS file is created here, the one moment its content could leak.
  const r = await deploy([inventory('lab.yml'), '--json', '--diff', '-v']);
  timings.cold!.push(Math.round(r.ms));
  const passTask = hostResult(r, 'lb5').tasks.find((t) => t.name === 'VRRP PASS of VI_1')!;
  assert.equal(passTask.status, 'changed');
  assert.match(passTask.diff!, /\(secret: content not shown\)/);
  assert.ok(passTask.commands!.every((c) => !/sha256/.test(c)), passTask.commands!.join('; '));
  process.stdout.write(`# cold per host (ms): ${JSON.stringify(r.json?.hosts.map((h) => [h.host, h.durationMs, h.timings, h.tasks.filter((t) => t.durationMs > 300).map((t) => [t.name, t.durationMs])]))}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json!.hosts.map((h) => [h.host, h.status]), [['web7', 'changed'], ['web8', 'changed'], ['lb6', 'changed'], ['lb5', 'changed']]);
  assert.match(r.stderr, /^RECAP {2}deploy \d{8}T\d{9}Z-[0-9a-f]{4}$/m);
  assert.match(r.stderr, /^lb5 +: ok=\d+ changed=\d+ failed=0 /m);

  for (const h of ['lb5', 'lb6']) assert.equal((await sh(h, 'systemctl is-active haupd nginx')).trim(), 'active\nactive');
  // nginx was installed without being started by its postinst (policy-rc.d for the apt run only):
  // no policy-rc.d is left behind, and the role started nginx itself.
  for (const h of ['lb5', 'lb6', 'web7', 'web8']) assert.equal((await sh(h, 'test -e /usr/sbin/policy-rc.d && echo left || echo gone; systemctl is-active nginx')).trim(), 'gone\nactive', h);
  // The secret: only in its 0600 root file, never in the config.
  assert.equal((await sh('lb5', "stat -c '%a %U:%G' /etc/haup/secrets/VI_1.pass /etc/haup/secrets")).trim(), '600 root:root\n700 root:root');
  assert.equal((await sh('lb5', 'cat /etc/haup/secrets/VI_1.pass')).trim(), PASS);
  assert.equal((await sh('lb5', `grep -c -F -- '${PASS}' /etc/haup/haupd.yml || true`)).trim(), '0');
  // haupd runs as a user of its own with only the two capabilities.
  const status = await sh('lb5', "grep -E '^(Uid|Cap(Eff|Bnd|Amb|Prm))' /proc/$(systemctl show -p MainPID --value haupd)/status");
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  assert.ok(uid !== undefined && uid !== '0', `haupd is not root (uid ${uid})`);
  for (const l of status.trim().split('\n').filter((x) => x.startsWith('Cap'))) assert.match(l, /:\s+0000000000003000$/, `CAP_NET_ADMIN|CAP_NET_RAW only: ${l}`);

  // Each LB balances both webs in strict alternation (the shared zone), then through the VIP.
  for (const lb of ['lb5', 'lb6']) strictAlternation(await viaVip(6, `${NET}.${HOSTS[lb as 'lb5' | 'lb6']}`));
  await eventually('VIP on lb5 only', async () => JSON.stringify(await vipHolders()) === '["lb5"]');
  strictAlternation(await viaVip(6));
});

test('second deploy: 0 changed, no mtime changes, no service restarted; no-op timings', async () => {
  const before = await snapshot();
  for (let i = 0; i < 3; i++) {
    const r = await deploy([inventory('lab.yml'), '--json']);
    timings.noop!.push(Math.round(r.ms));
    assert.equal(r.code, 0, r.stderr);
    for (const h of r.json!.hosts) assert.deepEqual([h.host, h.status, h.counts.changed, h.counts.failed], [h.host, 'ok', 0, 0]);
    if (i === 0) process.stdout.write(`# no-op per host (ms): ${JSON.stringify(r.json!.hosts.map((h) => [h.host, h.timings]))}\n`);
  }
  assert.deepEqual(await snapshot(), before);
});

test('--check --diff on a changed inventory reports the change and changes nothing', async () => {
  const before = await snapshot();
  const r = await deploy([inventory('timeout.yml', withProxy('read_timeout: 75')), '--check', '--diff', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json!.check, true);
  for (const lb of ['lb5', 'lb6']) {
    const changed = hostResult(r, lb).tasks.filter((t) => t.status === 'changed');
    assert.deepEqual(changed.map((t) => t.name), ['nginx proxy_params', 'reload nginx']);
    assert.match(changed[0]!.diff!, /^-proxy_read_timeout 60s;$/m);
    assert.match(changed[0]!.diff!, /^\+proxy_read_timeout 75s;$/m);
  }
  for (const web of ['web7', 'web8']) assert.equal(hostResult(r, web).counts.changed, 0);
  assert.match(r.stderr, /\(check: nothing was changed\)/);
  assert.deepEqual(await snapshot(), before);
});

test('an inventory nginx rejects fails on the LB with nginx -t\'s message; live files identical; the VIP still serves', async () => {
  const before = await snapshot();
  // Valid for the inventory schema, refused by nginx: busy buffers (2 x 64k) >= all buffers minus one.
  const r = await deploy([inventory('bad-nginx.yml', withProxy('buffer_size: 64k, buffers: { count: 2, size: 4k }')), '--json']);
  assert.equal(r.code, 1);
  const lb6 = hostResult(r, 'lb6');
  assert.equal(lb6.status, 'failed');
  const failedTask = lb6.tasks.find((t) => t.status === 'failed')!;
  assert.match(failedTask.error!, /nginx -t check failed: .*\[emerg\].*"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer in \/etc\/nginx\//);
  // The master is not touched after its backup failed.
  assert.equal(hostResult(r, 'lb5').status, 'skipped');
  assert.match(r.stderr, /proxy_busy_buffers_size/);
  assert.deepEqual(await snapshot(), before);
  assert.equal((await sh('lb6', 'ls -a /etc | grep -c haup-stage || true')).trim(), '0', 'no staging tree left behind');
  // nginx on the failed LB still serves its old config; and so does the VIP.
  strictAlternation(await viaVip(4, `${NET}.6`));
  strictAlternation(await viaVip(4));
  // Back on the good inventory: nothing to do.
  const again = await deploy([inventory('lab.yml'), '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(again.json!.hosts.map((h) => h.counts.changed), [0, 0, 0, 0]);
});

test('a listen port nginx cannot bind (taken on lb6): the reload fails, the previous nginx files come back, nginx serves on', async () => {
  const nginxFiles = (h: string) => sh(h, "stat -c '%a %U:%G %n' /etc/nginx/conf.d/haup-lb.conf /etc/nginx/haup-proxy-params && sha256sum /etc/nginx/conf.d/haup-lb.conf /etc/nginx/haup-proxy-params");
  const before = { all: await snapshot(), lb6: await nginxFiles('lb6') };
  // Something else holds 8080 on lb6: `nginx -t` passes (it binds nothing), `systemctl reload`
  // succeeds, and only nginx's master finds out — it logs bind() failed and keeps the old config.
  await sh('lb6', `systemd-run --unit=hdep-port8080 --quiet node -e "require('net').createServer().listen(8080, () => {})"`);
  try {
    await eventually('port 8080 taken on lb6', async () => (await sh('lb6', 'ss -Hltn sport = :8080')).includes(':8080'));
    const r = await deploy([inventory('port8080.yml', (t) => t.replace('nginx:\n  listen: 80', 'nginx:\n  listen: 8080')), '--json']);
    assert.equal(r.code, 1);
    const lb6 = hostResult(r, 'lb6');
    assert.equal(lb6.status, 'failed');
    const reload = lb6.tasks.find((t) => t.handler && t.name === 'reload nginx')!;
    assert.equal(reload.status, 'failed');
    assert.match(reload.error!, /nginx kept its previous configuration:\n.*\[emerg\].*bind\(\) to 0\.0\.0\.0:8080 failed \(98: Address already in use\)/);
    assert.match(reload.error!, /restored the previous files: \/etc\/nginx\/haup-proxy-params, \/etc\/nginx\/conf\.d\/haup-lb\.conf|restored the previous file: \/etc\/nginx\/conf\.d\/haup-lb\.conf/);
    assert.match(reload.error!, /reload nginx succeeded on the restored files/);
    assert.equal(hostResult(r, 'lb5').status, 'skipped');
    assert.equal(await nginxFiles('lb6'), before.lb6, 'the live nginx files are byte-identical again (mode and owner too)');
    assert.equal((await snapshot()).lb5, before.all.lb5, 'the master was not touched');
    strictAlternation(await viaVip(4, `${NET}.6`));
    strictAlternation(await viaVip(4));
    assert.match(reload.error!, /still could not bind\(\)/);
  } finally {
    await sh('lb6', 'systemctl stop hdep-port8080 || true');
    // Back on the good inventory (even after a failure: the tests below start from it): lb6's
    // haupd check script, which names the port, comes back too.
    const again = await deploy([inventory('lab.yml'), '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.json!.hosts.filter((h) => h.host !== 'lb6').map((h) => h.counts.changed), [0, 0, 0]);
  }
});

test('a stopped web: unreachable with a clear message; the other web reported ok; the LBs are not touched', async () => {
  const before = await snapshot();
  await stopHost('web8', opts);
  try {
    const r = await deploy([inventory('lab.yml'), '--json']);
    assert.equal(r.code, 1);
    const web8 = hostResult(r, 'web8');
    assert.equal(web8.status, 'unreachable');
    assert.match(web8.error!.message, /^web8: unreachable: .*198\.18\.62\.8:22/);
    assert.ok(web8.error!.hint);
    assert.equal(hostResult(r, 'web7').status, 'ok');
    for (const lb of ['lb5', 'lb6']) assert.equal(hostResult(r, lb).status, 'skipped');
    assert.match(r.stderr, /^web8 +: .*unreachable=1/m);
  } finally {
    await startHost('web8', opts);
  }
  assert.deepEqual(await snapshot().then((s) => ({ ...s, web8: '' })), { ...before, web8: '' });
});

test('a changed host key: that host refused with a clear message, nothing on it changed; the others reported', async () => {
  const before = await snapshot();
  // lb6's entry now carries lb5's key: exactly what a man in the middle would look like.
  const known = readFileSync(paths.knownHosts, 'utf8').split('\n');
  const keyOf = (addr: string) => known.find((l) => l.startsWith(`${addr} `))!.split(' ').slice(1).join(' ');
  const forged = known.map((l) => (l.startsWith(`${NET}.6 `) ? `${NET}.6 ${keyOf(`${NET}.5`)}` : l)).join('\n');
  const kh = join(work, 'known_hosts.forged');
  writeFileSync(kh, forged);
  const r = await deploy([inventory('forged.yml', (t) => t.replace(`known_hosts: ${stateDir}/ssh/known_hosts`, `known_hosts: ${kh}`)), '--json']);
  assert.equal(r.code, 1);
  const lb6 = hostResult(r, 'lb6');
  assert.equal(lb6.status, 'unreachable');
  assert.match(lb6.error!.message, /^lb6: host key CHANGED: 198\.18\.62\.6:22 offers ssh-ed25519 SHA256:\S+, known_hosts has .*refusing to connect/);
  assert.match(lb6.error!.hint!, /ssh-keygen -R/);
  for (const web of ['web7', 'web8']) assert.equal(hostResult(r, web).status, 'ok');
  assert.equal(hostResult(r, 'lb5').status, 'skipped');
  assert.equal(readFileSync(kh, 'utf8'), forged, 'a changed key is never written to known_hosts');
  assert.deepEqual(await snapshot(), before);
});

test('a new VRRP PASS restarts haupd on both LBs (its credential copy is made at start); they agree again: VIP on lb5 only', async () => {
  const NEW_PASS = 'n3wP4ss!';
  secrets.push(NEW_PASS);
  const file = join(work, 'pass2');
  writeFileSync(file, `${NEW_PASS}\n`, { mode: 0o600 });
  const pids = async () => Promise.all(['lb5', 'lb6'].map(async (h) => (await sh(h, 'systemctl show -p MainPID --value haupd')).trim()));
  const before = await pids();
  const r = await deploy([inventory('pass2.yml', (t) => t.replace(`{ file: ${stateDir}/vrrp-pass }`, `{ file: ${file} }`)), '--json', '--diff']);
  assert.equal(r.code, 0, r.stderr);
  for (const lb of ['lb5', 'lb6']) {
    const changed = hostResult(r, lb).tasks.filter((t) => t.status === 'changed').map((t) => t.name);
    assert.deepEqual(changed, ['VRRP PASS of VI_1', 'restart haupd']);
    assert.equal((await sh(lb, "stat -c '%a %U' /etc/haup/secrets/VI_1.pass")).trim(), '600 root');
  }
  const after = await pids();
  assert.notEqual(after[0], before[0]);
  assert.notEqual(after[1], before[1]);
  await eventually('VIP on lb5 only with the new PASS', async () => JSON.stringify(await vipHolders()) === '["lb5"]');
  strictAlternation(await viaVip(4));
});
