// Notify scripts, run strictly one after another (keepalived runs them concurrently, so a fast
// MASTER->BACKUP->MASTER can finish out of order: keepalived#2389).
//
// For one transition the state's own scripts run first (notify_master / _backup / _fault / _stop,
// as configured, no arguments appended — keepalived does the same), then the generic `notify`
// scripts with keepalived's four arguments `INSTANCE NAME STATE PRIORITY`. Every script also gets
// HAUPD_INSTANCE, HAUPD_STATE, HAUPD_PREVIOUS_STATE, HAUPD_PRIORITY and HAUPD_REASON in its
// environment. Commands are split on spaces and run without a shell. Each has a timeout after
// which its process group is killed; a failure is logged and the queue moves on.
import { describeFailure, runCommand, silentLogger, type IoLogger } from './exec.ts';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

export interface NotifyEvent {
  instance: string;
  state: NotifyState;
  previousState?: string;
  /** The priority the instance runs with now (effective priority). */
  priority: number;
  reason?: string;
}

export interface NotifyScripts {
  notify?: readonly string[];
  master?: readonly string[];
  backup?: readonly string[];
  fault?: readonly string[];
  stop?: readonly string[];
}

export interface NotifyOptions {
  timeoutMs: number;
  /** Events waiting beyond this are dropped with an error log (a stuck script cannot eat memory). */
  maxQueued?: number;
  log?: IoLogger;
}

export interface NotifyCommand {
  argv: string[];
  env: Record<string, string>;
}

export function splitCommand(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

/** The commands one event runs, in order (pure; exported for tests). */
export function notifyCommands(scripts: NotifyScripts, e: NotifyEvent): NotifyCommand[] {
  const env = {
    HAUPD_INSTANCE: e.instance,
    HAUPD_STATE: e.state,
    HAUPD_PREVIOUS_STATE: e.previousState ?? '',
    HAUPD_PRIORITY: String(e.priority),
    HAUPD_REASON: e.reason ?? '',
  };
  const own = { MASTER: scripts.master, BACKUP: scripts.backup, FAULT: scripts.fault, STOP: scripts.stop }[e.state] ?? [];
  const out: NotifyCommand[] = [];
  for (const line of own) {
    const argv = splitCommand(line);
    if (argv.length > 0) out.push({ argv, env });
  }
  for (const line of scripts.notify ?? []) {
    const argv = splitCommand(line);
    if (argv.length > 0) out.push({ argv: [...argv, 'INSTANCE', e.instance, e.state, String(e.priority)], env });
  }
  return out;
}

export interface Notifier {
  /** Queue the scripts of one transition; returns at once. */
  notify(scripts: NotifyScripts, event: NotifyEvent): void;
  /** Resolves when the queue is empty (or after timeoutMs; then false). */
  drain(timeoutMs: number): Promise<boolean>;
  /** Commands queued or running. */
  readonly pending: number;
}

export function createNotifier(opts: NotifyOptions): Notifier {
  const log = opts.log ?? silentLogger;
  const max = opts.maxQueued ?? 256;
  const queue: { cmd: NotifyCommand; event: NotifyEvent }[] = [];
  let running = false;
  let idle: (() => void)[] = [];

  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    while (queue.length > 0) {
      const { cmd, event } = queue[0]!;
      const [file, ...args] = cmd.argv as [string, ...string[]];
      const r = await runCommand(file, args, { timeoutMs: opts.timeoutMs, env: { ...process.env, ...cmd.env } });
      queue.shift();
      const fields = { instance: event.instance, state: event.state, script: cmd.argv.join(' '), ms: Math.round(r.durationMs) };
      if (r.code === 0 && !r.timedOut) log.info('notify_done', fields);
      else log.warn('notify_failed', { ...fields, error: describeFailure(r) });
    }
    running = false;
    const waiting = idle;
    idle = [];
    for (const w of waiting) w();
  };

  return {
    notify(scripts, event) {
      for (const cmd of notifyCommands(scripts, event)) {
        if (queue.length >= max) {
          log.error('notify_dropped', { instance: event.instance, state: event.state, script: cmd.argv.join(' '), queued: queue.length });
          continue;
        }
        queue.push({ cmd, event });
      }
      void pump();
    },
    drain(timeoutMs) {
      if (!running && queue.length === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        idle.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
    get pending() {
      return queue.length;
    },
  };
}
