// Secrets (VRRP PASS, SSH key passphrase): read from the environment or a file, held in a value
// that refuses to print itself. String(secret), JSON.stringify and util.inspect all give
// `[secret]`; only reveal() returns the text, and only code that sends it somewhere calls it.
import { inspect } from 'node:util';
import { HaupError } from '../util/errors.ts';

/** Where a secret comes from, as written in the inventory (paths already resolved). */
export type SecretRef = { source: 'env'; name: string } | { source: 'file'; path: string };

export function describeRef(ref: SecretRef): string {
  return ref.source === 'env' ? `env ${ref.name}` : `file ${ref.path}`;
}

const MASK = '[secret]';

export class Secret {
  readonly #value: string | undefined;

  /** `value` undefined: not available at load time (`inventory check` on a machine without it). */
  constructor(
    readonly ref: SecretRef,
    value: string | undefined,
  ) {
    this.#value = value;
  }

  get available(): boolean {
    return this.#value !== undefined;
  }

  /** The secret text. Throws when it was not available at load time. */
  reveal(): string {
    if (this.#value === undefined) {
      throw new HaupError(`secret from ${describeRef(this.ref)} is not available`, 1, 'set it and load the inventory again');
    }
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/** The effects secret resolution needs; injected so tests need neither env nor files. */
export interface SecretIO {
  env: Record<string, string | undefined>;
  readFile(path: string): Promise<string>;
  /** Permission bits (st_mode & 0o777), whether it is a regular file, and its size in bytes. */
  stat(path: string): Promise<{ mode: number; isFile: boolean; size: number }>;
}

/** A secret is a password or passphrase; anything bigger is the wrong file (or /dev/zero). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export type SecretOutcome =
  | { ok: true; value: string; warning?: string }
  /** unset / unreadable: not available on this machine. invalid: available, but cannot be right. */
  | { ok: false; reason: 'unset' | 'unreadable' | 'invalid'; message: string };

/**
 * Read one secret. A file's single trailing newline is dropped (`echo pass > file` adds one).
 * A file readable by group or others is accepted with a warning.
 */
export async function readSecret(ref: SecretRef, io: SecretIO): Promise<SecretOutcome> {
  if (ref.source === 'env') {
    const value = io.env[ref.name];
    if (value === undefined) return { ok: false, reason: 'unset', message: `environment variable ${ref.name} is not set` };
    if (value === '') return { ok: false, reason: 'invalid', message: `environment variable ${ref.name} is empty` };
    return { ok: true, value };
  }
  let text: string;
  let mode: number;
  try {
    const st = await io.stat(ref.path);
    if (!st.isFile) return { ok: false, reason: 'invalid', message: `secret file ${ref.path} is not a regular file` };
    if (st.size > MAX_SECRET_FILE_BYTES) {
      return { ok: false, reason: 'invalid', message: `secret file ${ref.path} is ${st.size} bytes; a secret file holds one short secret` };
    }
    mode = st.mode;
    text = await io.readFile(ref.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    return { ok: false, reason: 'unreadable', message: `cannot read secret file ${ref.path}: ${why}` };
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, reason: 'invalid', message: `secret file ${ref.path} is empty` };
  const who = [(mode & 0o070) !== 0 ? 'its group' : '', (mode & 0o007) !== 0 ? 'others' : ''].filter(Boolean).join(' and ');
  const warning = who
    ? `secret file ${ref.path} is accessible to ${who} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${ref.path}`
    : undefined;
  return warning ? { ok: true, value, warning } : { ok: true, value };
}
