import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  checkIngressPolicy,
  decodeEvent,
  isRfc3339,
  partitionKeyOf,
  STORED_JSON,
  storedEventJson,
  storedEventJsonLength,
} from './envelope.js';

const data = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../test/data/cloudevents/json/${name}`, import.meta.url), 'utf8'),
  ) as {
    tests: Array<{ id: string; event?: unknown; batch?: unknown[] }>;
  };

test('every valid CloudEvents conformance vector decodes', () => {
  const { tests } = data('valid-events.json');
  assert.ok(tests.length >= 10);
  for (const t of tests) {
    const { event, errors } = decodeEvent(t.event);
    assert.deepEqual(errors, [], `${t.id} should be valid`);
    assert.equal(event?.specversion, '1.0', t.id);
  }
});

test('every invalid CloudEvents conformance vector is refused with a named attribute', () => {
  const { tests } = data('invalid-events.json');
  assert.ok(tests.length >= 20);
  for (const t of tests) {
    const { event, errors } = decodeEvent(t.event);
    assert.equal(event, undefined, `${t.id} should be invalid`);
    assert.ok(errors.length > 0 && errors.every((e) => e.path.startsWith('/') && e.message.length > 5), t.id);
  }
});

test('valid batches decode event by event; invalid batches have at least one refused member', () => {
  for (const t of data('valid-batches.json').tests) {
    for (const item of t.batch ?? []) assert.deepEqual(decodeEvent(item).errors, [], t.id);
  }
  for (const t of data('invalid-batches.json').tests) {
    assert.ok(
      (t.batch ?? []).some((item) => decodeEvent(item).errors.length > 0),
      `${t.id} should contain an invalid event`,
    );
  }
});

test('null optional attributes are dropped, not kept as null', () => {
  const { event } = decodeEvent({
    specversion: '1.0',
    id: 'x',
    source: '/s',
    type: 't',
    subject: null,
    time: null,
    data: null,
  });
  assert.ok(event);
  assert.equal('subject' in event, false);
  assert.equal('data' in event, false);
});

test('RFC 3339 times need seconds and a valid offset', () => {
  for (const good of [
    '2018-04-05T17:31:00Z',
    '2018-04-05T17:31:00.123456789Z',
    '2018-04-05T19:31:00+02:00',
    '2018-04-05t17:31:00z',
  ]) {
    assert.ok(isRfc3339(good), good);
  }
  for (const bad of [
    '2018-04-05T17:31Z',
    '2018-04-05',
    '2018-13-05T17:31:00Z',
    '2018-04-05T17:31:00+24:00',
    'lunchtime',
  ]) {
    assert.ok(!isRfc3339(bad), bad);
  }
});

test('the ingress policy requires time and data, refuses hub-owned attributes and checks plants', () => {
  const base = { specversion: '1.0' as const, id: 'e1', source: '/erp', type: 'production.order.released' };
  const paths = (e: Record<string, unknown>) => checkIngressPolicy({ ...base, ...e }).map((x) => x.path);
  assert.deepEqual(paths({ time: '2026-01-01T00:00:00Z', data: { plant: 'P1' } }), []);
  assert.deepEqual(paths({ data: { plant: 'P1' } }), ['/time']);
  assert.deepEqual(paths({ time: '2026-01-01T00:00:00Z', plant: 'P1' }), ['/data']);
  assert.deepEqual(paths({ time: '2026-01-01T00:00:00Z', data: { plant: 'P1' }, sequence: 5 }), [
    '/sequence',
  ]);
  assert.deepEqual(paths({ time: '2026-01-01T00:00:00Z', plant: 'P2', data: { plant: 'P1' } }), ['/plant']);
  assert.deepEqual(
    paths({ time: '2026-01-01T00:00:00Z', data: { orderId: 'x' } }),
    ['/plant'],
    'plant-scoped type without a plant',
  );
  assert.deepEqual(paths({ time: '2026-01-01T00:00:00Z', data: { plant: 'P1' }, traceparent: 'nope' }), [
    '/traceparent',
  ]);
});

test('the ingress policy copies data.plant into the plant attribute', () => {
  const event = {
    specversion: '1.0' as const,
    id: 'e',
    source: '/s',
    type: 'quality.hold.placed',
    time: '2026-01-01T00:00:00Z',
    data: { plant: 'P7' },
  };
  assert.deepEqual(checkIngressPolicy(event), []);
  assert.equal((event as { plant?: string }).plant, 'P7');
});

test('the partition key is partitionkey, else subject, else id', () => {
  const e = { specversion: '1.0' as const, id: 'i', source: '/s', type: 't' };
  assert.equal(partitionKeyOf({ ...e, subject: 's', partitionkey: 'k' }), 'k');
  assert.equal(partitionKeyOf({ ...e, subject: 's' }), 's');
  assert.equal(partitionKeyOf(e), 'i');
});

test('the stored JSON of an event is reused with its sequence and equals a fresh serialisation', () => {
  const event = { specversion: '1.0' as const, id: 'e', source: '/s', type: 't', data: { a: [1, 'x'] } };
  const stored = Object.assign(JSON.parse(JSON.stringify(event)), { sequence: 42 });
  Object.defineProperty(stored, STORED_JSON, { value: JSON.stringify(event) });
  assert.deepEqual(JSON.parse(storedEventJson(stored)), { ...event, sequence: 42 });
  assert.equal(Object.keys(stored).includes('sequence'), true);
  assert.deepEqual(
    JSON.parse(storedEventJson({ ...event, sequence: 7 })),
    { ...event, sequence: 7 },
    'without stored text',
  );
});

test("an event's delivered JSON length is counted without building the text, and equals its length", () => {
  const withText = (text: string, sequence: number) => {
    const stored = Object.assign(JSON.parse(text), { sequence });
    Object.defineProperty(stored, STORED_JSON, { value: text });
    return stored;
  };
  const event = { specversion: '1.0' as const, id: 'é', source: '/s', type: 't', data: { a: [1, 'x'] } };
  for (const stored of [
    withText(JSON.stringify(event), 1),
    withText(JSON.stringify(event), 1_234_567_890_123),
    withText('{}', 9),
    { ...event, sequence: 77 },
  ])
    assert.equal(storedEventJsonLength(stored), storedEventJson(stored).length);
});
