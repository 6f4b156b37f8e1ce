// The generic loader, with a schema that has nothing to do with the inventory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfigText, readConfigFile } from '../../src/config/load.ts';
import { diagnosticAt, formatPath, locate, parseSource } from '../../src/config/source.ts';
import { formatDiagnostic, InputError } from '../../src/util/errors.ts';

const schema = z.strictObject({
  listen: z.strictObject({ host: z.string(), port: z.int().min(1).max(65535) }),
  workers: z.array(z.strictObject({ name: z.string(), weight: z.number().optional() })).optional(),
  debug: z.boolean().optional(),
});

const run = (text: string, options = {}) => {
  const r = loadConfigText(text, 'app.yml', schema, options);
  return { ok: r.ok, lines: r.diagnostics.map(formatDiagnostic), value: r.ok ? r.value : undefined };
};

test('valid YAML gives the typed value and no diagnostics', () => {
  assert.deepEqual(run('listen: { host: a, port: 80 }\nworkers:\n  - name: w1\n'), {
    ok: true,
    lines: [],
    value: { listen: { host: 'a', port: 80 }, workers: [{ name: 'w1' }] },
  });
});

test('JSON text is accepted and located', () => {
  assert.deepEqual(run('{\n  "listen": { "host": "a", "port": 0 }\n}\n').lines, ['app.yml:2:36: listen.port: must be at least 1, got the number 0']);
});

test('all problems at once, each on its node, unknown keys with suggestions', () => {
  const text = ['listen:', '  host: 5', '  prot: 80', 'workers:', '  - { name: w1, wieght: 2 }', '  - weight: 1', 'debug: yes', ''].join('\n');
  assert.deepEqual(run(text).lines, [
    'app.yml:1:1: listen.port: required key is missing',
    'app.yml:2:9: listen.host: expected a string, got the number 5',
    'app.yml:3:3: listen.prot: unknown key (did you mean port?)',
    'app.yml:5:17: workers[0].wieght: unknown key (did you mean weight?)',
    'app.yml:6:5: workers[1].name: required key is missing',
    'app.yml:7:8: debug: expected true or false, got the string "yes" (YAML 1.2 reads yes as a string: write true or false)',
  ]);
});

test('syntax errors stop before validation', () => {
  assert.deepEqual(run('listen: { host: a, port: 80\n').lines, [
    'app.yml:2:1: YAML syntax error: flow map in block collection must be sufficiently indented and end with a }',
  ]);
});

test('empty document: an error unless allowed', () => {
  assert.deepEqual(run('').lines, ['app.yml:1:1: the file is empty']);
  const lenient = loadConfigText('', 'app.yml', z.null().transform(() => 'defaults'), { allowEmpty: true });
  assert.equal(lenient.ok, true);
});

test('diagnosticAt: semantic findings on a value, on a key, or at the parent of a missing key', () => {
  const { source } = parseSource('a:\n  b: [1, 2]\n  c: x\n', 'f.yml');
  assert.deepEqual(locate(source, ['a', 'b', 1]), { line: 2, col: 10 });
  assert.deepEqual(locate(source, ['a', 'c'], 'key'), { line: 3, col: 3 });
  assert.deepEqual(locate(source, ['a', 'missing']), { line: 1, col: 1 });
  assert.deepEqual(diagnosticAt(source, ['a', 'c'], 'too short', { severity: 'warning' }), {
    file: 'f.yml',
    line: 3,
    col: 6,
    path: 'a.c',
    message: 'too short',
    severity: 'warning',
  });
  assert.equal(formatPath(['vrrp', 'instances', 0, 'vips', 1]), 'vrrp.instances[0].vips[1]');
  assert.equal(formatPath(['hosts', 'odd key!']), 'hosts["odd key!"]');
});

test('readConfigFile names the file when it cannot be read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haup-config-test-'));
  try {
    await assert.rejects(readConfigFile(join(dir, 'nope.yml'), 'config'), (err) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.message, `cannot read config ${join(dir, 'nope.yml')}: no such file`);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a syntax error cascade is cut after five lines, with a count', () => {
  const r = loadConfigText('a: }\nb: }\nc: }\nd: }\ne: }\nf: }\ng: }\nh: }\n', 'x.yml', z.unknown());
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
    'x.yml:1:4: YAML syntax error: unexpected flow-map-end token in YAML stream: "}"',
    'x.yml:2:1: YAML syntax error: unexpected scalar token in YAML stream: "b"',
    'x.yml:3:1: YAML syntax error: unexpected scalar token in YAML stream: "c"',
    'x.yml:4:1: YAML syntax error: unexpected scalar token in YAML stream: "d"',
    'x.yml:5:1: YAML syntax error: unexpected scalar token in YAML stream: "e"',
    'x.yml:6:1: YAML syntax error: 3 more from here on, most likely caused by the ones above',
  ]);
});

test('an alias used before its anchor is located', () => {
  const r = loadConfigText('a: *nope\nb: &nope 1\n', 'x.yml', z.unknown());
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), ['x.yml:1:4: YAML error: unknown anchor *nope (an anchor &nope must come before it)']);
});

test('alias bombs are refused, not expanded', () => {
  let text = 'a: &a [x,x,x,x,x,x,x,x,x,x]\n';
  let prev = 'a';
  for (const n of 'bcdefgh') {
    text += `${n}: &${n} [${Array(10).fill('*' + prev).join(',')}]\n`;
    prev = n;
  }
  const r = loadConfigText(text, 'x.yml', z.unknown());
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), ['x.yml:1:1: YAML error: Excessive alias count indicates a resource exhaustion attack']);
});

test('positions count from the text, CRLF line ends included', () => {
  const r = loadConfigText('listen:\r\n  host: a\r\n  port: 0\r\n', 'x.yml', schema);
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), ['x.yml:3:9: listen.port: must be at least 1, got the number 0']);
});
