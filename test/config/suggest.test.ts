import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, didYouMean, editDistance } from '../../src/config/suggest.ts';

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('interface', 'interface'), 0);
  assert.equal(editDistance('intreface', 'interface'), 1);
  assert.equal(editDistance('vird', 'vrid'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test('closest: within a third of the word, case-insensitive, first wins ties', () => {
  assert.equal(closest('advert_intt', ['advert_int', 'auth']), 'advert_int');
  assert.equal(closest('Interface', ['interface']), 'interface');
  assert.equal(closest('colour', ['vrid', 'interface', 'vips']), undefined);
  assert.equal(closest('lb7', ['lb5', 'lb6']), 'lb5');
  assert.equal(closest('ab', ['xy']), undefined);
  assert.equal(didYouMean('prot', ['port', 'user']), ' (did you mean port?)');
  assert.equal(didYouMean('zzz', ['port']), '');
});
