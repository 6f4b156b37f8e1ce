// loadInventory: file -> Inventory, or an InputError carrying every problem found, located.
// Order: YAML syntax -> schema -> semantic checks -> secrets. Each stage runs only when the one
// before found no error (its input would be guesswork), and reports all of its own problems.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { loadConfigText, readConfigFile } from '../config/load.ts';
import { diagnosticAt, formatPath, sortDiagnostics } from '../config/source.ts';
import { InputError, type Diagnostic } from '../util/errors.ts';
import { checkInventory } from './checks.ts';
import type { Inventory } from './model.ts';
import { collectSecrets, resolveInventory, type PathContext, type SecretTable } from './resolve.ts';
import { inventorySchema } from './schema.ts';
import { Secret, describeRef, readSecret, type SecretIO } from './secrets.ts';

/** VRRP v2 carries the PASS in 8 bytes; keepalived cuts anything longer. */
export const MAX_PASS_BYTES = 8;

export interface LoadInventoryOptions {
  /**
   * `require` (deploy, lab, verify): every secret must be readable. `report` (`inventory check`):
   * a secret that is not set here is a warning, so the file can be checked on any machine.
   */
  secrets?: 'require' | 'report';
  io?: SecretIO;
  home?: string;
}

export type LoadOutcome = { ok: true; inventory: Inventory; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

const nodeIO: SecretIO = {
  env: process.env,
  readFile: (path) => readFile(path, 'utf8'),
  stat: async (path) => {
    const st = await stat(path);
    return { mode: st.mode & 0o777, isFile: st.isFile(), size: st.size };
  },
};

/** Validate inventory text; never throws for bad input, returns every diagnostic instead. */
export async function loadInventoryText(text: string, file: string, options: LoadInventoryOptions = {}): Promise<LoadOutcome> {
  const loaded = loadConfigText(text, file, inventorySchema, { extensionKeys: /^x-/ });
  if (!loaded.ok) return { ok: false, diagnostics: loaded.diagnostics };
  const { source, value: raw } = loaded;
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];

  for (const p of checkInventory(raw)) {
    diagnostics.push(diagnosticAt(source, p.path, p.message, { severity: p.severity, ...(p.anchor ? { anchor: p.anchor } : {}) }));
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };

  const ctx: PathContext = { baseDir: dirname(resolve(file)), home: options.home ?? homedir() };
  const io = options.io ?? nodeIO;
  const mode = options.secrets ?? 'require';
  const table: SecretTable = new Map();
  for (const use of collectSecrets(raw, ctx)) {
    const at = (message: string, severity: Diagnostic['severity'] = 'error') => diagnostics.push(diagnosticAt(source, use.path, message, { severity }));
    const outcome = await readSecret(use.ref, io);
    let value: string | undefined;
    if (outcome.ok) {
      value = outcome.value;
      if (outcome.warning) at(outcome.warning, 'warning');
      const bytes = Buffer.byteLength(value);
      if (use.kind === 'vrrp-pass' && bytes > MAX_PASS_BYTES) {
        at(`the PASS from ${describeRef(use.ref)} is ${bytes} bytes; VRRP v2 carries at most ${MAX_PASS_BYTES} (the rest would be cut off on the wire)`);
      }
    } else if (outcome.reason !== 'invalid' && mode === 'report') {
      at(`${outcome.message} (not needed to check the inventory; required at deploy)`, 'warning');
    } else {
      at(outcome.message);
    }
    table.set(formatPath(use.path), new Secret(use.ref, value));
  }
  const sorted = sortDiagnostics(diagnostics);
  if (sorted.some((d) => d.severity === 'error')) return { ok: false, diagnostics: sorted };
  const inventory: Inventory = { ...resolveInventory(raw, file, ctx, table), warnings: sorted };
  return { ok: true, inventory, diagnostics: sorted };
}

/** Load and validate an inventory file; throws InputError (exit 2) with every diagnostic. */
export async function loadInventory(path: string, options: LoadInventoryOptions = {}): Promise<Inventory> {
  const text = await readConfigFile(path, 'inventory');
  const outcome = await loadInventoryText(text, path, options);
  if (!outcome.ok) throw new InputError(`inventory ${path} is invalid`, outcome.diagnostics);
  return outcome.inventory;
}
