import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadLabModules, registerLab } from '../../src/cli/lab.ts';
import { HaupError } from '../../src/util/errors.ts';

// src/cli/lab.ts loads the lab modules when a lab command runs; load them here first, so no real
// I/O happens while runCli captures stdout (the test reporter's own lines would land in it).
await loadLabModules();

async function runCli(args: string[]): Promise<{ out: string; exitCode: number | undefined; error?: unknown }> {
  const program = new Command('haup').exitOverride();
  registerLab(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, exitCode: process.exitCode as number | undefined };
  } catch (error) {
    return { out, exitCode: process.exitCode as number | undefined, error };
  } finally {
    process.stdout.write = write;
    process.exitCode = saved;
  }
}

test('lab status without a lab: says so, exit 1; --json is machine-readable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-labcli-'));
  try {
    const plain = await runCli(['lab', '--state-dir', dir, 'status']);
    assert.equal(plain.out, 'No lab is up.\n');
    assert.equal(plain.exitCode, 1);
    const json = await runCli(['lab', '--state-dir', dir, 'status', '--json']);
    assert.deepEqual(JSON.parse(json.out), { up: false, hosts: [], faults: [], stateFile: join(dir, 'state.json') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lab fault and lab ssh without a lab: a clear error (or the root error when not root)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-labcli-'));
  try {
    for (const args of [['fault', 'link-down', 'lb5'], ['fault', 'block-vrrp', 'lb5', 'lb6'], ['ssh', 'lb5', 'true']]) {
      const r = await runCli(['lab', '--state-dir', dir, ...args]);
      assert.ok(r.error instanceof HaupError, String(r.error));
      const root = process.getuid?.() === 0;
      assert.equal(r.error.message, root ? 'the lab is not up' : 'haup lab needs root: it creates network namespaces, mounts and booted containers');
      assert.equal(r.out, '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lab up --config with a bad file: located diagnostics, nothing created', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'haup-labcli-'));
  try {
    const { writeFileSync } = await import('node:fs');
    const cfg = join(dir, 'lab.yml');
    writeFileSync(cfg, 'range: 198.18.60.0/24\nhosts:\n  a: 198.18.61.5\n');
    const r = await runCli(['lab', '--state-dir', dir, 'up', '--config', cfg]);
    if (process.getuid?.() !== 0) {
      assert.match(String((r.error as Error).message), /needs root/);
      return;
    }
    const err = r.error as { diagnostics?: { line: number; col: number; message: string }[] };
    assert.deepEqual(
      err.diagnostics?.map((d) => `${d.line}:${d.col} ${d.message}`),
      ['3:6 host a 198.18.61.5 is outside the lab range 198.18.60.0/24'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
