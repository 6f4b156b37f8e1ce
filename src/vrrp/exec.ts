// Running external commands for haupd's I/O shell (ip, arping, track and notify scripts).
// Every child gets its own process group so a timeout kills the whole tree (a shell script's
// `sleep` included, which a plain kill of the shell would leave behind), output is capped, and the
// result is a value: nothing here throws or rejects, a daemon must not die because a script did.
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code; null when killed by a signal or the command could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The command could not be started at all (ENOENT, EACCES...). */
  spawnError?: string;
  durationMs: number;
}

export interface CommandOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Bytes kept of stdout and of stderr each (default 64 KiB). */
  maxOutput?: number;
  /** Aborting kills the process group like a timeout (result has timedOut false). */
  signal?: AbortSignal;
  /** Kill what the command left running in its process group once it exits (track checks). */
  killGroupOnExit?: boolean;
  /** Called once the process has started (exec succeeded), or failed to: GARP ordering. */
  onStarted?: () => void;
}

/** Minimal logger shape the I/O modules need; src/vrrp/log.ts's Logger satisfies it. */
export interface IoLogger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: IoLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function commandOk(r: CommandResult): boolean {
  return r.code === 0 && !r.timedOut;
}

/** Human summary of a failed command for logs: exit code / signal / timeout and stderr's first line. */
export function describeFailure(r: CommandResult): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`;
  if (r.timedOut) return `timed out after ${Math.round(r.durationMs)} ms (process group killed)`;
  const why = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const first = r.stderr.trim().split('\n')[0];
  return first ? `${why}: ${first}` : why;
}

export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const start = performance.now();
  const max = opts.maxOutput ?? 64 * 1024;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: Omit<CommandResult, 'stdout' | 'stderr' | 'timedOut' | 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, stdout, stderr, timedOut, durationMs: performance.now() - start });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    } catch (err) {
      stderr = '';
      settled = true;
      opts.onStarted?.();
      resolve({ code: null, signal: null, stdout, stderr, timedOut, spawnError: (err as Error).message, durationMs: performance.now() - start });
      return;
    }
    if (opts.onStarted) {
      const started = opts.onStarted;
      let called = false;
      const once = (): void => {
        if (!called) (called = true), started();
      };
      child.once('spawn', once);
      child.once('error', once);
    }
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    const onAbort = (): void => killGroup();
    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < max) stdout += d.toString('utf8', 0, Math.min(d.length, max - stdout.length));
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < max) stderr += d.toString('utf8', 0, Math.min(d.length, max - stderr.length));
    });
    child.on('error', (err) => finish({ code: null, signal: null, spawnError: err.message }));
    // 'close' means stdout and stderr are complete. A backgrounded grandchild may hold the pipes
    // open forever: 100 ms after the leader's 'exit' we stop waiting for them.
    child.on('exit', (code, signal) => {
      if (opts.killGroupOnExit) killGroup();
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ code, signal });
      }, 100).unref();
    });
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}
