// The inventory -> the engine's HostSpecs and the rollout order: webs first, then the BACKUP LBs
// (lowest priority first), then the MASTER LB last, so the VIP never lands on a half-made node.
import type { Connection } from '../connectors/connection.ts';
import { composeHost } from '../engine/compose.ts';
import type { HostSpec, PhaseSpec } from '../engine/types.ts';
import type { Host, Inventory, LbHost } from '../inventory/model.ts';
import type { HaupdArtifact } from './artifact.ts';
import { lbRole } from './lb.ts';
import { mergePackageTasks } from './types.ts';
import { vrrpRole } from './vrrp.ts';
import { webRole } from './web.ts';

export const WEB_PHASE = 'web';
export const lbPhase = (host: string): string => `lb ${host}`;

/**
 * Pure: LBs in rollout order. A host that is the initial master of any instance goes after every
 * host that is master of none; within each group, lowest highest-priority first.
 */
export function lbRolloutOrder(inv: Inventory): LbHost[] {
  const masters = new Set(inv.vrrp.instances.map((i) => i.master));
  const top = (h: LbHost) => Math.max(0, ...inv.vrrp.instances.flatMap((i) => i.members.filter((m) => m.host === h.name).map((m) => m.priority)));
  return [...inv.lb].sort((a, b) => Number(masters.has(a.name)) - Number(masters.has(b.name)) || top(a) - top(b) || a.name.localeCompare(b.name));
}

/**
 * Phases in order. A rolling deploy stops at the first failed phase (Ansible's `serial` with
 * max_fail_percentage 0): every LB phase requires that nothing failed before it, so a failed
 * backup never leads to the master being touched. Fix the host, or deploy the rest with --limit.
 */
export function phasesFor(inv: Inventory): PhaseSpec[] {
  return [{ name: WEB_PHASE }, ...lbRolloutOrder(inv).map((h) => ({ name: lbPhase(h.name), requirePreviousSuccess: true }))];
}

export interface HostSpecOptions {
  artifact: HaupdArtifact;
  connect: (host: Host) => Promise<Connection>;
}

export function hostSpecs(inv: Inventory, o: HostSpecOptions): HostSpec[] {
  const webs = inv.web.map((h) => composeHost({ name: h.name, groups: ['web'], phase: WEB_PHASE, connect: () => o.connect(h) }, [{ role: 'web', ...webRole(inv, h) }]));
  const lbs = lbRolloutOrder(inv).map((h) =>
    composeHost(
      { name: h.name, groups: ['lb'], phase: lbPhase(h.name), connect: () => o.connect(h) },
      mergePackageTasks([
        { role: 'lb', ...lbRole(inv, h) },
        { role: 'vrrp', ...vrrpRole(inv, h, o.artifact) },
      ]),
    ),
  );
  const keep = inv.deploy?.keepJournals;
  return [...webs, ...lbs].map((h) => (keep === undefined ? h : { ...h, keepJournals: keep }));
}
