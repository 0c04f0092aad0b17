import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloudEvent } from '../../model/envelope.js';
import {
  ABSENT_TOKEN,
  assertStreamName,
  encodeToken,
  eventMatcher,
  eventSubject,
  filterSubjects,
  idempotencyKey,
  MAX_FILTER_SUBJECTS,
} from './subjects.js';

const TOKEN = /^[A-Za-z0-9_-]+$/;

function event(overrides: Partial<CloudEvent>): CloudEvent {
  return { specversion: '1.0', id: '1', source: '/s', type: 'production.order.released', ...overrides };
}

test('tokens keep letters, digits and "-", and escape everything else, "_" included', () => {
  assert.equal(encodeToken('PO-1234'), 'PO-1234');
  assert.equal(encodeToken('P 1.*>'), 'P_201_2E_2A_3E');
  assert.equal(encodeToken('a_b'), 'a_5Fb');
  assert.equal(encodeToken('Zü'), 'Z_C3_BC');
  assert.equal(encodeToken('tab\there'), 'tab_09here');
  for (const value of ['$SYS', '>', '*', '.', ' ', '\n', '注文', '_', '__', 'a.b']) {
    assert.match(encodeToken(value), TOKEN, value);
  }
});

test('distinct values give distinct tokens, and none of them is the token of an absent value', () => {
  const values = ['', 'a', 'a_', 'a_5F', '_', '_5F', 'a.b', 'a b', 'a_2Eb', 'A', 'Zü', 'Z_C3_BC'];
  const tokens = values.filter((v) => v !== '').map(encodeToken);
  assert.equal(new Set(tokens).size, tokens.length);
  assert.ok(!tokens.includes(ABSENT_TOKEN));
  assert.equal(encodeToken(undefined), ABSENT_TOKEN);
  assert.equal(encodeToken(''), ABSENT_TOKEN);
});

test('long values become a bounded hash token', () => {
  const long = encodeToken('x'.repeat(1000));
  assert.match(long, /^_H[0-9a-f]{32}$/);
  assert.notEqual(encodeToken('x'.repeat(1000)), encodeToken('x'.repeat(999)));
  assert.equal(encodeToken('x'.repeat(64)), 'x'.repeat(64));
  assert.match(encodeToken('.'.repeat(30)), /^_H/, 'escaping counts towards the length');
});

test('an event is stored under stream, plant, subject, then one token per type part', () => {
  assert.equal(
    eventSubject('EV', event({ plant: 'P1', subject: 'PO 1', type: 'quality.hold.placed' })),
    'EV.P1.PO_201.quality.hold.placed',
  );
  assert.equal(
    eventSubject('EV', event({ type: 'x..y' })),
    'EV._._.x._.y',
    'absent and empty parts hold a place',
  );
});

test('filters become server-side subjects: exact types, domains, plants and subject', () => {
  assert.deepEqual(filterSubjects('EV', {}), ['EV.*.*.>']);
  assert.deepEqual(filterSubjects('EV', { types: ['*'] }), ['EV.*.*.>']);
  assert.deepEqual(filterSubjects('EV', { types: ['quality.*'] }), ['EV.*.*.quality.>']);
  assert.deepEqual(
    filterSubjects('EV', { types: ['quality.hold.placed', 'quality.*', 'production.order.released'] }),
    ['EV.*.*.quality.>', 'EV.*.*.production.order.released'],
  );
  assert.deepEqual(filterSubjects('EV', { plant: 'P1', subject: 'A.1' }), ['EV.P1.A_2E1.>']);
  assert.deepEqual(filterSubjects('EV', { plants: ['P1', 'P2'], types: ['quality.*'] }), [
    'EV.P1.*.quality.>',
    'EV.P2.*.quality.>',
  ]);
  assert.deepEqual(filterSubjects('EV', { plant: 'P1', plants: ['P1', 'P2'] }), ['EV.P1.*.>']);
  assert.equal(filterSubjects('EV', { plant: 'P3', plants: ['P1', 'P2'] }), null);
  assert.equal(filterSubjects('EV', { plants: [] }), null);
});

test('too many combinations widen the plant part first, then the type part', () => {
  const plants = ['P1', 'P2', 'P3'];
  const types = ['a.*', 'b.*', 'c.*'];
  assert.deepEqual(filterSubjects('EV', { plants, types }), ['EV.*.*.a.>', 'EV.*.*.b.>', 'EV.*.*.c.>']);
  const many = Array.from({ length: MAX_FILTER_SUBJECTS + 1 }, (_, i) => `d${i}.*`);
  assert.deepEqual(filterSubjects('EV', { plants, types: many }), ['EV.P1.*.>', 'EV.P2.*.>', 'EV.P3.*.>']);
  const manyPlants = Array.from({ length: MAX_FILTER_SUBJECTS + 1 }, (_, i) => `P${i}`);
  assert.deepEqual(filterSubjects('EV', { plants: manyPlants, types: many }), ['EV.*.*.>']);
});

test('the exact matcher decides what the widened subjects let through', () => {
  const matches = eventMatcher({ types: ['quality.*'], plants: ['P1'], subject: 'H1' });
  assert.equal(matches(event({ type: 'quality.hold.placed', plant: 'P1', subject: 'H1' })), true);
  assert.equal(matches(event({ type: 'quality.hold.placed', plant: 'P2', subject: 'H1' })), false);
  assert.equal(matches(event({ type: 'quality.hold.placed', subject: 'H1' })), false, 'no plant is not P1');
  assert.equal(matches(event({ type: 'quality.hold.placed', plant: 'P1', subject: 'H2' })), false);
  assert.equal(matches(event({ type: 'qualityx.hold', plant: 'P1', subject: 'H1' })), false);
  assert.equal(eventMatcher({ plant: 'P1' })(event({ plant: 'P1' })), true);
});

test('idempotency keys tell (source, id) pairs apart however they are split', () => {
  assert.notEqual(idempotencyKey('/a', 'b/c'), idempotencyKey('/a/b', '/c'));
  assert.notEqual(idempotencyKey('/a', '1'), idempotencyKey('/b', '1'));
  assert.equal(idempotencyKey('/a', '1'), idempotencyKey('/a', '1'));
  assert.match(idempotencyKey('/a', '1'), /^[A-Za-z0-9_-]{43}$/, 'a valid message id and KV key');
});

test('stream names must be usable as a subject token and in bucket names', () => {
  assertStreamName('CONVEYOR_EVENTS');
  assertStreamName('t-1');
  for (const bad of ['', 'a.b', 'a b', 'a*', 'a>', 'x'.repeat(65)]) {
    assert.throws(() => assertStreamName(bad), /stream name/);
  }
});
