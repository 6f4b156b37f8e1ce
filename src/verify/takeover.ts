// Which backup takes over when the master fails, pure. Every backup runs its own Master_Down
// timer, shorter the higher its priority (Skew = (256 - prio)/256 s): the backup with the highest
// EFFECTIVE priority (tracked checks' weights applied, as haupd reports it) fires first and
// becomes master; the others see its advert and stay backup. Equal priorities fire together and
// the higher primary address wins (RFC 5798 6.4.3). A backup in Fault cannot take over.
import type { VrrpInstance } from '../inventory/model.ts';

export interface MemberNow {
  /** haupd's effective priority now (undefined: unknown, the configured one is used). */
  effectivePriority?: number;
  /** haupd's state now (undefined: unknown). */
  state?: string;
}

export interface Takeover {
  host: string;
  /** The priority its Master_Down is computed with. */
  priority: number;
  /** How it was chosen, for the report. */
  why: string;
}

function ipv4Number(a: string): number {
  return a.split('.').reduce((n, x) => n * 256 + Number(x), 0);
}

/**
 * The backup expected to take over from `from` (default: the initial master). Null when no
 * member could (every other one in Fault).
 */
export function takeoverBackup(inst: VrrpInstance, now: Record<string, MemberNow> = {}, from = inst.master): Takeover | null {
  const candidates = inst.members
    .filter((m) => m.host !== from && now[m.host]?.state !== 'fault')
    .map((m) => ({ host: m.host, address: m.address, configured: m.priority, priority: now[m.host]?.effectivePriority ?? m.priority, known: now[m.host]?.effectivePriority !== undefined }));
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => b.priority - a.priority || ipv4Number(b.address) - ipv4Number(a.address));
  const best = candidates[0]!;
  const tie = candidates.filter((c) => c.priority === best.priority).length > 1;
  const prio = best.known && best.priority !== best.configured ? `effective priority ${best.priority} (configured ${best.configured})` : `priority ${best.priority}`;
  const others = candidates.length > 1 ? `; the other backups: ${candidates.slice(1).map((c) => `${c.host} ${c.priority}`).join(', ')}` : '';
  return { host: best.host, priority: best.priority, why: `${best.host} takes over: highest ${prio}${tie ? ', higher address among equals' : ''}${others}` };
}
