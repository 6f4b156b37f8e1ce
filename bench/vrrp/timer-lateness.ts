/**
 * How late does a timer fire on this machine? haupd's Master_Down is one setTimeout (36.1 ms at
 * 0.01 s adverts); a takeover decided late could be the timer, or the read of the master's last
 * advert. This measures the timer alone: N timeouts of MS each, one after the other, lateness
 * percentiles (run it beside the takeover benchmark, at the same load).
 *
 *   node --import tsx bench/vrrp/timer-lateness.ts [N=1500] [MS=36]
 *
 * Compare with a non-Node process waiting the same way, e.g. python3's select.select([], [], [], 0.036)
 * in a loop (docs/benchmarks.md, "Where the time goes").
 */
import { performance } from 'node:perf_hooks';

const n = Number(process.argv[2] ?? 1500);
const ms = Number(process.argv[3] ?? 36);
const late: number[] = [];

function report(): void {
  late.sort((a, b) => a - b);
  const q = (p: number): string => (late[Math.min(late.length - 1, Math.floor(p * late.length))] ?? NaN).toFixed(2);
  process.stdout.write(`setTimeout(${ms}) x ${late.length}: late by median ${q(0.5)} ms, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${(late.at(-1) ?? NaN).toFixed(2)} ms; > 20 ms: ${late.filter((x) => x > 20).length}\n`);
}

function tick(): void {
  const t = performance.now();
  setTimeout(() => {
    late.push(performance.now() - t - ms);
    if (late.length < n) setImmediate(tick);
    else report();
  }, ms);
}

tick();
