// Small helpers shared by apply.ts and handlers.ts to build task results.
import { HaupError } from '../util/errors.ts';
import type { TaskResult } from './types.ts';

export function errorText(e: unknown): { message: string; hint?: string } {
  if (e instanceof HaupError) return e.hint ? { message: e.message, hint: e.hint } : { message: e.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** A task's error without the `host: ` prefix HostErrors carry (the task is already under its host). */
export function taskErrorText(host: string, e: unknown): string {
  const m = errorText(e).message;
  return m.startsWith(`${host}: `) ? m.slice(host.length + 2) : m;
}

export function failed(name: string, error: string, ms: number, handler = false): TaskResult {
  const r: TaskResult = { name, status: 'failed', summary: 'failed', error, durationMs: ms };
  if (handler) r.handler = true;
  return r;
}
