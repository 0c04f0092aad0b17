import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Hub } from '../../src/hub.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { parseTraceparent } from '../../src/observability/trace-context.js';
import { makeEvent } from '../helpers/events.js';
import { auth, createTestHub } from '../helpers/hub.js';
import { OtlpCollector } from '../helpers/otlp-collector.js';
import { TestReceiver } from '../helpers/receiver.js';

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const item of open.reverse()) await item.close().catch(() => undefined);
});

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const CLIENT_TRACEPARENT = `00-${TRACE}-${CLIENT_SPAN}-01`;
const SPAN_KIND = { server: 2, client: 3 };

async function receiver(): Promise<TestReceiver> {
  const rx = new TestReceiver();
  await rx.listen();
  open.push(rx);
  return rx;
}

/** Bounded polling of hub state that no event announces. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function storedEvent(hub: Hub, id: string): Promise<CloudEvent> {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/events?limit=1000', headers: auth() });
  const found = (res.json().items as CloudEvent[]).find((e) => e.id === id);
  assert.ok(found, `event ${id} is stored`);
  return found;
}

test('a posted trace reaches the endpoint and the collector: ingest and delivery spans in one trace', async () => {
  const collector = new OtlpCollector();
  const otlpEndpoint = await collector.listen();
  open.push(collector);
  const rx = await receiver();
  const hub = await createTestHub({
    observability: { tracing: { otlpEndpoint, serviceName: 'conveyor-test', sampleRatio: 1 } },
    connectors: { rx: { kind: 'http', url: rx.url } },
    routes: [{ name: 'orders', types: ['production.*'], sink: 'rx' }],
  });
  await hub.listen();
  const event = makeEvent();
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      ...auth(),
      'content-type': 'application/cloudevents+json',
      traceparent: CLIENT_TRACEPARENT,
      tracestate: 'vendor=abc',
    },
    payload: JSON.stringify(event),
  });
  assert.equal(res.statusCode, 202, res.body);
  await rx.waitFor(() => rx.received.length === 1, 10_000, 'the delivery');

  // The event keeps the caller's context; the attempt is a new span in the same trace.
  const delivered = rx.received[0]!;
  const body = JSON.parse(delivered.body) as CloudEvent;
  assert.equal(body.traceparent, CLIENT_TRACEPARENT);
  assert.equal(body.tracestate, 'vendor=abc');
  const attempt = parseTraceparent(delivered.headers.traceparent);
  assert.ok(attempt, `traceparent header: ${delivered.headers.traceparent}`);
  assert.equal(attempt.traceId, TRACE);
  assert.notEqual(attempt.spanId, CLIENT_SPAN);
  assert.equal(delivered.headers.tracestate, 'vendor=abc');

  // The receiver records before it answers: wait for the hub to have its answer, then closing flushes the spans.
  await until(() => hub.delivery.subscriptions()[0]?.delivered === 1, 'the delivery to be counted');
  await hub.close();
  const inTrace = collector.spans.filter((s) => s.traceId === TRACE);
  const ingest = inTrace.find((s) => s.name === 'conveyor.ingest');
  const deliver = inTrace.find((s) => s.name === 'conveyor.deliver orders');
  assert.ok(ingest, `ingest span among ${inTrace.map((s) => s.name).join(', ')}`);
  assert.ok(deliver, 'delivery span');
  assert.equal(collector.contentTypes[0], 'application/json');

  assert.equal(ingest.parentSpanId, CLIENT_SPAN);
  assert.equal(ingest.kind, SPAN_KIND.server);
  assert.equal(ingest.attributes['http.response.status_code'], 202);
  assert.equal(ingest.attributes['cloudevents.event_id'], event.id);
  assert.equal(ingest.resource['service.name'], 'conveyor-test');

  // The delivery span is the event's child, and the endpoint's parent.
  assert.equal(deliver.parentSpanId, CLIENT_SPAN);
  assert.equal(deliver.spanId, attempt.spanId);
  assert.equal(deliver.kind, SPAN_KIND.client);
  assert.deepEqual(
    {
      id: deliver.attributes['cloudevents.event_id'],
      type: deliver.attributes['cloudevents.event_type'],
      subject: deliver.attributes['cloudevents.event_subject'],
      plant: deliver.attributes['conveyor.plant'],
      route: deliver.attributes['conveyor.route'],
      sink: deliver.attributes['conveyor.sink'],
      attempt: deliver.attributes['conveyor.delivery.attempt'],
      outcome: deliver.attributes['conveyor.delivery.outcome'],
      status: deliver.attributes['http.response.status_code'],
    },
    {
      id: event.id,
      type: event.type,
      subject: event.subject,
      plant: 'P1',
      route: 'orders',
      sink: 'rx',
      attempt: 1,
      outcome: 'delivered',
      status: 204,
    },
  );
});

test('a command and a hub-started trace: the command span is the root of its events’ trace', async () => {
  const collector = new OtlpCollector();
  const otlpEndpoint = await collector.listen();
  open.push(collector);
  const hub = await createTestHub({ observability: { tracing: { otlpEndpoint } } });
  await hub.listen();
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/material-consumptions',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: {
      orderId: 'PO-1',
      plant: 'P1',
      material: 'RM-10',
      quantity: { value: 5, uom: 'KG' },
      lot: 'L-7',
    },
  });
  assert.equal(res.statusCode, 202, res.body);
  const stored = await storedEvent(hub, res.json().events[0].id);
  await hub.close();
  const context = parseTraceparent(stored.traceparent);
  assert.ok(context, 'the command’s event has a trace context');
  const span = collector.spans.find((s) => s.name === 'conveyor.command material-consumption');
  assert.ok(span, `command span among ${collector.spans.map((s) => s.name).join(', ')}`);
  assert.equal(span.parentSpanId, undefined);
  assert.equal(span.traceId, context.traceId);
  assert.equal(span.spanId, context.spanId);
  assert.equal(span.attributes['http.response.status_code'], 202);
});

test('without tracing every stored event still has a trace: its own, the request’s, or a new one', async () => {
  const hub = await createTestHub();
  open.push(hub);
  const own = makeEvent({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00` });
  const bare = makeEvent();
  const post = (events: CloudEvent[], headers: Record<string, string> = {}) =>
    hub.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json', ...headers },
      payload: JSON.stringify(events),
    });
  assert.equal((await post([own, bare], { traceparent: CLIENT_TRACEPARENT })).statusCode, 202);
  assert.equal((await storedEvent(hub, own.id)).traceparent, own.traceparent);
  assert.equal((await storedEvent(hub, bare.id)).traceparent, CLIENT_TRACEPARENT);

  // No header: the hub starts a trace (sampled), one per request.
  const first = makeEvent();
  const second = makeEvent();
  assert.equal((await post([first, second])).statusCode, 202);
  const started = parseTraceparent((await storedEvent(hub, first.id)).traceparent);
  assert.ok(started);
  assert.equal(started.flags, '01');
  assert.equal(
    (await storedEvent(hub, second.id)).traceparent,
    (await storedEvent(hub, first.id)).traceparent,
  );

  // A re-sent event is a duplicate and the first version stays, trace context included.
  const again = await post([first], { traceparent: CLIENT_TRACEPARENT });
  assert.equal(again.json().events[0].duplicate, true);
  assert.equal(parseTraceparent((await storedEvent(hub, first.id)).traceparent)?.traceId, started.traceId);

  // Binary mode: the header fills in when there is no ce-traceparent.
  const binary = makeEvent();
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      ...auth(),
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': binary.id,
      'ce-source': binary.source,
      'ce-type': binary.type,
      'ce-time': binary.time as string,
      'ce-subject': binary.subject as string,
      'ce-plant': 'P1',
      traceparent: CLIENT_TRACEPARENT,
    },
    payload: JSON.stringify(binary.data),
  });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal((await storedEvent(hub, binary.id)).traceparent, CLIENT_TRACEPARENT);
});

test('binary-mode deliveries: ce-traceparent is the event’s, traceparent the attempt’s, new on every attempt', async () => {
  const rx = await receiver();
  rx.behaviour = ({ count }) => ({ status: count === 1 ? 503 : 204 });
  const hub = await createTestHub({
    connectors: { rx: { kind: 'http', url: rx.url } },
    routes: [
      {
        name: 'binary',
        types: ['production.*'],
        sink: 'rx',
        transform: '$.data',
        retry: { maxAttempts: 3, initialDelay: '5ms', maxDelay: '10ms' },
      },
    ],
  });
  await hub.listen();
  open.push(hub);
  const event = makeEvent({ traceparent: CLIENT_TRACEPARENT });
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });
  assert.equal(res.statusCode, 202);
  await rx.waitFor(() => rx.received.length === 1, 10_000, 'the retried delivery');
  const delivered = rx.received[0]!;
  assert.equal(delivered.headers['ce-traceparent'], CLIENT_TRACEPARENT);
  const attempt = parseTraceparent(delivered.headers.traceparent);
  assert.equal(attempt?.traceId, TRACE);
  assert.notEqual(attempt?.spanId, CLIENT_SPAN);

  // The failed first attempt is logged with the event id and its trace id.
  const failed = hub.logs.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.msg === 'delivery attempt failed');
  assert.ok(failed, 'a log line for the failed attempt');
  assert.equal(failed.eventId, event.id);
  assert.equal(failed.traceId, TRACE);
});

test('a request that fails in the hub is logged with the request’s trace id', async () => {
  const hub = await createTestHub();
  open.push(hub);
  hub.log.append = async () => {
    throw new Error('the disk is full');
  };
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json', traceparent: CLIENT_TRACEPARENT },
    payload: JSON.stringify(makeEvent()),
  });
  assert.equal(res.statusCode, 500);
  const line = hub.logs.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'request failed');
  assert.ok(line, 'the failure is logged');
  assert.equal(line.traceId, TRACE);
});
