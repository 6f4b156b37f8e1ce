// A sync group: instances that must hold their VIPs on the same node (e.g. the outside and the
// inside address of a NAT router). keepalived's vrrp_sync_group semantics, PURE like instance.ts:
// - one member in Fault → every member in Fault (a master member sends priority 0 and releases);
//   they leave Fault together once no member has a fault of its own;
// - one member falls from Master to Backup (a better master appeared) → the other masters follow
//   (each sends priority 0 like any yielding master, so the peer group takes over without
//   waiting its Master_Down);
// - a member goes Master only when every other member is Master or also wants Master (its own
//   master_down expired): "prefer Backup to avoid thrashing" — otherwise a member forced to
//   master against a live, better master would bounce the whole group back and forth.
//
// Daemon contract: route every event of a grouped instance through the group —
//   group.handle(memberName, event, now)   one member's event (advert, priority, fault...)
//   group.handleAll(event, now)            start / timer / shutdown for every member
//   group.nextDeadline()                   earliest deadline of any member
// Actions are those of instance.ts, each tagged with its `instance`, in execution order.

import { SYNC_GROUP_FAULT, type Action, type InstanceEvent, type VrrpInstance } from './instance.ts';

export class SyncGroup {
  private readonly members: VrrpInstance[];

  constructor(
    readonly name: string,
    members: VrrpInstance[],
  ) {
    if (members.length === 0) throw new Error(`sync group ${name}: no members`);
    const names = new Set(members.map((m) => m.name));
    if (names.size !== members.length) throw new Error(`sync group ${name}: duplicate member`);
    this.members = [...members];
    for (const m of this.members) m.setMasterGate((asking) => this.mayGoMaster(asking));
  }

  get memberNames(): string[] {
    return this.members.map((m) => m.name);
  }

  /** One member's event, then whatever the group must do about it. */
  handle(memberName: string, event: InstanceEvent, now: number): Action[] {
    const member = this.members.find((m) => m.name === memberName);
    if (!member) throw new Error(`sync group ${this.name}: no member "${memberName}"`);
    const out = member.handle(event, now);
    this.propagate(member, out, now, out);
    return out;
  }

  /** The same event for every member (start, timer, shutdown), each followed by propagation. */
  handleAll(event: InstanceEvent, now: number): Action[] {
    const out: Action[] = [];
    for (const m of this.members) {
      const own = m.handle(event, now);
      out.push(...own);
      this.propagate(m, own, now, out);
    }
    return out;
  }

  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const m of this.members) {
      const d = m.nextDeadline();
      if (d !== undefined && (min === undefined || d < min)) min = d;
    }
    return min;
  }

  /** Gate installed on every member: go master only if the whole group can. */
  private mayGoMaster(asking: VrrpInstance): boolean {
    return this.members.every((m) => m === asking || m.isLeaving || m.currentState === 'master' || m.wantsMaster);
  }

  private propagate(origin: VrrpInstance, originActions: readonly Action[], now: number, out: Action[]): void {
    const active = this.members.filter((m) => !m.isLeaving);

    // 1. Fault follows the faulty member; clears when no member has a fault of its own.
    const faulty = active.find((m) => m.ownFaults().length > 0);
    if (faulty) {
      const why = faulty.ownFaults().map((f) => f.reason).join('; ');
      for (const m of active) {
        if (m === faulty || m.hasFault(SYNC_GROUP_FAULT)) continue;
        out.push(...m.handle({ type: 'fault', source: SYNC_GROUP_FAULT, reason: `sync group ${this.name}: ${faulty.name} in fault (${why})` }, now));
      }
    } else {
      for (const m of active) {
        if (m.hasFault(SYNC_GROUP_FAULT)) out.push(...m.handle({ type: 'fault-clear', source: SYNC_GROUP_FAULT }, now));
      }
    }

    // Only the origin's own decisions propagate; forced followers do not trigger a new round.
    const own = originActions.filter((a): a is Extract<Action, { type: 'transition' }> => a.type === 'transition' && a.instance === origin.name);
    for (const t of own) {
      if (t.from === 'master' && t.to === 'backup') {
        for (const m of active) {
          if (m !== origin) out.push(...m.forceBackup(now, `sync group ${this.name}: ${origin.name} went backup (${t.reason})`));
        }
      }
      if (t.to === 'master') {
        for (const m of active) {
          if (m !== origin && m.wantsMaster) out.push(...m.forceMaster(now, `sync group ${this.name}: ${origin.name} went master (${t.reason})`));
        }
      }
    }
  }
}
