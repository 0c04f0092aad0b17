/**
 * The mqtt-out sink against a real mosquitto: routes publish events on templated topics, a
 * transform's result is the payload, and events wait in the route (retried) while the broker is
 * down, arriving once it is back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../../src/delivery/clock.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';
import { auth, createTestHub } from '../helpers/hub.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';

let broker: MosquittoBroker;
before(async () => {
  broker = await MosquittoBroker.start();
});
after(async () => {
  await broker.close();
});

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); ) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A subscriber with a persistent session, so what is published while it reconnects waits for it. */
async function subscriber(filter: string) {
  const received: Array<{ topic: string; payload: string }> = [];
  const client: MqttClient = await mqtt.connectAsync(broker.url, {
    clientId: `test-sub-${randomUUID()}`,
    clean: false,
    reconnectPeriod: 100,
  });
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
  client.on('error', () => undefined);
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, received };
}

/** The engine's time runs 100 times faster: back-offs and the 30 s circuit reset take milliseconds. */
function fastClock(factor = 100): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * factor,
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        if (signal?.aborted || ms <= 0) return resolve();
        const timer = setTimeout(done, Math.max(1, ms / factor));
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

async function publish(hub: Awaited<ReturnType<typeof createTestHub>>, events: CloudEvent[]) {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify(events),
  });
  assert.equal(res.statusCode, 202, res.body);
}

test('routes publish events on templated topics, and a transform result as the payload', async () => {
  const sub = await subscriber('conveyor/#');
  const hub = await createTestHub(
    {
      connectors: {
        bus: { kind: 'mqtt-out', url: broker.url, topic: 'conveyor/events/{plant}/{type}/{subject}' },
        legacy: {
          kind: 'mqtt-out',
          url: broker.url,
          topic: 'conveyor/legacy/{plant}',
          qos: 0,
          protocolVersion: 5,
        },
      },
      routes: [
        { name: 'to-bus', types: ['production.*'], sink: 'bus', retry: { initialDelay: '100ms' } },
        {
          name: 'to-legacy',
          types: ['production.operation.completed'],
          sink: 'legacy',
          transform: '{"id": id, "order": data.orderId, "good": data.quantityGood.value}',
          retry: { initialDelay: '100ms' },
        },
      ],
    },
    undefined,
    { clock: fastClock() },
  );
  await hub.listen();
  try {
    const events = [makeEvent({ subject: 'PO-1' }), makeEvent({ subject: 'PO/2+#', plant: 'P2' })];
    await publish(hub, events);
    await until(() => sub.received.length >= 4, 'four messages');

    const bus = sub.received.filter((m) => m.topic.startsWith('conveyor/events/'));
    assert.deepEqual(bus.map((m) => m.topic).sort(), [
      'conveyor/events/P1/production.operation.completed/PO-1',
      'conveyor/events/P2/production.operation.completed/PO_2__',
    ]);
    for (const message of bus) {
      const stored = JSON.parse(message.payload);
      const sent = events.find((e) => e.id === stored.id);
      assert.ok(sent, `an event published with its id (${message.topic})`);
      assert.equal(typeof stored.sequence, 'number', 'the stored event, with its sequence');
      assert.deepEqual(stored.data, sent.data);
    }
    const legacy = sub.received.filter((m) => m.topic.startsWith('conveyor/legacy/'));
    assert.deepEqual(legacy.map((m) => [m.topic, JSON.parse(m.payload)]).sort(), [
      ['conveyor/legacy/P1', { id: events[0]?.id, order: 'PO-1', good: 10 }],
      ['conveyor/legacy/P2', { id: events[1]?.id, order: 'PO/2+#', good: 10 }],
    ]);
    assert.ok(hub.delivery.subscriptions().every((s) => s.delivered === 2 && s.deadLettered === 0));
  } finally {
    await hub.close();
    await sub.client.endAsync(true);
  }
});

test('with the broker down deliveries are retried, and every event arrives once it is back', async () => {
  const sub = await subscriber('down/#');
  const hub = await createTestHub(
    {
      connectors: { bus: { kind: 'mqtt-out', url: broker.url, topic: 'down/{type}', timeout: '2s' } },
      routes: [
        {
          name: 'to-bus',
          types: ['production.*'],
          sink: 'bus',
          retry: { maxAttempts: 1000, initialDelay: '200ms', maxDelay: '5s' },
        },
      ],
    },
    undefined,
    { clock: fastClock() },
  );
  await hub.listen();
  const status = () => hub.delivery.subscriptions()[0]!;
  try {
    await publish(hub, [makeEvent()]);
    await until(() => status().delivered === 1, 'the first delivery');

    await broker.stop();
    const events = Array.from({ length: 20 }, (_, i) => makeEvent({ subject: `PO-D${i}` }));
    await publish(hub, events);
    await until(() => status().failedAttempts >= 10, 'failed attempts while the broker is down');
    assert.equal(status().delivered, 1);
    assert.equal(status().deadLettered, 0);
    assert.match(JSON.stringify(status().lastError), /not connected|closed|timeout/i);

    await broker.resume();
    await until(() => status().delivered === 21, 'every event delivered after the broker is back', 20_000);
    const ids = new Set(events.map((e) => e.id));
    await until(
      () => [...ids].every((id) => sub.received.some((m) => JSON.parse(m.payload).id === id)),
      'every event at the subscriber',
    );
    assert.equal(status().deadLettered, 0);
    assert.ok(sub.received.every((m) => m.topic === 'down/production.operation.completed'));
  } finally {
    await hub.close();
    await sub.client.endAsync(true);
  }
});

test('a publish that timed out is taken back from the client, so it never goes again behind the route', async (t) => {
  const { createMqttOutSink } = await import('../../src/connectors/mqtt/sink.js');
  const { mqttOutSinkSpec } = await import('../../src/connectors/mqtt/sink-spec.js');
  const problems: Array<{ path: string; message: string }> = [];
  const config = mqttOutSinkSpec.compile(
    { kind: 'mqtt-out', url: broker.url, topic: 'conveyor/taken-back' },
    'connectors.bus',
    problems,
    '.',
  );
  assert.deepEqual(problems, []);
  const sink = createMqttOutSink(config, `taken-back-${randomUUID()}`, {} as Clock);
  t.after(async () => {
    broker.unfreeze();
    await sink.close();
  });
  const client = () => (sink as unknown as { client: MqttClient | null }).client;
  const deadline = Date.now() + 10_000;
  while (!client()?.connected && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal((await sink.send(makeEvent() as never, null, 5_000)).kind, 'delivered');
  broker.freeze();
  const outcome = await sink.send(makeEvent() as never, null, 300);
  assert.equal(outcome.kind, 'retry', JSON.stringify(outcome));
  assert.deepEqual(Object.keys(client()?.outgoing ?? {}), [], 'nothing left for the client to send again');
});

test('an mqtt-out connector without a topic, or with a bad url or topic, is refused at start', async () => {
  const start = (connector: Record<string, unknown>) =>
    createTestHub({
      connectors: { out: { kind: 'mqtt-out', ...connector } },
      routes: [{ name: 'r', types: ['production.*'], sink: 'out' }],
    });
  await assert.rejects(start({ url: broker.url }), /connectors\.out\.topic/);
  await assert.rejects(start({ url: 'http://127.0.0.1:1883', topic: 'a/{type}' }), /connectors\.out\.url/);
  await assert.rejects(start({ url: 'mqtt://', topic: 'a/{type}' }), /connectors\.out\.url/);
  await assert.rejects(
    start({ url: broker.url, topic: 'a/+/{type}' }),
    /connectors\.out\.topic: .*wildcards/,
  );
  await assert.rejects(start({ url: broker.url, topic: 'a/{order}' }), /connectors\.out\.topic: \{order\}/);
});
