import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { createTestHub } from '../../test/helpers/hub.js';
import { TestReceiver } from '../../test/helpers/receiver.js';
import { SqliteEventLog } from '../log/sqlite/sqlite-event-log.js';

test('closing under load abandons deliveries in flight and queued for a slot; they stay due', async () => {
  const receiver = new TestReceiver();
  let arrived = 0;
  // A slow endpoint: every request takes 2 s to answer.
  receiver.behaviour = () => {
    arrived++;
    return { status: 204, delayMs: 2_000 };
  };
  await receiver.listen();
  // Four slots and 200 events on distinct keys: 196 deliveries wait for a slot when the hub closes.
  const hub = await createTestHub({
    connectors: { slow: { kind: 'http', url: receiver.url } },
    routes: [{ name: 'to-slow', types: ['production.*'], sink: 'slow', lane: 'critical', timeout: '60s' }],
    lanes: { critical: { concurrency: 4 } },
  });
  let closed = false;
  try {
    await hub.listen();
    const events = Array.from({ length: 200 }, () => makeEvent());
    await hub.log.append(events);
    const deadline = Date.now() + 10_000;
    while (arrived < 4) {
      assert.ok(Date.now() < deadline, 'the deliveries did not start');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const started = performance.now();
    await hub.close();
    closed = true;
    const ms = performance.now() - started;
    // Waiting for them would take 2 s per round of 4, 100 s in all.
    assert.ok(ms < 1_500, `close took ${Math.round(ms)} ms`);
    assert.ok(arrived <= 8, `${arrived} requests were sent; the ones queued for a slot must not be`);
  } finally {
    if (!closed) await hub.close();
    await receiver.close();
  }
  // Nothing was delivered, so the route's durable position has not moved: all 200 are redelivered.
  const log = await SqliteEventLog.open({ path: join(hub.dataDir, 'events.db') });
  try {
    const position = (await log.consumers()).find((c) => c.name === 'route:to-slow')?.position;
    assert.equal(position, 0);
  } finally {
    await log.close();
  }
});
