import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import type { Hub } from '../hub.js';
import type { CloudEvent } from '../model/envelope.js';

/** An endpoint that takes CloudEvents batches and answers each with the status `answer` picks. */
class BatchReceiver {
  /** Accepted batches, as the ids and subjects they held, in arrival order. */
  readonly accepted: Array<Array<{ id: string; subject: string; sequence: number }>> = [];
  readonly requests: Array<{ ids: string[]; status: number; contentType: string }> = [];
  answer: (ids: string[]) => number = () => 204;
  url = '';
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{
        id: string;
        subject: string;
        sequence: number;
      }>;
      const ids = events.map((e) => e.id);
      const status = this.answer(ids);
      this.requests.push({ ids, status, contentType: String(req.headers['content-type']) });
      if (status < 300) this.accepted.push(events);
      // Uneven answer times shuffle the order batches finish in.
      setTimeout(() => res.writeHead(status).end(), this.requests.length % 3);
    });
  });

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/in`;
  }

  delivered(): string[] {
    return this.accepted.flat().map((e) => e.id);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const item of open.reverse()) await item.close();
});

const FAST_RETRY = { maxAttempts: 1000, initialDelay: '5ms', maxDelay: '20ms', maxAge: '1h' };

async function setUp(batch: Record<string, unknown>): Promise<{ hub: Hub; rx: BatchReceiver }> {
  const rx = new BatchReceiver();
  await rx.listen();
  open.push(rx);
  const hub = await createTestHub({
    // The circuit stays closed: these tests are about batches, not the endpoint's health.
    connectors: { rx: { kind: 'http', url: rx.url, circuitBreaker: { failureThreshold: 10_000 } } },
    routes: [{ name: 'batched', types: ['production.*'], sink: 'rx', retry: FAST_RETRY, batch }],
  });
  await hub.listen();
  open.push(hub);
  return { hub, rx };
}

async function publish(hub: Hub, events: CloudEvent[]): Promise<void> {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify(events),
  });
  assert.equal(res.statusCode, 202, res.body);
}

async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const keyed = (keys: number, perKey: number) =>
  Array.from({ length: perKey }, (_, n) =>
    Array.from({ length: keys }, (_, k) => makeEvent({ subject: `order-${k}`, id: `order-${k}#${n}` })),
  ).flat();

const status = (hub: Hub) =>
  hub.delivery.subscriptions()[0] as ReturnType<Hub['delivery']['subscriptions']>[0];

test('a batching route sends CloudEvents batches and keeps every key in order', async () => {
  const { hub, rx } = await setUp({ maxEvents: 20, maxWait: '5ms' });
  const events = keyed(12, 25);
  for (let i = 0; i < events.length; i += 60) await publish(hub, events.slice(i, i + 60));
  await until(() => rx.delivered().length >= events.length, 'every event');

  assert.deepEqual([...rx.delivered()].sort(), events.map((e) => e.id).sort(), 'each event once');
  assert.ok(
    rx.requests.every((r) => r.contentType === 'application/cloudevents-batch+json' && r.ids.length <= 20),
  );
  assert.ok(rx.requests.length < events.length / 2, `${rx.requests.length} requests for ${events.length}`);
  const order = new Map<string, string[]>();
  for (const batch of rx.accepted)
    for (const e of batch) order.set(e.subject, [...(order.get(e.subject) ?? []), e.id]);
  for (let k = 0; k < 12; k++)
    assert.deepEqual(
      order.get(`order-${k}`),
      Array.from({ length: 25 }, (_, n) => `order-${k}#${n}`),
      `order of order-${k}`,
    );
  await until(() => status(hub).position === hub.log.head(), 'the position at the head');
});

test('a batch refused with a 4xx is split: only the refused events go to the DLQ, the others are delivered', async () => {
  const { hub, rx } = await setUp({ maxEvents: 50, maxWait: '20ms' });
  const events = keyed(8, 5);
  const poison = new Set([events[3]?.id, events[17]?.id, events[18]?.id]);
  rx.answer = (ids) => (ids.some((id) => poison.has(id)) ? 422 : 204);
  await publish(hub, events);
  await until(() => status(hub).position === hub.log.head(), 'the position at the head');

  const delivered = rx.delivered();
  assert.deepEqual(
    [...delivered].sort(),
    events
      .filter((e) => !poison.has(e.id))
      .map((e) => e.id)
      .sort(),
    'every event but the refused ones, once',
  );
  const letters = await hub.store.deadLetters.list({ route: 'batched' }, 0, 100);
  assert.deepEqual(letters.map((l) => l.event.id).sort(), [...poison].sort());
  assert.ok(letters.every((l) => l.reason === 'rejected' && l.attempts.some((a) => a.status === 422)));
  assert.equal(status(hub).deadLettered, 3);
});

test('a batch answered 5xx is retried whole until it is delivered', async () => {
  const { hub, rx } = await setUp({ maxEvents: 100, maxWait: '20ms' });
  let failures = 3;
  rx.answer = () => (failures-- > 0 ? 503 : 204);
  const events = keyed(5, 4);
  await publish(hub, events);
  await until(() => status(hub).position === hub.log.head(), 'the position at the head');

  assert.deepEqual([...rx.delivered()].sort(), events.map((e) => e.id).sort());
  assert.equal(rx.requests.filter((r) => r.status === 503).length, 3);
  assert.ok(status(hub).failedAttempts >= 3);
  assert.equal((await hub.store.deadLetters.list({ route: 'batched' }, 0, 100)).length, 0);
});

test('the position never passes an event whose batch is not delivered yet', async () => {
  // Batches of 3: the first holds the first key's three events, and only those.
  const { hub, rx } = await setUp({ maxEvents: 3, maxWait: '1ms' });
  const events = keyed(10, 3);
  const stuck = events[0]?.id as string;
  let release = false;
  rx.answer = (ids) => (ids.includes(stuck) && !release ? 503 : 204);
  await publish(hub, events);
  // Every key outside the failing batch gets through while that batch (with the log's first event) keeps failing.
  await until(() => rx.requests.some((r) => r.status === 503), 'the failing batch');
  const held = new Set(
    rx.requests.find((r) => r.status === 503)?.ids.map((id) => id.slice(0, id.indexOf('#'))),
  );
  const others = events.filter((e) => !held.has(e.subject as string)).map((e) => e.id);
  await until(() => others.every((id) => rx.delivered().includes(id)), 'the other keys');
  assert.ok(!rx.delivered().includes(stuck));
  await until(() => status(hub).retryingKeys > 0, 'the stuck batch retrying');
  assert.equal(status(hub).position, 0, 'the first event is not delivered, so the position stays before it');
  const durable = (await hub.log.consumers()).find((c) => c.name === 'route:batched')?.position;
  assert.equal(durable, 0);

  release = true;
  await until(() => status(hub).position === hub.log.head(), 'the position at the head');
  assert.ok(rx.delivered().includes(stuck));
  assert.equal(new Set(rx.delivered()).size, events.length);
});
