import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePayload, encodePayload, type SparkplugMetric, type SparkplugPayload } from './codec.js';
import { createSparkplugMapper, type MappedSparkplugEvent, mapSparkplugMessage } from './mapping.js';
import { type SessionOutcome, type SparkplugMessage, SparkplugSessions } from './session.js';
import { loadSpecExamples } from './spec-examples.test-helper.js';
import { type EdgeTopic, parseTopic } from './topic.js';

const SPEC_TIME = '2017-02-03T17:55:02.122Z'; // 1486144502122, the timestamp of every spec example
const RECEIVED = Date.parse('2024-06-12T12:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function edgeTopic(text: string): EdgeTopic {
  const parsed = parseTopic(text);
  assert.ok(parsed.ok && parsed.topic.kind !== 'state', text);
  return parsed.topic;
}

/** A spec example as the session would hand it over: decoded from the wire, with its topic. */
function specMessage(type: string, extra: Partial<SparkplugMessage> = {}): SparkplugMessage {
  const example = loadSpecExamples().get(type)!;
  return {
    topic: edgeTopic(example.topic),
    payload: decodePayload(encodePayload(example.payload)),
    receivedAt: RECEIVED,
    ...extra,
  };
}

function message(
  topic: string,
  payload: SparkplugPayload,
  extra: Partial<SparkplugMessage> = {},
): SparkplugMessage {
  return { topic: edgeTopic(topic), payload, receivedAt: RECEIVED, ...extra };
}

function messageOf(outcome: SessionOutcome): SparkplugMessage {
  assert.ok('message' in outcome && outcome.message, `no message in ${outcome.kind}`);
  return outcome.message;
}

test('the spec NDATA example maps to one counter event, field by field', () => {
  const events = mapSparkplugMessage(specMessage('NDATA', { bdSeq: 0 }));
  assert.equal(events.length, 1);
  const [event] = events as [MappedSparkplugEvent];
  assert.equal(event.type, 'telemetry.machine.counter');
  assert.deepEqual(event.data, {
    plant: 'Sparkplug B Devices',
    equipmentId: 'Raspberry Pi',
    counter: 'Supply Voltage',
    value: 12.3,
    at: SPEC_TIME,
  });
  assert.equal(event.subject, 'Raspberry Pi');
  assert.equal(event.partitionkey, 'Sparkplug B Devices/Raspberry Pi');
  assert.match(event.id, UUID);
});

test('the spec DDATA example carries only Boolean inputs, which are not numeric and map to nothing', () => {
  const ddata = specMessage('DDATA');
  assert.deepEqual(
    ddata.payload.metrics.map((m) => m.datatype),
    ['Boolean', 'Boolean'],
  );
  assert.deepEqual(mapSparkplugMessage(ddata), []);
});

test('a DDATA with numeric and State metrics maps to device events, field by field', () => {
  // The spec's DDATA topic and timestamps, with metrics a press would send.
  const example = loadSpecExamples().get('DDATA')!;
  const events = mapSparkplugMessage(
    message(
      example.topic,
      {
        timestamp: 1486144502122,
        seq: 0,
        metrics: [
          { name: 'Strokes', datatype: 'UInt32', value: 182340, timestamp: 1486144502000 },
          { name: 'Inputs/A', datatype: 'Boolean', value: true },
          { name: 'State', datatype: 'String', value: 'Running' },
        ],
      },
      { bdSeq: 0 },
    ),
    { plant: 'P1' },
  );
  assert.equal(events.length, 2);
  const [counter, state] = events as [MappedSparkplugEvent, MappedSparkplugEvent];
  assert.equal(counter.type, 'telemetry.machine.counter');
  assert.deepEqual(counter.data, {
    plant: 'P1',
    equipmentId: 'Pibrella',
    counter: 'Strokes',
    value: 182340,
    at: '2017-02-03T17:55:02.000Z',
  });
  assert.equal(counter.subject, 'Pibrella');
  assert.equal(counter.partitionkey, 'P1/Pibrella');
  assert.equal(state.type, 'telemetry.machine.state');
  assert.deepEqual(state.data, { plant: 'P1', equipmentId: 'Pibrella', state: 'running', at: SPEC_TIME });
  assert.equal(state.partitionkey, 'P1/Pibrella');
  assert.notEqual(counter.id, state.id);
});

test('births map their numeric metrics; session control metrics only on request', () => {
  const nbirth = specMessage('NBIRTH', { bdSeq: 0 });
  const events = mapSparkplugMessage(nbirth);
  assert.deepEqual(
    events.map((e) => [e.type, e.data]),
    [
      [
        'telemetry.machine.counter',
        {
          plant: 'Sparkplug B Devices',
          equipmentId: 'Raspberry Pi',
          counter: 'Supply Voltage',
          value: 12.1,
          at: SPEC_TIME,
        },
      ],
    ],
  );
  const all = mapSparkplugMessage(nbirth, { controlMetrics: true });
  assert.deepEqual(
    all.map((e) => (e.type === 'telemetry.machine.counter' ? [e.data.counter, e.data.value] : [])),
    [
      ['bdSeq', 0],
      ['Node Control/Scan Rate', 3000],
      ['Supply Voltage', 12.1],
    ],
  );
  // DBIRTH: Boolean inputs and a string property, no State metric: nothing to map.
  assert.deepEqual(mapSparkplugMessage(specMessage('DBIRTH')), []);
});

test('NDEATH makes the node and each device that was online unknown; DDEATH the device', () => {
  const nodeDeath = mapSparkplugMessage(specMessage('NDEATH', { bdSeq: 0, devices: ['Pibrella', 'Pump'] }));
  assert.deepEqual(
    nodeDeath.map((e) => [e.type, e.data, e.partitionkey]),
    ['Raspberry Pi', 'Pibrella', 'Pump'].map((equipmentId) => [
      'telemetry.machine.state',
      // The NDEATH payload was built at connect time (it is the MQTT will): the arrival time is used.
      { plant: 'Sparkplug B Devices', equipmentId, state: 'unknown', at: '2024-06-12T12:00:00.000Z' },
      `Sparkplug B Devices/${equipmentId}`,
    ]),
  );
  assert.equal(new Set(nodeDeath.map((e) => e.id)).size, 3, 'one id per machine');

  const deviceDeath = mapSparkplugMessage(specMessage('DDEATH', { bdSeq: 0 }), { plant: 'P1' });
  assert.deepEqual(
    deviceDeath.map((e) => [e.type, e.data]),
    [['telemetry.machine.state', { plant: 'P1', equipmentId: 'Pibrella', state: 'unknown', at: SPEC_TIME }]],
  );
  assert.deepEqual(mapSparkplugMessage(specMessage('NCMD')), []);
  assert.deepEqual(mapSparkplugMessage(specMessage('DCMD')), []);
});

test('a State metric maps per rule: any case, lower-cased, unknown values as unknown', () => {
  const stateOf = (name: string, value: SparkplugMetric['value'], options = {}) =>
    mapSparkplugMessage(
      message(
        'spBv1.0/P1/DDATA/line-1/PRESS-07',
        { timestamp: 0, seq: 1, metrics: [{ name, datatype: 'String', value }] },
        { bdSeq: 1 },
      ),
      options,
    ).map((e) => (e.type === 'telemetry.machine.state' ? e.data : e.type));

  assert.deepEqual(stateOf('State', 'RUNNING'), [
    { plant: 'P1', equipmentId: 'PRESS-07', state: 'running', at: '1970-01-01T00:00:00.000Z' },
  ]);
  for (const [value, expected] of [
    ['idle', 'idle'],
    ['Down', 'down'],
    [' setup ', 'setup'],
    ['UNKNOWN', 'unknown'],
  ] as const) {
    assert.equal((stateOf('state', value)[0] as { state: string }).state, expected, value);
  }
  assert.deepEqual(stateOf('STATE', 'Paused'), [
    {
      plant: 'P1',
      equipmentId: 'PRESS-07',
      state: 'unknown',
      at: '1970-01-01T00:00:00.000Z',
      reportedState: 'Paused',
    },
  ]);
  assert.deepEqual(stateOf('Status', 'running'), [], 'other string metrics are not states');
  assert.deepEqual(stateOf('Line/State', 'running'), [], 'the whole name must match');
  assert.deepEqual(stateOf('State', null), [], 'a null value says nothing');
  // Configured names replace the default.
  assert.equal(
    (stateOf('Mode', 'setup', { stateMetricNames: ['mode'] })[0] as { state: string }).state,
    'setup',
  );
  assert.deepEqual(stateOf('State', 'running', { stateMetricNames: ['Mode'] }), []);
});

test('include and exclude patterns select metrics by name', () => {
  const metrics: SparkplugMetric[] = [
    { name: 'Axis/X/Position', datatype: 'Double', value: 1 },
    { name: 'Axis/Y/Position', datatype: 'Double', value: 2 },
    { name: 'Axis/X/Load', datatype: 'Double', value: 3 },
    { name: 'Spindle/Speed', datatype: 'Int32', value: 4 },
  ];
  const counters = (options: Parameters<typeof mapSparkplugMessage>[1]) =>
    mapSparkplugMessage(message('spBv1.0/P1/NDATA/cnc-3', { timestamp: 0, seq: 1, metrics }), options).map(
      (e) => (e.type === 'telemetry.machine.counter' ? e.data.counter : ''),
    );
  assert.deepEqual(counters({}), ['Axis/X/Position', 'Axis/Y/Position', 'Axis/X/Load', 'Spindle/Speed']);
  assert.deepEqual(counters({ include: ['Axis/*/Position'] }), ['Axis/X/Position', 'Axis/Y/Position']);
  assert.deepEqual(counters({ include: ['Axis/*'] }), [], '* stays within one level');
  assert.deepEqual(counters({ include: ['Axis/**'], exclude: ['**/Load'] }), [
    'Axis/X/Position',
    'Axis/Y/Position',
  ]);
  assert.deepEqual(counters({ exclude: [/^Axis\//] }), ['Spindle/Speed']);
  assert.deepEqual(counters({ include: ['Spindle/Speed'] }), ['Spindle/Speed']);
});

test('at falls back from metric timestamp to payload timestamp to arrival time', () => {
  const ats = (payload: SparkplugPayload) =>
    mapSparkplugMessage(message('spBv1.0/P1/NDATA/e', payload)).map((e) => e.data.at);
  assert.deepEqual(
    ats({
      timestamp: 2_000,
      seq: 1,
      metrics: [
        { name: 'a', datatype: 'Int32', value: 1, timestamp: 1_000 },
        { name: 'b', datatype: 'Int32', value: 1 },
      ],
    }),
    ['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:02.000Z'],
  );
  assert.deepEqual(ats({ seq: 1, metrics: [{ name: 'a', datatype: 'Int32', value: 1 }] }), [
    '2024-06-12T12:00:00.000Z',
  ]);
  // A timestamp outside the range of dates is ignored rather than crashing the mapping.
  assert.deepEqual(
    ats({ timestamp: 2 ** 60, seq: 1, metrics: [{ name: 'a', datatype: 'Int32', value: 1 }] }),
    ['2024-06-12T12:00:00.000Z'],
  );
});

test('event ids are deterministic: a redelivered message maps to the same ids', () => {
  const bytes = encodePayload({
    timestamp: 1_700_000_000_000,
    seq: 9,
    metrics: [
      { name: 'Strokes', datatype: 'UInt64', value: 10 },
      { name: 'Temperature', datatype: 'Double', value: 61.5 },
    ],
  });
  const map = createSparkplugMapper();
  const ids = (receivedAt: number, extra: Partial<SparkplugMessage> = { bdSeq: 3 }) =>
    map(message('spBv1.0/P1/NDATA/e', decodePayload(bytes), { receivedAt, ...extra })).map((e) => e.id);
  const first = ids(RECEIVED);
  assert.equal(first.length, 2);
  assert.notEqual(first[0], first[1], 'each metric has its own id');
  assert.deepEqual(ids(RECEIVED + 60_000), first, 'same message received later');
  assert.notDeepEqual(ids(RECEIVED, { bdSeq: 4 }), first, 'another session');
  const otherSeq = encodePayload({ ...decodePayload(bytes), seq: 10 });
  assert.notDeepEqual(
    map(message('spBv1.0/P1/NDATA/e', decodePayload(otherSeq), { bdSeq: 3 })).map((e) => e.id),
    first,
    'another message',
  );
  const otherDevice = map(message('spBv1.0/P1/DDATA/e/d', decodePayload(bytes), { bdSeq: 3 })).map(
    (e) => e.id,
  );
  assert.notDeepEqual(otherDevice, first, 'another device');
});

test('integers beyond 2^53 keep their exact value next to the JSON number', () => {
  const [event] = mapSparkplugMessage(
    message('spBv1.0/P1/NDATA/e', {
      timestamp: 0,
      seq: 1,
      metrics: [{ name: 'Energy', datatype: 'UInt64', value: 18446744073709551615n }],
    }),
  );
  assert.equal(event?.type, 'telemetry.machine.counter');
  if (event?.type !== 'telemetry.machine.counter') return;
  assert.equal(event.data.value, 2 ** 64, 'the nearest double');
  assert.equal(event.data.exactValue, '18446744073709551615');
  assert.doesNotThrow(() => JSON.stringify(event), 'the event is plain JSON');
});

test('session and mapping together: alias-only DATA maps under the names from the birth', () => {
  const sessions = new SparkplugSessions();
  const map = createSparkplugMapper({ plant: 'P1' });
  const birth = sessions.process(
    'spBv1.0/Line1/DBIRTH/gw/PRESS-07',
    encodePayload({ timestamp: 1, seq: 1, metrics: [] }),
    1,
  );
  assert.equal(birth.kind, 'rebirth-needed', 'DBIRTH before NBIRTH');
  sessions.process(
    'spBv1.0/Line1/NBIRTH/gw',
    encodePayload({ timestamp: 1, seq: 0, metrics: [{ name: 'bdSeq', datatype: 'Int64', value: 7 }] }),
    2,
  );
  sessions.process(
    'spBv1.0/Line1/DBIRTH/gw/PRESS-07',
    encodePayload({
      timestamp: 3,
      seq: 1,
      metrics: [
        { name: 'Strokes', alias: 1, datatype: 'UInt32', value: 0 },
        { name: 'State', alias: 2, datatype: 'String', value: 'idle' },
      ],
    }),
    3,
  );
  const outcome = sessions.process(
    'spBv1.0/Line1/DDATA/gw/PRESS-07',
    encodePayload(
      {
        timestamp: 1_718_193_600_000,
        seq: 2,
        metrics: [
          { alias: 1, datatype: 'UInt32', value: 3_000_000_000 },
          { alias: 2, datatype: 'String', value: 'Down' },
        ],
      },
      { omitAliasedDatatypes: true },
    ),
    4,
  );
  const events = map(messageOf(outcome));
  assert.deepEqual(
    events.map((e) => [e.type, e.data, e.partitionkey]),
    [
      [
        'telemetry.machine.counter',
        {
          plant: 'P1',
          equipmentId: 'PRESS-07',
          counter: 'Strokes',
          value: 3_000_000_000,
          at: '2024-06-12T12:00:00.000Z',
        },
        'P1/PRESS-07',
      ],
      [
        'telemetry.machine.state',
        { plant: 'P1', equipmentId: 'PRESS-07', state: 'down', at: '2024-06-12T12:00:00.000Z' },
        'P1/PRESS-07',
      ],
    ],
  );
});
