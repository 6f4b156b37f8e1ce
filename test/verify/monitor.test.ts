// The exact VIP timeline from `ip -ts monitor address` on each LB, and how VipWatch folds it in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorScript, parseMonitorOutput, timelineFromEvents } from '../../src/verify/monitor.ts';
import { VipWatch } from '../../src/verify/watch.ts';
import type { Cluster } from '../../src/verify/cluster.ts';
import type { ExecResult } from '../../src/connectors/connection.ts';
import { performance } from 'node:perf_hooks';
import { labInventory } from './fixture.ts';

const V = '198.18.0.3';
const W = '198.18.0.4';
const stamp = (epochMs: number, offsetMin = 0) => `[${new Date(epochMs + offsetMin * 60_000).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000')}]`;
const add = (epochMs: number, a: string, offsetMin = 0) => `${stamp(epochMs, offsetMin)} 2: eth0    inet ${a}/24 scope global secondary eth0\n       valid_lft forever preferred_lft forever`;
const del = (epochMs: number, a: string, offsetMin = 0) => `${stamp(epochMs, offsetMin)} Deleted 2: eth0    inet ${a}/24 scope global secondary eth0\n       valid_lft forever preferred_lft forever`;

test('script: ip -ts monitor in the background, line-buffered, a start mark, bounded by a stop file and a time limit', () => {
  const s = monitorScript('/tmp/.w1', 150);
  assert.match(s, /^\$lb ip -ts -4 monitor address & m=\$!$/m);
  assert.match(s, /stdbuf -oL/);
  assert.match(s, /^sleep 0\.05; echo "@w start \$\(date \+%s%N\)"$/m);
  assert.match(s, /while \[ ! -e \/tmp\/\.w1 \] && \[ \$i -lt 1500 \]; do sleep 0\.1;/);
  assert.match(s, /kill \$m 2>\/dev\/null; wait \$m 2>\/dev\/null\nrm -f \/tmp\/\.w1\necho "@w end"$/);
});

test('parse: local times with the LB\'s UTC offset, additions and deletions, the start mark, completeness', () => {
  const t = Date.UTC(2026, 10, 22, 3, 24, 20, 98);
  const out = ['@w tz +0100', `@w start ${BigInt(t - 500) * 1_000_000n}`, add(t, V, 60), del(t + 204, V, 60), '[2026-11-22T04:24:21.000000] 3: eth1    inet6 fe80::1/64 scope link', '@w end'].join('\n');
  const p = parseMonitorOutput(out);
  assert.equal(p.startEpochMs, t - 500);
  assert.equal(p.complete, true);
  assert.deepEqual(p.events, [
    { epochMs: t, iface: 'eth0', address: V, added: true },
    { epochMs: t + 204, iface: 'eth0', address: V, added: false },
  ]);
  assert.equal(parseMonitorOutput(out.replace('@w end', '')).complete, false);
});

test('timeline: from the state at the start, one entry per change of the watched VIPs on the interface', () => {
  const out = { startEpochMs: 1000, complete: true, events: [
    { epochMs: 900, iface: 'eth0', address: V, added: true }, // before the start: already in the initial state
    { epochMs: 1500, iface: 'eth0', address: W, added: true },
    { epochMs: 1510, iface: 'eth0', address: V, added: true }, // already held: no change
    { epochMs: 1600, iface: 'eth1', address: V, added: false }, // another interface
    { epochMs: 1700, iface: 'eth0', address: '198.18.0.5', added: false }, // not a VIP
    { epochMs: 2000, iface: 'eth0', address: V, added: false },
  ] };
  assert.deepEqual(timelineFromEvents([V], out, 'eth0', [V, W]), [
    { epochMs: 1500, held: [V, W] },
    { epochMs: 2000, held: [W] },
  ]);
  assert.deepEqual(timelineFromEvents(null, out, 'eth0', [V, W]), []);
});

/** A cluster whose LBs answer polls from a scripted VIP history and report it exactly from their monitor. */
function fakeCluster(history: Record<string, { at: number; held: boolean }[]>, lateAnswerMs = 0): Cluster {
  const stopped = new Map<string, () => void>();
  const heldAt = (host: string, at: number) => history[host]!.filter((h) => h.at <= at).at(-1)?.held ?? false;
  const res = (stdout: string): ExecResult => ({ code: 0, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) }) as ExecResult;
  return {
    exec: async (host: string, cmd: string) => {
      if (cmd === 'sh -s') {
        const start = Date.now();
        await new Promise<void>((r) => stopped.set(host, r));
        const lines = ['@w tz +0000', `@w start ${BigInt(start) * 1_000_000n}`];
        for (let i = 1; i < history[host]!.length; i++) {
          const h = history[host]![i]!;
          if (h.at >= start) lines.push(h.held ? add(h.at, V) : del(h.at, V));
        }
        return res([...lines, '@w end', ''].join('\n'));
      }
      if (cmd.startsWith('touch ')) {
        stopped.get(host)?.();
        return res('');
      }
      // ip -j addr + date: read now, answered late (a loaded machine)
      const at = Date.now();
      await new Promise((r) => setTimeout(r, lateAnswerMs));
      const addrs = heldAt(host, at) ? [V] : [];
      return res(`${JSON.stringify([{ addr_info: addrs.map((a) => ({ family: 'inet', local: a })) }])}\n\n${BigInt(at) * 1_000_000n}\n`);
    },
  } as unknown as Cluster;
}

test('VipWatch: the monitors\' exact times replace the polls (a move 130 ms after the fault is 130 ms, not the next poll)', async () => {
  const inst = (await labInventory()).vrrp.instances[0]!;
  const history = { lb5: [{ at: 0, held: true }], lb6: [{ at: 0, held: false }] };
  const w = new VipWatch(fakeCluster(history, 20), inst, [V]).start();
  await new Promise((r) => setTimeout(r, 200));
  w.mark();
  // The move, 130 ms from now (LB clock = ours here).
  const at = Date.now() + 130;
  history.lb5.push({ at, held: false });
  history.lb6.push({ at, held: true });
  await new Promise((r) => setTimeout(r, 500));
  await w.stop();
  assert.deepEqual([...w.exact].sort(), ['lb5', 'lb6']);
  const expected = at - (Date.now() - performance.now()) - w.t0;
  const moved = w.firstHeld('lb6')!;
  assert.ok(Math.abs(moved - expected) <= 2, `${moved} vs ${expected}`);
  assert.ok(Math.abs(w.firstReleased('lb5')! - moved) <= 1);
  // the holder before the fault kept it until the move: carried from before, not "never held"
  assert.equal(w.firstHeld('lb5', -50), -50);
  assert.equal(w.firstDual(), null);
  // one holder again (lb6 only) from the move on
  assert.ok(Math.abs(w.firstSingle(0)! - moved) <= 1, String(w.firstSingle(0)));
});
