import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyStatus } from './outcome.js';
import { backoffDelay, parseRetryAfter } from './retry.js';

const policy = { maxAttempts: 8, initialDelayMs: 500, maxDelayMs: 30_000, maxAgeMs: 86_400_000 };

test('backoff doubles its bound per attempt, capped, with full jitter', () => {
  assert.equal(
    backoffDelay(policy, 1, null, () => 1),
    500,
  );
  assert.equal(
    backoffDelay(policy, 2, null, () => 1),
    1_000,
  );
  assert.equal(
    backoffDelay(policy, 4, null, () => 1),
    4_000,
  );
  assert.equal(
    backoffDelay(policy, 20, null, () => 1),
    30_000,
  );
  assert.equal(
    backoffDelay(policy, 4, null, () => 0.5),
    2_000,
  );
  assert.equal(
    backoffDelay(policy, 4, null, () => 0),
    1,
    'never zero',
  );
});

test('a longer Retry-After wins, but never beyond maxDelay', () => {
  assert.equal(
    backoffDelay(policy, 1, 10_000, () => 1),
    10_000,
  );
  assert.equal(
    backoffDelay(policy, 5, 100, () => 1),
    8_000,
  );
  assert.equal(
    backoffDelay(policy, 1, 3_600_000, () => 1),
    30_000,
  );
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-03-01T08:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7_000);
  assert.equal(parseRetryAfter('Sun, 01 Mar 2026 08:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter(undefined, now), null);
  assert.equal(parseRetryAfter('soon', now), null);
});

test('HTTP statuses are classified as the delivery rules say', () => {
  for (const s of [200, 201, 202, 204]) assert.equal(classifyStatus(s), 'delivered');
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(classifyStatus(s), 'retry');
  for (const s of [400, 401, 403, 404, 409, 410, 413, 415, 422, 301])
    assert.equal(classifyStatus(s), 'rejected');
});
