// End-to-end `haup rollback` on a lab of its own (name hrbk, 198.18.65.0/24, state in a temp dir;
// the shared lab is never touched). Fresh hosts; web7 has a page of its own before haup arrives.
//   deploy v1, deploy v2 (another upstream method and proxy_params), rollback -> every managed
//   file's sha256 (and mode, owner) is its value after v1, and verify passes
//   a hand edit of a managed file -> rollback refuses, lists the file, changes nothing
//   a host whose journal is lost on both sides -> rollback refuses naming the host and the deploy,
//   changes nothing
//   --force --packages --to FIRST, with lb5's journals gone and web7's altered on the host (this
//   machine's copies are used, and said) -> every file haup created is gone, the page it replaced
//   is back, the packages it installed and their dependencies are purged, and a package orphaned
//   before haup came (apt would autoremove it) stays
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, labUp } from '../../src/lab/lab.ts';
import { bundleHaupd } from '../../src/vrrp/bundle.ts';
import { ownLab } from './haup-lab.ts';

const lab = ownLab('hrbk', '198.18.65', 'rollback.test.ts');
const HOSTS = ['web7', 'web8', 'lb5', 'lb6'];
const MANAGED: Record<'web' | 'lb', string[]> = {
  web: ['/var/www/html/index.html'],
  lb: [
    '/etc/nginx/conf.d/haup-lb.conf',
    '/etc/nginx/haup-proxy-params',
    '/etc/nginx/sites-enabled/default',
    '/etc/haup/haupd.yml',
    '/etc/haup/secrets/VI_1.pass',
    '/etc/haup/checks/nginx',
    '/etc/systemd/system/haupd.service',
    '/opt/haup/bin/haupd',
    '/opt/haup/lib/haupd.cjs',
  ],
};
const OLD_PAGE = '<h1>the page web7 had before haup</h1>';
const managed = (h: string) => MANAGED[h.startsWith('web') ? 'web' : 'lb'];
/** This machine's journal copies (the lab's XDG_STATE_HOME). */
const controlDir = () => join(lab.env.XDG_STATE_HOME!, 'haup', 'journal');
const ORPHAN = 'haup-rbk-e2e-orphan';

/** Per managed path: "sha256 mode owner:group" for files, "-> target" for links, "absent". */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const h of HOSTS) {
    const text = await lab.sh(
      h,
      `for p in ${managed(h).join(' ')}; do if [ -L "$p" ]; then echo "$p -> $(readlink "$p")"; elif [ -f "$p" ]; then echo "$p $(sha256sum < "$p" | cut -c1-64) $(stat -c '%a %U:%G' "$p")"; else echo "$p absent"; fi; done`,
    );
    for (const line of text.trim().split('\n')) out[`${h}:${line.split(' ')[0]}`] = line.split(' ').slice(1).join(' ');
  }
  return out;
}

let v1 = '';
let v2 = '';
const ids: string[] = [];
let before0: Record<string, string> = {};

before(async () => {
  await bundleHaupd(lab.artifact);
  await labUp({ ...lab.opts, topology: lab.topology });
  // A page web7 served before haup: rollback of the first deploy must bring it back, mode and all.
  await lab.sh('web7', `mkdir -p /var/www/html && printf '%s\\n' '${OLD_PAGE}' > /var/www/html/index.html && chmod 640 /var/www/html/index.html`);
  // A package orphaned before haup came (automatic, nothing needs it): a blanket autoremove would
  // take it; rollback --packages must not.
  await lab.sh(
    'lb5',
    `set -e; d=$(mktemp -d); mkdir -p $d/DEBIAN; printf 'Package: ${ORPHAN}\\nVersion: 1\\nArchitecture: all\\nMaintainer: e2e <e2e@localhost>\\nDescription: orphaned before haup\\n' > $d/DEBIAN/control; dpkg-deb -b $d /tmp/${ORPHAN}.deb >/dev/null; dpkg -i /tmp/${ORPHAN}.deb >/dev/null; apt-mark auto ${ORPHAN} >/dev/null; rm -rf $d /tmp/${ORPHAN}.deb`,
  );
  v1 = lab.inventory('v1.yml');
  v2 = lab.inventory('v2.yml', (t) => t.replace('nginx:\n  listen: 80', 'nginx:\n  listen: 80\n  upstream: { method: least_conn }\n  proxy_params: { read_timeout: 90, buffering: false }'));
  before0 = await snapshot();
});

after(async () => {
  await labDown(lab.opts).catch(() => {});
  rmSync(lab.work, { recursive: true, force: true });
});

const deployId = (stderr: string) => /RECAP {2}deploy (\S+)/.exec(stderr)?.[1] ?? assert.fail(`no deploy id in:\n${stderr}`);

test('deploy v1, deploy v2, rollback: every managed file is as after v1 (sha256, mode, owner), and verify passes', async () => {
  const d1 = await lab.haup(['deploy', v1, '--json']);
  assert.equal(d1.code, 0, d1.stderr);
  ids.push(deployId(d1.stderr));
  const after1 = await snapshot();
  const d2 = await lab.haup(['deploy', v2, '--json']);
  assert.equal(d2.code, 0, d2.stderr);
  ids.push(deployId(d2.stderr));
  const after2 = await snapshot();
  const changed = Object.keys(after1).filter((k) => after1[k] !== after2[k]).sort();
  // v2 changes the upstream and proxy_params on both LBs (and maybe more LB files); never a web's.
  for (const k of ['lb5:/etc/nginx/conf.d/haup-lb.conf', 'lb5:/etc/nginx/haup-proxy-params', 'lb6:/etc/nginx/conf.d/haup-lb.conf', 'lb6:/etc/nginx/haup-proxy-params']) assert.ok(changed.includes(k), changed.join(', '));
  assert.ok(changed.every((k) => k.startsWith('lb')), changed.join(', '));
  process.stdout.write(`# changed by v2: ${changed.join(', ')}\n`);

  const list = await lab.haup(['rollback', v2, '--list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${ids[0]} .* in force$`, 'm'));
  assert.match(list.stdout, new RegExp(`^${ids[1]} .* in force$`, 'm'));

  const r = await lab.haup(['rollback', v2]);
  process.stdout.write(r.stdout.replace(/^/gm, '# '));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^rolling back to the state before ${ids[1]}$`, 'm'));
  // BACKUP LB first, then the master.
  assert.ok(r.stdout.indexOf('[lb6] ROLLED BACK') < r.stdout.indexOf('[lb5] ROLLED BACK'), r.stdout);
  assert.match(r.stdout, /^verify: all 10 checks passed$/m);
  assert.deepEqual(await snapshot(), after1);
  const list2 = await lab.haup(['rollback', v2, '--list']);
  assert.match(list2.stdout, new RegExp(`^${ids[1]} .* rolled back `, 'm'));
});

test('a managed file edited by hand: rollback refuses, names it, and changes nothing', async () => {
  await lab.sh('lb6', "echo '# tuned by hand' >> /etc/nginx/haup-proxy-params");
  const edited = await snapshot();
  const r = await lab.haup(['rollback', v1]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`^error: refusing to roll back ${ids[0]}: 1 managed file was changed since haup wrote it:$`, 'm'));
  assert.match(r.stderr, /^ {2}lb6: \/etc\/nginx\/haup-proxy-params: changed since haup wrote it \(as the rollback of \S+ left it\): content$/m);
  assert.match(r.stderr, /^hint: .*--force$/m);
  assert.deepEqual(await snapshot(), edited);
});

test('a host whose journal of the first deploy is lost on the host and on this machine: rollback refuses, names both, changes nothing', async () => {
  const kept = join(lab.work, 'web8-journal-kept.json');
  const control = join(controlDir(), ids[0]!, 'web8.json');
  assert.ok(existsSync(control), control);
  await lab.sh('web8', `rm -f /var/lib/haup/journal/${ids[0]}/journal.json`);
  renameSync(control, kept);
  try {
    const edited = await snapshot();
    const r = await lab.haup(['rollback', v1, '--force', '--to', ids[0]!]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: cannot plan the rollback: one host has no usable journal \(nothing was changed on any host\):$/m);
    assert.match(r.stderr, new RegExp(`^ {2}web8: deploy ${ids[0]}: no usable journal: the host has no journal \\(/var/lib/haup/journal/${ids[0]}/journal\\.json\\) and this machine has none either \\(${control.replaceAll('.', '\\.')}\\), although the deploy left an after-image$`, 'm'));
    assert.match(r.stderr, /^hint: put a copy of the journal back .*--journal-dir/m);
    assert.deepEqual(await snapshot(), edited);
  } finally {
    // Only this machine's copy comes back: the next test rolls web8 back from it.
    renameSync(kept, control);
  }
});

test('--force --packages --to the first deploy, lb5 without journals and web7\'s altered: this machine\'s copies are used; everything haup created is gone, its packages and their dependencies purged, an older orphan kept', async () => {
  await lab.sh('lb5', 'rm -rf /var/lib/haup/journal');
  await lab.sh('web7', `sed -i 's/"createdAt"/"createdAt" /' /var/lib/haup/journal/${ids[0]}/journal.json`);
  const r = await lab.haup(['rollback', v1, '--force', '--packages', '--to', ids[0]!]);
  process.stdout.write(r.stdout.replace(/^/gm, '# '));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^journal: lb5: deploy ${ids[0]}: the host has no journal directory \\(/var/lib/haup/journal/${ids[0]}/\\): using this machine's copies in .*/${ids[0]}/ \\(lb5\\.json, lb5\\.after\\.json\\)$`, 'm'));
  // Only the deploy undone now is talked about (the second one, rolled back earlier, is not).
  assert.doesNotMatch(r.stdout, new RegExp(`journal: .*${ids[1]}`));
  assert.match(r.stdout, new RegExp(`^journal: web7: deploy ${ids[0]}: the host's journal /var/lib/haup/journal/${ids[0]}/journal\\.json does not match this machine's copy \\(sha256 [0-9a-f]{12} on the host, [0-9a-f]{12} here\\): using this machine's copy`, 'm'));
  assert.match(r.stdout, new RegExp(`^journal: web8: deploy ${ids[0]}: the host has no journal .*: using this machine's copy`, 'm'));
  assert.match(r.stdout, /verify skipped: no earlier deploy is in force/);
  const now = await snapshot();
  assert.deepEqual(now, before0);
  assert.match(before0['web7:/var/www/html/index.html']!, / 640 root:root$/);
  for (const h of ['lb5', 'lb6']) {
    assert.equal((await lab.sh(h, 'systemctl is-active haupd || true')).trim(), 'inactive');
    assert.equal((await lab.sh(h, 'ls /etc/haup /opt/haup 2>&1 | grep -c "No such file" || true')).trim(), '2');
    assert.equal((await lab.sh(h, `ip -4 -o addr show dev eth0 | grep -c ' ${lab.vip}/' || true`)).trim(), '0');
  }
  assert.equal((await lab.sh('web7', 'cat /var/www/html/index.html')).trim(), OLD_PAGE);
  // The packages the first deploy installed are purged (the base image had none of them).
  assert.match(r.stdout, /^\[lb5\] ROLLED BACK .*packages purged: [a-z0-9 -]*\bnginx\b.*\bnodejs\b/m);
  const status = async (h: string, pkg: string) => (await lab.sh(h, `dpkg-query -W -f='\${db:Status-Status}' ${pkg} 2>/dev/null || echo not-installed`)).trim();
  for (const h of HOSTS) assert.equal(await status(h, 'nginx'), 'not-installed', h);
  // Dependencies the installs pulled in go too (from apt's history), the older orphan stays.
  for (const pkg of ['nodejs', 'nginx-common', 'libnode108']) assert.equal(await status('lb5', pkg), 'not-installed', pkg);
  assert.match(r.stdout, /^\[lb5\] ROLLED BACK .*packages purged: [a-z0-9 .+-]*\bnginx-common\b/m);
  assert.equal(await status('lb5', ORPHAN), 'installed');
  assert.doesNotMatch(r.stdout, new RegExp(ORPHAN));
  // The rollback marks are kept on this machine too: lb5 reads as rolled back without its journals.
  assert.ok(existsSync(join(controlDir(), ids[0]!, 'lb5.rollback.json')));
  const again = await lab.haup(['rollback', v1]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /nothing to roll back/);
});
