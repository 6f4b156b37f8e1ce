// The one interface every operation and the engine talk to. Two implementations: ssh.ts (a
// remote host over one reused SSH connection) and local.ts (the control machine itself).
// Bytes in and out are Buffers: files may be binary (the haupd bundle, the raw-socket addon).
import { HostError } from '../util/errors.ts';

export interface ExecResult {
  /** Exit code; a command killed by a signal or a timeout reports 255 plus `signal`. */
  code: number;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ExecOptions {
  /** Bytes fed to the command's stdin (then EOF). */
  stdin?: Buffer | string;
  /** Per-command limit; the connection's default otherwise. */
  timeoutMs?: number;
}

export interface Connection {
  /** Inventory name of the host (used in every error message). */
  readonly host: string;
  /** Runs `command` through `sh -c` (as root when the connection uses `become`). */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes `bytes` to `path` (plain write, not atomic: the file operation stages and renames). */
  put(path: string, bytes: Buffer, options?: { mode?: number }): Promise<void>;
  /** Reads the whole file at `path`. */
  get(path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** Quote one word for POSIX sh. */
export function shq(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Runs `command` and fails with a HostError carrying its stderr when it exits non-zero. */
export async function run(conn: Connection, command: string, what: string, options?: ExecOptions): Promise<ExecResult> {
  const r = await conn.exec(command, options);
  if (r.code !== 0) throw commandFailed(conn.host, what, r);
  return r;
}

export function commandFailed(host: string, what: string, r: ExecResult): HostError {
  const detail = (r.stderr.toString('utf8').trim() || r.stdout.toString('utf8').trim()).split('\n').slice(-20).join('\n');
  const how = r.signal ? `was stopped (${r.signal})` : `exited ${r.code}`;
  return new HostError(host, `${what} ${how}${detail ? `:\n${indent(detail)}` : ''}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
