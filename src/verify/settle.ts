// After something restarted services on the cluster (a rollback, a deploy), haupd needs a few
// seconds to agree again (start as Backup, Master_Down, preemption) and nginx to finish a reload.
// A verify run inside that window reports a transient state as a failure: wait (bounded) until
// every check passes, then let the caller run the verify it reports.
import { runChecks } from './checks.ts';
import { sleep, type Cluster } from './cluster.ts';

/** Seconds until every check passed once (null: not within `timeoutMs`). */
export async function waitSettled(cluster: Cluster, timeoutMs: number, pollMs = 1000): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const checks = await runChecks(cluster).catch(() => null);
    if (checks?.every((c) => c.ok)) return Math.round((Date.now() - t0) / 1000);
    await sleep(pollMs);
  }
  return null;
}
