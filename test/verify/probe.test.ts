import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROBE_COMMAND, SWITCH_SLACK_MS, brokenAcrossSwitch, describeFailures, mergeStats, parseProbeOutput, probeScript, probeStats, type ProbeSample } from '../../src/verify/probe.ts';

const at = (ms: number, ok = true): ProbeSample => ({ startMs: 1000 + ms, ok, code: ok ? 200 : 0, durationMs: 2, curlExit: ok ? 0 : 7, endMs: null });
const every20 = (from: number, to: number, ok = true) => Array.from({ length: (to - from) / 20 }, (_, i) => at(from + i * 20, ok));

test('script: a background request every 20 ms, bounded by time and a stop file, one line per request', () => {
  const s = probeScript({ url: 'http://198.18.0.3:80/', maxSeconds: 12.5, stopFile: '/tmp/.p1' });
  const request = "curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 1 http://198.18.0.3:80/";
  // bash: fork-free clock, starts on a 20 ms grid
  assert.ok(s.includes(`tick; next=$now; end=$(( now + 12500000 ))`), s);
  // curl's exit code: what a failed request was (7 refused, 28 timeout, 56 reset); then when
  // curl returned (end - duration = when it really ran, later than its slot on a loaded host)
  assert.ok(s.includes(`    ( r=$(${request}); c=$?; e=\${EPOCHREALTIME/./}; echo "@p \${now}000 $r $c \${e}000" ) &\n    next=$(( next + 20000 ));`), s);
  // sh: date per request, fixed sleep
  assert.ok(s.includes('end=$(( $(date +%s%N) + 12500000000 ))'), s);
  assert.ok(s.includes(`    ( r=$(${request}); c=$?; echo "@p $now $r $c $(date +%s%N)" ) &\n    sleep 0.020\n`), s);
  assert.match(s, /while \[ ! -e \/tmp\/\.p1 \]/);
  assert.match(s, /: > \/tmp\/\.p1\.started\n/);
  // a higher priority for the measuring loop when allowed, never an error when not
  assert.match(s, /^renice -n -5 -p \$\$ >\/dev\/null 2>&1 \|\| :$/m);
  assert.match(s, /wait\nrm -f \/tmp\/\.p1 \/tmp\/\.p1\.started\necho "@p end"$/);
  assert.equal(PROBE_COMMAND, 'if command -v bash >/dev/null 2>&1; then exec bash -s; else exec sh -s; fi');
});

test('parse: ns timestamps to ms, sorted, codes, durations; garbage ignored; completeness from the end marker', () => {
  const out = ['@p 1700000000040000000 200 0.004', 'junk', '@p 1700000000000000000 000 1.001', '@p 1700000000020000000 502 0.010', ''].join('\n');
  const p = parseProbeOutput(out);
  assert.equal(p.complete, false);
  assert.deepEqual(
    p.samples.map((s) => [s.startMs, s.code, s.ok, Math.round(s.durationMs)]),
    [
      [1700000000000, 0, false, 1001],
      [1700000000020, 502, false, 10],
      [1700000000040, 200, true, 4],
    ],
  );
  assert.equal(parseProbeOutput(out + '@p end\n').complete, true);
});

test('stats: all successful -> 0 failed, the longest gap is the period', () => {
  const s = probeStats(every20(0, 1000));
  assert.deepEqual([s.total, s.failed, s.longestGapMs, s.firstFailMs, s.lastFailMs, s.windowMs], [50, 0, 20, null, null, 980]);
});

test('stats: a failed run in the middle -> failed count and the gap between the successes around it', () => {
  const samples = [...every20(0, 400), ...every20(400, 700, false), ...every20(700, 1000)];
  const s = probeStats(samples);
  assert.equal(s.failed, 15);
  assert.equal(s.longestGapMs, 700 - 380);
  assert.deepEqual([s.firstFailMs, s.lastFailMs], [400, 680]);
  assert.deepEqual(s.failCodes, { '000': 15 });
});

test('stats: failures at the end count as a gap up to the last request; none successful -> the whole window', () => {
  const tail = probeStats([...every20(0, 200), ...every20(200, 600, false)]);
  assert.equal(tail.longestGapMs, 580 - 180);
  const none = probeStats(every20(0, 300, false));
  assert.deepEqual([none.failed, none.longestGapMs], [15, 280]);
  const lead = probeStats([...every20(0, 100, false), ...every20(100, 200)]);
  assert.equal(lead.longestGapMs, 100);
  assert.deepEqual(probeStats([]), { total: 0, failed: 0, longestGapMs: 0, firstFailMs: null, lastFailMs: null, failCodes: {}, windowMs: 0, failures: [] });
});

test('stats: out-of-order completion does not matter (samples are sorted by start)', () => {
  const s = probeStats(parseProbeOutput(['@p 60000000 200 0.1', '@p 20000000 200 0.9', '@p 40000000 000 1.0', '@p end'].join('\n')).samples);
  assert.deepEqual([s.total, s.failed, s.longestGapMs], [3, 1, 40]);
});

test('every failed request is kept: start, HTTP code, curl exit; the report gives offsets from the fault', () => {
  const p = parseProbeOutput(['@p 1700000000000000000 200 0.004 0', '@p 1700000000020000000 000 0.001 7', '@p 1700000000040000000 000 1.001 28', '@p 1700000000060000000 502 0.010 0', '@p 1700000000080000000 200 0.003', '@p end'].join('\n'));
  assert.deepEqual(p.samples.map((x) => x.curlExit), [0, 7, 28, 0, null]);
  const s = probeStats(p.samples);
  assert.deepEqual(s.failures, [
    { startMs: 1700000000020, code: 0, curlExit: 7, durationMs: 1 },
    { startMs: 1700000000040, code: 0, curlExit: 28, durationMs: 1001 },
    { startMs: 1700000000060, code: 502, curlExit: 0, durationMs: 10 },
  ]);
  assert.equal(describeFailures(s.failures, 1700000000030), '-10 ms curl 7/000 (1 ms), +10 ms curl 28/000 (1001 ms), +30 ms curl 0/502 (10 ms)');
});

test('several VIPs: probes merged (counts summed, the longest gap of any, failures in time order)', () => {
  const a = probeStats([...every20(0, 200), ...every20(200, 260, false), ...every20(260, 400)]);
  const b = probeStats(every20(10, 410));
  const m = mergeStats([a, b]);
  assert.deepEqual([m.total, m.failed, m.longestGapMs, m.firstFailMs, m.lastFailMs], [a.total + b.total, 3, a.longestGapMs, 200, 240]);
  assert.deepEqual(m.failCodes, { '000': 3 });
  assert.deepEqual(m.failures.map((f) => f.startMs), [1200, 1220, 1240]);
  assert.equal(mergeStats([a]), a);
});

test('failures: when curl really ran (its end minus its duration), and the ones running across the VIP move listed apart', () => {
  // slot at 0 ms, but curl returned at 450 ms after 300 ms: it ran from 150 ms
  const p = parseProbeOutput(['@p 1700000000000000000 000 0.300 56 1700000000450000000', '@p 1700000000020000000 000 0.001 7 1700000000600000000', '@p 1700000000040000000 200 0.002 0 1700000000042000000', '@p end'].join('\n'));
  assert.deepEqual(p.samples.map((x) => x.endMs), [1700000000450, 1700000000600, 1700000000042]);
  const s = probeStats(p.samples);
  assert.deepEqual(s.failures.map((f) => [f.startMs, f.curlExit]), [[1700000000150, 56], [1700000000599, 7]]);
  // fault at 100 ms, VIP added on the new holder at 400 ms and removed from the old at 450 ms:
  // the reset ran across the switch, the refused one came after (no holder: always counted)
  const w = { fromEpochMs: 1700000000400, toEpochMs: 1700000000450 };
  assert.equal(describeFailures(s.failures, 1700000000100, w), '1 reset in flight across the switch (+300..+350 ms): +50 ms curl 56/000 (300 ms); 1 others: +499 ms curl 7/000 (1 ms)');
  assert.equal(describeFailures(s.failures.slice(1), 1700000000100, w), '+499 ms curl 7/000 (1 ms)');
});

test('a reset counts as broken by the switch only if it ran across the window (with slack); refused, timed out or HTTP errors never do', () => {
  const w = { fromEpochMs: 10_000, toEpochMs: 10_150 };
  const f = (startMs: number, durationMs: number, curlExit: number | null, code = 0) => ({ startMs, durationMs, curlExit, code });
  assert.equal(brokenAcrossSwitch(f(9_900, 120, 56), w), true, 'accepted before the new holder had the VIP, reset after');
  assert.equal(brokenAcrossSwitch(f(10_080, 110, 56), w), true, 'accepted by the old holder inside the window');
  assert.equal(brokenAcrossSwitch(f(10_150 + SWITCH_SLACK_MS, 5, 52), w), true, 'empty reply at the slack edge');
  assert.equal(brokenAcrossSwitch(f(10_150 + SWITCH_SLACK_MS + 1, 5, 56), w), false, 'a reset after the switch is a broken holder');
  assert.equal(brokenAcrossSwitch(f(9_000, 10_000 - SWITCH_SLACK_MS - 9_000 - 1, 56), w), false, 'ended before the window');
  assert.equal(brokenAcrossSwitch(f(10_050, 1, 7), w), false, 'refused: no holder');
  assert.equal(brokenAcrossSwitch(f(10_050, 1000, 28), w), false, 'timed out: no holder');
  assert.equal(brokenAcrossSwitch(f(10_050, 10, 0, 502), w), false, 'an HTTP error is a broken backend path');
  assert.equal(brokenAcrossSwitch(f(10_050, 10, null), w), false, 'unknown exit: counted');
});
