import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { createTestHub } from '../../test/helpers/hub.js';
import { countAppends, RateSampler } from './rates.js';

test('rates are per second over each interval, and the ring keeps only the window', () => {
  let now = 1_000_000;
  const totals = { ingest: 0, delivered: 0, failed: 0 };
  const sampler = new RateSampler(() => ({ ...totals }), {
    now: () => now,
    intervalMs: 2_000,
    windowMs: 10_000,
  });
  sampler.sample();
  assert.deepEqual(sampler.series(), [], 'the first sample is only the baseline');
  assert.deepEqual(sampler.current().rates, { ingest: 0, delivered: 0, failed: 0 });

  now += 2_000;
  totals.ingest = 100;
  totals.delivered = 40;
  totals.failed = 2;
  sampler.sample();
  assert.deepEqual(sampler.series(), [{ t: now, ingest: 50, delivered: 20, failed: 1 }]);
  assert.deepEqual(sampler.current(), {
    rates: { ingest: 50, delivered: 20, failed: 1 },
    totals: { ingest: 100, delivered: 40, failed: 2 },
  });

  for (let i = 0; i < 10; i++) {
    now += 2_000;
    totals.ingest += 10;
    sampler.sample();
  }
  const series = sampler.series();
  assert.equal(series.length, 5, 'a 10 s window of 2 s samples holds 5 points');
  assert.equal(series.at(-1)?.t, now);
  assert.ok(
    series.every((p, i) => i === 0 || p.t > (series[i - 1] as { t: number }).t),
    'oldest first',
  );
  assert.ok(series.every((p) => p.ingest === 5 && p.delivered === 0));

  // A total that went down was reset: the new value counts as what happened since.
  now += 2_000;
  totals.delivered = 6;
  sampler.sample();
  assert.equal(sampler.current().rates.delivered, 3);

  // Points older than the window drop out even without new samples.
  now += 60_000;
  assert.deepEqual(sampler.series(), []);
});

test('the sampler refuses a window shorter than one interval', () => {
  const read = () => ({ ingest: 0, delivered: 0, failed: 0 });
  assert.throws(() => new RateSampler(read, { intervalMs: 0 }), RangeError);
  assert.throws(() => new RateSampler(read, { intervalMs: 5_000, windowMs: 1_000 }), RangeError);
});

test('countAppends counts newly stored events only, and leaves the rest of the log as it is', async () => {
  const hub = await createTestHub();
  try {
    const counted = countAppends(hub.log);
    const first = makeEvent();
    await counted.log.append([first, makeEvent()]);
    await counted.log.append([first]);
    assert.equal(counted.appended(), 2, 'the re-sent event is a duplicate, not ingest');
    assert.equal(counted.log.head(), hub.log.head());
    assert.equal(counted.log.kind, hub.log.kind);
    assert.equal((await counted.log.read({ after: 0, limit: 10 })).length, hub.log.head());
  } finally {
    await hub.close();
  }
});
