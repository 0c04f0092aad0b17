import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import fc from 'fast-check';
import { checkCompatibility, findIncompatibilities } from './compatibility.js';
import '../../test/helpers/seed.js';

type Obj = Record<string, unknown>;

const KEYS = ['a', 'b', 'c'] as const;

/** Each optional keyword present one time in four, so most generated schemas constrain little. */
function sparse(
  required: Record<string, fc.Arbitrary<unknown>>,
  optional: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Obj> {
  const maybe = Object.fromEntries(
    Object.entries(optional).map(([k, arb]) => [
      k,
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 }),
    ]),
  );
  return fc
    .record({ ...required, ...maybe })
    .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)));
}

/** Scalar schemas over a small space, so generated pairs often relate to each other. */
const scalar: fc.Arbitrary<Obj> = fc.oneof(
  sparse(
    { type: fc.constant('string') },
    {
      minLength: fc.integer({ min: 0, max: 3 }),
      maxLength: fc.integer({ min: 1, max: 12 }),
      pattern: fc.constantFrom('^[A-Z]+$', '^a'),
      format: fc.constantFrom('date', 'date-time'),
    },
  ),
  sparse(
    { type: fc.constantFrom('number', 'integer', ['integer', 'null'], ['number', 'string']) },
    {
      minimum: fc.integer({ min: -2, max: 2 }),
      exclusiveMinimum: fc.integer({ min: -2, max: 2 }),
      maximum: fc.integer({ min: 1, max: 12 }),
      exclusiveMaximum: fc.integer({ min: 1, max: 12 }),
      multipleOf: fc.constantFrom(1, 2, 0.5),
    },
  ),
  fc.constant({ type: 'boolean' }),
  fc.record({
    enum: fc.uniqueArray(fc.constantFrom<unknown>('a', 'abc', 'ABC', 0, 1, 2, null), { minLength: 1 }),
  }),
  fc.record({ const: fc.constantFrom<unknown>('a', 1, true) }),
  fc.constant({}),
);

const schema: fc.Arbitrary<Obj> = fc.letrec<{ node: Obj; object: Obj; array: Obj; union: Obj }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    tie('object'),
    tie('array'),
    tie('union'),
  ),
  object: fc.record(
    {
      type: fc.constant('object'),
      properties: fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 3 }),
      required: fc.subarray([...KEYS]),
      additionalProperties: fc.oneof(fc.boolean(), scalar),
      minProperties: fc.integer({ min: 0, max: 2 }),
    },
    { requiredKeys: ['type', 'properties'] },
  ),
  array: fc.record(
    {
      type: fc.constant('array'),
      items: tie('node'),
      minItems: fc.integer({ min: 0, max: 2 }),
      maxItems: fc.integer({ min: 1, max: 4 }),
      uniqueItems: fc.boolean(),
    },
    { requiredKeys: ['type'] },
  ),
  union: fc.record({ anyOf: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
})).node;

/** The same schema with descriptions, titles and examples sprinkled at every level. */
function annotate(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => annotate(v, depth));
  if (value === null || typeof value !== 'object') return value;
  const out: Obj = { title: `level ${depth}`, description: 'annotated', examples: [] };
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'enum' || k === 'const' || k === 'required' || k === 'type' ? v : annotate(v, depth + 1);
  }
  if (out.properties !== undefined) {
    // Property names are not schemas; keep the map itself unannotated.
    const { title: _t, description: _d, examples: _e, ...props } = out.properties as Obj;
    out.properties = props;
  }
  return out;
}

test('any schema is FULL_TRANSITIVE compatible with itself and with a copy of itself', () => {
  fc.assert(
    fc.property(schema, (s) => {
      const result = checkCompatibility(s, [s, structuredClone(s)], 'FULL_TRANSITIVE');
      assert.deepEqual(result.problems, []);
    }),
    { numRuns: 400 },
  );
});

test('changing only annotations is compatible in every direction', () => {
  fc.assert(
    fc.property(schema, (s) => {
      assert.deepEqual(checkCompatibility(annotate(s) as Obj, [s], 'FULL').problems, []);
    }),
    { numRuns: 300 },
  );
});

const objectSchema = fc.record(
  {
    type: fc.constant('object'),
    properties: fc.dictionary(fc.constantFrom(...KEYS), schema, { maxKeys: 3 }),
    required: fc.subarray([...KEYS]),
    additionalProperties: fc.boolean(),
  },
  { requiredKeys: ['type', 'properties', 'required'] },
);

test('adding an optional string property is BACKWARD compatible, and FORWARD unless the old schema is closed', () => {
  fc.assert(
    fc.property(objectSchema, (old) => {
      const next = {
        ...old,
        properties: { ...(old.properties as Obj), added: { type: 'string', maxLength: 20 } },
      };
      assert.deepEqual(checkCompatibility(next, [old], 'BACKWARD').problems, []);
      const forward = checkCompatibility(next, [old], 'FORWARD');
      if (old.additionalProperties === false) {
        assert.deepEqual(
          forward.problems.map((p) => [p.path, p.rule]),
          [['/properties/added', 'property-added-while-closed']],
        );
      } else {
        assert.deepEqual(forward.problems, []);
      }
    }),
    { numRuns: 300 },
  );
});

test('adding a required property is never BACKWARD compatible, and says where', () => {
  fc.assert(
    fc.property(objectSchema, (old) => {
      const next = {
        ...old,
        properties: { ...(old.properties as Obj), added: { type: 'string' } },
        required: [...(old.required as string[]), 'added'],
      };
      const problems = checkCompatibility(next, [old], 'BACKWARD').problems;
      assert.ok(
        problems.some((p) => p.path === '/properties/added' && p.rule === 'property-became-required'),
      );
    }),
    { numRuns: 300 },
  );
});

// Soundness against a real validator: when the checker finds nothing, every instance the writer
// accepts must be accepted by the reader. The one deliberate exception is the open-content-model
// assumption (an undeclared writer field is taken to follow the reader's declaration), so instances
// that use such a field are left out.
const addFormats = formatsModule.default;
const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();
function accepts(s: Obj, value: unknown): boolean {
  const key = JSON.stringify(s);
  let fn = compiled.get(key);
  if (fn === undefined) {
    fn = ajv.compile(s);
    compiled.set(key, fn);
  }
  return fn(value);
}

const property = fc.oneof(scalar, fc.record({ anyOf: fc.array(scalar, { minLength: 1, maxLength: 2 }) }));
// Every writer declares all of KEYS, so instances exercise declared fields rather than extensions.
const flat = fc.record({
  type: fc.constant('object'),
  properties: fc.record({ a: property, b: property, c: property }),
  required: fc.subarray([...KEYS]),
  additionalProperties: fc.oneof(fc.boolean(), scalar),
});

/** One keyword of one property set to a value from the generators' domain, or removed. */
const KEYWORD_EDITS: Record<string, fc.Arbitrary<unknown>> = {
  type: fc.constantFrom('string', 'number', 'integer', 'boolean', ['integer', 'null'], ['number', 'string']),
  minimum: fc.integer({ min: -2, max: 3 }),
  exclusiveMinimum: fc.integer({ min: -2, max: 3 }),
  maximum: fc.integer({ min: 0, max: 12 }),
  exclusiveMaximum: fc.integer({ min: 0, max: 12 }),
  multipleOf: fc.constantFrom(1, 2, 0.5),
  minLength: fc.integer({ min: 0, max: 3 }),
  maxLength: fc.integer({ min: 0, max: 12 }),
  pattern: fc.constantFrom('^[A-Z]+$', '^a'),
  format: fc.constantFrom('date', 'date-time'),
  enum: fc.uniqueArray(fc.constantFrom<unknown>('a', 'abc', 'ABC', 0, 1, 2, null), { minLength: 1 }),
  const: fc.constantFrom<unknown>('a', 1, true),
};

const keywordEdit = fc
  .tuple(fc.constantFrom(...KEYS), fc.constantFrom(...Object.keys(KEYWORD_EDITS)), fc.boolean())
  .chain(([key, keyword, remove]) =>
    (KEYWORD_EDITS[keyword] as fc.Arbitrary<unknown>).map((value): Obj => ({ key, keyword, remove, value })),
  );

const edit = fc.oneof(
  { arbitrary: keywordEdit, weight: 6 },
  { arbitrary: fc.record({ key: fc.constantFrom(...KEYS), toggleRequired: fc.constant(true) }), weight: 1 },
  { arbitrary: fc.record({ additionalProperties: fc.oneof(fc.boolean(), scalar) }), weight: 1 },
);

function applyEdits(writer: Obj, edits: ReadonlyArray<Obj>): Obj {
  const reader = structuredClone(writer) as Obj & { properties: Record<string, Obj>; required: string[] };
  for (const e of edits) {
    if ('additionalProperties' in e) {
      reader.additionalProperties = e.additionalProperties;
    } else if ('toggleRequired' in e) {
      const key = e.key as string;
      reader.required = reader.required.includes(key)
        ? reader.required.filter((k) => k !== key)
        : [...reader.required, key];
    } else {
      const target = { ...(reader.properties[e.key as string] ?? {}) };
      if (e.remove) delete target[e.keyword as string];
      else target[e.keyword as string] = e.value;
      reader.properties[e.key as string] = target;
    }
  }
  return reader;
}

/** A writer and a reader one or two keyword edits apart, so that many pairs are compatible and each
 * verdict turns on the rule for the keyword that changed. */
const pair = fc.oneof(
  { arbitrary: fc.tuple(flat, flat), weight: 1 },
  {
    arbitrary: fc
      .tuple(flat, fc.array(edit, { minLength: 1, maxLength: 2 }))
      .map(([writer, edits]) => [writer, applyEdits(writer, edits)] as const),
    weight: 4,
  },
);

const instance = fc.dictionary(
  fc.constantFrom(...KEYS, 'd'),
  fc.constantFrom<unknown>(
    -1,
    0,
    1,
    2,
    2.5,
    3,
    10,
    12,
    '',
    'a',
    'abc',
    'ABC',
    '2024-06-14',
    '2024-06-14T16:00:00Z',
    true,
    null,
  ),
  { maxKeys: 4 },
);

test('when no incompatibility is found, the reader accepts what the writer accepts', () => {
  let checked = 0;
  fc.assert(
    fc.property(pair, fc.array(instance, { minLength: 8, maxLength: 16 }), ([writer, reader], values) => {
      if (findIncompatibilities(reader, writer).length > 0) return;
      const wProps = writer.properties as Obj;
      const rProps = reader.properties as Obj;
      for (const value of values) {
        const extension =
          writer.additionalProperties !== false &&
          Object.keys(value).some((k) => !(k in wProps) && k in rProps);
        if (extension || !accepts(writer, value)) continue;
        checked++;
        assert.ok(
          accepts(reader, value),
          `reader ${JSON.stringify(reader)} rejects ${JSON.stringify(value)}`,
        );
      }
    }),
    { numRuns: 1500 },
  );
  // Guards against a generator that never produces a compatible pair with a valid instance.
  assert.ok(checked > 100, `only ${checked} instances were actually compared`);
});
