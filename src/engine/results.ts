// Small helpers shared by apply.ts and handlers.ts to build task results.
import { HaupError } from '../util/errors.ts';
import type { TaskResult } from './types.ts';

export function errorText(e: unknown): { message: string; hint?: string } {
  if (e instanceof HaupError) return e.hint ? { message: e.message, hint: e.hint } : { message: e.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

export function failed(name: string, error: string, ms: number, handler = false): TaskResult {
  const r: TaskResult = { name, status: 'failed', summary: 'failed', error, durationMs: ms };
  if (handler) r.handler = true;
  return r;
}
