import assert from 'node:assert/strict';
import { test } from 'node:test';
import { componentRef, embedSchema } from './embed-schema.js';

test('embedding drops $schema and $id and rebases local references, in schema positions only', () => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:conveyor:schema:x.y.z:1',
    type: 'object',
    properties: {
      $id: { type: 'string', description: 'a property that happens to be called $id' },
      child: { $ref: '#/$defs/child' },
      self: { $ref: '#' },
      remote: { $ref: 'urn:conveyor:schema:a.b.c:1' },
    },
    examples: [{ $id: 'kept', child: { $ref: '#/not/a/reference' } }],
    $defs: {
      child: { $id: 'urn:nested', $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'string' },
    },
  };
  const before = structuredClone(schema);
  const at = componentRef('schemas', 'x.y.z');
  const out = embedSchema(schema, at) as typeof schema;

  assert.deepEqual(schema, before, 'the input changed');
  assert.equal(out.$schema, undefined);
  assert.equal(out.$id, undefined);
  assert.deepEqual(out.$defs.child, { type: 'string' });
  assert.deepEqual(out.properties.$id, before.properties.$id);
  assert.equal(out.properties.child.$ref, '#/components/schemas/x.y.z/$defs/child');
  assert.equal(out.properties.self.$ref, '#/components/schemas/x.y.z');
  assert.equal(out.properties.remote.$ref, 'urn:conveyor:schema:a.b.c:1');
  assert.deepEqual(out.examples, before.examples);
});

test('component references escape JSON Pointer characters', () => {
  assert.equal(componentRef('schemas', 'a/b~c'), '#/components/schemas/a~1b~0c');
});
