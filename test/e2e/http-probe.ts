/**
 * A tiny HTTP server for each LB namespace and a probe loop for the client namespace, to count
 * failed requests through a VIP during a failover (DESIGN.md §5: "one curl every 20 ms").
 *
 *   node --import tsx test/e2e/http-probe.ts serve PORT NAME
 *       answers every request with NAME (bound to 0.0.0.0: it answers on the VIP while this
 *       namespace holds it)
 *   node --import tsx test/e2e/http-probe.ts probe URL DURATION_MS EVERY_MS TIMEOUT_MS
 *       one request at a time, a new connection each (like curl), for DURATION_MS; prints `ready`
 *       after the first request, then one JSON line at the end:
 *       { total, failed, outageMs, samples: [[tMs, answer|null], ...] }
 */
import http from 'node:http';

function serve(port: number, name: string): void {
  const server = http.createServer((_req, res) => {
    res.setHeader('connection', 'close');
    res.end(name);
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write(`listening ${port}\n`));
  process.on('SIGTERM', () => process.exit(0));
}

function get(url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

export interface ProbeResult {
  total: number;
  failed: number;
  /** Longest time between two successful requests (ms). */
  outageMs: number;
  /** [ms since start, answer or null] per request. */
  samples: [number, string | null][];
}

async function probe(url: string, durationMs: number, everyMs: number, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const samples: [number, string | null][] = [];
  let lastOk = -1;
  let outage = 0;
  while (performance.now() - start < durationMs) {
    const t = performance.now() - start;
    const answer = await get(url, timeoutMs);
    if (samples.length === 0) process.stdout.write('ready\n');
    samples.push([Math.round(t), answer]);
    if (answer !== null) {
      if (lastOk >= 0) outage = Math.max(outage, t - lastOk);
      lastOk = t;
    }
    const wait = everyMs - (performance.now() - start - t);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return { total: samples.length, failed: samples.filter((s) => s[1] === null).length, outageMs: Math.round(outage), samples };
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'serve') serve(Number(args[0]), args[1] ?? 'unnamed');
else if (mode === 'probe') {
  probe(args[0] ?? '', Number(args[1]), Number(args[2] ?? 20), Number(args[3] ?? 500)).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
