import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from './duration.js';

test('durations convert to milliseconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1.5s'), 1_500);
  assert.equal(parseDuration('7d'), 604_800_000);
});

test('a malformed duration names the fix', () => {
  for (const bad of ['', '10', '5 minutes', '-1s', 's', '1w']) {
    assert.throws(() => parseDuration(bad), /write it like 500ms/);
  }
});

test('sizes convert to bytes', () => {
  assert.equal(parseSize('1mb'), 1_048_576);
  assert.equal(parseSize('512kb'), 524_288);
  assert.equal(parseSize('10b'), 10);
  assert.throws(() => parseSize('1 megabyte'), /write it like 512kb/);
});
