import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { AttemptDeadlines } from './attempt-deadlines.js';

test('attempts abort at their own deadline, in the order their deadlines fall, and ended ones never', async () => {
  const deadlines = new AttemptDeadlines();
  // Its timers do not hold the process open (a request in flight does); this test has no request.
  const alive = setInterval(() => undefined, 1000);
  const started = performance.now();
  const short = deadlines.start(20, undefined);
  const ended = deadlines.start(20, undefined);
  const long = deadlines.start(60, undefined);
  deadlines.end(ended, 20);
  const aborted: string[] = [];
  short.on('abort', () => aborted.push('short'));
  long.on('abort', () => aborted.push('long'));
  ended.on('abort', () => aborted.push('ended'));
  await once(long, 'abort');
  const took = performance.now() - started;
  assert.deepEqual(aborted, ['short', 'long']);
  assert.equal(short.reason, 'timeout');
  assert.ok(took >= 59, `aborted after ${took} ms, before its 60 ms deadline`);
  assert.equal(deadlines.size, 0);
  clearInterval(alive);
});

test("a route's stop aborts its attempts in flight, not another route's, and an attempt started after it at once", () => {
  const deadlines = new AttemptDeadlines();
  const routeA = new AbortController();
  const routeB = new AbortController();
  const a = deadlines.start(10_000, routeA.signal);
  const b = deadlines.start(10_000, routeB.signal);
  routeA.abort();
  assert.equal(a.aborted, true);
  assert.equal(a.reason, 'stopped');
  assert.equal(b.aborted, false);
  const late = deadlines.start(10_000, routeA.signal);
  assert.equal(late.reason, 'stopped');
  deadlines.end(b, 10_000);
  assert.equal(deadlines.size, 0);
});
