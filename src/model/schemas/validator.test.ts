import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CANONICAL_SCHEMAS_V1 } from './index.js';
import { createDataValidator, UnknownSchemaError } from './validator.js';

const validator = createDataValidator();

/** A valid value of each format the canonical schemas and schema authors use. */
const FORMAT_EXAMPLES: Record<string, string> = {
  'date-time': '2026-03-01T08:00:00Z',
  date: '2026-03-01',
  time: '08:00:00Z',
  duration: 'PT15M',
  email: 'qa@example.com',
  uri: 'https://example.com/a?b=c',
  'uri-reference': '/plants/P1/mes',
  uuid: '3f2c9a4e-8d1b-4c2a-9e7f-0a1b2c3d4e5f',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  hostname: 'mes.example.com',
};

function exampleOf(type: string): Record<string, unknown> {
  const example = CANONICAL_SCHEMAS_V1.get(type)?.examples?.[0];
  assert.ok(example, `no example for ${type}`);
  return structuredClone(example);
}

test('every example is valid', () => {
  for (const type of CANONICAL_SCHEMAS_V1.keys()) {
    assert.deepEqual(validator.validate(type, 1, exampleOf(type)), [], type);
  }
});

test('removing any required field fails with its path', () => {
  for (const [type, schema] of CANONICAL_SCHEMAS_V1) {
    const required = schema.required as string[];
    assert.ok(required.length >= 3, type);
    for (const field of required) {
      const data = exampleOf(type);
      delete data[field];
      assert.deepEqual(
        validator.validate(type, 1, data),
        [{ path: `/data/${field}`, message: 'is required' }],
        `${type} ${field}`,
      );
    }
  }
});

test('removing a required field inside a nested object or array item fails with the full path', () => {
  const order = exampleOf('production.order.released') as {
    quantity: Record<string, unknown>;
    routing: object[];
  };
  delete order.quantity.uom;
  delete (order.routing[1] as Record<string, unknown>).workCenter;
  assert.deepEqual(validator.validate('production.order.released', 1, order), [
    { path: '/data/quantity/uom', message: 'is required' },
    { path: '/data/routing/1/workCenter', message: 'is required' },
  ]);
  const shipment = exampleOf('logistics.shipment.confirmed') as { lines: Record<string, unknown>[] };
  delete shipment.lines[0]?.lots;
  assert.deepEqual(validator.validate('logistics.shipment.confirmed', 1, shipment), [
    { path: '/data/lines/0/lots', message: 'is required' },
  ]);
});

test('a negative quantity fails at its value', () => {
  const data = exampleOf('production.material.consumed');
  data.quantity = { value: -84.5, uom: 'KG' };
  assert.deepEqual(validator.validate('production.material.consumed', 1, data), [
    { path: '/data/quantity/value', message: 'must be >= 0' },
  ]);
  const line = exampleOf('logistics.shipment.confirmed') as { lines: Array<{ quantity: { value: number } }> };
  (line.lines[0] as { quantity: { value: number } }).quantity.value = -1;
  assert.deepEqual(validator.validate('logistics.shipment.confirmed', 1, line), [
    { path: '/data/lines/0/quantity/value', message: 'must be >= 0' },
  ]);
});

test('a value outside an enum lists the allowed values', () => {
  assert.deepEqual(
    validator.validate('telemetry.machine.state', 1, {
      ...exampleOf('telemetry.machine.state'),
      state: 'RUNNING',
    }),
    [{ path: '/data/state', message: 'must be one of: running, idle, down, setup, unknown' }],
  );
  assert.deepEqual(
    validator.validate('quality.disposition.decided', 1, {
      ...exampleOf('quality.disposition.decided'),
      disposition: 'keep',
    }),
    [{ path: '/data/disposition', message: 'must be one of: use-as-is, rework, scrap, return-to-supplier' }],
  );
});

test('format, pattern and shape problems say what a valid value looks like', () => {
  const data = {
    ...exampleOf('production.order.released'),
    plant: 'plant one',
    quantity: { value: 5, uom: 'pieces' },
    dueDate: 'next friday',
    routing: 'see ERP',
  };
  assert.deepEqual(validator.validate('production.order.released', 1, data), [
    {
      path: '/data/plant',
      message: 'must match the pattern ^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$, for example P1',
    },
    {
      path: '/data/quantity/uom',
      message: 'must match the pattern ^[A-Z0-9]{1,3}$, for example EA, KG or M',
    },
    {
      path: '/data/dueDate',
      message:
        'must be an RFC 3339 date (YYYY-MM-DD), for example 2024-06-14, or an RFC 3339 date-time with an offset, for example 2024-06-14T16:00:00+02:00',
    },
    { path: '/data/routing', message: 'must be an array' },
  ]);
  assert.deepEqual(
    validator.validate('telemetry.machine.counter', 1, {
      ...exampleOf('telemetry.machine.counter'),
      at: '2024-06-12 12:31',
    }),
    [
      {
        path: '/data/at',
        message: 'must be an RFC 3339 date-time with an offset, for example 2024-05-01T08:00:00Z',
      },
    ],
  );
  assert.deepEqual(
    validator.validate('quality.hold.placed', 1, { ...exampleOf('quality.hold.placed'), lots: [] }),
    [{ path: '/data/lots', message: 'must have at least one item' }],
  );
  assert.deepEqual(
    validator.validate('maintenance.downtime.ended', 1, {
      ...exampleOf('maintenance.downtime.ended'),
      equipmentId: '',
    }),
    [{ path: '/data/equipmentId', message: 'must not be empty' }],
  );
  assert.deepEqual(validator.validate('maintenance.downtime.ended', 1, 'PRESS-07 down'), [
    { path: '/data', message: 'must be an object' },
  ]);
});

test('business dates accept an RFC 3339 date or date-time, nothing else', () => {
  for (const [dueDate, ok] of [
    ['2024-06-14', true],
    ['2024-06-14T16:00:00+02:00', true],
    ['2024-06-14T16:00:00', false],
    ['2024-02-30', false],
    ['14.06.2024', false],
  ] as const) {
    const problems = validator.validate('production.order.released', 1, {
      ...exampleOf('production.order.released'),
      dueDate,
    });
    assert.equal(problems.length === 0, ok, dueDate);
  }
});

test('fields beyond the declared ones are allowed (open content model)', () => {
  const data = { ...exampleOf('production.scrap.reported'), shift: 'B', operatorBadge: 4471 };
  assert.deepEqual(validator.validate('production.scrap.reported', 1, data), []);
});

test('a schema is compiled once and the same function serves every call', () => {
  const fresh = createDataValidator();
  const first = fresh.compiled('telemetry.machine.counter', 1);
  for (let i = 0; i < 100; i++) {
    fresh.validate('telemetry.machine.counter', 1, { ...exampleOf('telemetry.machine.counter'), value: i });
  }
  assert.equal(fresh.compiled('telemetry.machine.counter', 1), first);
  // The failing call leaves its errors on that very function, so validate() went through it.
  fresh.validate('telemetry.machine.counter', 1, {});
  assert.ok(first.errors && first.errors.length > 0);
});

test('an unknown type or version throws UnknownSchemaError', () => {
  assert.equal(validator.has('telemetry.machine.state', 1), true);
  assert.equal(validator.has('telemetry.machine.state', 2), false);
  assert.throws(() => validator.validate('telemetry.machine.state', 2, {}), UnknownSchemaError);
  assert.throws(
    () => validator.validate('no.such.type', 1, {}),
    /no schema is registered for event type no\.such\.type version 1/,
  );
});

test('schemas registered at runtime validate, with local $defs references', () => {
  const fresh = createDataValidator();
  const v2 = {
    type: 'object',
    $defs: {
      qty: { type: 'object', properties: { value: { type: 'number', minimum: 0 } }, required: ['value'] },
    },
    properties: { 'a/b': { type: 'string' }, quantity: { $ref: '#/$defs/qty' } },
    required: ['a/b', 'quantity'],
  };
  fresh.register('telemetry.machine.state', 2, v2);
  assert.equal(fresh.has('telemetry.machine.state', 2), true);
  assert.deepEqual(fresh.validate('telemetry.machine.state', 2, { 'a/b': 'x', quantity: { value: 1 } }), []);
  assert.deepEqual(fresh.validate('telemetry.machine.state', 2, { quantity: { value: -1 } }), [
    { path: '/data/a~1b', message: 'is required' },
    { path: '/data/quantity/value', message: 'must be >= 0' },
  ]);
  // Version 1 is untouched.
  assert.deepEqual(fresh.validate('telemetry.machine.state', 1, exampleOf('telemetry.machine.state')), []);
  // The same document again is fine; a different one under the same version is not.
  fresh.register('telemetry.machine.state', 2, structuredClone(v2));
  assert.throws(() => fresh.register('telemetry.machine.state', 2, { type: 'object' }), /already registered/);
  assert.throws(() => fresh.register('telemetry.machine.state', 1, { type: 'object' }), /already registered/);
  // A schema that does not compile is refused and leaves nothing behind.
  assert.throws(() =>
    fresh.register('custom.thing', 1, { type: 'object', properties: { x: { type: 'text' } } }),
  );
  assert.equal(fresh.has('custom.thing', 1), false);
});

/**
 * Patterns that make a backtracking engine take exponential (or high-polynomial) time, each with an
 * input that takes a backtracking engine well over 100 ms at its short length and forever at 10,000
 * characters. Validation of client data must stay linear whatever pattern a schema holds.
 */
const EVIL_PATTERNS: ReadonlyArray<{ pattern: string; attack: (n: number) => string; short: number }> = [
  { pattern: '^(a+)+$', attack: (n) => `${'a'.repeat(n)}!`, short: 26 },
  { pattern: '(a|aa)+$', attack: (n) => `${'a'.repeat(n)}!`, short: 36 },
  { pattern: '(a|a?)+$', attack: (n) => `${'a'.repeat(n)}!`, short: 26 },
  { pattern: '^(\\w+\\s?)*$', attack: (n) => `${'a'.repeat(n)}!`, short: 26 },
  { pattern: '(.*a){20}', attack: (n) => 'a'.repeat(n), short: 60 },
];

test('a pattern with catastrophic backtracking validates in linear time (< 100 ms for 10,000 characters)', () => {
  const linear = createDataValidator();
  EVIL_PATTERNS.forEach(({ pattern, attack, short }, index) => {
    const type = `test.evil.pattern${index}`;
    linear.register(type, 1, { type: 'object', properties: { code: { type: 'string', pattern } } });
    for (const length of [short, 10_000]) {
      const started = performance.now();
      linear.validate(type, 1, { code: attack(length) });
      const ms = performance.now() - started;
      assert.ok(ms < 100, `${pattern} on ${length} characters took ${ms.toFixed(0)} ms`);
    }
  });
});

test('patterns still mean what they say under the linear-time engine', () => {
  const linear = createDataValidator();
  linear.register('test.patterns', 1, {
    type: 'object',
    properties: {
      evil: { type: 'string', pattern: '^(a+)+$' },
      code: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' },
      unescaped: { type: 'string', pattern: '^caf\\u00e9$' },
      partial: { type: 'string', pattern: 'lot' },
    },
    patternProperties: { '^x-[a-z]+$': { type: 'integer' } },
  });
  assert.deepEqual(
    linear.validate('test.patterns', 1, { evil: 'aaaa', code: 'AB-123', unescaped: 'café' }),
    [],
  );
  assert.deepEqual(linear.validate('test.patterns', 1, { partial: 'a lot of it', 'x-count': 3 }), []);
  assert.deepEqual(
    linear.validate('test.patterns', 1, {
      evil: 'aaab',
      code: 'AB-12',
      unescaped: 'cafe',
      partial: 'none',
      'x-count': 'three',
    }),
    [
      { path: '/data/evil', message: 'must match the pattern ^(a+)+$' },
      { path: '/data/code', message: 'must match the pattern ^[A-Z]{2}-\\d{3}$' },
      { path: '/data/unescaped', message: 'must match the pattern ^caf\\u00e9$' },
      { path: '/data/partial', message: 'must match the pattern lot' },
      { path: '/data/x-count', message: 'must be an integer' },
    ],
  );
});

test('formats stay fast on long hostile strings', () => {
  const formats = Object.keys(FORMAT_EXAMPLES);
  const linear = createDataValidator();
  linear.register('test.formats', 1, {
    type: 'object',
    properties: Object.fromEntries(formats.map((f) => [f, { type: 'string', format: f }])),
  });
  const hostile = [
    `${'a'.repeat(10_000)}!`,
    `${'1'.repeat(10_000)}!`,
    `a@${'a.'.repeat(5_000)}!`,
    `http://${'a'.repeat(10_000)}!`,
    `${':'.repeat(10_000)}!`,
    `P${'1D'.repeat(5_000)}!`,
    `2026-01-01T${'0'.repeat(10_000)}`,
  ];
  for (const text of hostile) {
    const started = performance.now();
    const problems = linear.validate('test.formats', 1, Object.fromEntries(formats.map((f) => [f, text])));
    const ms = performance.now() - started;
    assert.ok(ms < 100, `${text.slice(0, 12)}… took ${ms.toFixed(0)} ms`);
    // Some are valid (a relative URI reference may be almost anything); most are not.
    assert.ok(problems.length >= formats.length - 2, text.slice(0, 12));
  }
  assert.deepEqual(linear.validate('test.formats', 1, FORMAT_EXAMPLES), []);
});
