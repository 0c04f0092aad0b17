import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { createTestHub } from '../../test/helpers/hub.js';
import { TestReceiver } from '../../test/helpers/receiver.js';

test('a lane backlog counts only the routes this instance delivers, not those on standby for another', async () => {
  const receiver = new TestReceiver();
  // The endpoint holds every request, so nothing the route fetched finishes during the test.
  receiver.behaviour = () => ({ status: 204, delayMs: 30_000 });
  await receiver.listen();
  const hub = await createTestHub({
    connectors: { slow: { kind: 'http', url: receiver.url } },
    routes: [{ name: 'to-slow', types: ['production.*'], sink: 'slow', lane: 'critical', timeout: '60s' }],
  });
  try {
    await hub.listen();
    await hub.log.append(Array.from({ length: 50 }, () => makeEvent()));
    assert.equal(hub.delivery.subscriptions()[0]?.state, 'running');
    assert.equal(hub.delivery.backlog('critical'), 50);
    // Handed to another instance: its position here no longer moves, so it is no backlog of this one.
    await hub.delivery.worker('to-slow')?.standBy();
    assert.equal(hub.delivery.subscriptions()[0]?.state, 'standby');
    assert.equal(hub.delivery.backlog('critical'), 0);
  } finally {
    await hub.close();
    await receiver.close();
  }
});
