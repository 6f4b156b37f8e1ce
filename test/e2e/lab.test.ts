// End-to-end: a lab of its own (name hlabt, 198.18.47.0/24, state in a temp dir, so the shared
// default lab other tests use is never touched) brought up, probed, faulted, and taken down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig } from '../../src/lab/config.ts';
import { baseDir } from '../../src/lab/image.ts';
import { blockVrrp, freeze, linkDown, linkUp, startHost, stopHost, thaw, unblockVrrp } from '../../src/lab/faults.ts';
import { labDown, labExec, labStatus, labUp, type LabUpResult } from '../../src/lab/lab.ts';
import { labPaths, type LabState } from '../../src/lab/state.ts';

const NET = '198.18.47';
const topology = parseLabConfig(
  [
    'name: hlabt',
    `range: ${NET}.0/24`,
    `machine: ${NET}.1`,
    `vip: ${NET}.3`,
    'hosts:',
    ...['lb5', 'lb6', 'web7', 'web8', 'client'].map((h, i) => `  ${h}: ${NET}.${[5, 6, 7, 8, 9][i]}`),
    '',
  ].join('\n'),
  'lab.test.ts',
);
const stateDir = mkdtempSync(join(tmpdir(), 'haup-labtest-'));
const opts = { stateDir, progress: 'silent' as const };
const paths = labPaths(stateDir);
const addr = (h: string) => topology.hosts.find((x) => x.name === h)!.address;
const netns = (h: string) => topology.hosts.find((x) => x.name === h)!.netns;
let up: LabUpResult;
let recorded: LabState;

function sh(cmd: string, args: string[], timeoutMs = 20_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const strictSsh = (address: string, cmd: string, knownHosts = paths.knownHosts) =>
  sh('ssh', [
    '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-i', paths.privateKey, `root@${address}`, cmd,
  ]);
const ping = (address: string) => sh('ping', ['-c', '1', '-W', '1', address]).code === 0;
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

/** tcpdump on a host's eth0 (from the machine, inside the host's namespace) while `fn` runs. */
async function capture(host: string, filter: string, fn: () => Promise<void>): Promise<string> {
  const p = spawn('ip', ['netns', 'exec', netns(host), 'timeout', '20', 'tcpdump', '-i', 'eth0', '-nn', '-l', '-p', filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<void>((r) => p.on('close', () => r()));
  await eventually('tcpdump listening', () => err.includes('listening on'), 10_000);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    p.kill('SIGINT');
    await closed;
  }
  return out;
}

const SEND_VRRP = `python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('${NET}.5'))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
adv = bytes([0x21, 50, 150, 1, 0, 1, 0, 0]) + socket.inet_aton('${NET}.3') + bytes(8)
for _ in range(3):
    s.sendto(adv, ('224.0.0.18', 0)); time.sleep(0.05)
PY
ping -c 2 -i 0.2 -W 1 ${NET}.6 >/dev/null`;

async function sendVrrpAndPing(): Promise<void> {
  await labExec('lb5', SEND_VRRP, opts);
}
const vrrpFromLb5 = (dump: string) => dump.split('\n').filter((l) => l.includes(`${NET}.5 > 224.0.0.18`) && l.includes('VRRP')).length;
const echoFromLb5 = (dump: string) => dump.split('\n').filter((l) => l.includes(`${NET}.5 > ${NET}.6: ICMP echo request`)).length;

before(async () => {
  up = await labUp({ ...opts, topology });
  recorded = JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
});

after(async () => {
  // Whatever happened above, leave nothing behind.
  await labDown(opts).catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

test('up: every host boots and answers SSH in time; the summary names each host', () => {
  assert.equal(up.alreadyUp, false);
  assert.deepEqual(up.hosts.map((h) => [h.name, h.address]), topology.hosts.map((h) => [h.name, h.address]));
  assert.ok(up.seconds.boot < 30, `hosts answered SSH after ${up.seconds.boot} s (limit 30 s)`);
  if (!up.builtImage && !up.builtRepo) assert.ok(up.seconds.total < 30, `up from the cache took ${up.seconds.total} s`);
  assert.equal(up.hosts[0]!.ssh, `ssh -i ${paths.privateKey} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${paths.knownHosts} root@${NET}.5`);
  const s = labStatus(opts);
  assert.equal(s.up, true);
  assert.ok(s.hosts.every((h) => h.running));
});

test('SSH with strict host-key checking reaches every host, each with its own identity', () => {
  const ids = new Set<string>();
  for (const h of topology.hosts) {
    const r = strictSsh(h.address, 'echo $(hostname) $(cat /etc/machine-id) $(cat /proc/1/comm) $(systemctl is-system-running)');
    assert.equal(r.code, 0, r.stderr);
    const [name, machineId, init, running] = r.stdout.trim().split(' ');
    assert.equal(name, h.name);
    assert.equal(init, 'systemd');
    assert.ok(running === 'running' || running === 'degraded', `system state ${running}`);
    ids.add(machineId!);
  }
  assert.equal(ids.size, topology.hosts.length, 'machine-ids differ per host');
  const names = strictSsh(`${NET}.5`, 'getent hosts web7 lab-machine');
  assert.equal(names.stdout.replace(/[ \t]+/g, ' '), `${NET}.7 web7\n${NET}.1 lab-machine\n`);
  const keys = readFileSync(paths.knownHosts, 'utf8').trim().split('\n');
  assert.equal(keys.length, topology.hosts.length);
  assert.equal(new Set(keys.map((l) => l.split(' ')[2])).size, topology.hosts.length, 'host keys differ per host');
  // Strictness is real: with another host's key under this address, ssh refuses.
  const swapped = join(stateDir, 'swapped_known_hosts');
  const lb6Key = keys.find((l) => l.startsWith(`${NET}.6 `))!.split(' ').slice(1).join(' ');
  spawnSync('sh', ['-c', `echo '${NET}.5 ${lb6Key}' > ${swapped}`]);
  const r = strictSsh(`${NET}.5`, 'true', swapped);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
});

test('up twice is harmless: same processes, nothing recreated', async () => {
  const before = labStatus(opts).hosts.map((h) => h.pid);
  const again = await labUp({ ...opts, topology });
  assert.equal(again.alreadyUp, true);
  assert.deepEqual(labStatus(opts).hosts.map((h) => h.pid), before);
});

test('a second lab whose range collides with this one is refused before creating anything', async () => {
  const other = mkdtempSync(join(tmpdir(), 'haup-labtest2-'));
  try {
    const t2 = parseLabConfig(`name: hlabu\nrange: ${NET}.0/25\nmachine: ${NET}.100\nhosts:\n  x: ${NET}.101\n`, 'x.yml');
    await assert.rejects(labUp({ stateDir: other, progress: 'silent', topology: t2 }), /collides with this machine's networks:\n  address 198\.18\.47\.1\/24 on hlabt0 overlaps the lab range 198\.18\.47\.0\/25\n  route 198\.18\.47\.0\/24 on hlabt0/);
    assert.equal(existsSync(join(other, 'state.json')), false);
    assert.equal(existsSync('/run/netns/hlabu-br'), false);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('without root: a clear error, nothing done', () => {
  const r = sh('setpriv', [
    '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e',
    "import('./src/lab/lab.ts').then((m) => m.labUp({ progress: 'silent' })).catch((e) => { console.error(e.message + ' | ' + e.hint); process.exit(3); })",
  ], 60_000);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /haup lab needs root: .* \| run it as root/);
});

test("each host sees its own namespace's interfaces in /sys/class/net (not the machine's)", async () => {
  const r = await labExec('lb5', 'ls /sys/class/net | tr "\\n" " "; echo; cat /sys/class/net/eth0/ifindex; ip -o link show dev eth0 | cut -d: -f1', opts);
  const [names, sysIndex, ipIndex] = r.stdout.trim().split('\n');
  assert.deepEqual(names!.trim().split(' ').sort(), ['eth0', 'lo']);
  assert.equal(sysIndex, ipIndex);
});

test('isolation: a file written in lb5:/etc/nginx is absent on lb6 and in the base image', async () => {
  await labExec('lb5', 'mkdir -p /etc/nginx && echo lb5 > /etc/nginx/haup-isolation', opts);
  assert.equal((await labExec('lb5', 'cat /etc/nginx/haup-isolation', opts)).stdout, 'lb5\n');
  const r = await labExec('lb6', 'test -e /etc/nginx/haup-isolation', { ...opts, allowFail: true });
  assert.equal(r.code, 1);
  assert.equal(existsSync(join(baseDir(), 'etc/os-release')), true);
  assert.equal(existsSync(join(baseDir(), 'etc/nginx/haup-isolation')), false);
});

test('packages install from the local repository only (no internet in the hosts)', async () => {
  const sources = await labExec('web8', 'cat /etc/apt/sources.list; ls /etc/apt/sources.list.d; ip -4 route', opts);
  assert.equal(sources.stdout, `deb [trusted=yes] file:/srv/repo ./\n${NET}.0/24 dev eth0 proto kernel scope link src ${NET}.8 \n`);
  const r = await labExec('web8', 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx', { ...opts, timeoutMs: 180_000 });
  assert.match(r.stdout, /Setting up nginx /);
  assert.equal((await labExec('web8', 'systemctl is-active nginx', opts)).stdout.trim(), 'active');
  const curl = sh('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '5', `http://${NET}.8/`]);
  assert.equal(curl.stdout, '200');
  await labExec('lb5', 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3', { ...opts, timeoutMs: 180_000 });
  // Debian's own Node 18 (not nodesource's): the haupd bundle targets it.
  const node = await labExec('lb6', 'apt-get update -q >/dev/null && apt-get install -y -q nodejs >/dev/null && node --version', { ...opts, timeoutMs: 180_000 });
  assert.match(node.stdout.trim(), /^v18\./);
});

test("an address added on a host's eth0 answers, and is gone after removal", async () => {
  await labExec('lb5', `ip addr add ${NET}.3/24 dev eth0`, opts);
  await eventually('VIP answers ping', () => ping(`${NET}.3`));
  await labExec('lb5', `ip addr del ${NET}.3/24 dev eth0`, opts);
  const r = await labExec('lb5', 'ip -4 -o addr show dev eth0', opts);
  assert.doesNotMatch(r.stdout, new RegExp(`${NET}\\.3/`));
  sh('ip', ['neigh', 'flush', 'dev', topology.machineLink, 'to', `${NET}.3`]);
  assert.equal(ping(`${NET}.3`), false);
});

test('fault: link down makes a host unreachable; link up restores it', async () => {
  assert.equal(ping(addr('web7')), true);
  await linkDown('web7', opts);
  assert.deepEqual(labStatus(opts).faults, [{ kind: 'link-down', host: 'web7' }]);
  assert.equal(ping(addr('web7')), false);
  assert.match(sh('ip', ['-n', netns('web7'), 'link', 'show', 'eth0']).stdout, /state DOWN/);
  await linkUp('web7', opts);
  await eventually('web7 answers ping after link up', () => ping(addr('web7')));
  assert.deepEqual(labStatus(opts).faults, []);
});

test('fault: VRRP from lb5 blocked towards lb6 only; other traffic passes; unblock restores', async () => {
  const seen = await capture('lb6', 'ip proto 112 or icmp', sendVrrpAndPing);
  assert.equal(vrrpFromLb5(seen), 3, seen);
  await blockVrrp('lb5', 'lb6', opts);
  let onWeb7 = '';
  const blocked = await capture('lb6', 'ip proto 112 or icmp', async () => {
    onWeb7 = await capture('web7', 'ip proto 112', sendVrrpAndPing);
  });
  assert.equal(vrrpFromLb5(blocked), 0, blocked);
  assert.equal(echoFromLb5(blocked), 2, blocked);
  assert.equal(vrrpFromLb5(onWeb7), 3, 'web7 still receives lb5 VRRP');
  assert.deepEqual(labStatus(opts).faults, [{ kind: 'vrrp-block', host: 'lb5', arg: 'lb6' }]);
  await unblockVrrp('lb5', 'lb6', opts);
  const healed = await capture('lb6', 'ip proto 112 or icmp', sendVrrpAndPing);
  assert.equal(vrrpFromLb5(healed), 3, healed);
  assert.deepEqual(labStatus(opts).faults, []);
});

test('fault: freeze stops every nginx process (state T, requests hang); thaw resumes', async () => {
  const pids = await freeze('web8', 'nginx', opts);
  assert.ok(pids.length >= 2, `nginx master + workers: ${pids.join(' ')}`);
  const stat = await labExec('web8', `ps -o stat= -p ${pids.join(',')}`, opts);
  assert.deepEqual([...new Set(stat.stdout.trim().split(/\s+/).map((s) => s[0]))], ['T']);
  assert.equal(sh('curl', ['-s', '-m', '2', `http://${NET}.8/`]).code, 28, 'request times out while frozen');
  await thaw('web8', 'nginx', opts);
  const stat2 = await labExec('web8', `ps -o stat= -p ${pids.join(',')}`, opts);
  assert.ok(stat2.stdout.trim().split(/\s+/).every((s) => s[0] !== 'T'), stat2.stdout);
  assert.equal(sh('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '5', `http://${NET}.8/`]).stdout, '200');
  await assert.rejects(freeze('web8', 'no-such-proc', opts), /no process named no-such-proc/);
});

test('fault: stop powers a host off (its disk stays); start boots it again', async () => {
  await labExec('client', 'echo kept > /root/persist && cat /etc/machine-id > /root/id-before', opts);
  const pidBefore = labStatus(opts).hosts.find((h) => h.name === 'client')!.pid!;
  await stopHost('client', opts);
  const st = labStatus(opts);
  assert.equal(st.hosts.find((h) => h.name === 'client')!.running, false);
  assert.equal(st.up, false);
  assert.equal(existsSync(`/proc/${pidBefore}`), false);
  assert.equal(ping(addr('client')), false);
  assert.deepEqual(st.faults, [{ kind: 'host-stop', host: 'client' }]);
  await startHost('client', opts);
  const r = await labExec('client', 'cat /root/persist; [ "$(cat /etc/machine-id)" = "$(cat /root/id-before)" ] && echo same-id', opts);
  assert.equal(r.stdout, 'kept\nsame-id\n');
  assert.equal(labStatus(opts).up, true);
  assert.deepEqual(labStatus(opts).faults, []);
  // `up` on a lab with a stopped host boots just that host again.
  await stopHost('client', opts);
  const others = labStatus(opts).hosts.filter((h) => h.name !== 'client').map((h) => h.pid);
  const repaired = await labUp({ ...opts, topology });
  assert.equal(repaired.alreadyUp, true);
  const after = labStatus(opts);
  assert.equal(after.up, true);
  assert.deepEqual(after.hosts.filter((h) => h.name !== 'client').map((h) => h.pid), others);
  assert.deepEqual(after.faults, []);
  assert.equal((await labExec('client', 'cat /root/persist', opts)).stdout, 'kept\n');
});

test('down removes every namespace, link, mount, cgroup and process the lab made', async () => {
  const state = JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
  const pids = Object.values(state.hosts).map((h) => h.pid!);
  assert.equal(pids.length, topology.hosts.length);
  const r = await labDown(opts);
  assert.equal(r.removed, true);
  const netnsList = sh('ip', ['netns', 'list']).stdout;
  for (const ns of [...state.netns, ...recorded.netns]) assert.doesNotMatch(netnsList, new RegExp(`^${ns}( |$)`, 'm'));
  assert.equal(sh('ip', ['link', 'show', 'dev', topology.machineLink]).code, 1);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.equal(mounts.includes(stateDir), false, 'no overlay mount left');
  for (const ns of state.netns) assert.equal(mounts.includes(`/run/netns/${ns} `), false);
  for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `nspawn ${pid} gone`);
  for (const cg of state.cgroups) assert.equal(existsSync(cg), false, `${cg} removed`);
  // No process anywhere still in one of the lab's cgroups.
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cg = '';
    try {
      cg = readFileSync(`/proc/${p}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    assert.equal(cg.includes(`/${topology.name}/`), false, `process ${p} still in a lab cgroup`);
  }
  assert.equal(existsSync(paths.stateFile), false);
  assert.equal((await labDown(opts)).removed, false, 'down twice: nothing to do');
  assert.equal(labStatus(opts).up, false);
});
