import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Decoded, decodeJson, jsonSafe, SparkplugDecoder } from './decode.js';
import { decodePayload, encodePayload, type SparkplugPayload } from './sparkplug/codec.js';
import { loadSpecExamples } from './sparkplug/spec-examples.test-helper.js';

const SPEC_TIME = '2017-02-03T17:55:02.122Z'; // 1486144502122, the timestamp of every spec example
const RECEIVED = Date.parse('2024-06-12T12:00:00.000Z');
const GROUP = 'Sparkplug B Devices';
const NODE_TOPIC = 'spBv1.0/Sparkplug B Devices/NDATA/Raspberry Pi';

const bytes = (text: string) => new TextEncoder().encode(text);

/** A spec example's topic and bytes, with its seq replaced when given. */
function spec(type: string, seq?: number): { topic: string; bytes: Uint8Array } {
  const example = loadSpecExamples().get(type)!;
  const payload: SparkplugPayload = { ...example.payload };
  if (seq !== undefined) payload.seq = seq;
  return { topic: example.topic, bytes: encodePayload(payload) };
}

function decoder(plant?: string, builtInMapping = true): SparkplugDecoder {
  return new SparkplugDecoder(
    { mapping: plant ? { plant } : {}, rebirthHoldOffMs: 5_000, hostId: null },
    builtInMapping,
  );
}

function feed(d: SparkplugDecoder, message: { topic: string; bytes: Uint8Array }): Decoded {
  return d.decode(
    message.topic,
    message.bytes,
    RECEIVED,
    SparkplugDecoder.messageId(message.topic, message.bytes),
  );
}

function delivered(decoded: Decoded): Extract<Decoded, { kind: 'deliver' }> {
  assert.equal(decoded.kind, 'deliver', JSON.stringify(decoded));
  return decoded as Extract<Decoded, { kind: 'deliver' }>;
}

/** A decoder that has seen the spec's NBIRTH (seq 0) and DBIRTH (seq 1). */
function born(plant?: string): SparkplugDecoder {
  const d = decoder(plant);
  delivered(feed(d, spec('NBIRTH', 0)));
  delivered(feed(d, spec('DBIRTH', 1)));
  return d;
}

test('a JSON message: the parsed payload, the hub maps it, and its id is topic + digest of the bytes', () => {
  const decoded = delivered(decodeJson('plant/P1/press-07', bytes('{"strokes": 182340}')));
  assert.deepEqual(decoded.payload, { strokes: 182340 });
  assert.equal(decoded.events, undefined);
  assert.equal(decoded.error, undefined);
  assert.match(decoded.id, /^plant\/P1\/press-07#[0-9a-f]{32}$/);
});

test('a JSON message redelivered keeps its id; other bytes or another topic give another', () => {
  const id = decodeJson('a/b', bytes('{"n":1}')).id;
  assert.equal(decodeJson('a/b', bytes('{"n":1}')).id, id);
  assert.notEqual(decodeJson('a/b', bytes('{"n":2}')).id, id);
  assert.notEqual(decodeJson('a/c', bytes('{"n":1}')).id, id);
});

test('bytes that are not JSON, or not UTF-8, carry an error for the source DLQ', () => {
  const truncated = delivered(decodeJson('a/b', bytes('{"n": 1,')));
  assert.match(truncated.error!, /^not JSON: /);
  assert.equal(truncated.payload, null);
  const latin1 = delivered(decodeJson('a/b', Uint8Array.from([0x22, 0xe9, 0x22])));
  assert.equal(latin1.error, 'not JSON: not UTF-8 text');
});

test('the spec NBIRTH maps its numeric metric; the control and string metrics give no events', () => {
  const decoded = delivered(feed(decoder(), spec('NBIRTH', 0)));
  assert.equal(decoded.id, `spBv1.0/${GROUP}/NBIRTH/Raspberry Pi#0@1486144502122`);
  assert.deepEqual(decoded.events, [
    {
      type: 'telemetry.machine.counter',
      data: {
        plant: GROUP,
        equipmentId: 'Raspberry Pi',
        counter: 'Supply Voltage',
        value: 12.1,
        at: SPEC_TIME,
      },
      subject: 'Raspberry Pi',
      plant: GROUP,
      time: SPEC_TIME,
    },
  ]);
  assert.deepEqual(decoded.warnings, []);
  assert.equal(decoded.rebirth, undefined);
});

test('the spec NDATA after the births maps to one counter event, field by field', () => {
  const decoded = delivered(feed(born(), spec('NDATA', 2)));
  assert.equal(decoded.id, `${NODE_TOPIC}#2@1486144502122`);
  assert.equal(decoded.error, undefined);
  assert.deepEqual(decoded.events, [
    {
      type: 'telemetry.machine.counter',
      data: {
        plant: GROUP,
        equipmentId: 'Raspberry Pi',
        counter: 'Supply Voltage',
        value: 12.3,
        at: SPEC_TIME,
      },
      subject: 'Raspberry Pi',
      plant: GROUP,
      time: SPEC_TIME,
    },
  ]);
  // What a `map` expression would see: JSON-friendly, names resolved, the session's bdSeq added.
  assert.deepEqual(decoded.payload, {
    topic: { kind: 'node', groupId: GROUP, messageType: 'NDATA', edgeNodeId: 'Raspberry Pi' },
    timestamp: 1486144502122,
    seq: 2,
    bdSeq: 0,
    metrics: [{ name: 'Supply Voltage', timestamp: 1486144502122, datatype: 'Float', value: 12.3 }],
  });
});

test('the configured plant replaces the Sparkplug group id', () => {
  const decoded = delivered(feed(born('P1'), spec('NDATA', 2)));
  assert.equal(decoded.events![0]!.plant, 'P1');
  assert.equal(decoded.events![0]!.data.plant, 'P1');
});

test('the spec DDATA carries only Boolean inputs: delivered, with no events', () => {
  const decoded = delivered(feed(born(), spec('DDATA', 2)));
  assert.deepEqual(decoded.events, []);
  assert.equal(decoded.error, undefined);
});

test('the spec NDEATH: state unknown for the edge node and for its device that was online', () => {
  const decoded = delivered(feed(born(), spec('NDEATH')));
  assert.equal(decoded.id, `spBv1.0/${GROUP}/NDEATH/Raspberry Pi#@1486144502122`);
  const at = new Date(RECEIVED).toISOString();
  assert.deepEqual(
    decoded.events!.map((e) => e.data),
    [
      { plant: GROUP, equipmentId: 'Raspberry Pi', state: 'unknown', at },
      { plant: GROUP, equipmentId: 'Pibrella', state: 'unknown', at },
    ],
  );
});

test('the spec DDEATH: state unknown for the device', () => {
  const decoded = delivered(feed(born(), spec('DDEATH', 2)));
  assert.deepEqual(
    decoded.events!.map((e) => [e.type, e.data.equipmentId, e.data.state]),
    [['telemetry.machine.state', 'Pibrella', 'unknown']],
  );
});

test('an alias the birth did not define: the message goes to the DLQ, and a rebirth is asked for', () => {
  const d = decoder();
  delivered(
    feed(d, {
      topic: 'spBv1.0/P1/NBIRTH/E1',
      bytes: encodePayload({
        timestamp: 1,
        seq: 0,
        metrics: [
          { name: 'bdSeq', datatype: 'Int64', value: 3 },
          { name: 'Strokes', alias: 1, datatype: 'UInt32', value: 0 },
        ],
      }),
    }),
  );
  const data = encodePayload(
    {
      timestamp: 2,
      seq: 1,
      metrics: [
        { alias: 1, datatype: 'UInt32', value: 5 },
        { alias: 7, datatype: 'UInt32', value: 9 },
      ],
    },
    { omitAliasedDatatypes: true },
  );
  const decoded = delivered(feed(d, { topic: 'spBv1.0/P1/NDATA/E1', bytes: data }));
  assert.match(decoded.error!, /alias 7 was not defined by the birth certificate/);
  assert.deepEqual(decoded.events, [], 'no partial events: the raw message is kept whole');
  assert.notEqual(decoded.payload, null, 'the decoded part is kept for the DLQ');
  assert.equal(decoded.rebirth!.topic, 'spBv1.0/P1/NCMD/E1');
  assert.deepEqual(
    decodePayload(decoded.rebirth!.payload).metrics.map((m) => [m.name, m.value]),
    [['Node Control/Rebirth', true]],
  );
});

test('a malformed payload goes to the DLQ without a payload', () => {
  const decoded = delivered(feed(born(), { topic: NODE_TOPIC, bytes: Uint8Array.from([0xff, 0xff, 0xff]) }));
  assert.match(decoded.error!, /Sparkplug B payload/);
  assert.equal(decoded.payload, null);
  assert.deepEqual(decoded.events, []);
  assert.match(decoded.id, /#[0-9a-f]{32}$/, 'undecodable bytes get a digest id');
});

test('a topic outside the Sparkplug namespace goes to the DLQ', () => {
  const decoded = delivered(feed(decoder(), { topic: 'spBv1.0/P1/NFOO/E1', bytes: new Uint8Array() }));
  assert.match(decoded.error!, /unknown message type 'NFOO'/);
});

test('data before a birth cannot be read: DLQ and a rebirth request', () => {
  const decoded = delivered(feed(decoder(), spec('NDATA', 2)));
  assert.match(decoded.error!, /before its NBIRTH/);
  assert.equal(decoded.rebirth!.topic, `spBv1.0/${GROUP}/NCMD/Raspberry Pi`);
});

test('a seq gap: the data is delivered, with a warning and a rebirth request', () => {
  const decoded = delivered(feed(born(), spec('NDATA', 7)));
  assert.equal(decoded.error, undefined);
  assert.equal(decoded.events!.length, 1);
  assert.deepEqual(decoded.warnings, [`${NODE_TOPIC}: seq 7 where 2 was expected`]);
  assert.ok(decoded.rebirth);
});

test('device data after a seq gap that swallowed its DBIRTH: the DLQ reason names the gap, seq expected and arrived', () => {
  const d = decoder();
  delivered(feed(d, spec('NBIRTH', 0)));
  // The DBIRTH (seq 1) never arrives.
  const decoded = delivered(feed(d, spec('DDATA', 2)));
  assert.equal(decoded.payload, null);
  assert.equal(
    decoded.error,
    'sequence gap: seq 2 arrived where 1 was expected, so messages from Sparkplug B Devices/Raspberry Pi were lost, ' +
      'among them the DBIRTH of device Pibrella; its DDATA cannot be read until the device is born again',
  );
  assert.ok(decoded.rebirth);
});

test('commands and host STATE carry nothing for the hub', () => {
  const d = born();
  const command = feed(d, spec('NCMD'));
  assert.equal(command.kind, 'skip');
  const state = feed(d, { topic: 'spBv1.0/STATE/scada-1', bytes: bytes('{"online": true, "timestamp": 1}') });
  assert.equal(state.kind, 'skip');
});

test('with a map configured the built-in mapping is not run: no events, the payload for the map', () => {
  const d = decoder(undefined, false);
  const decoded = delivered(feed(d, spec('NBIRTH', 0)));
  assert.equal(decoded.events, undefined);
  assert.equal((decoded.payload as { metrics: unknown[] }).metrics.length, 10);
});

test('a redelivered Sparkplug message has the same id; the id does not touch the sessions', () => {
  const message = spec('NDATA', 2);
  assert.equal(SparkplugDecoder.messageId(message.topic, message.bytes), `${NODE_TOPIC}#2@1486144502122`);
  const d = born();
  SparkplugDecoder.messageId(message.topic, message.bytes);
  assert.deepEqual(delivered(feed(d, message)).warnings, [], 'seq still continues from the births');
  const untimed = encodePayload({ seq: 3, metrics: [] });
  assert.match(SparkplugDecoder.messageId(NODE_TOPIC, untimed), /#[0-9a-f]{32}$/);
});

test('payloads for a map are JSON: big integers as text, bytes as base64', () => {
  assert.deepEqual(jsonSafe({ a: 2n ** 60n, b: 5n, c: Uint8Array.from([1, 2, 3]), d: [1n, 'x'] }), {
    a: '1152921504606846976',
    b: 5,
    c: 'AQID',
    d: [1, 'x'],
  });
});
