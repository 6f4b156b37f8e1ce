// Handlebars templates from templates/ (the repository's), compiled once with noEscape (these are
// config files, not HTML) and strict (a missing variable is an error, never an empty string).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { HaupError } from '../util/errors.ts';

export const TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../templates');

const cache = new Map<string, Handlebars.TemplateDelegate>();

export function compileTemplate(source: string, name = '<inline>'): Handlebars.TemplateDelegate {
  try {
    return Handlebars.compile(source, { noEscape: true, strict: true });
  } catch (e) {
    throw new HaupError(`template ${name}: ${(e as Error).message}`);
  }
}

/** Render `name` (relative to `dir`, default templates/) with `vars`. */
export function renderTemplate(name: string, vars: object, dir = TEMPLATES_DIR): string {
  const file = join(dir, name);
  let tpl = cache.get(file);
  if (!tpl) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (e) {
      throw new HaupError(`template ${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    tpl = compileTemplate(source, name);
    cache.set(file, tpl);
  }
  try {
    return tpl(vars);
  } catch (e) {
    // strict mode: `"x" not defined in [object Object] - 3:4`
    throw new HaupError(`template ${name}: ${(e as Error).message}`);
  }
}
