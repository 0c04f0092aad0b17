import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { ADMIN_KEY, auth, createTestHub } from '../../test/helpers/hub.js';
import { TestReceiver } from '../../test/helpers/receiver.js';
import type { Hub } from '../hub.js';

let hub: Hub;
let accepting: TestReceiver;
let refusing: TestReceiver;

before(async () => {
  accepting = new TestReceiver();
  refusing = new TestReceiver();
  refusing.behaviour = () => ({ status: 400 });
  await Promise.all([accepting.listen(), refusing.listen()]);
  hub = await createTestHub({
    connectors: {
      mes: { kind: 'http', url: accepting.url },
      erp: { kind: 'http', url: refusing.url },
    },
    routes: [
      { name: 'to-mes-p1', types: ['production.*'], filter: "plant = 'P1'", sink: 'mes' },
      { name: 'to-mes-p2', types: ['production.*'], filter: "plant = 'P2'", sink: 'mes' },
      { name: 'to-erp', types: ['production.operation.completed'], sink: 'erp' },
    ],
  });
  await hub.listen();
});

after(async () => {
  await hub.close();
  await Promise.all([accepting.close(), refusing.close()]);
});

test('a trace shows every event of a subject in log order and, per route, delivered, filtered out or dead-lettered', async () => {
  const events = [
    makeEvent({ subject: 'PO-T1', type: 'production.operation.completed' }),
    makeEvent({ subject: 'PO-T1', type: 'production.operation.completed' }),
    makeEvent({ subject: 'PO-OTHER', type: 'production.operation.completed' }),
  ];
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify(events),
  });
  assert.equal(res.statusCode, 202);
  await accepting.waitFor(() => accepting.received.length >= 3, 20_000, 'deliveries to MES');
  await refusing.waitFor(() => refusing.attempts.length >= 3, 20_000, 'refusals by ERP');
  const trace = async () =>
    (await hub.app.inject({ method: 'GET', url: '/v1/trace/PO-T1', headers: auth(ADMIN_KEY) })).json();
  // Dead letters are written, and route positions made durable, just after the deliveries.
  const head = hub.log.head();
  const route = (name: string) => hub.delivery.subscriptions().find((s) => s.name === name);
  const settled = () =>
    (route('to-erp')?.deadLettered ?? 0) >= 3 &&
    ['to-mes-p1', 'to-mes-p2', 'to-erp'].every((name) => (route(name)?.position ?? 0) >= head);
  // Bounded: the state is observed, not waited for by a fixed delay.
  for (const deadline = Date.now() + 20_000; !settled() && Date.now() < deadline; )
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(settled(), JSON.stringify(hub.delivery.subscriptions()));
  const body = await trace();
  assert.equal(body.subject, 'PO-T1');
  assert.deepEqual(
    body.items.map((it: { event: { id: string } }) => it.event.id),
    [events[0]?.id, events[1]?.id],
  );
  for (const item of body.items) {
    const states = Object.fromEntries(
      item.deliveries.map((d: { route: string; state: string }) => [d.route, d.state]),
    );
    assert.deepEqual(states, { 'to-mes-p1': 'done', 'to-mes-p2': 'filtered-out', 'to-erp': 'dead-lettered' });
    const letter = item.deliveries.find((d: { route: string }) => d.route === 'to-erp').deadLetter;
    assert.equal(letter.reason, 'rejected');
  }
  const missing = await hub.app.inject({ method: 'GET', url: '/v1/trace/PO-NONE', headers: auth() });
  assert.equal(missing.statusCode, 404);
});
