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

test('a route holds at most its window in bytes of events it has not finished, and the rest waits in the log', async () => {
  const receiver = new TestReceiver();
  // The endpoint holds every request, so nothing the route fetched finishes during the test.
  receiver.behaviour = () => ({ status: 204, delayMs: 30_000 });
  await receiver.listen();
  const events = Array.from({ length: 400 }, () => makeEvent());
  const bytesEach = JSON.stringify(events[0]).length;
  const hub = await createTestHub(
    {
      connectors: { slow: { kind: 'http', url: receiver.url } },
      routes: [{ name: 'to-slow', types: ['production.*'], sink: 'slow', lane: 'critical', timeout: '60s' }],
    },
    undefined,
    // Room for about 50 events by bytes, far below the window of 10,000 events.
    { deliveryWindowBytes: bytesEach * 50 },
  );
  try {
    await hub.listen();
    await hub.log.append(events);
    const deadline = Date.now() + 5_000;
    const inFlight = () => hub.delivery.subscriptions()[0]?.inFlight ?? 0;
    while (inFlight() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Give a route that ignored the budget every chance to fetch on: it reads in chunks of 500.
    await new Promise((r) => setImmediate(r));
    const held = inFlight();
    assert.ok(held > 0, 'the route fetched nothing');
    assert.ok(held <= 60, `the route holds ${held} events, beyond its byte window of ~50`);
    assert.equal(hub.delivery.backlog('critical'), 400);
  } finally {
    await hub.close();
    await receiver.close();
  }
});
