import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LaneLimiter } from './lane-limiter.js';

test('a lane hands its slots to waiters in arrival order and never runs more than its concurrency', async () => {
  const lane = new LaneLimiter('critical', 2);
  await lane.acquire();
  await lane.acquire();
  const started: number[] = [];
  const waiters = Array.from({ length: 3000 }, (_, i) => lane.acquire().then(() => started.push(i)));
  assert.equal(lane.queued, 3000);
  for (let i = 0; i < 3000; i++) {
    lane.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lane.inUse, 2, 'a released slot goes to the next waiter, not back to the pool');
  }
  await Promise.all(waiters);
  assert.deepEqual(
    started,
    Array.from({ length: 3000 }, (_, i) => i),
  );
  assert.equal(lane.queued, 0);
  lane.release();
  lane.release();
  assert.equal(lane.inUse, 0);
  await lane.acquire();
  assert.equal(lane.inUse, 1);
});
