// The daemon's run-time records: one Unit per configured instance, one Iface per interface (its
// raw socket, shared by that interface's instances), and what receive validation expects of each
// instance (Expected). Plain data: daemon.ts and its helpers (daemon-actions.ts,
// daemon-status.ts) read and update them.
import type { InstanceConfig } from './config.ts';
import type { Tracking } from './daemon-io.ts';
import type { VrrpInstance } from './instance.ts';
import type { ReceiveMemo } from './receive-memo.ts';
import type { DropCounters, ExpectedInstance } from './receive.ts';
import type { VrrpSocket } from './socket.ts';
import type { SyncGroup } from './sync-group.ts';

export interface Expected extends ExpectedInstance {
  unit: Unit;
}

/** One configured instance at run time. */
export interface Unit {
  cfg: InstanceConfig;
  machine: VrrpInstance;
  group: SyncGroup | null;
  iface: Iface | null;
  expected: Expected | null;
  /** Actions run strictly in order per instance (add VIPs before GARP and the advert). */
  queue: Promise<void>;
  /** Sources of faults we raised (interface missing, internal error) so they can be cleared. */
  tracking: Tracking | null;
  /** Shutdown finished (`stopped` action seen). */
  stopped: boolean;
  /** Called when the unit has stopped (reload replacement, daemon exit). */
  onStopped: (() => void)[];
  lastError?: string;
  startedAt: number;
  /** Drops attributed to this instance (after its VRID was recognised), by reason. */
  drops: Record<string, number>;
  /** Actions queued or running. */
  pending: number;
  /** Encoded adverts by priority, for the current source address. */
  advertCache: { src: string; byPriority: Map<number, { dst: string; msg: Buffer }[]> };
  /** Made once per unit: the advert hot path passes it to every send (no closure per send). */
  onSendError: (err: Error, dst: string) => void;
}

/** One raw socket per interface, shared by that interface's instances. */
export interface Iface {
  name: string;
  socket: VrrpSocket;
  byVrid: Map<number, Expected>;
  counters: DropCounters;
  /** Repeats of an already validated advert skip the parsing (receive-memo.ts); cleared with byVrid. */
  memo: ReceiveMemo<Expected>;
  users: number;
}
