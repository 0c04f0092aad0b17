import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CANONICAL_SCHEMAS_V1, jsonSchemaOf } from '../model/schemas/index.js';
import { validateSchemaDocument } from './schema-document.js';

test('every canonical schema is a valid schema document', () => {
  for (const type of CANONICAL_SCHEMAS_V1.keys()) {
    assert.deepEqual(validateSchemaDocument(jsonSchemaOf(type)), [], type);
  }
});

test('a schema that is not a JSON object is refused', () => {
  for (const bad of [null, 'object', 42, [], true]) {
    assert.match(validateSchemaDocument(bad)[0]?.message ?? '', /must be a JSON object/, JSON.stringify(bad));
  }
});

test('remote references are refused with the reason, never fetched', () => {
  const problems = validateSchemaDocument({
    type: 'object',
    properties: {
      a: { $ref: 'https://schemas.example.com/quantity.json' },
      b: { type: 'array', items: { $ref: 'common.json#/$defs/lot' } },
    },
  });
  assert.deepEqual(
    problems.map((p) => p.path),
    ['/properties/a/$ref', '/properties/b/items/$ref'],
  );
  for (const p of problems) {
    assert.match(
      p.message,
      /remote reference: Conveyor never fetches remote schemas; copy the definition under \$defs/,
    );
  }
});

test('local references must lead somewhere, by JSON Pointer', () => {
  assert.deepEqual(
    validateSchemaDocument({ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }),
    [{ path: '/properties/a/$ref', message: '#/$defs/missing does not point to anything in this schema' }],
  );
  assert.match(
    validateSchemaDocument({ $defs: { q: { $anchor: 'q', type: 'number' } }, $ref: '#q' })[0]?.message ?? '',
    /anchor reference; refer by JSON Pointer instead, e.g. #\/\$defs\/q/,
  );
});

test('circular references are refused, naming the cycle', () => {
  const selfRecursive = {
    $defs: {
      node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/$defs/node' } } } },
    },
    $ref: '#/$defs/node',
  };
  assert.deepEqual(validateSchemaDocument(selfRecursive), [
    {
      path: '/$defs/node/properties/children/items/$ref',
      message:
        'circular $ref: #/$defs/node → #/$defs/node; recursive schemas are not supported, spell out the nesting to a fixed depth',
    },
  ]);
  const twoStep = { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, type: 'object' };
  const [problem, ...rest] = validateSchemaDocument(twoStep);
  assert.equal(rest.length, 0, 'one cycle, reported once');
  assert.match(
    problem?.message ?? '',
    /circular \$ref: #\/\$defs\/(a|b) → #\/\$defs\/(a|b) → #\/\$defs\/(a|b)/,
  );
  assert.match(
    validateSchemaDocument({ type: 'object', properties: { again: { $ref: '#' } } })[0]?.message ?? '',
    /circular \$ref: # → #/,
  );
});

test('shared, non-circular references are fine', () => {
  const schema = {
    type: 'object',
    $defs: {
      quantity: { type: 'object', properties: { value: { type: 'number' }, uom: { $ref: '#/$defs/uom' } } },
      uom: { type: 'string', pattern: '^[A-Z0-9]{1,3}$' },
    },
    properties: {
      good: { $ref: '#/$defs/quantity' },
      scrap: { $ref: '#/$defs/quantity' },
      lines: { type: 'array', items: { type: 'object', properties: { q: { $ref: '#/$defs/quantity' } } } },
    },
  };
  assert.deepEqual(validateSchemaDocument(schema), []);
});

test("Ajv's strict mode and the meta-schema decide the rest", () => {
  assert.deepEqual(validateSchemaDocument({ type: 'object', properties: { a: { type: 'text' } } }), [
    {
      path: '/properties/a/type',
      message: 'must be one of: array, boolean, integer, null, number, object, string, or an array',
    },
  ]);
  assert.deepEqual(validateSchemaDocument({ type: 'object', requierd: ['a'] }), [
    { path: '', message: 'strict mode: unknown keyword: "requierd"' },
  ]);
  assert.match(
    validateSchemaDocument({ type: 'object', properties: { a: { minimum: 0 } } })[0]?.message ?? '',
    /strict mode: missing type "number" for keyword "minimum"/,
  );
});

test('only the 2020-12 dialect, and no nested $id', () => {
  assert.deepEqual(
    validateSchemaDocument({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }),
    [
      {
        path: '/$schema',
        message:
          'only JSON Schema 2020-12 is supported: remove $schema or set it to https://json-schema.org/draft/2020-12/schema',
      },
    ],
  );
  assert.match(
    validateSchemaDocument({ type: 'object', properties: { a: { $id: 'urn:x', type: 'string' } } })[0]
      ?.path ?? '',
    /^\/properties\/a\/\$id$/,
  );
});

test('checking the same document twice gives the same answer (nothing is left registered)', () => {
  const schema = {
    $id: 'urn:conveyor:schema:custom.thing:1',
    type: 'object',
    properties: { a: { type: 'string' } },
  };
  assert.deepEqual(validateSchemaDocument(schema), []);
  assert.deepEqual(validateSchemaDocument(schema), []);
});

test('a $ref-like key inside const or examples is data, not a reference', () => {
  assert.deepEqual(
    validateSchemaDocument({
      type: 'object',
      const: { $ref: 'https://example.com' },
      examples: [{ $ref: '#/nowhere' }],
    }),
    [],
  );
});

test('a pattern the linear-time engine cannot run is refused where it is, saying why', () => {
  assert.deepEqual(
    validateSchemaDocument({
      type: 'object',
      properties: {
        code: { type: 'string', pattern: '^(?!X)[A-Z]+$' },
        pair: { type: 'string', pattern: '^(a)\\1$' },
      },
      patternProperties: { '^x-(?=y)': { type: 'string' } },
    }).map((p) => [p.path, p.message.split(':')[0]]),
    [
      ['/patternProperties/^x-(?=y)', 'pattern "^x-(?=y)" cannot be used'],
      ['/properties/code/pattern', 'pattern "^(?!X)[A-Z]+$" cannot be used'],
      ['/properties/pair/pattern', 'pattern "^(a)\\1$" cannot be used'],
    ],
  );
  assert.match(
    validateSchemaDocument({ type: 'string', pattern: '(?<n>a)\\k<n>' })[0]?.message ?? '',
    /backreferences are not supported/,
  );
  assert.deepEqual(validateSchemaDocument({ type: 'string', pattern: '^\\\\k$' }), []);
  assert.match(
    validateSchemaDocument({ type: 'string', pattern: 'a(?=b)' })[0]?.message ?? '',
    /lookahead and lookbehind are not supported/,
  );
});

test('a property name that a backtracking pattern would choke on is checked in linear time', () => {
  // The first check pays for building the meta-schema validator; the bound is about the pattern.
  validateSchemaDocument({ type: 'object', patternProperties: { '^x-': { type: 'string' } } });
  const started = performance.now();
  const problems = validateSchemaDocument({
    type: 'object',
    properties: { [`${'a'.repeat(26)}!`]: { type: 'string' } },
    patternProperties: { '^(a+)+$': { type: 'string' } },
  });
  const ms = performance.now() - started;
  assert.deepEqual(problems, []);
  assert.ok(ms < 100, `took ${ms.toFixed(0)} ms`);
});
