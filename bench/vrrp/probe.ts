/**
 * Fixed-rate HTTP probe for the client namespace (DESIGN.md §5: "one curl every 20 ms").
 *
 *   node --import tsx bench/vrrp/probe.ts URL DURATION_MS EVERY_MS TIMEOUT_MS
 *
 * Unlike test/e2e/http-probe.ts (one request at a time, which counts a black hole as a few slow
 * timeouts), a request is STARTED every EVERY_MS on a fixed schedule whatever earlier ones do, each
 * on a new connection, so "failed requests" counts every slot the client lost, as in §5 (171 failed
 * for a 3.43 s outage). Streams one JSON line per finished request so the caller sees it live:
 *   {"t": send time (epoch ms, sub-ms), "ms": duration, "by": answer body or null}
 * and "ready" once the first request has been sent. Exits after DURATION_MS plus the last timeout,
 * or at once on SIGTERM.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ProbeSample {
  /** Send time, epoch milliseconds (performance.timeOrigin based, sub-millisecond). */
  t: number;
  /** Duration until the answer or the failure. */
  ms: number;
  /** The answering LB's name, or null when the request failed (error, timeout, non-200). */
  by: string | null;
}

const now = (): number => performance.timeOrigin + performance.now();

function request(url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: string | null): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(v);
      }
    };
    // A hard deadline for the whole exchange (connect + answer), not an idle timeout.
    const timer = setTimeout(() => {
      req.destroy();
      done(null);
    }, timeoutMs);
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => done(res.statusCode === 200 ? body : null));
      res.on('error', () => done(null));
    });
    req.on('error', () => done(null));
  });
}

function main(): void {
  const [url = '', durationArg = '10000', everyArg = '20', timeoutArg = '900'] = process.argv.slice(2);
  const durationMs = Number(durationArg);
  const everyMs = Number(everyArg);
  const timeoutMs = Number(timeoutArg);
  const start = now();
  let k = 0;
  const tick = (): void => {
    const t = now();
    if (t - start >= durationMs) {
      setTimeout(() => process.exit(0), timeoutMs + 50);
      return;
    }
    void request(url, timeoutMs).then((by) => {
      const s: ProbeSample = { t: Math.round(t * 1000) / 1000, ms: Math.round((now() - t) * 1000) / 1000, by };
      process.stdout.write(JSON.stringify(s) + '\n');
    });
    if (k === 0) process.stdout.write('ready\n');
    k++;
    // Fixed schedule: slot k starts at start + k * everyMs, whatever the earlier requests do.
    setTimeout(tick, Math.max(0, start + k * everyMs - now()));
  };
  process.on('SIGTERM', () => process.exit(0));
  tick();
}

// Importers use `import type` only (erased), so this runs only as a script.
main();
