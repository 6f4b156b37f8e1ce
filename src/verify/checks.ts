// `haup verify` without faults: every check reads the cluster and reports pass/fail with the
// evidence it saw. The evaluators (what counts as a pass) are pure; runChecks gathers the inputs.
import type { Inventory, VrrpInstance, Vip, WebHost } from '../inventory/model.ts';
import { serviceTitle } from '../roles/web.ts';
import { errorText } from '../engine/results.ts';
import { CONTROL, addressesOn, haupdStatusOf, httpGets, type Cluster, type HaupdStatusDoc, type HttpResult } from './cluster.ts';

export interface CheckResult {
  /** Kind of check: nginx, backend, vip, haupd, http. */
  kind: string;
  /** What was checked, e.g. "nginx on lb5", "VIP 198.18.0.3 (VI_1)". */
  name: string;
  ok: boolean;
  evidence: string;
}

const errText = (e: unknown) => errorText(e).message;

/** Which web answered, from the test page ("Web7 Service" / "host web7 (...)"). Pure. */
export function backendOf(body: string, webs: WebHost[]): string | undefined {
  return webs.find((w) => body.includes(`host ${w.name} (`) || body.includes(`<title>${serviceTitle(w.name)}</title>`))?.name;
}

/** Exactly one LB holds the VIP, and it is the expected master (nopreempt: any single holder). */
export function evaluateVip(inst: VrrpInstance, vip: Vip, holders: Record<string, string[] | { error: string }>): CheckResult {
  const name = `VIP ${vip.address} (${inst.name})`;
  // In member order (highest priority first), however the answers arrived.
  const order = (h: string) => inst.members.findIndex((m) => m.host === h);
  holders = Object.fromEntries(Object.entries(holders).sort(([a], [b]) => order(a) - order(b)));
  const unreadable = Object.entries(holders).filter(([, v]) => !Array.isArray(v)) as [string, { error: string }][];
  const on = Object.entries(holders)
    .filter(([, v]) => Array.isArray(v) && v.includes(vip.address))
    .map(([h]) => h);
  const seen = Object.entries(holders).map(([h, v]) => (Array.isArray(v) ? `${h}: ${v.includes(vip.address) ? 'holds it' : 'not held'}` : `${h}: unreadable (${v.error})`)).join('; ');
  if (unreadable.length > 0) return { kind: 'vip', name, ok: false, evidence: `cannot read every LB: ${seen}` };
  if (on.length === 0) return { kind: 'vip', name, ok: false, evidence: `no LB holds it (${seen})` };
  if (on.length > 1) return { kind: 'vip', name, ok: false, evidence: `held by ${on.length} LBs at once: ${on.join(', ')} (dual holder)` };
  const holder = on[0]!;
  if (holder === inst.master) return { kind: 'vip', name, ok: true, evidence: `on ${holder} only, the expected master (${seen})` };
  if (!inst.preempt) return { kind: 'vip', name, ok: true, evidence: `on ${holder} only (nopreempt: the initial master ${inst.master} stays backup after a failover)` };
  return { kind: 'vip', name, ok: false, evidence: `on ${holder}, expected on the master ${inst.master}` };
}

/** haupd on every member agrees: one master, the rest backup, no fault, everyone sees that master. */
export function evaluateHaupd(inst: VrrpInstance, statuses: Record<string, HaupdStatusDoc | { error: string }>, vipHolder?: string): CheckResult {
  const name = `haupd ${inst.name}`;
  const rows: string[] = [];
  const masters: string[] = [];
  const problems: string[] = [];
  const addressOf = new Map(inst.members.map((m) => [m.address, m.host]));
  for (const m of inst.members) {
    const st = statuses[m.host];
    if (!st || 'error' in st) {
      problems.push(`${m.host}: no status (${st && 'error' in st ? st.error : 'not asked'})`);
      continue;
    }
    const i = st.instances.find((x) => x.name === inst.name);
    if (!i) {
      problems.push(`${m.host}: haupd runs no instance ${inst.name}`);
      continue;
    }
    const seen = i.masterSeen ? (i.masterSeen.self ? 'self' : (addressOf.get(i.masterSeen.address) ?? i.masterSeen.address)) : 'none';
    rows.push(`${m.host} ${i.state} (prio ${i.effectivePriority}${i.effectivePriority !== i.priority ? ` of ${i.priority}` : ''}, master seen: ${seen})`);
    if (i.state === 'master') masters.push(m.host);
    else if (i.state !== 'backup') problems.push(`${m.host} is ${i.state}${i.faults.length ? `: ${i.faults.map((f) => f.reason).join('; ')}` : ''}`);
    if (i.state === 'backup' && seen === 'none') problems.push(`${m.host} has seen no master`);
  }
  if (masters.length === 0) problems.push('no master');
  if (masters.length > 1) problems.push(`${masters.length} masters: ${masters.join(', ')} (dual master)`);
  if (masters.length === 1) {
    const master = masters[0]!;
    const addr = inst.members.find((m) => m.host === master)!.address;
    for (const m of inst.members) {
      const st = statuses[m.host];
      if (m.host === master || !st || 'error' in st) continue;
      const i = st.instances.find((x) => x.name === inst.name);
      if (i?.state === 'backup' && i.masterSeen && !i.masterSeen.self && i.masterSeen.address !== addr) problems.push(`${m.host} follows ${i.masterSeen.address}, not ${master}`);
    }
    if (vipHolder && vipHolder !== master) problems.push(`haupd's master is ${master} but the VIP is on ${vipHolder}`);
  }
  return { kind: 'haupd', name, ok: problems.length === 0, evidence: [...problems, ...rows].join('; ') };
}

/** Every request 200, every web seen (when the test page names them). */
export function evaluateHttp(name: string, results: HttpResult[], webs: WebHost[], testPage: boolean): CheckResult {
  const ok200 = results.filter((r) => r.code === 200);
  const codes = [...new Set(results.filter((r) => r.code !== 200).map((r) => String(r.code).padStart(3, '0')))];
  const seen = new Map<string, number>();
  for (const r of ok200) {
    const b = backendOf(r.body, webs) ?? 'unknown';
    seen.set(b, (seen.get(b) ?? 0) + 1);
  }
  const rank = (b: string) => (webs.findIndex((w) => w.name === b) + webs.length + 1) % (webs.length + 1);
  const counts = [...seen].sort(([a], [b]) => rank(a) - rank(b)).map(([b, n]) => `${b} x${n}`).join(', ');
  const missing = testPage ? webs.filter((w) => !seen.has(w.name)).map((w) => w.name) : [];
  const problems: string[] = [];
  if (results.length === 0) problems.push('no request completed');
  if (ok200.length < results.length) problems.push(`${results.length - ok200.length} of ${results.length} not 200 (${codes.join(', ')})`);
  if (missing.length > 0) problems.push(`never reached ${missing.join(', ')}`);
  const summary = `${ok200.length}/${results.length} 200${counts ? `; backends: ${counts}` : ''}${testPage ? '' : ' (nginx.test_page off: backends not identified)'}`;
  return { kind: 'http', name, ok: problems.length === 0, evidence: problems.length ? `${problems.join('; ')}; ${summary}` : summary };
}

export async function runChecks(cluster: Cluster): Promise<CheckResult[]> {
  const inv = cluster.inv;
  const out: CheckResult[] = [];
  // nginx on every LB, and every web from every LB.
  const perLb = await Promise.all(inv.lb.map((lb) => lbChecks(cluster, inv, lb.name)));
  out.push(...perLb.flat());

  const statuses: Record<string, HaupdStatusDoc | { error: string }> = {};
  await Promise.all(
    inv.lb.map(async (lb) => {
      statuses[lb.name] = await haupdStatusOf(cluster, lb.name).catch((e) => ({ error: errText(e) }));
    }),
  );
  for (const inst of inv.vrrp.instances) {
    let holder: string | undefined;
    for (const vip of inst.vips) {
      const holders: Record<string, string[] | { error: string }> = {};
      await Promise.all(
        inst.members.map(async (m) => {
          holders[m.host] = await addressesOn(cluster, m.host, m.interface).catch((e) => ({ error: errText(e) }));
        }),
      );
      const r = evaluateVip(inst, vip, holders);
      out.push(r);
      const on = Object.entries(holders).filter(([, v]) => Array.isArray(v) && v.includes(vip.address));
      if (on.length === 1) holder = on[0]![0];
    }
    out.push(evaluateHaupd(inst, statuses, holder));
  }

  // Through every VIP, from the control machine and every probe host.
  const count = Math.max(4, inv.web.length * 3);
  const sources = [CONTROL, ...inv.probe.map((p) => p.name)];
  for (const inst of inv.vrrp.instances) {
    for (const vip of inst.vips) {
      const url = `http://${vip.address}:${inv.nginx.listen}/`;
      // One source after the other: run at once, two sources share nginx's strict round robin
      // and one of them can get the same web every time (interleaved requests), which would
      // read as "never reached web8" — a failure that depends only on timing.
      for (const src of sources) {
        const name = `http via ${vip.address} from ${src}`;
        try {
          const conn = src === CONTROL ? cluster.local : await cluster.conn(src);
          out.push(evaluateHttp(name, await httpGets(conn, url, count), inv.web, inv.nginx.testPage));
        } catch (e) {
          out.push({ kind: 'http', name, ok: false, evidence: errText(e) });
        }
      }
    }
  }
  return out;
}

async function lbChecks(cluster: Cluster, inv: Inventory, lb: string): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  try {
    const r = await cluster.exec(lb, 'systemctl is-active nginx; nginx -t 2>&1; echo "@@t $?"', { timeoutMs: 20_000 });
    const text = r.stdout.toString();
    const active = text.split('\n')[0]?.trim() ?? '';
    const tcode = /@@t (\d+)/.exec(text)?.[1];
    const tmsg = text.split('\n').slice(1).filter((l) => l && !l.startsWith('@@t')).map((l) => l.replace(/^nginx: /, '')).join(' ');
    const ok = active === 'active' && tcode === '0';
    out.push({ kind: 'nginx', name: `nginx on ${lb}`, ok, evidence: `${active || 'unknown'}; nginx -t: ${tcode === '0' ? 'ok' : `exit ${tcode ?? '?'}: ${tmsg}`}` });
  } catch (e) {
    out.push({ kind: 'nginx', name: `nginx on ${lb}`, ok: false, evidence: errText(e) });
  }
  const conn = await cluster.conn(lb).catch(() => undefined);
  for (const w of inv.web) {
    const name = `${w.name} from ${lb}`;
    if (!conn) {
      out.push({ kind: 'backend', name, ok: false, evidence: `${lb} unreachable` });
      continue;
    }
    try {
      const [res] = await httpGets(conn, `http://${w.address}:${inv.nginx.backendPort}/`, 1);
      const who = res ? backendOf(res.body, [w]) : undefined;
      const ok = res?.code === 200 && (!inv.nginx.testPage || who === w.name);
      out.push({ kind: 'backend', name, ok, evidence: res ? `HTTP ${String(res.code).padStart(3, '0')}${inv.nginx.testPage ? (who ? `, page of ${who}` : ', not the page of this host') : ''}` : 'no answer' });
    } catch (e) {
      out.push({ kind: 'backend', name, ok: false, evidence: errText(e) });
    }
  }
  return out;
}
