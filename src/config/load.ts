// The generic config loader: YAML/JSON text + zod schema -> typed value, or every problem at once
// as located Diagnostics. Knows nothing about any particular file format built on top of it.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError, type Diagnostic } from '../util/errors.ts';
import { type ConfigSource, parseSource, sortDiagnostics } from './source.ts';
import { validate } from './validate.ts';

export type LoadResult<T> =
  | { ok: true; value: T; source: ConfigSource; diagnostics: Diagnostic[] }
  | { ok: false; source: ConfigSource; diagnostics: Diagnostic[] };

export interface LoadOptions {
  /** Accept an empty document (all defaults); otherwise an empty file is an error. */
  allowEmpty?: boolean;
  /**
   * Top-level keys matching this are extension fields, dropped before validation (compose-style
   * `x-defaults: &d {...}`: a place to put YAML anchors that strict schemas would refuse).
   */
  extensionKeys?: RegExp;
}

/**
 * Parse and validate. Syntax errors stop before validation (the data would be guesswork), except
 * duplicate keys, which leave a sound document: then schema problems are reported alongside.
 */
export function loadConfigText<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  options: LoadOptions = {},
): LoadResult<z.output<S>> {
  const { source, diagnostics, fatal } = parseSource(text, file);
  const syntaxErrors = diagnostics.some((d) => d.severity === 'error');
  if (fatal) return { ok: false, source, diagnostics: sortDiagnostics(diagnostics) };
  if (source.doc.contents === null && !options.allowEmpty) {
    const empty: Diagnostic = { file, line: 1, col: 1, path: '', message: 'the file is empty', severity: 'error' };
    return { ok: false, source, diagnostics: [empty, ...diagnostics] };
  }
  const validated = validate(source, schema, options.extensionKeys);
  const all = sortDiagnostics([...diagnostics, ...validated.diagnostics]);
  if (syntaxErrors || !validated.ok) return { ok: false, source, diagnostics: all };
  return { ok: true, value: validated.value, source, diagnostics: all };
}

/** Read `path` and load it; an unreadable file is an InputError naming it. */
export async function readConfigFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw new InputError(`cannot read ${what} ${path}: ${why}`);
  }
}
