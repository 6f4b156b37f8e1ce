// The control machine itself, behind the same interface: used for localhost targets and by the
// engine tests (a temp directory stands in for a host's file system).
import { spawn } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { HostError } from '../util/errors.ts';
import type { Connection, ExecOptions, ExecResult } from './connection.ts';

export class LocalConnection implements Connection {
  constructor(
    readonly host = 'localhost',
    private readonly commandTimeoutMs = 300_000,
  ) {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      // Own process group, so a timeout kills the command's children too (they hold the pipes open).
      const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new HostError(this.host, `cannot run sh: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new HostError(this.host, `command timed out after ${timeoutMs / 1000} s: ${command.split('\n')[0]}`));
          return;
        }
        const r: ExecResult = { code: code ?? 255, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
        if (signal) r.signal = signal;
        resolve(r);
      });
      child.stdin.on('error', () => {}); // the command may exit without reading its stdin
      child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
    });
  }

  async put(path: string, bytes: Buffer, options: { mode?: number } = {}): Promise<void> {
    try {
      await writeFile(path, bytes, { mode: options.mode ?? 0o600 });
      await chmod(path, options.mode ?? 0o600);
    } catch (e) {
      throw new HostError(this.host, `cannot write ${path}: ${(e as Error).message}`);
    }
  }

  async get(path: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (e) {
      throw new HostError(this.host, `cannot read ${path}: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {}
}
