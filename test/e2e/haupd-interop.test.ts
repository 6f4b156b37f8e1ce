// haupd and Debian's keepalived in the same virtual router: keepalived master + haupd backup and
// the reverse, VRRPv2 with PASS auth and VRRPv3; failover both ways (hard failure and planned
// stop); never two masters at steady state (`ip addr` sampled in both namespaces).
// keepalived runs only inside this test's namespaces, with its own config and pid files.
// Addresses: 198.18.61.0/24 inside the namespaces only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { HaupdConfigInput } from '../../src/vrrp/config-schema.ts';
import { startKeepalived, type RunningKeepalived } from './keepalived.ts';
import { createNetnsLab, waitFor, type NetnsLab } from './netns.ts';
import { startHaupd, tmpDirFor, waitHolder, watchSingleHolder, writeSecret, type RunningHaupd } from './haupd-harness.ts';

const SUBNET = 61;
const NET = `198.18.${SUBNET}`;
const VIP = `${NET}.100`;
const K = 'k'; // keepalived's namespace, 198.18.61.1
const H = 'h'; // haupd's namespace, 198.18.61.2
const HOSTS = [K, H];
const PASS = 'ip0v2pw';
const dir = tmpDirFor('interop');
let lab: NetnsLab;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  await rm(dir, { recursive: true, force: true });
  lab = await createNetnsLab({ prefix: 'hdk', subnet: SUBNET, hosts: [K, H] });
  await writeSecret(path.join(dir, 'pass'), PASS).catch(async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeSecret(path.join(dir, 'pass'), PASS);
  });
});

after(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await lab?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

interface Case {
  version: 2 | 3;
  advert: number;
  vrid: number;
}

function haupdConfig(c: Case, priority: number): HaupdConfigInput {
  return {
    status_socket: path.join(dir, `h-${c.vrid}.sock`),
    handover_timeout: 3,
    instances: [
      {
        name: `VI_${c.vrid}`,
        interface: 'eth0',
        vrid: c.vrid,
        version: c.version,
        priority,
        advert_int: c.advert,
        vips: [`${VIP}/24`],
        ...(c.version === 2 ? { auth: { type: 'PASS' as const, secret_file: path.join(dir, 'pass') } } : {}),
        // keepalived is the other peer: with the peer set known, haupd skips Skew on its priority 0.
        peers: { [`${NET}.1`]: priority === 150 ? 100 : 150 },
        garp: { count: 3, repeat_count: 0, repeat_delay: 0 },
      },
    ],
  };
}

async function startK(c: Case, priority: number): Promise<RunningKeepalived> {
  const k = await startKeepalived(lab, K, dir, {
    vrid: c.vrid,
    version: c.version,
    priority,
    advertInt: c.advert,
    vips: [`${VIP}/24`],
    ...(c.version === 2 ? { authPass: PASS } : {}),
  });
  cleanups.push(() => k.stop(3000));
  return k;
}

async function startH(c: Case, priority: number): Promise<RunningHaupd> {
  const h = await startHaupd(lab, H, dir, haupdConfig(c, priority));
  cleanups.push(() => h.stop(3000));
  return h;
}

const kState = (k: RunningKeepalived, state: 'MASTER' | 'BACKUP', after = 0): Promise<true> =>
  waitFor(`keepalived ${state}`, () => (k.log().slice(after).includes(`Entering ${state} STATE`) ? true : undefined), 15_000, 20);

/** Master_Down of the backup (priority 100) in ms, plus a margin for process scheduling. */
const takeoverBound = (c: Case): number => (c.version === 2 ? 3000 + 609.4 : 3 * c.advert * 1000 + ((156 * c.advert) / 256) * 1000) + 400;

async function cleanupCase(): Promise<void> {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  for (const h of HOSTS) await lab.exec(h, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
}

async function steady(expected: string, ms: number): Promise<void> {
  await waitHolder(lab, HOSTS, VIP, expected, 10_000);
  const watch = await watchSingleHolder(lab, HOSTS, VIP, ms, 100);
  assert.deepEqual(watch.bad, [], `only ${expected} holds ${VIP} at every sample (${watch.samples} samples)`);
}

async function keepalivedMasterHaupdBackup(c: Case): Promise<void> {
  try {
    const k = await startK(c, 150);
    await kState(k, 'MASTER');
    const h = await startH(c, 100);
    await h.waitLog((e) => e.event === 'transition' && e.to === 'backup', 10_000, 'haupd backup');
    await steady(K, c.version === 2 ? 3000 : 1500);
    assert.ok(!h.logs.some((e) => e.event === 'transition' && e.to === 'master'), 'haupd never went master while keepalived advertised');

    // Hard failure of keepalived: haupd takes over at its Master_Down.
    let t0 = Date.now();
    k.signal('SIGSTOP');
    await waitHolder(lab, [H], VIP, H, takeoverBound(c) + 1000);
    const hardMs = Date.now() - t0;
    assert.ok(hardMs <= takeoverBound(c), `haupd took over ${hardMs} ms after keepalived froze`);
    // keepalived thaws: it has the higher priority and preempts; haupd yields (one holder).
    const before = k.log().length;
    k.signal('SIGCONT');
    await kState(k, 'MASTER', before).catch(() => true); // keepalived may stay MASTER without logging again
    await steady(K, 1500);

    // Planned stop of keepalived: it sends priority 0, haupd (peer set known) takes over at once.
    t0 = Date.now();
    await k.stop();
    await waitHolder(lab, HOSTS, VIP, H, 5000);
    const m = h.logs.filter((e) => e.event === 'transition' && e.to === 'master').at(-1);
    assert.equal(m?.cause, 'priority_zero_known_peers');
    const plannedMs = Date.parse(String(m?.ts)) - t0;
    process.stdout.write(`# v${c.version} keepalived master -> haupd: hard failure ${hardMs} ms, planned stop: haupd master ${plannedMs} ms after SIGTERM to keepalived\n`);
  } finally {
    await cleanupCase();
  }
}

async function haupdMasterKeepalivedBackup(c: Case): Promise<void> {
  try {
    let h = await startH(c, 150);
    await h.waitLog((e) => e.event === 'transition' && e.to === 'master', 10_000, 'haupd master');
    const k = await startK(c, 100);
    await kState(k, 'BACKUP');
    await steady(H, c.version === 2 ? 3000 : 1500);
    assert.ok(!k.log().includes('Entering MASTER STATE'), 'keepalived never went master while haupd advertised');
    assert.ok(!/bad|invalid|mismatch|error/i.test(k.log().split('\n').filter((l) => /VI_|vrrp/i.test(l)).join('\n')), `keepalived accepted haupd's adverts:\n${k.log()}`);

    // Hard failure of haupd: keepalived takes over at its Master_Down.
    let t0 = Date.now();
    h.signal('SIGSTOP');
    await kState(k, 'MASTER');
    await waitFor('VIP on keepalived', async () => ((await lab.exec(K, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(VIP) ? true : undefined), 5000, 20);
    const hardMs = Date.now() - t0;
    assert.ok(hardMs <= takeoverBound(c), `keepalived took over ${hardMs} ms after haupd froze`);
    // haupd thaws with the higher priority and preempts keepalived back to BACKUP.
    const mark = k.log().length;
    h.signal('SIGCONT');
    await kState(k, 'BACKUP', mark);
    await steady(H, 1500);

    // Planned stop of haupd: priority 0; keepalived takes over after its Skew; haupd holds the
    // VIP until it sees keepalived's advert, so there is no moment without a holder.
    t0 = Date.now();
    const mark2 = k.log().length;
    h.signal('SIGTERM');
    await kState(k, 'MASTER', mark2);
    assert.equal(await h.exited, 0);
    await waitHolder(lab, HOSTS, VIP, K, 5000);
    const plannedMs = Date.now() - t0;
    const handed = h.logs.find((e) => e.event === 'transition' && e.to === 'init');
    assert.match(String(handed?.reason), /handed over to 198\.18\.61\.1/);
    process.stdout.write(`# v${c.version} haupd master -> keepalived: hard failure ${hardMs} ms, planned stop ${plannedMs} ms (haupd released after keepalived's first advert)\n`);

    // haupd comes back and preempts keepalived.
    h = await startH(c, 150);
    await h.waitLog((e) => e.event === 'transition' && e.to === 'master', 10_000, 'haupd master again');
    await steady(H, 1000);
  } finally {
    await cleanupCase();
  }
}

test('VRRPv2 PASS: keepalived master, haupd backup; failover both ways, one master at steady state', () => keepalivedMasterHaupdBackup({ version: 2, advert: 1, vrid: 71 }));
test('VRRPv2 PASS: haupd master, keepalived backup; failover both ways, one master at steady state', () => haupdMasterKeepalivedBackup({ version: 2, advert: 1, vrid: 72 }));
test('VRRPv3 0.1 s: keepalived master, haupd backup; failover both ways, one master at steady state', () => keepalivedMasterHaupdBackup({ version: 3, advert: 0.1, vrid: 73 }));
test('VRRPv3 0.1 s: haupd master, keepalived backup; failover both ways, one master at steady state', () => haupdMasterKeepalivedBackup({ version: 3, advert: 0.1, vrid: 74 }));
