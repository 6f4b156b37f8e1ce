import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileTemplate, renderTemplate, TEMPLATES_DIR } from '../../src/templates/loader.ts';
import { HaupError } from '../../src/util/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'haup-tpl-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('config text is not HTML-escaped (noEscape)', () => {
  const t = compileTemplate('proxy_set_header Host {{host}};\nlocation = "{{path}}" & <x>');
  assert.equal(t({ host: '$host', path: "/a'b\"c" }), 'proxy_set_header Host $host;\nlocation = "/a\'b"c" & <x>');
});

test('strict: a missing variable is an error naming the template, never an empty string', () => {
  // block helpers on their own lines vanish from the output (handlebars "standalone" lines)
  writeFileSync(join(dir, 'upstream.conf.hbs'), 'upstream {{name}} {\n{{#each servers}}\n  server {{this.address}}:{{@root.port}};\n{{/each}}\n}\n');
  assert.equal(
    renderTemplate('upstream.conf.hbs', { name: 'webs', port: 80, servers: [{ address: '198.18.0.7' }, { address: '198.18.0.8' }] }, dir),
    'upstream webs {\n  server 198.18.0.7:80;\n  server 198.18.0.8:80;\n}\n',
  );
  assert.throws(
    () => renderTemplate('upstream.conf.hbs', { name: 'webs', servers: [{ address: '198.18.0.7' }] }, dir),
    (e: unknown) => e instanceof HaupError && /^template upstream\.conf\.hbs: "port" not defined in/.test(e.message),
  );
});

test('unreadable template and syntax errors are HaupErrors', () => {
  assert.throws(() => renderTemplate('nope.hbs', {}, dir), /^HaupError: template nope\.hbs: cannot read .*nope\.hbs: ENOENT$/);
  writeFileSync(join(dir, 'broken.hbs'), '{{#each x}}unclosed');
  assert.throws(() => renderTemplate('broken.hbs', { x: [] }, dir), /^HaupError: template broken\.hbs: /);
});

test('the default directory is the repository templates/', () => {
  assert.match(TEMPLATES_DIR, /\/templates$/);
});
