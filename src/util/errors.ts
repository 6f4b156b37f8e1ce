// The one error formatter (zx-style): every failure the user sees goes through here, so
// messages look the same whether they come from an inventory, an SSH host or a daemon.

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** One located problem in an input file: `FILE:LINE:COL: path: message`. */
export interface Diagnostic {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
  /** Dotted path of the offending node, e.g. `vrrp.instances[0].vrid`. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  const tag = d.severity === 'warning' ? 'warning: ' : '';
  return d.path ? `${where}: ${tag}${d.path}: ${d.message}` : `${where}: ${tag}${d.message}`;
}

/** Base class: a failure we understand and can explain without a stack trace. */
export class HaupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    /** What the user can do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input (inventory, config, command line): exit 2, nothing was touched. */
export class InputError extends HaupError {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    hint?: string,
  ) {
    super(message, EXIT.usage, hint);
  }
}

/** A failure tied to one host: names the host and what to do. */
export class HostError extends HaupError {
  constructor(
    readonly host: string,
    message: string,
    hint?: string,
  ) {
    super(`${host}: ${message}`, EXIT.failed, hint);
  }
}

/** Render any thrown value for the terminal. Stack traces only with `verbose`. */
export function formatError(err: unknown, verbose = false): string {
  if (err instanceof InputError && err.diagnostics.length > 0) {
    const lines = err.diagnostics.map(formatDiagnostic);
    const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
    lines.push(`${err.message} (${errors} error${errors === 1 ? '' : 's'})`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
    return lines.join('\n');
  }
  if (err instanceof HaupError) {
    const lines = [`error: ${err.message}`];
    if (err.hint) lines.push(`hint: ${err.hint}`);
    if (verbose && err.stack) lines.push(err.stack);
    return lines.join('\n');
  }
  if (err instanceof Error) {
    // Unexpected: a bug in haup or an unhandled system error. Keep the stack available.
    return verbose && err.stack ? `error: ${err.stack}` : `error: ${err.message}`;
  }
  return `error: ${String(err)}`;
}

/** Exit code for any thrown value. */
export function exitCodeOf(err: unknown): number {
  return err instanceof HaupError ? err.exitCode : EXIT.failed;
}
