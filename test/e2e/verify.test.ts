// End-to-end `haup verify` and `haup status` on a lab of its own (name hvfy, 198.18.64.0/24,
// state in a temp dir; the shared lab is never touched), deployed from lab.yml:
//   verify passes on a fresh deploy; status shows lb5 master, lb6 backup
//   the VIP added by hand on the backup too -> verify fails naming the dual holder
//   nginx stopped on the master -> verify fails naming nginx on lb5
//   verify --failover passes with the lab's defaults, every figure within its bound
//   --split-brain: the dual master is detected and heals
//   nopreempt with two VIPs: no move on recovery; planned stop moves both (timed by the later)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { labDown, labUp } from '../../src/lab/lab.ts';
import type { VerifyResult } from '../../src/cli/verify.ts';
import { bundleHaupd } from '../../src/vrrp/bundle.ts';
import { ownLab } from './haup-lab.ts';

const lab = ownLab('hvfy', '198.18.64', 'verify.test.ts');
const VIP = lab.vip;
let INV = '';

async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

const verifyJson = async (extra: string[] = []) => {
  const r = await lab.haup(['verify', INV, '--json', ...extra], 900_000);
  return { ...r, json: JSON.parse(r.stdout) as VerifyResult };
};
const healthy = async () => (await lab.haup(['verify', INV])).code === 0;

before(async () => {
  await bundleHaupd(lab.artifact);
  await labUp({ ...lab.opts, topology: lab.topology });
  INV = lab.inventory('lab.yml');
  const d = await lab.haup(['deploy', INV]);
  assert.equal(d.code, 0, d.stdout + d.stderr);
  await eventually('the VIP on lb5 after the deploy', async () => (await lab.sh('lb5', 'ip -4 -o addr show dev eth0')).includes(` ${VIP}/`));
  // A settled cluster before the first test asserts a pass (as `lab demo` waits): right after a
  // deploy lb6's haupd may not have seen lb5's advert yet — a loaded machine only makes it longer.
  await eventually('verify passes after the deploy', healthy, 60_000);
});

after(async () => {
  await labDown(lab.opts).catch(() => {});
  rmSync(lab.work, { recursive: true, force: true });
});

test('verify passes on a fresh deploy: every check with its evidence, from the machine and the probe host', async () => {
  const r = await lab.haup(['verify', INV]);
  process.stdout.write(r.stdout.replace(/^/gm, '# '));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(
    lines.slice(0, -1).map((l) => l.replace(/:.*$/, '')),
    [
      'PASS  nginx on lb5',
      'PASS  web7 from lb5',
      'PASS  web8 from lb5',
      'PASS  nginx on lb6',
      'PASS  web7 from lb6',
      'PASS  web8 from lb6',
      `PASS  VIP ${VIP} (VI_1)`,
      'PASS  haupd VI_1',
      `PASS  http via ${VIP} from control machine`,
      `PASS  http via ${VIP} from client`,
    ],
  );
  assert.match(r.stdout, new RegExp(`PASS  VIP ${VIP.replaceAll('.', '\\.')} \\(VI_1\\): on lb5 only, the expected master`));
  assert.match(r.stdout, /PASS  haupd VI_1: lb5 master \(prio 150, master seen: self\); lb6 backup \(prio 100, master seen: lb5\)/);
  // Both sources run at once and share nginx's round robin: each sees both webs, not always 3 + 3.
  assert.match(r.stdout, /from client: 6\/6 200; backends: web[78] x[1-5], web[78] x[1-5]$/m);
  assert.match(r.stdout, /from control machine: 6\/6 200; backends: web[78] x[1-5], web[78] x[1-5]$/m);
  assert.equal(lines.at(-1), 'verify: all 10 checks passed');
  const j = await verifyJson();
  assert.equal(j.code, 0);
  assert.equal(j.json.ok, true);
  assert.equal(j.json.checks.length, 10);
});

test('status: lb5 master, lb6 backup following it, with the last transition and its reason', async () => {
  const r = await lab.haup(['status', INV]);
  process.stdout.write(r.stdout.replace(/^/gm, '# '));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^lb5 +VI_1 +master +150 +150 +self +held +\w+ -> master /m);
  assert.match(r.stdout, /^lb6 +VI_1 +backup +100 +100 +lb5 +- +\w+ -> backup /m);
  const j = JSON.parse((await lab.haup(['status', INV, '--json'])).stdout) as { lbs: { lb: string; state: string }[] };
  assert.deepEqual(j.lbs.map((x) => [x.lb, x.state]), [['lb5', 'master'], ['lb6', 'backup']]);
});

test('the VIP added by hand on the backup too: verify fails and names the dual holder', async () => {
  await lab.sh('lb6', `ip addr add ${VIP}/24 dev eth0`);
  try {
    const r = await lab.haup(['verify', INV]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`^FAIL  VIP ${VIP.replaceAll('.', '\\.')} \\(VI_1\\): held by 2 LBs at once: lb5, lb6 \\(dual holder\\)$`, 'm'));
    assert.match(r.stdout, /^verify: \d+ of 10 checks FAILED$/m);
  } finally {
    await lab.sh('lb6', `ip addr del ${VIP}/24 dev eth0 || true`);
    // Clients that learned lb6's MAC for the VIP follow lb5 again.
    await lab.sh('lb5', `arping -q -U -c 2 -I eth0 ${VIP} || true`);
  }
  await eventually('verify passes again', healthy);
});

test('nginx stopped on the master: verify fails and names nginx on lb5', async () => {
  await lab.sh('lb5', 'systemctl stop nginx');
  try {
    const r = await lab.haup(['verify', INV]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^FAIL  nginx on lb5: (inactive|failed); nginx -t: ok$/m);
  } finally {
    await lab.sh('lb5', 'systemctl start nginx');
  }
  await eventually('verify passes again (the VIP back on lb5)', healthy, 60_000);
});

test('verify --failover passes with the lab defaults: every scenario within the bounds from the timers', async () => {
  const r = await lab.haup(['verify', INV, '--failover'], 900_000);
  process.stdout.write(r.stdout.replace(/^/gm, '# '));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^failover: all 6 scenarios passed$/m);
  for (const id of ['planned-stop', 'freeze', 'link-down', 'nginx-dies', 'backend-dies', 'recovery']) assert.match(r.stdout, new RegExp(`^${id} .* pass$`, 'm'));
  assert.match(r.stdout, /faults via the lab's fault hooks/);
  await eventually('verify passes after the scenarios', healthy);
});

test('verify --failover --json: figures per scenario; planned stop and a dead backend lose no request', async () => {
  const j = await verifyJson(['--failover', '--only', 'planned-stop,backend-dies,freeze']);
  assert.equal(j.code, 0, j.stdout + j.stderr);
  const by = new Map(j.json.failover!.map((s) => [s.id, s]));
  const ps = by.get('planned-stop')!;
  process.stdout.write(`# planned stop: ${ps.probe!.failed} failed of ${ps.probe!.total}, ${ps.switchResets} of them reset in flight across the ARP switch; ${ps.notes.join('; ')}\n`);
  // No request may find no holder (refused, timed out); a connection in flight at the switch is
  // reported apart (no VRRP pair without connection sync keeps it).
  assert.equal(ps.probe!.failed - ps.switchResets, 0, JSON.stringify(ps));
  assert.equal(by.get('backend-dies')!.probe!.failed, 0, 'no move: nothing is excused');
  assert.equal(by.get('backend-dies')!.switchResets, 0);
  assert.ok(by.get('planned-stop')!.probe!.total > 50);
  const freeze = by.get('freeze')!;
  // Hard failure: at least 3 adverts' worth of silence, at most Master_Down + margin.
  assert.ok(freeze.vipMovedAfterMs! >= 2000 && freeze.vipMovedAfterMs! <= freeze.bound.vipMs!, JSON.stringify(freeze));
  assert.equal(j.json.faultDriver, 'lab');
});

test('--split-brain: the dual master is detected and reported, and one master again after the heal', async () => {
  const r = await lab.haup(['verify', INV, '--split-brain', '--only', 'split-brain'], 300_000);
  process.stdout.write(r.stdout.replace(/^/gm, '# '));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /split-brain: dual master detected \d+ ms after VRRP was blocked: lb5 and lb6 both hold/);
  await eventually('verify passes after the heal', healthy);
});

test('--faults ssh (plain commands over SSH, as on any cluster): freeze and a self-healing link down pass', async () => {
  const j = await verifyJson(['--failover', '--faults', 'ssh', '--only', 'freeze,link-down']);
  process.stdout.write(`# ssh faults: ${JSON.stringify(j.json.failover!.map((s) => [s.id, s.vipMovedAfterMs, s.probe?.failed, s.probe?.total, s.ok, s.reasons]))}\n`);
  assert.equal(j.code, 0, j.stdout + j.stderr);
  assert.equal(j.json.faultDriver, 'ssh');
  assert.deepEqual(j.json.failover!.map((s) => [s.id, s.ok]), [['freeze', true], ['link-down', true]]);
  await eventually('verify passes after the link came back', healthy, 60_000);
});

test('nopreempt with two VIPs: the returning master stays backup (no move, 0 failed); a planned stop moves both VIPs; the restore hands them back by a planned restart', async () => {
  // Two VIPs: every one is probed and watched; a move counts when the new holder has both.
  const VIP2 = `${lab.net}.4`;
  const np = lab.inventory('nopreempt.yml', (t) => t.replace('      track: [nginx]', '      track: [nginx]\n      preempt: false').replace(`vips: [${VIP}/24]`, `vips: [${VIP}/24, ${VIP2}/24]`));
  assert.match(readFileSync(np, 'utf8'), new RegExp(`vips: \\[${VIP.replaceAll('.', '\\.')}/24, ${VIP2.replaceAll('.', '\\.')}/24\\]`));
  const d = await lab.haup(['deploy', np]);
  assert.equal(d.code, 0, d.stdout + d.stderr);
  try {
    await eventually('a healthy nopreempt cluster', async () => (await lab.haup(['verify', np])).code === 0, 60_000);
    const r = await lab.haup(['verify', np, '--failover', '--only', 'recovery,planned-stop', '--json'], 600_000);
    const j = JSON.parse(r.stdout) as VerifyResult;
    process.stdout.write(`# nopreempt: ${JSON.stringify(j.failover!.map((s) => [s.id, s.expectTo, s.vipMovedAfterMs, s.probe?.failed, s.probe?.total, s.ok, s.reasons, s.notes, s.perVip.map((p) => [p.vip, p.movedAfterMs, p.probe?.failed, p.probe?.total])]))}\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rec = j.failover!.find((s) => s.id === 'recovery')!;
    assert.deepEqual([rec.expectTo, rec.ok, rec.probe!.failed], [null, true, 0]);
    // The master then is lb5, or lb6 when the deploy's haupd restart left it master (nopreempt
    // keeps it): the faults hit the master of the moment, and the note says which.
    assert.ok(rec.notes.some((n) => /^nopreempt: lb[56] returned as backup$/.test(n)), rec.notes.join('; '));
    const ps = j.failover!.find((s) => s.id === 'planned-stop')!;
    assert.deepEqual(ps.perVip.map((p) => p.vip), [VIP, VIP2]);
    // The move is when lb6 had both: the later of the two per-VIP times.
    assert.equal(ps.vipMovedAfterMs, Math.max(...ps.perVip.map((p) => p.movedAfterMs!)));
    // Both VIPs were probed: together the total, each with requests of its own.
    assert.equal(ps.probe!.total, ps.perVip.reduce((a, p) => a + p.probe!.total, 0));
    assert.ok(ps.perVip.every((p) => p.probe!.total > 20), JSON.stringify(ps.perVip));
  } finally {
    const back = await lab.haup(['deploy', INV]);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    await eventually('the default cluster healthy again', healthy, 60_000);
  }
});
