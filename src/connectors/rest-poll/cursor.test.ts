import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alreadyDelivered,
  applyCursor,
  breaksTies,
  type CursorConfig,
  compareCursor,
  compareKey,
  parseSavedKey,
} from './cursor.js';

const T = '2025-01-01T00:00:00Z';

test('cursor values compare as numbers, as instants, or as text', () => {
  assert.ok(compareCursor(9, 10) < 0);
  assert.ok(compareCursor('2025-01-01T00:00:00Z', '2025-01-01T00:00:00.5Z') < 0);
  assert.ok(compareCursor('2025-01-01T01:00:00+02:00', '2025-01-01T00:00:00Z') < 0);
  assert.ok(compareCursor('000123', '000124') < 0);
  assert.equal(compareCursor('abc', 'abc'), 0);
});

test('(value, id) keys order by value, then id; a row at or before the saved key was delivered', () => {
  assert.ok(compareKey({ value: T, id: 'WO-2' }, { value: T, id: 'WO-3' }) < 0);
  assert.ok(compareKey({ value: T, id: 'WO-9' }, { value: '2025-01-01T00:00:00.5Z', id: 'WO-1' }) < 0);
  assert.ok(compareKey({ value: 5, id: 9 }, { value: 6, id: 1 }) < 0);
  assert.ok(compareKey({ value: 5, id: null }, { value: 5, id: 1 }) < 0);
  const saved = { value: T, id: 'WO-3' };
  assert.equal(alreadyDelivered({ value: T, id: 'WO-2' }, saved), true);
  assert.equal(alreadyDelivered({ value: T, id: 'WO-3' }, saved), true);
  assert.equal(alreadyDelivered({ value: T, id: 'WO-4' }, saved), false, 'a tie past the id is new');
  assert.equal(alreadyDelivered({ value: '2024-12-31T23:59:59Z', id: 'WO-9' }, saved), true);
  assert.equal(alreadyDelivered(null, saved), false, 'a row without a cursor value is not placed');
  assert.equal(alreadyDelivered({ value: T, id: 'WO-1' }, null), false);
  // An older state file has no id: only rows before its value are known to be delivered.
  assert.equal(alreadyDelivered({ value: T, id: 'WO-1' }, { value: T, id: null }), false);
  assert.equal(alreadyDelivered({ value: 1, id: 'WO-1' }, { value: 2, id: null }), true);
});

const base: CursorConfig = { param: 'since', idParam: null, filter: null, inclusive: true };
const query = (cursor: CursorConfig, key: Parameters<typeof applyCursor>[2]) => {
  const url = new URL('https://erp.example/orders?$orderby=LastChangeDateTime');
  applyCursor(url, cursor, key);
  return [...url.searchParams.entries()];
};

test('the cursor goes into the query as a value, a value and an id, or a filter', () => {
  assert.deepEqual(query(base, null), [['$orderby', 'LastChangeDateTime']], 'nothing before the first row');
  assert.deepEqual(query(base, { value: T, id: 'WO-3' }).slice(1), [['since', T]]);
  const withId = { ...base, idParam: 'sinceId' };
  assert.deepEqual(query(withId, { value: T, id: 'WO-3' }).slice(1), [
    ['since', T],
    ['sinceId', 'WO-3'],
  ]);
  assert.deepEqual(query(withId, { value: 7, id: null }).slice(1), [['since', '7']]);
  const filter = {
    ...base,
    param: '$filter',
    filter:
      "LastChangeDateTime gt datetimeoffset'{value}' or (LastChangeDateTime eq datetimeoffset'{value}' and ManufacturingOrder gt '{id}')",
  };
  assert.deepEqual(query(filter, { value: T, id: '1000042' }).slice(1), [
    [
      '$filter',
      `LastChangeDateTime gt datetimeoffset'${T}' or (LastChangeDateTime eq datetimeoffset'${T}' and ManufacturingOrder gt '1000042')`,
    ],
  ]);
  assert.equal(breaksTies(filter), true);
  assert.equal(breaksTies(withId), true);
  assert.equal(breaksTies({ ...filter, filter: 'Changed ge {value}' }), false);
  assert.equal(breaksTies(base), false);
});

test('a saved key is {value, id}, or a bare value as older state files kept it', () => {
  assert.deepEqual(parseSavedKey({ value: T, id: 'WO-3' }), { value: T, id: 'WO-3' });
  assert.deepEqual(parseSavedKey({ value: 12, id: 4 }), { value: 12, id: 4 });
  assert.deepEqual(parseSavedKey(T), { value: T, id: null });
  assert.deepEqual(parseSavedKey({ value: T }), { value: T, id: null });
  assert.equal(parseSavedKey({ id: 'x' }), null);
  assert.equal(parseSavedKey(null), null);
  assert.equal(parseSavedKey(''), null);
});
