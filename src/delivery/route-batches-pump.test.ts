import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { LogCapture } from '../../test/helpers/hub.js';
import type { StoredEvent } from '../model/envelope.js';
import { createLogger } from '../observability/logger.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ManualClock } from './clock.js';
import { LaneLimiter } from './lane-limiter.js';
import { type BatchHost, RouteBatches } from './route-batches.js';

/** A manual clock that counts the waits it is asked for. */
class CountingClock extends ManualClock {
  sleeps = 0;
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps++;
    return super.sleep(ms, signal);
  }
}

function batchesOn(clock: CountingClock, maxEvents: number) {
  const sent: string[][] = [];
  const finished: number[] = [];
  const host = {
    route: {
      name: 'r',
      lane: 'critical',
      timeoutMs: 1_000,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10, maxAgeMs: 60_000 },
      batch: { maxEvents, maxBytes: 1 << 20, maxWaitMs: 50 },
    },
    sink: {
      endpoint: 'test:',
      send: async () => ({ kind: 'delivered', ms: 0 }),
      sendBatch: async (events: readonly StoredEvent[]) => {
        sent.push(events.map((e) => e.id));
        return { kind: 'delivered', ms: 0 };
      },
      close: async () => {},
    },
    transform: null,
    breaker: new CircuitBreaker('test:', { failureThreshold: 5, resetAfterMs: 1_000 }, clock),
    lane: new LaneLimiter('critical', 4),
    clock,
    logger: createLogger('error', new LogCapture()),
    httpSink: false,
    observe: () => {},
    delivered: () => {},
    deadLetter: async () => {},
    failed: () => {},
    finish: (sequence: number) => finished.push(sequence),
  } as unknown as BatchHost;
  const stop = new AbortController();
  return { batches: new RouteBatches(host, stop.signal), sent, finished, stop };
}

const stored = (n: number): StoredEvent => ({
  ...makeEvent({ id: `e${n}`, subject: `k${n % 7}` }),
  sequence: n,
});

test('a batch filling up event by event waits out maxWait on one timer, not one per event', async () => {
  const clock = new CountingClock();
  const { batches, sent, finished, stop } = batchesOn(clock, 100);
  for (let n = 1; n <= 99; n++) {
    batches.add(stored(n), `k${n % 7}`);
    // Each event arrives in a turn of its own, as a route's fetches hand them over.
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(sent, [], 'not full and maxWait not over: nothing sent yet');
  assert.equal(clock.sleeps, 1, 'the pump waits on one timer for the whole batch');

  await clock.advance(50);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.flat().length, 99, 'maxWait over: the events go');
  assert.equal(finished.length, 99);

  // A full batch goes at once, without waiting for maxWait.
  for (let n = 100; n < 200; n++) batches.add(stored(n), `k${n % 7}`);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.flat().length, 199);
  stop.abort();
  await batches.settled();
});
