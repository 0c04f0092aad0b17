import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLocalPointerRef, resolveLocalRef, walkSchema } from './schema-walk.js';

const doc = {
  $defs: { 'a/b': { type: 'string' }, 'c~d': { type: 'number' }, 'e f': { type: 'boolean' } },
  allOf: [{ minProperties: 1 }],
  properties: { x: { items: { $ref: '#/$defs/a~1b' } } },
  const: { properties: { hidden: { $ref: 'https://example.com' } } },
};

test('local references resolve by JSON Pointer, with ~0, ~1 and percent escapes', () => {
  assert.equal(resolveLocalRef(doc, '#'), doc);
  assert.deepEqual(resolveLocalRef(doc, '#/$defs/a~1b'), { type: 'string' });
  assert.deepEqual(resolveLocalRef(doc, '#/$defs/c~0d'), { type: 'number' });
  assert.deepEqual(resolveLocalRef(doc, '#/$defs/e%20f'), { type: 'boolean' });
  assert.deepEqual(resolveLocalRef(doc, '#/allOf/0'), { minProperties: 1 });
  assert.equal(resolveLocalRef(doc, '#/$defs/missing'), undefined);
  assert.equal(resolveLocalRef(doc, '#/$defs/a~1b/type/length'), undefined);
  assert.equal(resolveLocalRef(doc, 'other.json#/$defs/x'), undefined);
  assert.equal(isLocalPointerRef('#anchor'), false);
});

test('walking visits schema positions only, with escaped pointers', () => {
  const seen: string[] = [];
  walkSchema(doc, (_node, pointer) => seen.push(pointer));
  assert.deepEqual(seen.sort(), [
    '',
    '/$defs/a~1b',
    '/$defs/c~0d',
    '/$defs/e f',
    '/allOf/0',
    '/properties/x',
    '/properties/x/items',
  ]);
});
