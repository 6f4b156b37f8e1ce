// zod issues -> located Diagnostics. Every issue is reported (zod collects them all); each points
// at its offending node, a missing key at the key of its parent, an unknown key at the key itself.
import type { z } from 'zod';
import type { Diagnostic } from '../util/errors.ts';
import { type ConfigSource, type DataPath, diagnosticAt } from './source.ts';
import { didYouMean } from './suggest.ts';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** Validate the parsed document against `schema`; the value only when there is no error. */
export function validate<S extends z.ZodType>(
  source: ConfigSource,
  schema: S,
  extensionKeys?: RegExp,
): { ok: true; value: z.output<S>; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] } {
  let data: unknown;
  try {
    data = source.doc.toJS();
  } catch (err) {
    // yaml refuses documents whose aliases expand too much (a "billion laughs" file).
    const message = `YAML error: ${(err as Error).message}`;
    return { ok: false, diagnostics: [{ file: source.file, line: 1, col: 1, path: '', message, severity: 'error' }] };
  }
  if (extensionKeys && data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const key of Object.keys(data)) if (extensionKeys.test(key)) delete (data as Record<string, unknown>)[key];
  }
  const result = schema.safeParse(data, { error: renderIssue });
  if (result.success) return { ok: true, value: result.data, diagnostics: [] };
  const diagnostics = result.error.issues.flatMap((issue) => locateIssue(source, schema, data, issue));
  return { ok: false, diagnostics };
}

function locateIssue(source: ConfigSource, schema: z.ZodType, data: unknown, issue: Issue): Diagnostic[] {
  const path = issue.path as DataPath;
  if (issue.code === 'unrecognized_keys') {
    const present = new Set(Object.keys(asRecord(valueAt(data, path))));
    const known = knownKeys(schema, path).filter((k) => !present.has(k));
    return issue.keys.map((key) =>
      diagnosticAt(source, [...path, key], `unknown key${didYouMean(key, known)}`, { anchor: 'key' }),
    );
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? 'invalid key';
    return [diagnosticAt(source, path, inner, { anchor: 'key' })];
  }
  return [diagnosticAt(source, path, issue.message)];
}

/** Default wording for issues whose schema did not set its own message (schema messages win). */
export function renderIssue(issue: RawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return 'required key is missing';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `expected ${expected}, got ${describeValue(input)}${booleanHint(issue.expected, input)}`;
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v));
      const hint = typeof input === 'string' ? didYouMean(input, allowed) : '';
      if (allowed.length === 1) return `must be ${allowed[0]}, got ${describeValue(input)}${hint}`;
      return `expected one of ${allowed.join(', ')}, got ${describeValue(input)}${hint}`;
    }
    case 'too_small': {
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `needs at least ${issue.minimum} ${Number(issue.minimum) === 1 ? 'item' : 'items'}`;
      }
      if (issue.origin === 'string') {
        return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters long`;
      }
      const bound = issue.inclusive === false ? `greater than ${issue.minimum}` : `at least ${issue.minimum}`;
      return `must be ${bound}, got ${describeValue(input)}`;
    }
    case 'too_big': {
      if (issue.origin === 'array' || issue.origin === 'set') return `allows at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long`;
      const bound = issue.inclusive === false ? `less than ${issue.maximum}` : `at most ${issue.maximum}`;
      return `must be ${bound}, got ${describeValue(input)}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}, got ${describeValue(input)}`;
    case 'invalid_format':
      return `invalid ${issue.format}: got ${describeValue(input)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return `does not match any allowed form, got ${describeValue(input)}`;
    case 'custom':
      return `invalid value: ${describeValue(input)}`;
    default:
      return undefined;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  null: 'nothing',
};

/** How a value reads in a message: its kind, and for scalars the value itself. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') {
    const shown = v.length > 40 ? `${v.slice(0, 37)}...` : v;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/** YAML 1.1 habits: `on`/`yes` look like booleans but YAML 1.2 reads them as strings. */
function booleanHint(expected: string, input: unknown): string {
  if (expected !== 'boolean' || typeof input !== 'string') return '';
  return /^(on|off|yes|no|y|n)$/i.test(input) ? ` (YAML 1.2 reads ${input} as a string: write true or false)` : '';
}

function valueAt(data: unknown, path: DataPath): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The keys the schema allows for the mapping at `path` (union of every alternative). */
export function knownKeys(schema: z.ZodType, path: DataPath): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path, 0)) {
    const def = s._zod.def as { type: string; shape?: Record<string, unknown> };
    if (def.type === 'object' && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}

/** Every schema node that may describe the value at `path`, wrappers removed. */
function schemasAt(schema: z.ZodType, path: DataPath, depth: number): z.ZodType[] {
  const s = unwrap(schema);
  const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
  if (def.type === 'union') {
    return (def.options as z.ZodType[]).flatMap((o) => schemasAt(o, path, depth));
  }
  if (depth === path.length) return [s];
  const seg = path[depth]!;
  let next: z.ZodType | undefined;
  if (def.type === 'object') next = (def.shape as Record<string, z.ZodType>)[String(seg)] ?? (def.catchall as z.ZodType | undefined);
  else if (def.type === 'array') next = def.element as z.ZodType;
  else if (def.type === 'record') next = def.valueType as z.ZodType;
  return next ? schemasAt(next, path, depth + 1) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 32; i++) {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (['optional', 'default', 'prefault', 'nullable', 'nonoptional', 'catch', 'readonly'].includes(def.type)) {
      s = def.innerType as z.ZodType;
    } else if (def.type === 'pipe') s = def.in as z.ZodType;
    else if (def.type === 'lazy') s = (def.getter as () => z.ZodType)();
    else break;
  }
  return s;
}
