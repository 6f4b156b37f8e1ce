// Structured logs for haupd: one JSON object per line on stdout, which journald stores as-is
// (`journalctl -u haupd -o cat | jq` reads them back). Fields are flat and stable so an operator can
// grep for `"event":"transition"` without knowing the code. Secrets never reach a log call.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. `{ instance: 'VI_1' }`). */
  child(fields: LogFields): Logger;
  setLevel(level: LogLevel): void;
}

/** Errors do not survive JSON.stringify; turn them into `{ name, message, stack }`. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass an array push. */
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const state = { level: options.level ?? 'info' };
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? (() => new Date());

  const make = (bound: LogFields): Logger => {
    const emit = (level: LogLevel, event: string, fields: LogFields = {}): void => {
      if (RANK[level] < RANK[state.level]) return;
      const record: LogFields = { ts: now().toISOString(), level, event, ...bound };
      for (const [k, v] of Object.entries(fields)) record[k] = plain(v);
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch {
        // A cyclic field must not take the daemon down: log what we can.
        line = JSON.stringify({ ts: record.ts, level, event, ...bound, note: 'unserialisable fields' });
      }
      write(line + '\n');
    };
    return {
      debug: (e, f) => emit('debug', e, f),
      info: (e, f) => emit('info', e, f),
      warn: (e, f) => emit('warn', e, f),
      error: (e, f) => emit('error', e, f),
      child: (fields) => make({ ...bound, ...fields }),
      setLevel: (level) => {
        state.level = level;
      },
    };
  };
  return make(base);
}
