// rollback --packages: the decision of what to purge, from fixtures of apt's own output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePurge, extraRemovals, installedByDeploys, parseAptHistory, parseAptSimulation, parsePackageState, parseUtcOffset, type DeployWindow } from '../../src/rollback/packages.ts';

// apt's history on an LB: curl was there before haup (an earlier run), the deploy installed nginx
// and nodejs (with their dependencies) at 01:00:02-05 UTC; the host's clock is UTC+1.
const HISTORY = `
Start-Date: 2026-11-20  10:00:00
Commandline: apt-get install curl
Install: curl:amd64 (7.88.1-10+deb12u8), libcurl4:amd64 (7.88.1-10+deb12u8, automatic), libbrotli1:amd64 (1.0.9-2+b6, automatic)
End-Date: 2026-11-20  10:00:03

Start-Date: 2026-11-22  02:00:02
Commandline: apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold nginx nodejs
Install: nginx:amd64 (1.22.1-9+deb12u1), nginx-common:amd64 (1.22.1-9+deb12u1, automatic), libnginx-mod-stream:amd64 (1.22.1-9+deb12u1, automatic), nodejs:amd64 (18.19.0+dfsg-6~deb12u2), libnode108:amd64 (18.19.0+dfsg-6~deb12u2, automatic), libbrotli1:amd64 (1.0.9-2+b6, automatic), libuv1:amd64 (1.44.2-1, automatic)
Upgrade: perl-base:amd64 (5.36.0-7+deb12u1, 5.36.0-7+deb12u2)
End-Date: 2026-11-22  02:00:05

Start-Date: 2026-11-22  03:30:00
Commandline: apt-get install libuv1-dev
Install: libuv1-dev:amd64 (1.44.2-1)
End-Date: 2026-11-22  03:30:01
`;
const window: DeployWindow = { deployId: 'D1', fromMs: Date.parse('2026-11-22T01:00:00.000Z'), toMs: Date.parse('2026-11-22T01:00:09.000Z'), packages: ['nginx', 'nodejs'] };

test('apt history: start times to UTC with the host\'s offset, arch suffixes dropped, automatic flags', () => {
  assert.equal(parseUtcOffset('+0100'), 60);
  assert.equal(parseUtcOffset('-0530'), -330);
  assert.equal(parseUtcOffset('garbage'), 0);
  const h = parseAptHistory(HISTORY, 60);
  assert.equal(h.length, 3);
  assert.equal(new Date(h[1]!.startMs).toISOString(), '2026-11-22T01:00:02.000Z');
  assert.deepEqual(h[1]!.installed.slice(0, 2), [{ name: 'nginx', automatic: false }, { name: 'nginx-common', automatic: true }]);
  assert.deepEqual(h[2]!.installed, [{ name: 'libuv1-dev', automatic: false }]);
});

test('the deploy\'s runs: inside its window and installing one of its packages; runs before or after do not count', () => {
  const r = installedByDeploys(parseAptHistory(HISTORY, 60), [window]);
  assert.equal(r.runs, 1);
  assert.deepEqual([...r.explicit].sort(), ['nginx', 'nodejs']);
  assert.deepEqual([...r.pulledIn].sort(), ['libbrotli1', 'libnginx-mod-stream', 'libnode108', 'libuv1', 'nginx-common']);
  // Read as UTC (offset unknown), the run is an hour off: beyond the skew tolerated, no match.
  assert.equal(installedByDeploys(parseAptHistory(HISTORY, 0), [window]).runs, 0);
});

const installed = (auto: string[], manual: string[]) => Object.fromEntries([...auto.map((n) => [n, true] as const), ...manual.map((n) => [n, false] as const)]);

test('purge: the journaled packages plus the dependencies their install pulled in that nothing else needs; never one present before', () => {
  const fromHistory = installedByDeploys(parseAptHistory(HISTORY, 60), [window]);
  // libbrotli1 is in the deploy's Install line (apt re-marked it) but curl needs it; libuv1 is
  // needed by libuv1-dev (installed by hand later); libnginx-mod-stream the user marked manual;
  // an orphan from before haup (libfoo1) is in apt's autoremove list but is not the deploy's.
  const d = decidePurge({
    journaled: ['nginx', 'nodejs'],
    fromHistory,
    presentBefore: null,
    state: { installed: installed(['nginx-common', 'libnode108', 'libbrotli1', 'libuv1', 'libcurl4', 'libfoo1'], ['nginx', 'nodejs', 'curl', 'libuv1-dev', 'libnginx-mod-stream']) },
    autoremoveSim: ['libfoo1', 'libnode108', 'nginx', 'nginx-common', 'nodejs'],
  });
  assert.deepEqual(d.purge, ['libnode108', 'nginx', 'nginx-common', 'nodejs']);
  assert.deepEqual(d.kept, [
    { name: 'libbrotli1', why: 'still needed by another package' },
    { name: 'libnginx-mod-stream', why: 'marked as manually installed since the deploy' },
    { name: 'libuv1', why: 'still needed by another package' },
  ]);
  assert.deepEqual(d.notes, []);
  assert.ok(!d.purge.includes('libfoo1') && !d.purge.includes('curl'));
});

test('purge: a package recorded as present before the deploy is kept even if journaled; one already gone is said', () => {
  const d = decidePurge({
    journaled: ['nginx', 'nodejs'],
    fromHistory: { pulledIn: new Set(['nginx-common']), runs: 1 },
    presentBefore: new Set(['nodejs', 'nginx-common']),
    state: { installed: installed(['nginx-common'], ['nodejs']) },
    autoremoveSim: ['nginx-common', 'nodejs'],
  });
  assert.deepEqual(d.purge, []);
  assert.deepEqual(d.kept, [
    { name: 'nginx', why: 'not installed any more' },
    { name: 'nodejs', why: 'was installed before the deploy' },
    { name: 'nginx-common', why: 'was installed before the deploy' },
  ]);
});

test('purge: no apt record of the deploy\'s runs -> the journaled packages only, dependencies kept, and the report says why', () => {
  const d = decidePurge({ journaled: ['nginx'], fromHistory: { pulledIn: new Set(), runs: 0 }, presentBefore: null, state: { installed: installed(['nginx-common'], ['nginx']) }, autoremoveSim: ['nginx', 'nginx-common'] });
  assert.deepEqual(d.purge, ['nginx']);
  assert.equal(d.notes.length, 1);
  assert.match(d.notes[0]!, /^dependencies kept: apt's history has no record/);
});

test('apt-get -s: Remv and Purg lines; removals beyond the list are the refusal', () => {
  const sim = ['Reading package lists...', 'The following packages will be REMOVED:', '  my-app* nginx* nginx-common*', 'Purg my-app [1.0]', 'Purg nginx [1.22.1-9+deb12u1]', 'Remv nginx-common:amd64 [1.22.1-9+deb12u1]', 'Inst something [1]'].join('\n');
  assert.deepEqual(parseAptSimulation(sim), ['my-app', 'nginx', 'nginx-common']);
  assert.deepEqual(extraRemovals(['nginx', 'nginx-common'], parseAptSimulation(sim)), ['my-app']);
  assert.deepEqual(extraRemovals(['my-app', 'nginx', 'nginx-common'], parseAptSimulation(sim)), []);
});

test('host listing: offset, installed packages with their auto mark, history (rotated files concatenated)', () => {
  const out = ['@@haup tz +0100', '@@haup auto', 'nginx-common', 'libnode108:amd64', '@@haup installed', 'nginx', 'nginx-common', 'libnode108', '@@haup history', HISTORY, '@@haup end'].join('\n');
  const p = parsePackageState(out);
  assert.deepEqual(p.state.installed, { nginx: false, 'nginx-common': true, libnode108: true });
  assert.equal(p.history.length, 3);
  assert.equal(new Date(p.history[1]!.startMs).toISOString(), '2026-11-22T01:00:02.000Z');
  assert.throws(() => parsePackageState('@@haup tz +0000\n'), /truncated/);
});
