// A parsed YAML (or JSON) text that remembers where every node came from, so any problem found
// later — by zod or by a semantic check — can be reported as FILE:LINE:COL on the offending node.
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { Diagnostic } from '../util/errors.ts';

/** One data path: mapping keys and sequence indexes, as zod reports them. */
export type DataPath = readonly PropertyKey[];

export interface ConfigSource {
  /** File name as it should appear in diagnostics (as the user typed it). */
  file: string;
  doc: Document.Parsed;
  /** Offset -> line/column, computed from the text itself (see lineIndex). */
  lines: { linePos(offset: number): Position };
}

/** Where on a node a diagnostic points: the value itself, or the key that introduces it. */
export type Anchor = 'value' | 'key';

export interface Position {
  line: number;
  col: number;
}

/** `vrrp.instances[0].vrid` */
export function formatPath(path: DataPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      const plain = /^[A-Za-z0-9_-]+$/.test(s);
      out += plain ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

/**
 * Parse text as YAML 1.2 (JSON is a subset). Duplicate keys are errors. Returns the source and
 * the syntax problems, already located.
 */
export function parseSource(
  text: string,
  file: string,
): {
  source: ConfigSource;
  diagnostics: Diagnostic[];
  /** True when the errors leave no sound document to validate (anything but duplicate keys). */
  fatal: boolean;
} {
  // merge: YAML 1.1 merge keys (`<<: *defaults`) are how people share host settings; keep them working.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true });
  const lines = lineIndex(text);
  const source: ConfigSource = { file, doc, lines };
  const diagnostics: Diagnostic[] = [];
  for (const [list, severity] of [
    [doc.errors, 'error'],
    [doc.warnings, 'warning'],
  ] as const) {
    const seenLines = new Set<number>();
    for (const e of list) {
      const { line, col } = lines.linePos(e.pos[0]);
      // After one broken token the parser reports every following token of the line: keep the first.
      if (seenLines.has(line)) continue;
      seenLines.add(line);
      diagnostics.push({ file, line, col, path: '', message: yamlMessage(e.code, e.message), severity });
    }
  }
  const duplicatesOnly = doc.errors.every((e) => e.code === 'DUPLICATE_KEY');
  const aliases = duplicatesOnly ? unresolvedAliases(source) : [];
  diagnostics.push(...aliases);
  return { source, diagnostics: capCascade(diagnostics), fatal: !duplicatesOnly || aliases.length > 0 };
}

/** `*name` before (or without) `&name`: yaml only notices when converting, by throwing. */
function unresolvedAliases(source: ConfigSource): Diagnostic[] {
  const found: Diagnostic[] = [];
  visit(source.doc, {
    Alias(_, alias) {
      if (alias.resolve(source.doc) !== undefined) return;
      const { line, col } = source.lines.linePos(alias.range?.[0] ?? 0);
      found.push({ file: source.file, line, col, path: '', message: `YAML error: unknown anchor *${alias.source} (an anchor &${alias.source} must come before it)`, severity: 'error' });
    },
  });
  return found;
}

/** Syntax errors cascade: beyond the first few, the rest are echoes. Say how many were left out. */
const MAX_SYNTAX_ERRORS = 5;
function capCascade(list: Diagnostic[]): Diagnostic[] {
  const errors = list.filter((d) => d.severity === 'error');
  if (errors.length <= MAX_SYNTAX_ERRORS) return list;
  const next = errors[MAX_SYNTAX_ERRORS]!;
  const more = errors.length - MAX_SYNTAX_ERRORS;
  const note: Diagnostic = { ...next, message: `YAML syntax error: ${more} more from here on, most likely caused by the ones above` };
  return [...errors.slice(0, MAX_SYNTAX_ERRORS), note, ...list.filter((d) => d.severity === 'warning')];
}

/**
 * Line/column (1-based, column in UTF-16 code units like editors show for BMP text) of a character
 * offset. Computed from the text rather than yaml's LineCounter, which misses newlines inside
 * tokens the parser gave up on.
 */
export function lineIndex(text: string): { linePos(offset: number): Position } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return {
    linePos(offset: number): Position {
      const at = Math.max(0, Math.min(offset, text.length));
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= at) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, col: at - starts[lo]! + 1 };
    },
  };
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: this key is already defined in the same mapping';
  if (code === 'MULTIPLE_DOCS') return 'the file holds several YAML documents (---); one is expected';
  // yaml's own messages are good; make them read like ours (lower-case start, no final period).
  const m = message.replace(/\.$/, '');
  return `YAML syntax error: ${m.charAt(0).toLowerCase()}${m.slice(1)}`;
}

interface Step {
  /** The node reached (value side). */
  node: YamlNode | null;
  /** The key node of the pair that led to it, when reached through a mapping. */
  key: YamlNode | null;
}

/** Follow `path` through the document; returns every step that exists (the first is the root). */
function walk(source: ConfigSource, path: DataPath): Step[] {
  const steps: Step[] = [{ node: source.doc.contents as YamlNode | null, key: null }];
  let node = source.doc.contents as YamlNode | null;
  for (const seg of path) {
    if (node && isAlias(node)) node = (node.resolve(source.doc) as YamlNode | undefined) ?? null;
    let next: Step | undefined;
    if (node && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyOf(p.key) === String(seg));
      if (pair) next = { node: (pair.value as YamlNode | null) ?? null, key: pair.key as YamlNode };
    } else if (node && isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (item) next = { node: item, key: null };
    }
    if (!next) break;
    steps.push(next);
    node = next.node;
  }
  return steps;
}

function keyOf(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function startOf(source: ConfigSource, node: YamlNode | null): Position | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : source.lines.linePos(offset);
}

/** A value written as nothing (`key:` then end of line): point at its key, not at empty space. */
function isEmptyValue(node: YamlNode | null): boolean {
  return !node || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]);
}

/**
 * Position of the node at `path`. When the path does not exist (a missing key), the position of
 * its deepest existing ancestor — the key that introduces the parent mapping, so the user lands on
 * the line naming the thing that lacks a key.
 */
export function locate(source: ConfigSource, path: DataPath, anchor: Anchor = 'value'): Position {
  const steps = walk(source, path);
  const last = steps[steps.length - 1]!;
  const complete = steps.length === path.length + 1;
  let pos: Position | undefined;
  if (complete && (anchor === 'key' || isEmptyValue(last.node))) pos = startOf(source, last.key) ?? startOf(source, last.node);
  else if (complete) pos = startOf(source, last.node);
  else pos = startOf(source, last.key) ?? startOf(source, last.node);
  return pos ?? { line: 1, col: 1 };
}

/** A located diagnostic for `path` — how semantic checks attach their findings to the file. */
export function diagnosticAt(
  source: ConfigSource,
  path: DataPath,
  message: string,
  options: { severity?: Diagnostic['severity']; anchor?: Anchor } = {},
): Diagnostic {
  const { line, col } = locate(source, path, options.anchor);
  return { file: source.file, line, col, path: formatPath(path), message, severity: options.severity ?? 'error' };
}

/** Diagnostics in reading order (line, column), errors before warnings at the same spot. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) => a.line - b.line || a.col - b.col || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}
