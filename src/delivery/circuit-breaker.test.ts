import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker } from './circuit-breaker.js';
import { ManualClock } from './clock.js';

test('the circuit opens after the threshold of consecutive failures and lets one probe through after resetAfter', async () => {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker('http://x', { failureThreshold: 3, resetAfterMs: 30_000 }, clock);
  const changes: string[] = [];
  breaker.onChange((s) => changes.push(s));
  for (let i = 0; i < 2; i++) {
    assert.ok(breaker.tryAcquire());
    breaker.failure();
  }
  assert.equal(breaker.state, 'closed');
  breaker.success();
  for (let i = 0; i < 3; i++) {
    assert.ok(breaker.tryAcquire());
    breaker.failure();
  }
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.tryAcquire(), false);
  assert.equal(breaker.waitMs(), 30_000);
  await clock.advance(29_999);
  assert.equal(breaker.tryAcquire(), false);
  await clock.advance(1);
  assert.equal(breaker.state, 'half-open');
  assert.equal(breaker.tryAcquire(), true, 'the first caller is the probe');
  assert.equal(breaker.tryAcquire(), false, 'only one probe at a time');
  breaker.failure();
  assert.equal(breaker.state, 'open', 'a failed probe opens it again');
  await clock.advance(30_000);
  assert.ok(breaker.tryAcquire());
  breaker.success();
  assert.equal(breaker.state, 'closed');
  assert.ok(breaker.tryAcquire());
  assert.deepEqual(changes, ['open', 'half-open', 'open', 'half-open', 'closed']);
});

test('changed() wakes waiters when the state moves', async () => {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker('http://x', { failureThreshold: 1, resetAfterMs: 1000 }, clock);
  const woke = breaker.changed();
  breaker.tryAcquire();
  breaker.failure();
  await woke;
  assert.equal(breaker.state, 'open');
});

test('the manual clock wakes sleepers in time order and only when time passes', async () => {
  const clock = new ManualClock(0);
  const order: number[] = [];
  void clock.sleep(300).then(() => order.push(300));
  void clock.sleep(100).then(() => order.push(100));
  void clock.sleep(200).then(() => order.push(200));
  await clock.advance(150);
  assert.deepEqual(order, [100]);
  await clock.advance(1000);
  assert.deepEqual(order, [100, 200, 300]);
  assert.equal(clock.now(), 1150);
});
