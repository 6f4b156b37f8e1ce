// Load a lab config file (YAML) into a LabTopology; every problem reported at once with its
// FILE:LINE:COL, through the same generic loader the inventory and haupd's config use.
import { readFileSync } from 'node:fs';
import { loadConfigText } from '../config/load.ts';
import { diagnosticAt } from '../config/source.ts';
import { InputError } from '../util/errors.ts';
import { buildTopology, labConfigSchema, type LabTopology } from './topology.ts';

/** Parse and check config text; `file` only names it in diagnostics. */
export function parseLabConfig(text: string, file: string): LabTopology {
  const loaded = loadConfigText(text, file, labConfigSchema, { allowEmpty: true });
  if (!loaded.ok) throw new InputError(`${file}: invalid lab config`, loaded.diagnostics);
  const { topology, problems } = buildTopology(loaded.value);
  const diagnostics = problems.map((p) => diagnosticAt(loaded.source, p.path.split('.'), p.message));
  if (!topology || diagnostics.length > 0) throw new InputError(`${file}: invalid lab config`, diagnostics);
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
