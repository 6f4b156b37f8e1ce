// Load a lab config file (YAML) into a LabTopology; every problem reported at once with its
// FILE:LINE:COL, the same way inventory errors are.
import { readFileSync } from 'node:fs';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { InputError, type Diagnostic } from '../util/errors.ts';
import { buildTopology, labConfigSchema, type LabConfigInput, type LabTopology } from './topology.ts';

function positionOf(doc: Document, lc: LineCounter, path: (string | number)[], atKey = false): { line: number; col: number } {
  // Walk as deep as the path exists; point at the value if there is one, else its parent.
  let node: unknown = doc.contents;
  let offset = 0;
  for (const [i, key] of path.entries()) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key);
    if (!pair) break;
    const last = i === path.length - 1;
    const target = isNode(pair.value) && !(last && atKey) ? pair.value : pair.key;
    if (isNode(target) && target.range) offset = target.range[0];
    node = pair.value;
  }
  if (offset === 0 && isNode(doc.contents) && doc.contents.range) offset = doc.contents.range[0];
  const p = lc.linePos(offset);
  return { line: p.line, col: p.col };
}

/** Parse and check config text; `file` only names it in diagnostics. */
export function parseLabConfig(text: string, file: string): LabTopology {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const diags: Diagnostic[] = [];
  const diag = (path: (string | number)[], message: string, where?: { line: number; col: number }, atKey = false) => {
    const pos = where ?? positionOf(doc, lc, path, atKey);
    diags.push({ file, ...pos, path: path.join('.'), message, severity: 'error' });
  };
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    diag([], e.message.split('\n')[0] ?? e.message, { line: p.line, col: p.col });
  }
  if (diags.length > 0) throw new InputError(`${file}: invalid lab config`, diags);
  const raw = (doc.toJS() ?? {}) as LabConfigInput;
  const parsed = labConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) diag([...path, k], `unknown key "${k}"`, undefined, true);
      } else diag(path, issue.message);
    }
    throw new InputError(`${file}: invalid lab config`, diags);
  }
  const { topology, problems } = buildTopology(parsed.data);
  for (const p of problems) diag(p.path.split('.'), p.message);
  if (!topology) throw new InputError(`${file}: invalid lab config`, diags);
  return topology;
}

export function loadLabConfig(file: string): LabTopology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read lab config ${file}: ${(err as Error).message}`);
  }
  return parseLabConfig(text, file);
}

/** The default lab (lab-conventions.md). */
export function defaultTopology(): LabTopology {
  const { topology } = buildTopology(labConfigSchema.parse({}));
  if (!topology) throw new Error('default lab topology is invalid');
  return topology;
}
