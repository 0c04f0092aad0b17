/**
 * The MQTT source against a real mosquitto: the connector contract for JSON and Sparkplug B, and
 * what only MQTT has: the persistent session, PUBACKs that wait for the hub, Sparkplug session
 * problems and rebirth requests.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { after, afterEach, before, describe, test } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import type { SourceMessage } from '../../src/connectors/framework/types.js';
import {
  MqttSource,
  type MqttSourceMessage,
  type MqttSourceOptions,
} from '../../src/connectors/mqtt/source.js';
import {
  decodePayload,
  encodePayload,
  type SparkplugPayload,
} from '../../src/connectors/mqtt/sparkplug/codec.js';
import { type MqttSourceConfig, mqttSourceSpec } from '../../src/connectors/mqtt/spec.js';
import {
  type ConnectorUnderTest,
  connectorContract,
  RecordingContext,
} from '../contracts/connector-contract.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';
import { runtimeUnderTest } from '../helpers/source-runtime.js';

const JSON_MAP =
  '{"type": "telemetry.machine.counter", "data": {"plant": "P1", "equipmentId": "PRESS-07", "counter": "strokes", "value": n, "at": at}}';

function compile(raw: Record<string, unknown>): MqttSourceConfig {
  const problems: Array<{ path: string; message: string }> = [];
  const config = mqttSourceSpec.compile(
    { kind: 'mqtt', reconnect: { initialDelay: '50ms', maxDelay: '500ms' }, ...raw },
    'connectors.line-1',
    problems,
    tmpdir(),
  );
  assert.deepEqual(problems, []);
  return config;
}

/** A short-lived publishing client: connect, publish at QoS 1 (resolved on the broker's PUBACK), leave. */
async function publish(url: string, messages: ReadonlyArray<{ topic: string; payload: Buffer | string }>) {
  const client = await connectClient(url);
  let done = false;
  try {
    const sent = Promise.all(messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
    await within(sent, 10_000, "the broker's PUBACKs");
    done = true;
  } finally {
    // A clean end waits for outstanding PUBACKs, which may never come once something failed.
    await client.endAsync(!done);
  }
}

function connectClient(url: string): Promise<MqttClient> {
  const client = connect(url, {
    clientId: `test-${randomUUID()}`,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

/**
 * Marker messages through the broker and back. The broker forwards in order, so once a marker is
 * back, what was published before it has reached every subscriber's socket; the second trip gives
 * the source's own reads their turns of the event loop.
 */
async function roundTrips(url: string, count: number): Promise<void> {
  const client = await connectClient(url);
  let done = false;
  try {
    const topic = `conveyor-test/settle/${randomUUID()}`;
    await client.subscribeAsync(topic, { qos: 1 });
    for (let i = 0; i < count; i++) {
      const back = new Promise<void>((resolve) => client.once('message', () => resolve()));
      await client.publishAsync(topic, String(i), { qos: 1 });
      await within(back, 5_000, 'a marker message');
    }
    done = true;
  } finally {
    await client.endAsync(!done);
  }
}

let counter = 0;
function jsonMessages(topic: string, count: number) {
  return Array.from({ length: count }, () => ({
    topic,
    payload: JSON.stringify({ n: ++counter, at: new Date().toISOString() }),
  }));
}

/** A Sparkplug edge node that publishes over short-lived connections; timestamps never repeat. */
class EdgeNode {
  private bdSeq = 0;
  private seq = 0;
  private stamp = Date.now();

  constructor(
    readonly group: string,
    readonly node: string,
  ) {}

  topic(type: string): string {
    return `spBv1.0/${this.group}/${type}/${this.node}`;
  }

  birth(): { topic: string; payload: Buffer } {
    this.seq = 0;
    const timestamp = ++this.stamp;
    const payload: SparkplugPayload = {
      timestamp,
      seq: 0,
      metrics: [
        { name: 'bdSeq', datatype: 'Int64', value: this.bdSeq++, timestamp },
        { name: 'Node Control/Rebirth', datatype: 'Boolean', value: false, timestamp },
        { name: 'Strokes', alias: 1, datatype: 'UInt32', value: 0, timestamp },
        { name: 'State', alias: 2, datatype: 'String', value: 'running', timestamp },
      ],
    };
    return { topic: this.topic('NBIRTH'), payload: Buffer.from(encodePayload(payload)) };
  }

  /** NDATA with the next seq (or the one given) carrying metric `alias`. */
  data(value: number, options: { seq?: number; alias?: number } = {}): { topic: string; payload: Buffer } {
    this.seq = options.seq ?? (this.seq + 1) % 256;
    const timestamp = ++this.stamp;
    const payload: SparkplugPayload = {
      timestamp,
      seq: this.seq,
      metrics: [{ alias: options.alias ?? 1, datatype: 'UInt32', value, timestamp }],
    };
    return {
      topic: this.topic('NDATA'),
      payload: Buffer.from(encodePayload(payload, { omitAliasedDatatypes: true })),
    };
  }

  /** `count` messages: an NBIRTH, then NDATA with consecutive seq. */
  messages(count: number) {
    if (count === 0) return [];
    return [this.birth(), ...Array.from({ length: count - 1 }, (_, i) => this.data(i + 1))];
  }
}

async function subject(
  raw: Record<string, unknown>,
  produce: (url: string, count: number) => Promise<void>,
): Promise<ConnectorUnderTest> {
  const broker = await MosquittoBroker.start();
  const config = compile({ ...raw, url: broker.url });
  return {
    startPeer: () => broker.resume(),
    stopPeer: () => broker.stop(),
    produce: (count) => produce(broker.url, count),
    settle: () => roundTrips(broker.url, 2),
    createSource: () => new MqttSource(config, 'line-1', { drainTimeoutMs: 2_000 }),
    close: () => broker.close(),
  };
}

connectorContract('mqtt (json)', () =>
  subject(
    { topics: ['conveyor-test/json/#'], format: 'json', map: JSON_MAP, clientId: 'contract-json' },
    (url, count) => publish(url, jsonMessages('conveyor-test/json/line-1', count)),
  ),
);

connectorContract('mqtt (json, MQTT 5)', () =>
  subject(
    {
      topics: ['conveyor-test/json5/#'],
      format: 'json',
      map: JSON_MAP,
      clientId: 'contract-json5',
      protocolVersion: 5,
      maxInFlight: 50,
    },
    (url, count) => publish(url, jsonMessages('conveyor-test/json5/line-1', count)),
  ),
);

const contractEdge = new EdgeNode('P1', 'LINE-1');
connectorContract('mqtt (sparkplug-b)', () =>
  subject(
    { topics: ['spBv1.0/P1/#'], format: 'sparkplug-b', clientId: 'contract-spb' },
    async (url, count) => {
      const [birth, ...data] = contractEdge.messages(count);
      // MQTT orders messages per topic only: the birth goes first, on its own.
      if (birth) await publish(url, [birth]);
      if (data.length > 0) await publish(url, data);
    },
  ),
);

const lastStatus = (ctx: RecordingContext) => ctx.statuses.at(-1)?.type;

/** Sources a test opened; stopped after each test, so a failed test leaves no client reconnecting. */
const opened = new Set<MqttSource>();
function open(config: MqttSourceConfig, options: MqttSourceOptions = {}): MqttSource {
  const source = new MqttSource(config, 'line-1', options);
  opened.add(source);
  return source;
}
async function stopOpened(): Promise<void> {
  await Promise.all([...opened].map((source) => source.stop()));
  opened.clear();
}

async function started(source: MqttSource, ctx = new RecordingContext()): Promise<RecordingContext> {
  await source.start(ctx);
  await ctx.until(() => lastStatus(ctx) === 'up', 'status up', 10_000);
  return ctx;
}

describe('mqtt source: persistent session and acknowledgements', () => {
  let broker: MosquittoBroker;
  before(async () => {
    broker = await MosquittoBroker.start();
  });
  afterEach(stopOpened);
  after(() => broker.close());

  test('messages published while the source is stopped are delivered after it starts again', async () => {
    const config = compile({ url: broker.url, topics: ['session/a'], map: JSON_MAP, clientId: 'session-a' });
    const first = open(config);
    await started(first);
    await first.stop();

    await publish(broker.url, jsonMessages('session/a', 3));
    const again = open(config);
    const ctx = await started(again);
    try {
      await ctx.until(() => ctx.acked.size >= 3, 'the 3 messages published while stopped', 10_000);
      assert.equal(ctx.distinct().size, 3);
      assert.deepEqual(
        ctx.delivered.map((m) => (m.payload as { n: number }).n),
        [counter - 2, counter - 1, counter],
        'in publish order',
      );
    } finally {
      await again.stop();
    }
  });

  test('the broker keeps a message until the hub acks it, and not after', async () => {
    const config = compile({ url: broker.url, topics: ['session/b'], map: JSON_MAP, clientId: 'session-b' });
    // A hub that never finishes: the PUBACK must not go out.
    const held = new RecordingContext();
    let release: () => void = () => undefined;
    held.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = open(config, { drainTimeoutMs: 100 });
    await started(first, held);
    await publish(broker.url, jsonMessages('session/b', 1));
    await held.until(() => held.delivered.length === 1, 'the delivery');
    const id = held.delivered[0]!.id;
    await first.stop();
    release(); // the late ack of a stopped source changes nothing

    const second = open(config);
    const ctx = await started(second);
    await ctx.until(() => ctx.acked.has(id), 'the unacknowledged message again, with the same id', 10_000);
    await second.stop();

    // Acked by the hub, so PUBACKed: the next session gets only what was published since.
    await publish(broker.url, jsonMessages('session/b', 1));
    const published = counter;
    const third = open(config);
    const next = await started(third);
    try {
      await next.until(() => next.acked.size >= 1, 'the message published after the ack', 10_000);
      assert.deepEqual(
        next.delivered.map((m) => (m.payload as { n: number }).n),
        [published],
      );
      assert.ok(!next.distinct().has(id), 'the acked message is not offered again');
    } finally {
      await third.stop();
    }
  });

  test('a redelivery after a reconnect joins the delivery the hub still has, and is acked with it', async () => {
    const config = compile({ url: broker.url, topics: ['session/g'], map: JSON_MAP, clientId: 'session-g' });
    const ctx = new RecordingContext();
    let release: () => void = () => undefined;
    ctx.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source = open(config);
    await started(source, ctx);
    await publish(broker.url, jsonMessages('session/g', 1));
    await ctx.until(() => ctx.delivered.length === 1, 'the delivery');
    const seen = ctx.statuses.length;
    await broker.restart();
    await ctx.until(
      () => ctx.statuses.slice(seen).some((s) => s.type === 'down') && lastStatus(ctx) === 'up',
      'down, then up again',
      10_000,
    );
    // The broker sends the unacknowledged PUBLISH again on the new connection.
    await roundTrips(broker.url, 2);
    assert.equal(ctx.delivered.length, 1, 'the hub is not handed the same message twice');
    assert.equal(source.unacked, 1);
    release();
    await ctx.until(() => ctx.acked.size === 1, 'the ack');
    await roundTrips(broker.url, 1);
    assert.equal(ctx.delivered.length, 1, 'nor after the ack');
    await source.stop();

    await publish(broker.url, jsonMessages('session/g', 1));
    const next = open(config);
    const after = await started(next);
    await after.until(() => after.acked.size >= 1, 'the new message', 10_000);
    assert.deepEqual(
      after.delivered.map((m) => (m.payload as { n: number }).n),
      [counter],
      'the old message was PUBACKed on the new connection',
    );
  });

  test('acks in any order: every PUBACK goes out once the ones before it are acked', async () => {
    const config = compile({ url: broker.url, topics: ['session/d'], map: JSON_MAP, clientId: 'session-d' });
    const waiting: SourceMessage[] = [];
    let all: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      all = resolve;
    });
    const ctx = new RecordingContext();
    ctx.deliver = async (messages) => {
      waiting.push(...messages);
      if (waiting.length === 5) all();
    };
    const source = open(config);
    await started(source, ctx);
    await publish(broker.url, jsonMessages('session/d', 5));
    await within(arrived, 10_000, 'five deliveries');
    for (const message of waiting.reverse()) await message.ack();
    await source.stop();

    // Nothing of the five comes again: the next session gets only what is published now.
    await publish(broker.url, jsonMessages('session/d', 1));
    const next = open(config);
    const after = await started(next);
    try {
      await after.until(() => after.acked.size >= 1, 'the new message', 10_000);
      assert.deepEqual(
        after.delivered.map((m) => (m.payload as { n: number }).n),
        [counter],
      );
    } finally {
      await next.stop();
    }
  });

  /** A source whose hub holds every delivery until `release()`: what the window lets in waits. */
  async function heldSource(topic: string, clientId: string, maxInFlight: number) {
    const ctx = new RecordingContext();
    let unhold: () => void = () => undefined;
    ctx.hold = new Promise<void>((resolve) => {
      unhold = resolve;
    });
    const source = open(compile({ url: broker.url, topics: [topic], map: JSON_MAP, clientId, maxInFlight }));
    await started(source, ctx);
    const release = () => {
      unhold();
      ctx.hold = null;
    };
    return { ctx, source, release };
  }

  /** The last `n` messages published: each acked once, all delivered in publish order. */
  async function allAckedInOrder(ctx: RecordingContext, n: number): Promise<void> {
    await ctx.until(() => ctx.acked.size >= n, `all ${n} acked`, 10_000);
    assert.ok([...ctx.acked.values()].every((acks) => acks === 1));
    assert.deepEqual(
      ctx.delivered.map((m) => (m.payload as { n: number }).n),
      Array.from({ length: n }, (_, i) => counter - n + 1 + i),
      'in publish order',
    );
  }

  test('at most maxInFlight messages wait for the hub, even when the broker would send more', async () => {
    const { ctx, source, release } = await heldSource('session/e', 'session-e', 3);
    try {
      // mosquitto lets 20 QoS 1 messages be unacknowledged per client; the source takes 3.
      await publish(broker.url, jsonMessages('session/e', 12));
      await ctx.until(() => ctx.delivered.length >= 1, 'a delivery');
      await roundTrips(broker.url, 2);
      assert.ok(ctx.maxInFlightMessages <= 3, `${ctx.maxInFlightMessages} handed to the hub`);
      assert.equal(source.unacked, 3, 'the source stopped reading at 3');
      release();
      await allAckedInOrder(ctx, 12);
    } finally {
      release();
      await source.stop();
    }
  });

  test('a window filled in one burst goes to the hub in halves, so one half commits while the other is handed over', async () => {
    const { ctx, source, release } = await heldSource('session/halves', 'session-halves', 8);
    try {
      await publish(broker.url, jsonMessages('session/halves', 8));
      await ctx.until(() => ctx.delivered.length >= 8, 'the whole window handed over');
      assert.ok(
        ctx.batches.every((size) => size <= 4),
        `batches of ${ctx.batches.join(', ')}: none larger than half the window of 8`,
      );
      release();
      await allAckedInOrder(ctx, 8);
    } finally {
      release();
      await source.stop();
    }
  });

  test('a nacked message is offered again with the same id', async () => {
    const config = compile({ url: broker.url, topics: ['session/f'], map: JSON_MAP, clientId: 'session-f' });
    const offers: string[] = [];
    const ctx = new RecordingContext();
    const record = ctx.deliver.bind(ctx);
    ctx.deliver = async (messages) => {
      offers.push(...messages.map((m) => m.id));
      // The hub is full the first time.
      if (offers.length === 1) for (const message of messages) await message.nack(10);
      else await record(messages);
    };
    const source = open(config);
    await started(source, ctx);
    try {
      await publish(broker.url, jsonMessages('session/f', 1));
      await ctx.until(() => ctx.acked.size >= 1, 'the ack after the retry', 10_000);
      assert.equal(offers.length, 2);
      assert.equal(offers[0], offers[1]);
    } finally {
      await source.stop();
    }
  });

  test('invalid JSON goes to the source DLQ with its bytes, and the source reads on', async () => {
    const config = compile({ url: broker.url, topics: ['session/c'], map: JSON_MAP, clientId: 'session-c' });
    const source = open(config);
    const ctx = await started(source);
    try {
      await publish(broker.url, [
        { topic: 'session/c', payload: '{"n": 1,' },
        ...jsonMessages('session/c', 1),
      ]);
      await ctx.until(() => ctx.acked.size >= 2, 'both messages acked', 10_000);
      const [bad, good] = ctx.delivered as MqttSourceMessage[];
      assert.match(bad!.error ?? '', /^not JSON/);
      assert.equal(bad!.payload, null);
      assert.equal(Buffer.from(bad!.raw).toString(), '{"n": 1,');
      assert.equal(good!.error, undefined);
      assert.ok(ctx.statuses.some((s) => s.type === 'degraded' && s.reason.includes('session/c')));
    } finally {
      await source.stop();
    }
  });
});

/** Polls a condition that has no event to wait on, up to a deadline. */
async function pollUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}

describe('mqtt source in the hub runtime: PUBACKs follow the log', () => {
  let broker: MosquittoBroker;
  before(async () => {
    broker = await MosquittoBroker.start();
  });
  afterEach(stopOpened);
  after(() => broker.close());

  async function hubWith(config: MqttSourceConfig, options: MqttSourceOptions = {}) {
    const under = await runtimeUnderTest(open(config, options), { map: JSON_MAP });
    await under.runtime.start();
    await pollUntil(() => under.runtime.status().health.type === 'up', 'the source up');
    return under;
  }

  test('no PUBACK while the log holds the append: a new session gets every message of the batch again', async () => {
    const config = compile({ url: broker.url, topics: ['hub/a'], map: JSON_MAP, clientId: 'hub-a' });
    const hub = await hubWith(config, { drainTimeoutMs: 100 });
    let release: () => void = () => undefined;
    hub.log.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await publish(broker.url, jsonMessages('hub/a', 10));
      await pollUntil(() => hub.log.events.length === 10, 'the 10 events handed to the log');
      await roundTrips(broker.url, 2);
      assert.equal(hub.runtime.status().events, 0, 'nothing is durable yet');
      // The hub stops before the log says the events are durable.
      await hub.close();
    } finally {
      release();
    }

    const again = open(config);
    const ctx = await started(again);
    await ctx.until(() => ctx.acked.size >= 10, 'the 10 messages again', 10_000);
    assert.deepEqual(
      ctx.delivered.map((m) => (m.payload as { n: number }).n),
      Array.from({ length: 10 }, (_, i) => counter - 9 + i),
      'every message of the held batch, in publish order',
    );
  });

  test('once the log has a batch every message is PUBACKed, a bad one through the source DLQ', async () => {
    const config = compile({ url: broker.url, topics: ['hub/b'], map: JSON_MAP, clientId: 'hub-b' });
    const hub = await hubWith(config);
    try {
      await publish(broker.url, [
        ...jsonMessages('hub/b', 2),
        { topic: 'hub/b', payload: '{"n": 1,' },
        { topic: 'hub/b', payload: JSON.stringify({ n: 'many', at: new Date().toISOString() }) },
        ...jsonMessages('hub/b', 2),
      ]);
      await pollUntil(() => hub.runtime.status().messages >= 6, 'the 6 messages');
      await pollUntil(
        () => hub.runtime.status().events === 4 && hub.runtime.status().deadLettered === 2,
        '4 events in the log and 2 messages in the source DLQ',
      );
      assert.deepEqual(
        hub.log.events.map((e) => (e.data as { value: number }).value),
        [counter - 3, counter - 2, counter - 1, counter],
        'the good messages around the bad ones, in publish order',
      );
      assert.match(hub.deadLetters.entries[0]!.error, /^not JSON/);
      assert.match(hub.deadLetters.entries[1]!.error, /not valid canonical events/);
    } finally {
      await hub.close();
    }

    // All six were PUBACKed: the next session gets only what is published now.
    await publish(broker.url, jsonMessages('hub/b', 1));
    const next = open(config);
    const ctx = await started(next);
    await ctx.until(() => ctx.acked.size >= 1, 'the new message', 10_000);
    await roundTrips(broker.url, 2);
    assert.deepEqual(
      ctx.delivered.map((m) => (m.payload as { n: number }).n),
      [counter],
    );
  });
});

describe('mqtt source: Sparkplug B sessions', () => {
  let broker: MosquittoBroker;
  before(async () => {
    broker = await MosquittoBroker.start();
  });
  afterEach(stopOpened);
  after(() => broker.close());

  const sparkplugConfig = (group: string) =>
    compile({
      url: broker.url,
      topics: [`spBv1.0/${group}/#`],
      format: 'sparkplug-b',
      clientId: `spb-${group}`,
    });

  test('a malformed payload and an unknown alias are reported, and the source keeps running', async () => {
    const edge = new EdgeNode('G2', 'PRESS-07');
    const source = open(sparkplugConfig('G2'));
    const ctx = await started(source);
    try {
      await publish(broker.url, [edge.birth()]);
      await ctx.until(() => ctx.acked.size >= 1, 'the birth');
      await publish(broker.url, [{ topic: edge.topic('NDATA'), payload: Buffer.from([0xff, 0xff, 0xff]) }]);
      await publish(broker.url, [edge.data(5, { alias: 99 })]);
      await publish(broker.url, [edge.data(6)]);
      await ctx.until(() => ctx.acked.size >= 4, 'every message acked', 10_000);

      const [birth, malformed, unknownAlias, good] = ctx.delivered as MqttSourceMessage[];
      assert.equal(birth!.error, undefined);
      assert.deepEqual(
        birth!.events?.map((e) => [e.type, e.data.counter ?? e.data.state]),
        [
          ['telemetry.machine.counter', 'Strokes'],
          ['telemetry.machine.state', 'running'],
        ],
      );
      assert.match(malformed!.error ?? '', /Sparkplug B payload/);
      assert.deepEqual(malformed!.events, []);
      assert.match(unknownAlias!.error ?? '', /alias 99/);
      assert.deepEqual(unknownAlias!.events, []);
      assert.equal(good!.error, undefined);
      assert.deepEqual(good!.events?.[0]?.data, {
        plant: 'G2',
        equipmentId: 'PRESS-07',
        counter: 'Strokes',
        value: 6,
        at: good!.events?.[0]?.time,
      });
      const degraded = ctx.statuses.filter((s) => s.type === 'degraded').map((s) => s.reason);
      assert.ok(degraded.length >= 1, 'reported degraded');
      assert.match(degraded[0]!, /spBv1\.0\/G2\/NDATA\/PRESS-07/);
    } finally {
      await source.stop();
    }
  });

  test('a seq gap makes it publish an NCMD Node Control/Rebirth, and the data still counts', async () => {
    const edge = new EdgeNode('G3', 'PRESS-08');
    const observer = await connectClient(broker.url);
    const commands: Array<{ topic: string; payload: Buffer }> = [];
    let heard: () => void = () => undefined;
    const rebirth = new Promise<void>((resolve) => {
      heard = resolve;
    });
    observer.on('message', (topic, payload) => {
      commands.push({ topic, payload });
      heard();
    });
    await observer.subscribeAsync(edge.topic('NCMD'), { qos: 0 });
    const source = open(sparkplugConfig('G3'));
    const ctx = await started(source);
    try {
      await publish(broker.url, [edge.birth()]);
      await publish(broker.url, [edge.data(1)]);
      await publish(broker.url, [edge.data(2, { seq: 5 })]);
      await ctx.until(() => ctx.acked.size >= 3, 'three messages acked', 10_000);
      await within(rebirth, 10_000, 'the rebirth request');

      assert.equal(commands[0]!.topic, 'spBv1.0/G3/NCMD/PRESS-08');
      const request = decodePayload(commands[0]!.payload);
      assert.deepEqual(
        request.metrics.map((m) => [m.name, m.value]),
        [['Node Control/Rebirth', true]],
      );
      const gap = ctx.delivered[2] as MqttSourceMessage;
      assert.equal(gap.error, undefined, 'the message after the gap is good data');
      assert.equal(gap.events?.[0]?.data.value, 2);
      const degraded = ctx.statuses.find((s) => s.type === 'degraded');
      assert.match(degraded?.type === 'degraded' ? degraded.reason : '', /seq 5 where 2 was expected/);
    } finally {
      await source.stop();
      await observer.endAsync();
    }
  });

  test('as primary host it publishes a retained STATE: online per connection, offline by will or on stop', async () => {
    const stateTopic = 'spBv1.0/STATE/conveyor-test';
    const observer = await connectClient(broker.url);
    const states: Array<{ online: boolean; timestamp: number; retain: boolean }> = [];
    observer.on('message', (topic, payload, packet) => {
      if (topic === stateTopic) states.push({ ...JSON.parse(payload.toString()), retain: packet.retain });
    });
    await observer.subscribeAsync(stateTopic, { qos: 1 });
    const heard = async (count: number, what: string) => {
      for (const deadline = Date.now() + 10_000; states.length < count && Date.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(states.length >= count, `timed out waiting for ${what}: ${JSON.stringify(states)}`);
      return states[count - 1]!;
    };
    const source = open({
      ...sparkplugConfig('G4'),
      sparkplug: { ...sparkplugConfig('G4').sparkplug!, hostId: 'conveyor-test' },
    });
    await started(source);
    try {
      const birth = await heard(1, 'the online STATE');
      assert.equal(birth.online, true);
      // The connection dies without a DISCONNECT: the broker publishes the will, then the source comes back.
      (source as unknown as { client: MqttClient }).client.stream.destroy();
      const will = await heard(2, 'the offline will');
      assert.deepEqual([will.online, will.timestamp], [false, birth.timestamp]);
      const rebirth = await heard(3, 'the online STATE after reconnecting');
      assert.equal(rebirth.online, true);
      assert.ok(rebirth.timestamp > birth.timestamp, 'a new connection has a new timestamp');
      await source.stop();
      const death = await heard(4, 'the offline STATE of a clean stop');
      assert.deepEqual([death.online, death.timestamp], [false, rebirth.timestamp]);
      // Retained: a host that starts later still learns the hub is offline.
      const late = await connectClient(broker.url);
      const retained = new Promise<Buffer>((resolve) =>
        late.once('message', (_t, payload) => resolve(payload)),
      );
      await late.subscribeAsync(stateTopic, { qos: 1 });
      await within(retained, 10_000, 'the retained STATE');
      assert.deepEqual(JSON.parse((await retained).toString()), {
        online: false,
        timestamp: rebirth.timestamp,
      });
      await late.endAsync();
    } finally {
      await source.stop();
      await observer.endAsync();
    }
  });

  test('hostId belongs to sparkplug-b sources and is one topic level', () => {
    const problems: Array<{ path: string; message: string }> = [];
    mqttSourceSpec.compile(
      { kind: 'mqtt', url: broker.url, topics: ['a/#'], map: '{}', hostId: 'x' },
      'connectors.c',
      problems,
      tmpdir(),
    );
    assert.deepEqual(problems, [
      { path: 'connectors.c.hostId', message: 'applies to format: sparkplug-b only' },
    ]);
  });
});

async function within(promise: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
