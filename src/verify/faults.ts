// How `verify --failover` breaks and repairs an LB. Two back ends with one interface: the lab's
// own fault hooks (src/lab/faults.ts: namespaces, nft on the bridge) when the inventory is the
// running lab, and plain commands over SSH for any other cluster. Every fault undoes itself or
// has an undo; link-down over SSH schedules its own `ip link set up` (the SSH session dies with
// the link, so the host must bring itself back).
import { shq } from '../connectors/connection.ts';
import type { Inventory } from '../inventory/model.ts';
import * as lab from '../lab/faults.ts';
import { labStatus } from '../lab/lab.ts';
import { HaupError, HostError } from '../util/errors.ts';
import type { Cluster } from './cluster.ts';

export interface FaultDriver {
  readonly kind: 'lab' | 'ssh';
  freezeHaupd(lb: string): Promise<void>;
  thawHaupd(lb: string): Promise<void>;
  /** Take the LB's interface down; it must come back by itself within `maxSeconds` (ssh) or via linkUp. */
  linkDown(lb: string, iface: string, maxSeconds: number): Promise<void>;
  linkUp(lb: string, iface: string): Promise<void>;
  blockVrrp(a: string, b: string): Promise<void>;
  unblockVrrp(a: string, b: string): Promise<void>;
}

/** The inventory is the running lab: every LB is a lab host with the same name and address. */
export function isLabInventory(inv: Inventory, stateDir?: string): boolean {
  try {
    const s = labStatus(stateDir ? { stateDir } : {});
    if (!s.up) return false;
    return inv.lb.every((h) => s.hosts.some((x) => x.name === h.name && x.address === h.address));
  } catch {
    return false;
  }
}

// haupd runs as `node .../haupd.cjs`: its process name is node (the only node process on an LB).
const HAUPD_PROCESS = 'node';

export function labDriver(stateDir?: string): FaultDriver {
  const o = { ...(stateDir ? { stateDir } : {}), progress: 'silent' as const };
  return {
    kind: 'lab',
    freezeHaupd: async (lb) => void (await lab.freeze(lb, HAUPD_PROCESS, o)),
    thawHaupd: async (lb) => void (await lab.thaw(lb, HAUPD_PROCESS, o)),
    linkDown: (lb) => lab.linkDown(lb, o),
    linkUp: (lb) => lab.linkUp(lb, o),
    blockVrrp: async (a, b) => {
      await lab.blockVrrp(a, b, o);
      await lab.blockVrrp(b, a, o);
    },
    unblockVrrp: async (a, b) => {
      await lab.unblockVrrp(a, b, o);
      await lab.unblockVrrp(b, a, o);
    },
  };
}

/** How long link-down over SSH waits for its answer before taking the silence as the link gone. */
const LINK_DOWN_ANSWER_MS = 3000;

export function sshDriver(cluster: Cluster): FaultDriver {
  const must = async (lb: string, cmd: string, what: string) => {
    const r = await cluster.exec(lb, cmd, { timeoutMs: 15_000 });
    if (r.code !== 0) throw new HaupError(`${lb}: ${what} failed: ${r.stderr.toString().trim()}`);
  };
  return {
    kind: 'ssh',
    freezeHaupd: (lb) => must(lb, 'systemctl kill --signal=SIGSTOP haupd.service', 'SIGSTOP haupd'),
    thawHaupd: (lb) => must(lb, 'systemctl kill --signal=SIGCONT haupd.service', 'SIGCONT haupd'),
    linkDown: async (lb, iface, maxSeconds) => {
      // Detached, so the command survives the SSH session it cuts; bounded, so the host returns.
      // The link may die before sshd has sent the exit status back: then the exec times out, which
      // is the fault working, not failing (the scenario still has to see the VIP move).
      const cmd = `nohup sh -c ${shq(`ip link set ${shq(iface)} down; sleep ${maxSeconds}; ip link set ${shq(iface)} up`)} </dev/null >/dev/null 2>&1 &`;
      const r = await cluster.exec(lb, cmd, { timeoutMs: LINK_DOWN_ANSWER_MS }).catch((e: unknown) => {
        if (e instanceof HostError && /timed out/.test(e.message)) return null;
        throw e;
      });
      if (r && r.code !== 0) throw new HaupError(`${lb}: link down failed: ${r.stderr.toString().trim()}`);
    },
    // Nothing to do: the scheduled `ip link set up` brings it back; the caller waits for it.
    linkUp: async () => {},
    blockVrrp: async () => {
      throw new HaupError('--split-brain needs the lab (its bridge filters VRRP between two hosts); not available over plain SSH');
    },
    unblockVrrp: async () => {},
  };
}
