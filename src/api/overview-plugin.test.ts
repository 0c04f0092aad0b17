import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import { createClient } from '../../test/security/helpers.js';
import type { Hub } from '../hub.js';

let hub: Hub;
before(async () => {
  hub = await createTestHub({
    connectors: { 'mes-p1': { kind: 'http', url: 'http://127.0.0.1:9/events' } },
    routes: [{ name: 'mes-orders', types: ['production.order.released'], sink: 'mes-p1' }],
  });
});
after(() => hub.close());

const overview = async (key?: string) =>
  hub.app.inject({ method: 'GET', url: '/v1/overview', headers: auth(key) });

test('the overview counts what this instance appended, with routes, circuits and dead letters', async () => {
  const before = (await overview()).json();
  assert.equal(before.ingest.total, 0);
  const event = makeEvent();
  await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify([event, makeEvent(), makeEvent()]),
  });
  // A re-sent event is a duplicate, not ingest.
  await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });
  await hub.store.deadLetters.add({
    id: 'dl-1',
    route: 'mes-orders',
    reason: 'rejected',
    event: { ...makeEvent({ type: 'production.order.released' }), sequence: 1 },
    attempts: [{ at: new Date().toISOString(), status: 422, ms: 3 }],
    at: Date.now(),
    status: 'open',
  });
  const res = await overview();
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.ingest.total, 3);
  assert.equal(body.dlqOpen, 1);
  assert.equal(body.instance, hub.coordinator.instanceId);
  assert.deepEqual(
    body.routes.map((r: { name: string; dlqOpen: number }) => [r.name, r.dlqOpen]),
    [['mes-orders', 1]],
  );
  assert.deepEqual(body.circuits, [
    { endpoint: body.routes[0].endpoint, sink: 'mes-p1', state: 'closed', routes: ['mes-orders'] },
  ]);
  assert.deepEqual(body.series, [], 'no samples before the hub listens');
  assert.equal(body.intervalSeconds, 2);
  assert.equal(body.windowSeconds, 600);
});

test('the overview needs ops', async () => {
  const reader = await createClient(hub, 'reader', ['events:read:production']);
  const res = await overview(reader);
  assert.equal(res.statusCode, 403);
  assert.match(res.json().detail, /ops/);
});
