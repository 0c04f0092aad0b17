import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { createLogger } from '../observability/logger.js';
import { RetentionJob } from './retention.js';
import { SqliteEventLog } from './sqlite/sqlite-event-log.js';

const quiet = createLogger('silent');

test('retention by count keeps the newest events and forgets the idempotency of deleted ones', async () => {
  const log = await SqliteEventLog.open({
    path: join(mkdtempSync(join(tmpdir(), 'conveyor-ret-')), 'events.db'),
  });
  try {
    const events = Array.from({ length: 12_000 }, (_, n) =>
      makeEvent({ id: `e-${n}`, type: n % 2 ? 'production.order.released' : 'telemetry.machine.counter' }),
    );
    for (let i = 0; i < events.length; i += 3000) await log.append(events.slice(i, i + 3000));
    const job = new RetentionJob(log, { maxAgeMs: null, maxEvents: 5_000, checkEveryMs: 60_000 }, quiet);
    const deleted = await job.runOnce();
    assert.equal(deleted, 7_000);
    const stats = await log.stats();
    assert.equal(stats.events, 5_000);
    const oldest = await log.read({ limit: 1 });
    assert.equal(oldest[0]?.id, 'e-7000');
    // A deleted event's id is accepted again; a kept one is still a duplicate.
    const [resent] = await log.append([events[10]!]);
    assert.equal(resent?.duplicate, false);
    const [kept] = await log.append([events[9_000]!]);
    assert.equal(kept?.duplicate, true);
  } finally {
    await log.close();
  }
});

test('retention by age uses the append time, with an injectable clock', async () => {
  const log = await SqliteEventLog.open({
    path: join(mkdtempSync(join(tmpdir(), 'conveyor-ret-')), 'events.db'),
  });
  try {
    await log.append(Array.from({ length: 100 }, () => makeEvent()));
    const appendedBy = Date.now();
    const tomorrow = () => appendedBy + 86_400_000;
    const keepAll = new RetentionJob(
      log,
      { maxAgeMs: 2 * 86_400_000, maxEvents: null, checkEveryMs: 60_000 },
      quiet,
      tomorrow,
    );
    assert.equal(await keepAll.runOnce(), 0);
    const dropDay = new RetentionJob(
      log,
      { maxAgeMs: 3_600_000, maxEvents: null, checkEveryMs: 60_000 },
      quiet,
      tomorrow,
    );
    assert.equal(await dropDay.runOnce(), 100);
    assert.equal((await log.stats()).events, 0);
  } finally {
    await log.close();
  }
});
