import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fc from 'fast-check';
import { decodePayload, encodePayload, SparkplugDecodeError, type SparkplugMetric } from './codec.js';
import { type SessionOutcome, SparkplugSessions } from './session.js';
import { loadSpecExamples } from './spec-examples.test-helper.js';
import { SparkplugTopicError } from './topic.js';
import '../../../../test/helpers/seed.js';

const G = 'P1';
const E = 'line-1';
const NODE = (type: string) => `spBv1.0/${G}/${type}/${E}`;
const DEV = (type: string, device = 'PRESS-07') => `spBv1.0/${G}/${type}/${E}/${device}`;

function nbirth(seq = 0, bdSeq = 0): Uint8Array {
  return encodePayload({
    timestamp: 1_000,
    seq,
    metrics: [
      { name: 'bdSeq', datatype: 'Int64', value: bdSeq },
      { name: 'Node Control/Rebirth', datatype: 'Boolean', value: false },
      { name: 'Supply Voltage', alias: 1, datatype: 'Float', value: 24 },
      { name: 'Ambient/Temperature', alias: 2, datatype: 'Int16', value: 21 },
    ],
  });
}

function dbirth(seq: number): Uint8Array {
  return encodePayload({
    timestamp: 1_001,
    seq,
    metrics: [
      { name: 'Strokes', alias: 10, datatype: 'UInt64', value: 0 },
      { name: 'State', alias: 11, datatype: 'String', value: 'idle' },
      { name: 'Offset', alias: 12, datatype: 'Int8', value: 0 },
    ],
  });
}

/** A DATA payload the way the spec wants it: aliases only, no names, no datatypes. */
function data(seq: number, metrics: SparkplugMetric[]): Uint8Array {
  return encodePayload({ timestamp: 2_000, seq, metrics }, { omitAliasedDatatypes: true });
}

function expectKind<K extends SessionOutcome['kind']>(
  outcome: SessionOutcome,
  kind: K,
): Extract<SessionOutcome, { kind: K }> {
  assert.equal(
    outcome.kind,
    kind,
    `expected ${kind}, got ${outcome.kind}: ${JSON.stringify(outcome.problems)}`,
  );
  return outcome as Extract<SessionOutcome, { kind: K }>;
}

function assertRebirthNcmd(outcome: Extract<SessionOutcome, { kind: 'rebirth-needed' }>, at: number): void {
  assert.equal(outcome.rebirth.topic, `spBv1.0/${G}/NCMD/${E}`);
  assert.equal(outcome.rebirth.qos, 0);
  assert.equal(outcome.rebirth.retain, false);
  assert.deepEqual(decodePayload(outcome.rebirth.payload), {
    timestamp: at,
    metrics: [{ name: 'Node Control/Rebirth', timestamp: at, datatype: 'Boolean', value: true }],
  });
}

test('births build alias tables that resolve alias-only DATA metrics to names and typed values', () => {
  const sessions = new SparkplugSessions();
  expectKind(sessions.process(NODE('NBIRTH'), nbirth(), 1_000), 'message');
  expectKind(sessions.process(DEV('DBIRTH'), dbirth(1), 1_001), 'message');

  const ndata = expectKind(
    sessions.process(
      NODE('NDATA'),
      data(2, [
        { alias: 1, datatype: 'Float', value: 23.7 },
        { alias: 2, datatype: 'Int16', value: -4 },
      ]),
      2_000,
    ),
    'message',
  );
  assert.deepEqual(ndata.problems, []);
  assert.deepEqual(ndata.message.payload.metrics, [
    { name: 'Supply Voltage', alias: 1, datatype: 'Float', value: 23.7 },
    { name: 'Ambient/Temperature', alias: 2, datatype: 'Int16', value: -4 },
  ]);
  assert.equal(ndata.message.bdSeq, 0);

  const ddata = expectKind(
    sessions.process(
      DEV('DDATA'),
      data(3, [
        { alias: 10, datatype: 'UInt64', value: 2n ** 60n },
        { alias: 11, datatype: 'String', value: 'RUNNING' },
        { alias: 12, datatype: 'Int8', value: -2 },
      ]),
      2_001,
    ),
    'message',
  );
  assert.deepEqual(
    ddata.message.payload.metrics.map((m) => [m.name, m.datatype, m.value]),
    [
      ['Strokes', 'UInt64', 2n ** 60n],
      ['State', 'String', 'RUNNING'],
      ['Offset', 'Int8', -2],
    ],
  );
  assert.equal(ddata.message.topic.kind, 'device');
  assert.deepEqual(sessions.node(G, E), {
    groupId: G,
    edgeNodeId: E,
    online: true,
    bdSeq: 0,
    lastSeq: 3,
    aliases: 2,
    devices: [{ deviceId: 'PRESS-07', online: true, aliases: 3 }],
  });
});

test('an unknown alias is reported, the rest of the message is kept, and a rebirth is requested', () => {
  const sessions = new SparkplugSessions();
  sessions.process(NODE('NBIRTH'), nbirth(), 1_000);
  const outcome = expectKind(
    sessions.process(
      NODE('NDATA'),
      data(1, [
        { alias: 1, datatype: 'Float', value: 23.5 },
        { alias: 99, datatype: 'Int32', value: 5 },
      ]),
      5_000,
    ),
    'rebirth-needed',
  );
  assert.deepEqual(outcome.problems, [
    { code: 'unknown-alias', detail: 'alias 99 was not defined by the birth certificate', alias: 99 },
  ]);
  assert.deepEqual(
    outcome.message?.payload.metrics.map((m) => m.name),
    ['Supply Voltage'],
  );
  assertRebirthNcmd(outcome, 5_000);
});

test('repeated problems within the hold-off do not send another rebirth request', () => {
  const sessions = new SparkplugSessions({ rebirthHoldOffMs: 1_000 });
  sessions.process(NODE('NBIRTH'), nbirth(), 0);
  const unknown = [{ alias: 99, datatype: 'Int32' as const, value: 5 }];
  expectKind(sessions.process(NODE('NDATA'), data(1, unknown), 10_000), 'rebirth-needed');
  const again = expectKind(sessions.process(NODE('NDATA'), data(2, unknown), 10_500), 'message');
  assert.equal(again.problems[0]?.code, 'unknown-alias', 'still reported');
  assert.match(again.notes.join(), /rebirth already requested/);
  expectKind(sessions.process(NODE('NDATA'), data(3, unknown), 11_000), 'rebirth-needed');
  // A new birth clears the pending request.
  sessions.process(NODE('NBIRTH'), nbirth(0, 1), 11_100);
  expectKind(sessions.process(NODE('NDATA'), data(1, unknown), 11_200), 'rebirth-needed');
});

test('seq wraps from 255 to 0 without a gap', () => {
  const sessions = new SparkplugSessions();
  sessions.process(NODE('NBIRTH'), nbirth(250), 0);
  for (const seq of [251, 252, 253, 254, 255, 0, 1]) {
    const outcome = expectKind(sessions.process(NODE('NDATA'), data(seq, []), 1), 'message');
    assert.deepEqual(outcome.problems, [], `seq ${seq}`);
  }
});

test('a seq gap or an out-of-order seq asks for a rebirth', () => {
  const sessions = new SparkplugSessions({ rebirthHoldOffMs: 0 });
  sessions.process(NODE('NBIRTH'), nbirth(0), 0);
  for (const seq of [1, 2, 3]) expectKind(sessions.process(NODE('NDATA'), data(seq, []), 1), 'message');

  const gap = expectKind(
    sessions.process(NODE('NDATA'), data(5, [{ alias: 1, datatype: 'Float', value: 1 }]), 7_000),
    'rebirth-needed',
  );
  assert.deepEqual(gap.problems, [
    { code: 'seq-gap', detail: 'seq 5 where 4 was expected', expectedSeq: 4, receivedSeq: 5 },
  ]);
  assertRebirthNcmd(gap, 7_000);
  assert.equal(gap.message?.payload.metrics[0]?.name, 'Supply Voltage', 'the data itself is still usable');

  // Counting resumes from the seq received, so the next in-order message is fine...
  expectKind(sessions.process(NODE('NDATA'), data(6, []), 7_001), 'message');
  // ...and a late one is out of order.
  const late = expectKind(sessions.process(NODE('NDATA'), data(4, []), 7_002), 'rebirth-needed');
  assert.equal(late.problems[0]?.code, 'seq-gap');
  assert.equal(late.problems[0]?.expectedSeq, 7);

  // Device messages share the node's seq.
  sessions.process(NODE('NBIRTH'), nbirth(0), 8_000);
  expectKind(sessions.process(DEV('DBIRTH'), dbirth(1), 8_001), 'message');
  expectKind(sessions.process(DEV('DDATA'), data(3, []), 8_002), 'rebirth-needed');

  const missing = expectKind(
    sessions.process(NODE('NDATA'), encodePayload({ timestamp: 1, metrics: [] }), 9_000),
    'rebirth-needed',
  );
  assert.equal(missing.problems[0]?.code, 'seq-invalid');
});

test('DATA before any birth asks for a rebirth and yields no data', () => {
  const sessions = new SparkplugSessions();
  const ndata = expectKind(
    sessions.process(NODE('NDATA'), data(7, [{ alias: 1, datatype: 'Float', value: 1 }]), 3_000),
    'rebirth-needed',
  );
  assert.equal(ndata.problems[0]?.code, 'data-before-birth');
  assert.equal(ndata.message, undefined);
  assertRebirthNcmd(ndata, 3_000);

  // A node birth without the device's birth: device data still needs a rebirth.
  const fresh = new SparkplugSessions();
  fresh.process(NODE('NBIRTH'), nbirth(), 0);
  const ddata = expectKind(fresh.process(DEV('DDATA'), data(1, []), 1), 'rebirth-needed');
  assert.equal(ddata.problems[0]?.code, 'data-before-birth');
  assert.match(ddata.problems[0]?.detail ?? '', /before its DBIRTH/);
});

test('NDEATH with the session bdSeq takes the node and its devices offline', () => {
  // The spec's own examples: NBIRTH carries bdSeq as Int64 0, NDEATH as UInt64 0.
  const examples = loadSpecExamples();
  const topic = (type: string) => examples.get(type)!.topic;
  const bytes = (type: string) => encodePayload(examples.get(type)!.payload);
  const sessions = new SparkplugSessions();
  expectKind(sessions.process(topic('NBIRTH'), bytes('NBIRTH'), 1), 'message');
  expectKind(sessions.process(topic('DBIRTH'), bytes('DBIRTH'), 2), 'message');

  const death = expectKind(sessions.process(topic('NDEATH'), bytes('NDEATH'), 3), 'offline');
  assert.deepEqual(death.offline, {
    groupId: 'Sparkplug B Devices',
    edgeNodeId: 'Raspberry Pi',
    node: true,
    deviceIds: ['Pibrella'],
  });
  assert.deepEqual(death.message.devices, ['Pibrella']);
  assert.equal(death.message.bdSeq, 0);
  assert.equal(sessions.node('Sparkplug B Devices', 'Raspberry Pi')?.online, false);
  assert.deepEqual(sessions.node('Sparkplug B Devices', 'Raspberry Pi')?.devices, []);

  // The node is gone: its data needs a new birth.
  const after = sessions.process(topic('NDATA'), bytes('NDATA'), 4);
  expectKind(after, 'rebirth-needed');
});

test('a stale NDEATH (another bdSeq) is ignored with a note', () => {
  const sessions = new SparkplugSessions();
  sessions.process(NODE('NBIRTH'), nbirth(0, 5), 0);
  const staleDeath = encodePayload({
    timestamp: 1,
    metrics: [{ name: 'bdSeq', datatype: 'UInt64', value: 4 }],
  });
  const outcome = expectKind(sessions.process(NODE('NDEATH'), staleDeath, 1), 'ignored');
  assert.equal(outcome.reason, 'stale-death');
  assert.match(outcome.notes[0] ?? '', /bdSeq 4 does not match the current session's 5/);
  assert.equal(sessions.node(G, E)?.online, true);
  expectKind(sessions.process(NODE('NDATA'), data(1, []), 2), 'message');

  const matching = encodePayload({
    timestamp: 1,
    metrics: [{ name: 'bdSeq', datatype: 'UInt64', value: 5 }],
  });
  expectKind(sessions.process(NODE('NDEATH'), matching, 3), 'offline');
  // A second death for the same session has nothing left to end.
  expectKind(sessions.process(NODE('NDEATH'), matching, 4), 'ignored');
});

test('DDEATH takes only that device offline', () => {
  const sessions = new SparkplugSessions();
  sessions.process(NODE('NBIRTH'), nbirth(), 0);
  sessions.process(DEV('DBIRTH'), dbirth(1), 1);
  sessions.process(DEV('DBIRTH', 'PRESS-08'), dbirth(2), 2);
  const death = expectKind(
    sessions.process(DEV('DDEATH'), encodePayload({ timestamp: 3, seq: 3, metrics: [] }), 3),
    'offline',
  );
  assert.deepEqual(death.offline.deviceIds, ['PRESS-07']);
  assert.equal(death.offline.node, false);
  assert.deepEqual(
    sessions.node(G, E)?.devices.map((d) => [d.deviceId, d.online]),
    [
      ['PRESS-07', false],
      ['PRESS-08', true],
    ],
  );
  expectKind(sessions.process(DEV('DDATA', 'PRESS-08'), data(4, []), 4), 'message');
  expectKind(sessions.process(DEV('DDATA'), data(5, []), 5), 'rebirth-needed');
});

test('bad topics and payloads give invalid outcomes; commands and host STATE are recognised', () => {
  const sessions = new SparkplugSessions();
  const badTopic = expectKind(sessions.process('spBv1.0/P1/NDATA', nbirth(), 0), 'invalid');
  assert.ok(badTopic.error instanceof SparkplugTopicError);
  const badBytes = expectKind(sessions.process(NODE('NDATA'), Uint8Array.from([0x7f, 0x01]), 0), 'invalid');
  assert.ok(badBytes.error instanceof SparkplugDecodeError);

  sessions.process(NODE('NBIRTH'), nbirth(), 0);
  const command = expectKind(sessions.process(NODE('NCMD'), nbirth(), 1), 'ignored');
  assert.equal(command.reason, 'command');
  assert.equal(sessions.node(G, E)?.lastSeq, 0, 'commands do not advance seq');

  const state = expectKind(
    sessions.process(
      'spBv1.0/STATE/scada',
      new TextEncoder().encode('{"online":true,"timestamp":1700000000000}'),
      2,
    ),
    'host-state',
  );
  assert.equal(state.hostId, 'scada');
  assert.equal(state.online, true);
  assert.equal(state.timestamp, 1700000000000);
  expectKind(sessions.process('spBv1.0/STATE/scada', new TextEncoder().encode('OFFLINE'), 3), 'invalid');
});

test('property: the session never throws on random payload bytes', () => {
  const sessions = new SparkplugSessions();
  sessions.process(NODE('NBIRTH'), nbirth(), 0);
  sessions.process(DEV('DBIRTH'), dbirth(1), 0);
  const topics = ['NBIRTH', 'NDATA', 'NDEATH', 'NCMD']
    .map(NODE)
    .concat(['DBIRTH', 'DDATA', 'DDEATH'].map((t) => DEV(t)));
  fc.assert(
    fc.property(fc.constantFrom(...topics), fc.uint8Array({ maxLength: 256 }), (topic, bytes) => {
      const outcome = sessions.process(topic, bytes, 1);
      assert.ok(outcome.kind.length > 0);
    }),
    { numRuns: 2000 },
  );
});
