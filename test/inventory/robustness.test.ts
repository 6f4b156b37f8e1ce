// Any text, however broken, yields diagnostics — never an exception — and every diagnostic is
// located inside the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadInventoryText } from '../../src/inventory/load.ts';
import { fakeIO, inventory } from './fixture.ts';

const base = inventory({ 19: '    nginx: { script: builtin:nginx, weight: -60 }' });
const alphabet = [...' :-{}[],#&*!|>\'"\n0123456789abclv.%/'];

const mutation = fc.array(
  fc.record({ at: fc.nat({ max: base.length }), del: fc.nat({ max: 4 }), insert: fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 4 }) }),
  { minLength: 1, maxLength: 4 },
);

test('mutated inventories never throw and every diagnostic is inside the file', async () => {
  await fc.assert(
    fc.asyncProperty(mutation, async (edits) => {
      let text = base;
      for (const e of edits) {
        const at = Math.min(e.at, text.length);
        text = text.slice(0, at) + e.insert + text.slice(at + e.del);
      }
      const outcome = await loadInventoryText(text, 'm.yml', { io: fakeIO(), home: '/h' });
      const lines = text.split('\n');
      for (const d of outcome.diagnostics) {
        assert.ok(d.line >= 1 && d.line <= lines.length, `line ${d.line} of ${lines.length}: ${d.message}`);
        assert.ok(d.col >= 1 && d.col <= (lines[d.line - 1]?.length ?? 0) + 1, `col ${d.col}: ${d.message}`);
        assert.ok(d.message.length > 0);
      }
      assert.equal(outcome.ok, !outcome.diagnostics.some((d) => d.severity === 'error'));
    }),
    { numRuns: 400, seed: 42 },
  );
});
