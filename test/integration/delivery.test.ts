import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualClock } from '../../src/delivery/clock.js';
import type { Hub } from '../../src/hub.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';
import { auth, createTestHub } from '../helpers/hub.js';
import { TestReceiver } from '../helpers/receiver.js';

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const item of open.reverse()) await item.close();
});

async function receiver(): Promise<TestReceiver> {
  const r = new TestReceiver();
  await r.listen();
  open.push(r);
  return r;
}

const FAST_RETRY = { maxAttempts: 5, initialDelay: '5ms', maxDelay: '20ms', maxAge: '1h' };

async function hubWith(
  routes: Array<Record<string, unknown>>,
  connectors: Record<string, unknown>,
  options: { clock?: ManualClock } = {},
) {
  const hub = await createTestHub(
    { connectors, routes },
    undefined,
    options.clock ? { clock: options.clock } : {},
  );
  await hub.listen();
  open.push(hub);
  return hub;
}

async function publish(hub: Hub, events: CloudEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const res = await hub.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events.slice(i, i + 500)),
    });
    assert.equal(res.statusCode, 202, res.body);
  }
}

/** Bounded polling of state that is not a received event (route positions, counters). */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const keyed = (keys: number, perKey: number) =>
  Array.from({ length: perKey }, (_, n) =>
    Array.from({ length: keys }, (_, k) => makeEvent({ subject: `order-${k}`, id: `order-${k}#${n}` })),
  ).flat();

function expectKeyOrder(rx: TestReceiver, events: CloudEvent[]): void {
  const expected = new Map<string, string[]>();
  for (const e of events)
    expected.set(e.subject as string, [...(expected.get(e.subject as string) ?? []), e.id]);
  const got = rx.orderByKey();
  for (const [key, ids] of expected) assert.deepEqual(got.get(key), ids, `order of ${key}`);
}

test('events reach the endpoint in order per key while keys proceed in parallel', async () => {
  const rx = await receiver();
  // Uneven response times shuffle the keys' progress; order within a key must still hold.
  rx.behaviour = ({ count }) => ({ status: 204, delayMs: (count * 7) % 4 });
  const hub = await hubWith([{ name: 'orders', types: ['production.*'], sink: 'rx', retry: FAST_RETRY }], {
    rx: { kind: 'http', url: rx.url },
  });
  const events = keyed(12, 25);
  await publish(hub, events);
  await rx.waitFor(() => rx.received.length >= events.length, 20_000, 'all events');
  expectKeyOrder(rx, events);
  const body = JSON.parse(rx.received[0]!.body) as { specversion: string; sequence: number; id: string };
  assert.equal(body.specversion, '1.0');
  assert.equal(typeof body.sequence, 'number', 'deliveries carry the hub sequence');
  assert.equal(rx.received[0]!.headers['content-type'], 'application/cloudevents+json');
  await until(
    () => hub.delivery.subscriptions()[0]!.position === hub.log.head(),
    'the route position to reach the head',
  );
  assert.equal(hub.delivery.subscriptions()[0]!.delivered, events.length);
});

test('a poison event (400) is dead-lettered after one attempt; its key continues; other keys are not held up', async () => {
  const rx = await receiver();
  const poison = makeEvent({ subject: 'P', id: 'poison-1' });
  rx.behaviour = ({ id }) => (id === poison.id ? { status: 400 } : { status: 204 });
  const hub = await hubWith([{ name: 'orders', types: ['production.*'], sink: 'rx', retry: FAST_RETRY }], {
    rx: { kind: 'http', url: rx.url },
  });
  const after = [makeEvent({ subject: 'P', id: 'P-2' }), makeEvent({ subject: 'P', id: 'P-3' })];
  const others = Array.from({ length: 20 }, (_, i) => makeEvent({ subject: `K${i}` }));
  await publish(hub, [poison, ...after, ...others]);
  await rx.waitFor(() => rx.received.length >= 22, 10_000, 'the good events');
  assert.deepEqual(rx.orderByKey().get('P'), ['P-2', 'P-3']);
  const dlq = (await hub.app.inject({ method: 'GET', url: '/v1/dlq?route=orders', headers: auth() })).json();
  assert.equal(dlq.items.length, 1);
  const [entry] = dlq.items;
  assert.equal(entry.reason, 'rejected');
  assert.equal(entry.event.id, poison.id);
  assert.equal(entry.attempts.length, 1);
  assert.equal(entry.attempts[0].status, 400);
  assert.equal(rx.attempts.filter((a) => a.id === poison.id).length, 1, 'no retry of a rejected event');
});

test('retryable answers are retried with backoff; exhausting maxAttempts dead-letters with every attempt; replay and discard work', async () => {
  const rx = await receiver();
  const flaky = makeEvent({ subject: 'F', id: 'flaky' });
  const doomed = makeEvent({ subject: 'D', id: 'doomed' });
  const dropped = makeEvent({ subject: 'X', id: 'dropped' });
  let healthy = false;
  rx.behaviour = ({ id, count }) => {
    if (id === flaky.id && count <= 2) return { status: 503, headers: { 'retry-after': '0' } };
    if (id === doomed.id && !healthy) return { status: 500 };
    if (id === dropped.id && !healthy) return 'drop';
    return { status: 204 };
  };
  const hub = await hubWith(
    [{ name: 'erp', types: ['production.*'], sink: 'rx', retry: { ...FAST_RETRY, maxAttempts: 3 } }],
    { rx: { kind: 'http', url: rx.url, circuitBreaker: { failureThreshold: 1000, resetAfter: '1s' } } },
  );
  await publish(hub, [flaky, doomed, dropped]);
  await rx.waitFor(() => rx.received.some((r) => r.id === flaky.id), 10_000, 'the flaky event');
  assert.equal(rx.attempts.filter((a) => a.id === flaky.id).length, 3);
  let entries: Array<{
    id: string;
    reason: string;
    event: { id: string };
    attempts: Array<{ status?: number; error?: string }>;
  }> = [];
  for (let i = 0; i < 200 && entries.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    entries = (
      await hub.app.inject({ method: 'GET', url: '/v1/dlq?reason=max-attempts', headers: auth() })
    ).json().items;
  }
  assert.equal(entries.length, 2);
  const doomedEntry = entries.find((e) => e.event.id === doomed.id)!;
  assert.deepEqual(
    doomedEntry.attempts.map((a) => a.status),
    [500, 500, 500],
  );
  const droppedEntry = entries.find((e) => e.event.id === dropped.id)!;
  assert.equal(droppedEntry.attempts.length, 3);
  assert.ok(droppedEntry.attempts.every((a) => a.status === undefined && (a.error ?? '').length > 0));

  healthy = true;
  const replay = await hub.app.inject({
    method: 'POST',
    url: `/v1/dlq/${doomedEntry.id}/replay`,
    headers: auth(),
  });
  assert.equal(replay.statusCode, 202);
  await rx.waitFor(() => rx.received.some((r) => r.id === doomed.id), 10_000, 'the replayed event');
  let status = '';
  for (let i = 0; i < 100 && status !== 'replayed'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    status = (
      await hub.app.inject({ method: 'GET', url: `/v1/dlq/${doomedEntry.id}`, headers: auth() })
    ).json().status;
  }
  assert.equal(status, 'replayed');
  const again = await hub.app.inject({
    method: 'POST',
    url: `/v1/dlq/${doomedEntry.id}/replay`,
    headers: auth(),
  });
  assert.equal(again.statusCode, 409, 'a replayed entry cannot be replayed twice');

  const discard = await hub.app.inject({
    method: 'POST',
    url: `/v1/dlq/${droppedEntry.id}/discard`,
    headers: auth(),
  });
  assert.equal(discard.json().status, 'discarded');
  assert.equal(
    rx.received.some((r) => r.id === dropped.id),
    false,
  );
  const audit = await hub.store.audit.list({}, 0, 100);
  assert.deepEqual(
    audit.map((a) => [a.action, a.target, a.actor]),
    [
      ['dlq.replay', doomedEntry.id, 'admin'],
      ['dlq.replay', doomedEntry.id, 'admin'],
      ['dlq.discard', droppedEntry.id, 'admin'],
    ],
  );
  assert.equal(audit[1]?.outcome, 'refused');
});

test('bulk replay by filter re-delivers every matching open entry', async () => {
  const rx = await receiver();
  let healthy = false;
  rx.behaviour = () => (healthy ? { status: 204 } : { status: 422 });
  const hub = await hubWith([{ name: 'qms', types: ['quality.*'], sink: 'rx', retry: FAST_RETRY }], {
    rx: { kind: 'http', url: rx.url },
  });
  const events = Array.from({ length: 30 }, (_, i) =>
    makeEvent({ type: 'quality.hold.placed', subject: `H${i}` }),
  );
  await publish(hub, events);
  let open = 0;
  for (let i = 0; i < 200 && open < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    open = (
      await hub.app.inject({ method: 'GET', url: '/v1/dlq?status=open&route=qms', headers: auth() })
    ).json().items.length;
  }
  assert.equal(open, 30);
  healthy = true;
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/dlq/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { route: 'qms', type: 'quality.hold.placed' },
  });
  assert.equal(res.statusCode, 202);
  assert.equal(res.json().matched, 30);
  await rx.waitFor(() => rx.received.length >= 30, 10_000, 'replayed entries');
  const bad = await hub.app.inject({
    method: 'POST',
    url: '/v1/dlq/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { since: 'last tuesday' },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().errors[0].path, '/since');
});

test('a receiver down for 5 minutes (simulated): its circuit opens, the other route is unaffected, the backlog arrives in key order', async () => {
  const down = await receiver();
  const port = down.port;
  await down.close();
  const healthy = await receiver();
  const clock = new ManualClock(Date.now());
  const hub = await hubWith(
    [
      {
        name: 'to-down',
        types: ['production.*'],
        sink: 'down',
        retry: { maxAttempts: 8, initialDelay: '500ms', maxDelay: '30s', maxAge: '24h' },
      },
      { name: 'to-healthy', types: ['production.*'], sink: 'healthy', retry: FAST_RETRY },
    ],
    {
      down: {
        kind: 'http',
        url: `http://127.0.0.1:${port}/events`,
        circuitBreaker: { failureThreshold: 5, resetAfter: '30s' },
      },
      healthy: { kind: 'http', url: healthy.url },
    },
    { clock },
  );
  const events = keyed(6, 10);
  await publish(hub, events);
  await healthy.waitFor(() => healthy.received.length >= events.length, 10_000, 'the healthy route');
  // Simulate five minutes of outage in 5 s steps.
  for (let step = 0; step < 60; step++) {
    await clock.advance(5_000);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const during = hub.delivery.subscriptions().find((s) => s.name === 'to-down')!;
  assert.equal(during.circuit, 'open');
  assert.ok(
    during.failedAttempts <= 5 + 12,
    `an open circuit sends only probes (${during.failedAttempts} failed attempts)`,
  );
  assert.equal(during.deadLettered, 0, 'waiting events are not failed');
  assert.equal(during.position < hub.log.head(), true);

  const back = new TestReceiver();
  await back.listen(port);
  open.push(back);
  for (let i = 0; i < 200 && back.received.length < events.length; i++) {
    await clock.advance(5_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await back.waitFor(() => back.received.length >= events.length, 10_000, 'the backlog');
  expectKeyOrder(back, events);
  assert.equal(hub.delivery.subscriptions().find((s) => s.name === 'to-down')?.circuit, 'closed');
  assert.equal((await hub.store.deadLetters.list({}, 0, 10)).length, 0);
});

test('a receiver down for a few seconds of real time: circuit opens, nothing is lost, order per key holds', async () => {
  const down = await receiver();
  const port = down.port;
  await down.close();
  const hub = await hubWith(
    [
      {
        name: 'outage',
        types: ['production.*'],
        sink: 'rx',
        retry: { maxAttempts: 8, initialDelay: '20ms', maxDelay: '200ms', maxAge: '1h' },
      },
    ],
    {
      rx: {
        kind: 'http',
        url: `http://127.0.0.1:${port}/events`,
        circuitBreaker: { failureThreshold: 3, resetAfter: '500ms' },
      },
    },
  );
  const events = keyed(5, 8);
  await publish(hub, events);
  await until(() => hub.delivery.subscriptions()[0]!.circuit !== 'closed', 'the circuit to open');
  // Stay down for two seconds: several probe cycles, no dead letters.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const during = hub.delivery.subscriptions()[0]!;
  assert.equal(during.deadLettered, 0);
  assert.ok(during.failedAttempts < 3 + 10, `only probes while open (${during.failedAttempts})`);
  const back = new TestReceiver();
  await back.listen(port);
  open.push(back);
  await back.waitFor(() => back.received.length >= events.length, 10_000, 'the backlog after recovery');
  expectKeyOrder(back, events);
  assert.equal(hub.delivery.subscriptions()[0]!.circuit, 'closed');
});

test('a timeout is retried; a transform sends its result with the attributes as ce-* headers', async () => {
  const rx = await receiver();
  rx.behaviour = ({ count }) => (count === 1 ? { status: 204, delayMs: 400 } : { status: 202 });
  const hub = await hubWith(
    [
      {
        name: 'wms',
        types: ['production.*'],
        sink: 'rx',
        timeout: '100ms',
        retry: FAST_RETRY,
        transform: '{ "order": data.orderId, "qty": data.quantityGood.value }',
      },
    ],
    { rx: { kind: 'http', url: rx.url } },
  );
  const event = makeEvent({ subject: 'PO-9' });
  (event.data as { orderId: string; quantityGood: { value: number } }).orderId = 'PO-9';
  (event.data as { quantityGood: { value: number } }).quantityGood.value = 42;
  await publish(hub, [event]);
  await rx.waitFor(() => rx.received.length >= 2, 10_000, 'the retried delivery');
  const last = rx.received[rx.received.length - 1]!;
  assert.deepEqual(JSON.parse(last.body), { order: 'PO-9', qty: 42 });
  assert.equal(last.headers['ce-id'], event.id);
  assert.equal(last.headers['ce-type'], event.type);
  assert.equal(last.headers['ce-specversion'], '1.0');
  assert.ok(Number(last.headers['ce-sequence']) > 0);
  assert.equal(last.headers['content-type'], 'application/json');
  const sub = hub.delivery.subscriptions()[0]!;
  assert.match(sub.lastError?.error ?? '', /timeout after 100 ms/);
});

test('replaying a subscription from a sequence or a time re-delivers with the original ids', async () => {
  const rx = await receiver();
  const hub = await hubWith([{ name: 'mes', types: ['production.*'], sink: 'rx', retry: FAST_RETRY }], {
    rx: { kind: 'http', url: rx.url },
  });
  const events = keyed(3, 5);
  await publish(hub, events);
  await rx.waitFor(() => rx.received.length >= 15, 10_000, 'first delivery');
  const first = rx.received[0]!.sequence;
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/subscriptions/mes/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { from: first + 5 },
  });
  assert.equal(res.statusCode, 202, res.body);
  await rx.waitFor(() => rx.received.length >= 25, 10_000, 'replayed events');
  // Keys run in parallel, so compare as sets; order per key is checked below.
  const replayed = rx.received.slice(15).map((r) => r.id);
  assert.deepEqual(
    replayed.sort(),
    events
      .slice(5)
      .map((e) => e.id)
      .sort(),
  );
  const replayedKeys = new Map<string, string[]>();
  for (const r of rx.received.slice(15)) replayedKeys.set(r.key, [...(replayedKeys.get(r.key) ?? []), r.id]);
  for (const [key, ids] of replayedKeys)
    assert.deepEqual(
      ids,
      events
        .slice(5)
        .filter((e) => e.subject === key)
        .map((e) => e.id),
    );
  const byTime = await hub.app.inject({
    method: 'POST',
    url: '/v1/subscriptions/mes/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { from: '2000-01-01T00:00:00Z' },
  });
  assert.equal(byTime.json().from, first);
  await rx.waitFor(() => rx.received.length >= 40, 10_000, 'replay from a time');
  const bad = await hub.app.inject({
    method: 'POST',
    url: '/v1/subscriptions/mes/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { from: 'yesterday' },
  });
  assert.equal(bad.statusCode, 422);
  const missing = await hub.app.inject({
    method: 'POST',
    url: '/v1/subscriptions/nope/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { from: 1 },
  });
  assert.equal(missing.statusCode, 404);
  const subs = (await hub.app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth() })).json();
  assert.equal(subs.items[0].name, 'mes');
  assert.equal(typeof subs.items[0].lag.events, 'number');
});

test('a replay from 1 re-delivers a match that sits behind 12,000 events the route leaves out (mixed wildcard and exact types)', async () => {
  const rx = await receiver();
  const hub = await hubWith(
    [
      {
        name: 'quality-and-releases',
        types: ['quality.*', 'production.order.released'],
        sink: 'rx',
        retry: FAST_RETRY,
      },
    ],
    { rx: { kind: 'http', url: rx.url } },
  );
  const completions = Array.from({ length: 12_000 }, () => makeEvent());
  await publish(hub, completions);
  const release = makeEvent({ type: 'production.order.released', subject: 'PO-SPARSE' });
  await publish(hub, [release]);
  const holds = Array.from({ length: 600 }, (_, i) =>
    makeEvent({ type: 'quality.hold.placed', subject: `H-${i}` }),
  );
  await publish(hub, holds);
  await rx.waitFor(() => rx.received.length >= 601, 20_000, 'live delivery of the release and holds');
  assert.ok(
    rx.received.some((r) => r.id === release.id),
    'the release is delivered live',
  );
  const live = rx.received.length;
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/subscriptions/quality-and-releases/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { from: 1 },
  });
  assert.equal(res.statusCode, 202, res.body);
  await rx.waitFor(() => rx.received.length >= live + 601, 20_000, 'the replay');
  const replayed = rx.received.slice(live).map((r) => r.id);
  assert.ok(replayed.includes(release.id), 'the release is re-delivered by the replay');
  assert.equal(new Set(replayed).size, 601);
});

test('a replay from a sequence beyond the route position never skips the events the route has not finished', async () => {
  const rx = await receiver();
  let up = false;
  rx.behaviour = () => (up ? { status: 204 } : { status: 503 });
  const hub = await hubWith(
    [
      {
        name: 'behind',
        types: ['production.*'],
        sink: 'rx',
        retry: { maxAttempts: 1000, initialDelay: '5ms', maxDelay: '20ms', maxAge: '1h' },
      },
    ],
    { rx: { kind: 'http', url: rx.url, circuitBreaker: { failureThreshold: 100_000, resetAfter: '50ms' } } },
  );
  const events = keyed(4, 5);
  await publish(hub, events);
  await until(() => rx.attempts.length >= 4, 'first failed attempts');
  const last = hub.log.head();
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/subscriptions/behind/replay',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { from: last },
  });
  assert.equal(res.statusCode, 202, res.body);
  up = true;
  await rx.waitFor(
    () => new Set(rx.received.map((r) => r.id)).size >= events.length,
    10_000,
    'every event, also those before the replay position',
  );
  expectKeyOrder(rx, events);
});
