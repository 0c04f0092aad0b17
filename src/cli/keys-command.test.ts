import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRateLimit } from './keys-command.js';

test('--rate-limit takes a rate and an optional burst, and says what it wants otherwise', () => {
  assert.deepEqual(parseRateLimit('200'), { perSecond: 200, burst: 400 });
  assert.deepEqual(parseRateLimit('0.5/3'), { perSecond: 0.5, burst: 3 });
  for (const bad of ['', '0', '-1', 'fast', '10/0', '10/x']) {
    assert.throws(() => parseRateLimit(bad), /--rate-limit/);
  }
});
