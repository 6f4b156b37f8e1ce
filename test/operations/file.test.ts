import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { plan } from '../../src/operations/file.ts';
import * as directory from '../../src/operations/directory.ts';
import { PlanError } from '../../src/operations/errors.ts';
import { describeSteps } from '../../src/operations/types.ts';
import { debianFacts } from './facts-fixture.ts';

const body = 'upstream webs { zone webs 64k; server 198.18.0.7; }\n';
const hash = createHash('sha256').update(body).digest('hex');
const path = '/etc/nginx/conf.d/haup.conf';

test('absent file -> changed: one atomic write with the bytes, mode, owner, validate', () => {
  const c = plan({ op: 'file', path, content: body, mode: 0o640, validate: 'nginx -t -c %s' }, debianFacts());
  assert.equal(c.status, 'changed');
  assert.equal(c.summary, `${path}: created`);
  assert.equal(c.steps.length, 1);
  const s = c.steps[0]!;
  assert.equal(s.kind, 'write');
  assert.ok(s.kind === 'write' && s.content.equals(Buffer.from(body)));
  assert.deepEqual(describeSteps(c.steps), [`write ${path} (sha256 ${hash.slice(0, 12)}, 0640, root:root, validate: nginx -t -c %s)`]);
  assert.deepEqual(c.file, { path, secret: false, before: null });
});

test('same sha256, mode and owner -> ok, no steps', () => {
  const facts = debianFacts({ files: { [path]: { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: hash } } });
  const c = plan({ op: 'file', path, content: body }, facts);
  assert.equal(c.status, 'ok');
  assert.deepEqual(c.steps, []);
});

test('different content -> write; only mode/owner differ -> chmod/chown in place (no rewrite)', () => {
  const other = debianFacts({ files: { [path]: { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: '0'.repeat(64) } } });
  const c = plan({ op: 'file', path, content: body }, other);
  assert.equal(c.summary, `${path}: content`);
  assert.equal(c.steps[0]!.kind, 'write');

  const modeOnly = debianFacts({ files: { [path]: { type: 'file', mode: 0o600, owner: 'www-data', group: 'root', sha256: hash } } });
  const m = plan({ op: 'file', path, content: body, mode: 0o644 }, modeOnly);
  assert.equal(m.status, 'changed');
  assert.equal(m.summary, `${path}: mode 0600 -> 0644, owner www-data:root -> root:root`);
  assert.deepEqual(describeSteps(m.steps), [`chmod 0644 ${path} && chown root:root ${path}`]);
});

test('Buffer content (binary) is compared by sha256 too', () => {
  const bytes = Buffer.from([0, 1, 2, 255, 0]);
  const h = createHash('sha256').update(bytes).digest('hex');
  const c = plan({ op: 'file', path: '/opt/haup/raw.node', content: bytes, mode: 0o755 }, debianFacts({ files: { '/opt/haup/raw.node': { type: 'file', mode: 0o755, owner: 'root', group: 'root', sha256: h } } }));
  assert.equal(c.status, 'ok');
});

test('secret flag is carried for the diff and log masking', () => {
  const c = plan({ op: 'file', path: '/etc/haup/auth', content: 'pass1234', mode: 0o600, secret: true }, debianFacts());
  assert.equal(c.file?.secret, true);
  // -v shows commands: a secret's description carries no hash (a short secret's sha256 is guessable)
  assert.deepEqual(describeSteps(c.steps), ['write /etc/haup/auth (secret content, 0600, root:root)']);
});

test('a directory where a file should be -> PlanError; relative path -> PlanError', () => {
  assert.throws(() => plan({ op: 'file', path: '/etc/nginx', content: 'x' }, debianFacts({ files: { '/etc/nginx': { type: 'directory', mode: 0o755, owner: 'root', group: 'root' } } })), PlanError);
  assert.throws(() => plan({ op: 'file', path: 'etc/x', content: 'x' }, debianFacts()), /must be absolute/);
});

test('directory: created, ok, mode/owner fixed', () => {
  const c = directory.plan({ op: 'directory', path: '/opt/haup', mode: 0o750 }, debianFacts());
  assert.deepEqual(describeSteps(c.steps), ['mkdir -p /opt/haup && chmod 0750 /opt/haup && chown root:root /opt/haup']);
  const facts = debianFacts({ files: { '/opt/haup': { type: 'directory', mode: 0o750, owner: 'root', group: 'root' } } });
  assert.equal(directory.plan({ op: 'directory', path: '/opt/haup', mode: 0o750 }, facts).status, 'ok');
  const fix = directory.plan({ op: 'directory', path: '/opt/haup', mode: 0o755, owner: 'haup' }, facts);
  assert.deepEqual(describeSteps(fix.steps), ['chmod 0755 /opt/haup && chown haup:root /opt/haup']);
  assert.throws(() => directory.plan({ op: 'directory', path: '/opt/haup' }, debianFacts({ files: { '/opt/haup': { type: 'file', mode: 0o644, owner: 'root', group: 'root', sha256: hash } } })), /not a directory/);
});

test('absent: removes a file or symlink when present; ok when gone; refuses a directory', async () => {
  const absent = await import('../../src/operations/absent.ts');
  const p = '/etc/nginx/sites-enabled/default';
  assert.deepEqual(absent.plan({ op: 'absent', path: p }, debianFacts()), { status: 'ok', summary: `${p} absent`, steps: [] });
  const link = debianFacts({ files: { [p]: { type: 'symlink', mode: 0o777, owner: 'root', group: 'root' } } });
  const c = absent.plan({ op: 'absent', path: p }, link);
  assert.equal(c.status, 'changed');
  assert.equal(c.summary, `${p}: removed (symlink)`);
  assert.deepEqual(describeSteps(c.steps), [`rm -f -- ${p}`]);
  assert.throws(() => absent.plan({ op: 'absent', path: '/etc/nginx' }, debianFacts({ files: { '/etc/nginx': { type: 'directory', mode: 0o755, owner: 'root', group: 'root' } } })), /is a directory/);
});
