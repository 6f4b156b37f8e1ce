// The failover probe for real, in namespaces of its own (prefix vprb, 198.18.67.0/24): a web
// server in one, the probe script (bash and plain sh) in the other. Asserts the request rate, and
// that a cable pulled for one second shows up as failed requests and a ~1 s longest gap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNetnsLab, waitFor } from './netns.ts';
import { PROBE_COMMAND, parseProbeOutput, probeScript, probeStats } from '../../src/verify/probe.ts';

const SERVER = "require('node:http').createServer((q, s) => s.end('ok')).listen(8080, '0.0.0.0')";
const opts = { prefix: 'vprb', subnet: 67, hosts: ['srv', 'cli'] };

async function runProbe(lab: Parameters<Parameters<typeof withNetnsLab>[1]>[0], shell: string, seconds: number, during?: () => Promise<void>) {
  const url = `http://${lab.host('srv').ip}:8080/`;
  const script = probeScript({ url, maxSeconds: seconds, stopFile: `/tmp/.haup-vprb-${process.pid}` });
  const run = lab.exec('cli', 'sh', ['-c', shell], { input: script, timeoutMs: (seconds + 15) * 1000 });
  if (during) await during();
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  const parsed = parseProbeOutput(r.stdout);
  assert.equal(parsed.complete, true);
  return probeStats(parsed.samples);
}

test('probe: ~50 requests a second with bash, every one answered; plain sh works too', async () => {
  await withNetnsLab(opts, async (lab) => {
    lab.spawn('srv', process.execPath, ['-e', SERVER]);
    await waitFor('server', async () => (await lab.exec('cli', 'curl', ['-s', `http://${lab.host('srv').ip}:8080/`])).stdout === 'ok', 10_000, 100);
    const bash = await runProbe(lab, PROBE_COMMAND, 2);
    process.stdout.write(`# bash: ${JSON.stringify(bash)}\n`);
    assert.equal(bash.failed, 0);
    assert.ok(bash.total >= 70 && bash.total <= 101, `total ${bash.total}`);
    const sh = await runProbe(lab, 'sh -s', 2);
    process.stdout.write(`# sh: ${JSON.stringify(sh)}\n`);
    assert.equal(sh.failed, 0);
    assert.ok(sh.total >= 30 && sh.total <= 101, `total ${sh.total}`);
  });
});

test('probe: the server cut off for 1 s -> failed requests and a longest gap of about 1 s', async () => {
  await withNetnsLab(opts, async (lab) => {
    lab.spawn('srv', process.execPath, ['-e', SERVER]);
    await waitFor('server', async () => (await lab.exec('cli', 'curl', ['-s', `http://${lab.host('srv').ip}:8080/`])).stdout === 'ok', 10_000, 100);
    const s = await runProbe(lab, PROBE_COMMAND, 4, async () => {
      await new Promise((r) => setTimeout(r, 1200));
      await lab.setLink('srv', false);
      await new Promise((r) => setTimeout(r, 1000));
      await lab.setLink('srv', true);
    });
    process.stdout.write(`# cut 1 s: ${JSON.stringify(s)}\n`);
    assert.ok(s.failed >= 10, `failed ${s.failed}`);
    assert.ok(s.longestGapMs >= 900 && s.longestGapMs <= 2200, `gap ${s.longestGapMs}`);
    assert.deepEqual(Object.keys(s.failCodes), ['000']);
    // Every failure is listed with curl's own exit code: a pulled cable times out (28) or, at
    // its edges, is refused (7) — never an unknown code.
    assert.equal(s.failures.length, s.failed);
    assert.ok(s.failures.every((f) => f.curlExit === 28 || f.curlExit === 7), JSON.stringify(s.failures.map((f) => f.curlExit)));
  });
});
