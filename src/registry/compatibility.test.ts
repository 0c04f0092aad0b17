import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonSchemaOf } from '../model/schemas/index.js';
import {
  COMPATIBILITY_MODES,
  type CompatibilityProblem,
  checkCompatibility,
  findIncompatibilities,
  type JsonSchema,
} from './compatibility.js';

type Obj = Record<string, unknown>;

const str = { type: 'string' };
const num = { type: 'number' };
const int = { type: 'integer' };

function object(properties: Obj, required: string[] = [], extra: Obj = {}): Obj {
  return { type: 'object', properties, required, ...extra };
}

/** Deep copy with `edit` applied, so each case reads as "the old schema, changed like this". */
function changed(schema: Obj, edit: (s: Obj & { properties: Record<string, Obj> }) => void): Obj {
  const copy = structuredClone(schema) as Obj & { properties: Record<string, Obj> };
  edit(copy);
  return copy;
}

const order = object(
  {
    orderId: { type: 'string', minLength: 1, maxLength: 40, description: 'ERP order number' },
    quantity: object(
      { value: { type: 'number', minimum: 0 }, uom: { type: 'string', pattern: '^[A-Z0-9]{1,3}$' } },
      ['value', 'uom'],
    ),
    state: { type: 'string', enum: ['running', 'idle', 'down'] },
    priority: int,
    note: str,
    tags: { type: 'array', items: str, maxItems: 10 },
    lines: {
      type: 'array',
      items: object({ material: str, quantity: object({ value: num, uom: str }, ['value']) }, [
        'material',
        'quantity',
      ]),
    },
  },
  ['orderId', 'quantity', 'state'],
);

const canonicalState = jsonSchemaOf('telemetry.machine.state') as Obj;
const canonicalOrder = jsonSchemaOf('production.order.released') as Obj;

interface Expect {
  readonly path: string;
  readonly rule: string;
}

interface Case {
  readonly name: string;
  readonly old: Obj;
  readonly next: Obj;
  readonly backward: boolean;
  readonly forward: boolean;
  /** The first problem expected in each direction, when that direction fails. */
  readonly backwardProblem?: Expect;
  readonly forwardProblem?: Expect;
}

const CASES: Case[] = [
  {
    name: 'add an optional property (open content model)',
    old: order,
    next: changed(order, (s) => {
      s.properties.shift = str;
    }),
    backward: true,
    forward: true,
  },
  {
    name: 'add an optional property when the old schema was closed',
    old: changed(order, (s) => {
      s.additionalProperties = false;
    }),
    next: changed(order, (s) => {
      s.additionalProperties = false;
      s.properties.shift = str;
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/shift', rule: 'property-added-while-closed' },
  },
  {
    name: 'add a required property',
    old: order,
    next: changed(order, (s) => {
      s.properties.plant = str;
      (s.required as string[]).push('plant');
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/plant', rule: 'property-became-required' },
  },
  {
    name: 'remove an optional property',
    old: order,
    next: changed(order, (s) => {
      delete s.properties.note;
    }),
    backward: true,
    forward: true,
  },
  {
    name: 'remove an optional property and close the content model',
    old: order,
    next: changed(order, (s) => {
      delete s.properties.note;
      s.additionalProperties = false;
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/note', rule: 'property-removed-while-closed' },
  },
  {
    name: 'remove a required property',
    old: order,
    next: changed(order, (s) => {
      delete s.properties.state;
      s.required = ['orderId', 'quantity'];
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/state', rule: 'required-property-removed' },
  },
  {
    name: 'make an optional property required',
    old: order,
    next: changed(order, (s) => {
      (s.required as string[]).push('priority');
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/priority', rule: 'property-became-required' },
  },
  {
    name: 'make a required property optional',
    old: order,
    next: changed(order, (s) => {
      s.required = ['orderId', 'quantity'];
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/state', rule: 'property-no-longer-required' },
  },
  {
    name: 'widen a type (integer → number)',
    old: order,
    next: changed(order, (s) => {
      s.properties.priority = num;
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/priority', rule: 'type-widened' },
  },
  {
    name: 'narrow a type (number → integer)',
    old: order,
    next: changed(order, (s) => {
      (s.properties.quantity as { properties: Obj }).properties.value = { type: 'integer', minimum: 0 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/quantity/properties/value', rule: 'type-narrowed' },
  },
  {
    name: 'change a type (string → number)',
    old: order,
    next: changed(order, (s) => {
      s.properties.note = num;
    }),
    backward: false,
    forward: false,
    backwardProblem: { path: '/properties/note', rule: 'type-changed' },
    forwardProblem: { path: '/properties/note', rule: 'type-changed' },
  },
  {
    name: 'make a type nullable',
    old: order,
    next: changed(order, (s) => {
      s.properties.note = { type: ['string', 'null'] };
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/note', rule: 'type-widened' },
  },
  {
    name: 'add an enum value',
    old: order,
    next: changed(order, (s) => {
      s.properties.state = { type: 'string', enum: ['running', 'idle', 'down', 'setup'] };
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/state', rule: 'enum-value-added' },
  },
  {
    name: 'remove an enum value',
    old: order,
    next: changed(order, (s) => {
      s.properties.state = { type: 'string', enum: ['running', 'down'] };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/state', rule: 'enum-value-removed' },
  },
  {
    name: 'restrict a free string to an enum',
    old: order,
    next: changed(order, (s) => {
      s.properties.note = { type: 'string', enum: ['urgent', 'normal'] };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/note', rule: 'enum-added' },
  },
  {
    name: 'raise a minimum',
    old: order,
    next: changed(order, (s) => {
      (s.properties.quantity as { properties: Obj }).properties.value = { type: 'number', minimum: 1 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/quantity/properties/value', rule: 'minimum-raised' },
  },
  {
    name: 'lower a minimum',
    old: order,
    next: changed(order, (s) => {
      (s.properties.quantity as { properties: Obj }).properties.value = { type: 'number', minimum: -10 };
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/quantity/properties/value', rule: 'minimum-lowered' },
  },
  {
    name: 'make a minimum exclusive (>= 0 → > 0)',
    old: order,
    next: changed(order, (s) => {
      (s.properties.quantity as { properties: Obj }).properties.value = {
        type: 'number',
        exclusiveMinimum: 0,
      };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/quantity/properties/value', rule: 'minimum-raised' },
  },
  {
    name: 'add a maximum',
    old: order,
    next: changed(order, (s) => {
      s.properties.priority = { type: 'integer', maximum: 9 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/priority', rule: 'maximum-added' },
  },
  {
    name: 'lower a maximum (maxItems)',
    old: order,
    next: changed(order, (s) => {
      s.properties.tags = { type: 'array', items: str, maxItems: 5 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/tags', rule: 'max-items-lowered' },
  },
  {
    name: 'add maxLength',
    old: order,
    next: changed(order, (s) => {
      s.properties.note = { type: 'string', maxLength: 200 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/note', rule: 'max-length-added' },
  },
  {
    name: 'remove maxLength',
    old: order,
    next: changed(order, (s) => {
      s.properties.orderId = { type: 'string', minLength: 1 };
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/orderId', rule: 'max-length-removed' },
  },
  {
    name: 'raise minLength',
    old: order,
    next: changed(order, (s) => {
      s.properties.orderId = { type: 'string', minLength: 8, maxLength: 40 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/orderId', rule: 'min-length-raised' },
  },
  {
    name: 'change a pattern',
    old: order,
    next: changed(order, (s) => {
      (s.properties.quantity as { properties: Obj }).properties.uom = {
        type: 'string',
        pattern: '^[A-Z]{2,3}$',
      };
    }),
    backward: false,
    forward: false,
    backwardProblem: { path: '/properties/quantity/properties/uom', rule: 'pattern-changed' },
    forwardProblem: { path: '/properties/quantity/properties/uom', rule: 'pattern-changed' },
  },
  {
    name: 'add a format',
    old: order,
    next: changed(order, (s) => {
      s.properties.note = { type: 'string', format: 'date-time' };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/note', rule: 'format-added' },
  },
  {
    name: 'close additionalProperties',
    old: order,
    next: changed(order, (s) => {
      s.additionalProperties = false;
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '', rule: 'additional-properties-closed' },
  },
  {
    name: 'open additionalProperties',
    old: changed(order, (s) => {
      s.additionalProperties = false;
    }),
    next: order,
    backward: true,
    forward: false,
    forwardProblem: { path: '', rule: 'additional-properties-opened' },
  },
  {
    name: 'change the type of array items',
    old: order,
    next: changed(order, (s) => {
      s.properties.tags = { type: 'array', items: int, maxItems: 10 };
    }),
    backward: false,
    forward: false,
    backwardProblem: { path: '/properties/tags/items', rule: 'type-changed' },
    forwardProblem: { path: '/properties/tags/items', rule: 'type-changed' },
  },
  {
    name: 'require a field of an object inside an array',
    old: order,
    next: changed(order, (s) => {
      const line = (s.properties.lines as { items: { properties: { quantity: { required: string[] } } } })
        .items;
      line.properties.quantity.required.push('uom');
    }),
    backward: false,
    forward: true,
    backwardProblem: {
      path: '/properties/lines/items/properties/quantity/properties/uom',
      rule: 'property-became-required',
    },
  },
  {
    name: 'change a const',
    old: object({ kind: { const: 'order' } }, ['kind']),
    next: object({ kind: { const: 'job' } }, ['kind']),
    backward: false,
    forward: false,
    backwardProblem: { path: '/properties/kind', rule: 'const-changed' },
    forwardProblem: { path: '/properties/kind', rule: 'const-changed' },
  },
  {
    name: 'change only descriptions, titles and examples',
    old: order,
    next: changed(order, (s) => {
      s.title = 'Order';
      s.description = 'A production order.';
      s.examples = [{ orderId: '1' }];
      s.properties.orderId = {
        ...s.properties.orderId,
        description: 'ISA-95 job order id',
        'x-owner': 'erp',
      };
    }),
    backward: true,
    forward: true,
  },
  {
    name: 'change a $defs entry that a $ref points to',
    old: { ...object({ value: { $ref: '#/$defs/amount' } }, ['value']), $defs: { amount: num } },
    next: { ...object({ value: { $ref: '#/$defs/amount' } }, ['value']), $defs: { amount: int } },
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/value', rule: 'type-narrowed' },
  },
  {
    name: 'move an inline schema into $defs unchanged',
    old: order,
    next: changed(order, (s) => {
      s.$defs = { qty: s.properties.quantity };
      s.properties.quantity = { $ref: '#/$defs/qty', description: 'How many' };
    }),
    backward: true,
    forward: true,
  },
  {
    name: 'add minItems',
    old: order,
    next: changed(order, (s) => {
      s.properties.lines = { ...s.properties.lines, minItems: 1 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/lines', rule: 'min-items-added' },
  },
  {
    name: 'require unique items',
    old: order,
    next: changed(order, (s) => {
      s.properties.tags = { ...s.properties.tags, uniqueItems: true };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/tags', rule: 'unique-items-added' },
  },
  {
    name: 'add an anyOf alternative',
    old: object({
      at: {
        anyOf: [
          { type: 'string', format: 'date' },
          { type: 'string', format: 'date-time' },
        ],
      },
    }),
    next: object({
      at: { anyOf: [{ type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }, int] },
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/at', rule: 'any-of-widened' },
  },
  {
    name: 'remove an anyOf alternative',
    old: object({
      at: {
        anyOf: [
          { type: 'string', format: 'date' },
          { type: 'string', format: 'date-time' },
        ],
      },
    }),
    next: object({ at: { anyOf: [{ type: 'string', format: 'date-time' }] } }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/at', rule: 'any-of-narrowed' },
  },
  {
    name: 'add a variant to a discriminated oneOf',
    old: object({
      source: {
        oneOf: [object({ kind: { const: 'mes' } }, ['kind']), object({ kind: { const: 'erp' } }, ['kind'])],
      },
    }),
    next: object({
      source: {
        oneOf: [
          object({ kind: { const: 'mes' } }, ['kind']),
          object({ kind: { const: 'erp' } }, ['kind']),
          object({ kind: { const: 'plc' } }, ['kind']),
        ],
      },
    }),
    backward: true,
    forward: false,
    forwardProblem: { path: '/properties/source', rule: 'one-of-widened' },
  },
  {
    name: 'add a multipleOf',
    old: order,
    next: changed(order, (s) => {
      s.properties.priority = { type: 'integer', multipleOf: 10 };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/priority', rule: 'multiple-of-added' },
  },
  {
    name: 'canonical: add an optional field to production.order.released',
    old: canonicalOrder,
    next: changed(canonicalOrder, (s) => {
      s.properties.priority = { type: 'integer', minimum: 1, maximum: 9, description: 'ERP order priority' };
    }),
    backward: true,
    forward: true,
  },
  {
    name: 'canonical: drop a machine state',
    old: canonicalState,
    next: changed(canonicalState, (s) => {
      s.properties.state = { type: 'string', enum: ['running', 'idle', 'down', 'unknown'] };
    }),
    backward: false,
    forward: true,
    backwardProblem: { path: '/properties/state', rule: 'enum-value-removed' },
  },
];

test(`the table has at least 30 cases (${CASES.length})`, () => {
  assert.ok(CASES.length >= 30);
});

for (const c of CASES) {
  test(`compatibility: ${c.name}`, () => {
    const backward = checkCompatibility(c.next, [c.old], 'BACKWARD');
    const forward = checkCompatibility(c.next, [c.old], 'FORWARD');
    const full = checkCompatibility(c.next, [c.old], 'FULL');
    const describe = (problems: readonly CompatibilityProblem[]) =>
      problems.map((p) => `${p.rule} ${p.message}`);
    assert.equal(backward.compatible, c.backward, `BACKWARD: ${describe(backward.problems)}`);
    assert.equal(forward.compatible, c.forward, `FORWARD: ${describe(forward.problems)}`);
    assert.equal(full.compatible, c.backward && c.forward, `FULL: ${describe(full.problems)}`);
    assert.equal(backward.problems.length === 0, backward.compatible);
    for (const p of backward.problems) assert.equal(p.direction, 'backward');
    for (const p of forward.problems) assert.equal(p.direction, 'forward');
    // FULL reports exactly what the two directions report.
    assert.equal(full.problems.length, backward.problems.length + forward.problems.length);
    if (c.backwardProblem) {
      assert.deepEqual(
        { path: backward.problems[0]?.path, rule: backward.problems[0]?.rule },
        c.backwardProblem,
        describe(backward.problems).join('\n'),
      );
    }
    if (c.forwardProblem) {
      assert.deepEqual(
        { path: forward.problems[0]?.path, rule: forward.problems[0]?.rule },
        c.forwardProblem,
        describe(forward.problems).join('\n'),
      );
    }
  });
}

test('explanations name the path, what changed and what would fail', () => {
  const next = changed(order, (s) => {
    (s.required as string[]).push('priority');
    (s.properties.quantity as { properties: Obj }).properties.value = { type: 'number', minimum: 5 };
  });
  const { problems } = checkCompatibility(next, [order], 'FULL');
  assert.deepEqual(
    problems.map((p) => p.message),
    [
      '`/properties/priority` became required: old events without it would fail',
      '`/properties/quantity/properties/value` minimum raised from >= 0 to >= 5: old events with values below 5 would fail',
    ],
  );
  const forward = checkCompatibility(order, [next], 'FORWARD').problems;
  assert.deepEqual(
    forward.map((p) => [p.rule, p.message]),
    [
      [
        'property-no-longer-required',
        '`/properties/priority` is no longer required: new events without it would fail for consumers still on the old schema',
      ],
      [
        'minimum-lowered',
        '`/properties/quantity/properties/value` minimum lowered from >= 5 to >= 0: new events with values below 5 would fail for consumers still on the old schema',
      ],
    ],
  );
  const enumChange = checkCompatibility(
    changed(order, (s) => {
      s.properties.state = { type: 'string', enum: ['running', 'down'] };
    }),
    [order],
  ).problems[0];
  assert.equal(
    enumChange?.message,
    '`/properties/state` no longer allows "idle": old events with "idle" would fail',
  );
});

// Three versions where the last step is fine but an earlier version conflicts.
const v1 = object({ orderId: str, priority: { type: 'integer', minimum: 0 } }, ['orderId']);
const v2 = object({ orderId: str }, ['orderId']);
const v3 = object({ orderId: str, priority: { type: 'string' } }, ['orderId']);

test('transitive modes check every earlier version, plain modes only the latest', () => {
  for (const mode of ['BACKWARD', 'FORWARD', 'FULL'] as const) {
    assert.equal(checkCompatibility(v3, [v1, v2], mode).compatible, true, mode);
    const transitive = checkCompatibility(v3, [v1, v2], `${mode}_TRANSITIVE`);
    assert.equal(transitive.compatible, false, `${mode}_TRANSITIVE`);
    assert.ok(transitive.problems.every((p) => p.against === 0 && p.path === '/properties/priority'));
  }
  const backward = checkCompatibility(v3, [v1, v2], 'BACKWARD_TRANSITIVE').problems;
  assert.deepEqual(
    backward.map((p) => [p.rule, p.direction]),
    [['type-changed', 'backward']],
  );
  assert.equal(
    backward[0]?.message,
    '`/properties/priority` type changed from integer to string: old events with integer values there would fail',
  );
});

test('transitive problems against the latest version come first, each naming its version', () => {
  const w1 = object({ note: { type: 'string', maxLength: 100 } });
  const w2 = object({ note: { type: 'string', maxLength: 50 } });
  const w3 = object({ note: { type: 'string', maxLength: 10 } });
  const { problems } = checkCompatibility(w3, [w1, w2], 'BACKWARD_TRANSITIVE');
  assert.deepEqual(
    problems.map((p) => [p.against, p.rule, p.message]),
    [
      [
        1,
        'max-length-lowered',
        '`/properties/note` maxLength lowered from 50 to 10: old events with more than 10 characters there would fail',
      ],
      [
        0,
        'max-length-lowered',
        '`/properties/note` maxLength lowered from 100 to 10: old events with more than 10 characters there would fail',
      ],
    ],
  );
});

test('NONE accepts anything; no earlier version means nothing to break', () => {
  const breaking = object({ orderId: num, plant: str }, ['orderId', 'plant'], {
    additionalProperties: false,
  });
  assert.deepEqual(checkCompatibility(breaking, [order, v1], 'NONE'), {
    compatible: true,
    mode: 'NONE',
    problems: [],
  });
  for (const mode of COMPATIBILITY_MODES) {
    assert.equal(checkCompatibility(breaking, [], mode).compatible, true, mode);
  }
  assert.equal(checkCompatibility(breaking, [order]).mode, 'BACKWARD');
  assert.throws(
    () => checkCompatibility(order, [order], 'SIDEWAYS' as never),
    /unknown compatibility mode SIDEWAYS/,
  );
});

test('findIncompatibilities speaks of reader and writer', () => {
  assert.deepEqual(findIncompatibilities(order, order), []);
  const [problem, ...rest] = findIncompatibilities(object({ a: int }, ['a']), object({ a: num }));
  assert.equal(rest.length, 1);
  assert.deepEqual(problem, {
    path: '/properties/a',
    rule: 'property-became-required',
    message:
      '`/properties/a` is required by the reader but optional for the writer: data valid under the writer schema without it would fail under the reader schema',
  });
  assert.equal(rest[0]?.rule, 'type-narrowed');
  // Boolean schemas: true reads anything; nothing reads into false but false writes nothing.
  assert.deepEqual(findIncompatibilities(true, order), []);
  assert.deepEqual(findIncompatibilities(order, false), []);
  assert.equal(findIncompatibilities(false, order)[0]?.rule, 'schema-became-false');
});

test('listed writer values are checked one by one against reader constraints', () => {
  assert.deepEqual(findIncompatibilities({ type: 'string', maxLength: 5 }, { enum: ['idle', 'down'] }), []);
  assert.deepEqual(
    findIncompatibilities({ type: 'string', maxLength: 5 }, { enum: ['idle', 'stopped'] }).map((p) => p.rule),
    ['max-length-rejects-value'],
  );
  assert.deepEqual(findIncompatibilities({ type: 'integer', minimum: 1 }, { const: 3 }), []);
  assert.deepEqual(
    findIncompatibilities({ type: 'integer' }, { enum: [1, 2.5] }).map((p) => p.rule),
    ['type-narrowed'],
  );
});

test('oneOf alternatives that may overlap are reported; disjoint ones are not', () => {
  const writer = { type: 'string', maxLength: 3 };
  const overlapping = { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 10 }] };
  assert.deepEqual(
    findIncompatibilities(overlapping, writer).map((p) => p.rule),
    ['one-of-ambiguous'],
  );
  const disjoint = { oneOf: [{ type: 'string' }, { type: 'number' }] };
  assert.deepEqual(findIncompatibilities(disjoint, writer), []);
});

test('a reference to a missing definition is a problem, not a crash', () => {
  const broken = object({ a: { $ref: '#/$defs/missing' } });
  assert.equal(findIncompatibilities(broken, object({ a: str }))[0]?.rule, 'unresolvable-ref');
  assert.equal(findIncompatibilities(object({ a: str }), broken)[0]?.rule, 'unresolvable-ref');
});

test('recursive schemas are compared without looping', () => {
  const tree = (leaf: Obj): JsonSchema => ({
    $defs: { node: object({ value: leaf, children: { type: 'array', items: { $ref: '#/$defs/node' } } }) },
    $ref: '#/$defs/node',
  });
  assert.deepEqual(findIncompatibilities(tree(num), tree(int)), []);
  assert.deepEqual(
    findIncompatibilities(tree(int), tree(num)).map((p) => [p.path, p.rule]),
    [['/properties/value', 'type-narrowed']],
  );
});

test('keywords without a dedicated rule must not change', () => {
  const reader = object({ code: { type: 'string', not: { const: 'X' } } });
  assert.deepEqual(findIncompatibilities(reader, structuredClone(reader)), []);
  assert.deepEqual(
    findIncompatibilities(reader, object({ code: str })).map((p) => [p.path, p.rule]),
    [['/properties/code', 'unsupported-keyword-changed']],
  );
});

test('a reader with both const and enum allows only values satisfying both', () => {
  const writer = { type: 'object', properties: { c: { const: 'a' } } };
  const reader = { type: 'object', properties: { c: { const: 'a', enum: ['abc'] } } };
  assert.ok(findIncompatibilities(reader, writer).length > 0, 'the reader accepts no value at all for c');
  assert.deepEqual(
    findIncompatibilities(writer, reader),
    [],
    'a writer that can produce nothing is readable by anyone',
  );
});

test("a new pattern is tried on the old schema's listed values in linear time", () => {
  // The first call pays the engine's one-time start-up; the bound is about the inputs.
  findIncompatibilities({ type: 'string', pattern: '^(a+)+$' }, { type: 'string', enum: ['aaaa'] });
  for (const length of [26, 10_000]) {
    const started = performance.now();
    const problems = findIncompatibilities(
      { type: 'string', pattern: '^(a+)+$' },
      { type: 'string', enum: ['aaaa', `${'a'.repeat(length)}!`] },
    );
    const ms = performance.now() - started;
    assert.ok(ms < 100, `${length} characters took ${ms.toFixed(0)} ms`);
    assert.equal(problems.length, 1, JSON.stringify(problems).slice(0, 300));
    assert.match(problems[0]?.message ?? '', /pattern/);
  }
});
