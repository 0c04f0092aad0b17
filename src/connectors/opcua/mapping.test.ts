import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeFailureMessage, type OpcuaSample, sampleId, sampleToMessage, stateOf } from './mapping.js';
import { COUNTER_TYPE, type OpcuaNodeConfig, STATE_TYPE } from './spec.js';

const AT = new Date('2024-06-12T12:31:45.250Z');
const RECEIVED = Date.parse('2024-06-12T12:31:46Z');
const GOOD = { code: 0, name: 'Good' };
const WAITING = { code: 0x80320000, name: 'BadWaitingForInitialData' };

const node = (over: Partial<OpcuaNodeConfig> = {}): OpcuaNodeConfig => ({
  nodeId: 'ns=1;s=Press7.GoodCount',
  type: COUNTER_TYPE,
  mapping: 'counter',
  equipmentId: 'PRESS-07',
  counter: null,
  samplingIntervalMs: 1000,
  deadband: null,
  queueSize: 10,
  discardOldest: true,
  states: null,
  ...over,
});

const stateNode = (states: Record<string, 'running' | 'idle' | 'down' | 'setup' | 'unknown'> | null = null) =>
  node({
    nodeId: 'ns=1;s=Press7.State',
    type: STATE_TYPE,
    mapping: 'state',
    states: states ? new Map(Object.entries(states)) : null,
  });

const sample = (dataType: string, value: unknown, over: Partial<OpcuaSample> = {}): OpcuaSample => ({
  dataType,
  arrayType: 'Scalar',
  value,
  status: GOOD,
  sourceTimestamp: AT,
  sourcePicoseconds: 0,
  serverTimestamp: new Date(AT.getTime() + 5),
  ...over,
});

const map = (s: OpcuaSample, n: OpcuaNodeConfig = node(), browseName: string | null = 'GoodCount') =>
  sampleToMessage(s, { node: n, browseName, plant: 'P1', receivedAt: RECEIVED });

function eventOf(s: OpcuaSample, n?: OpcuaNodeConfig, browseName?: string | null) {
  const outcome = map(s, n, browseName);
  assert.equal(outcome.kind, 'message');
  if (outcome.kind !== 'message') throw new Error('unreachable');
  assert.equal(outcome.error, undefined, outcome.error);
  assert.equal(outcome.events?.length, 1);
  return outcome.events?.[0];
}

function errorOf(s: OpcuaSample, n?: OpcuaNodeConfig): string {
  const outcome = map(s, n);
  assert.ok(outcome.kind === 'message' && outcome.error !== undefined, 'a message with an error');
  assert.deepEqual(outcome.events, []);
  return outcome.error;
}

test('a counter change becomes telemetry.machine.counter named by the browse name unless configured', () => {
  assert.deepEqual(eventOf(sample('UInt32', 182_340)), {
    type: COUNTER_TYPE,
    subject: 'PRESS-07',
    data: {
      plant: 'P1',
      equipmentId: 'PRESS-07',
      counter: 'GoodCount',
      value: 182_340,
      at: AT.toISOString(),
    },
  });
  assert.equal(eventOf(sample('Double', 71.5), node({ counter: 'strokes' }))?.data.counter, 'strokes');
  assert.equal(eventOf(sample('Int16', -3))?.data.value, -3);
  assert.equal(eventOf(sample('Float', 0.5), node(), null)?.data.counter, 'ns=1;s=Press7.GoodCount');
  // Without a source timestamp the server's stands in.
  const serverOnly = eventOf(sample('UInt32', 1, { sourceTimestamp: null }));
  assert.equal(serverOnly?.data.at, new Date(AT.getTime() + 5).toISOString());
});

test('64-bit counters keep their exact value', () => {
  assert.equal(eventOf(sample('UInt64', [0, 42]))?.data.value, 42);
  assert.equal(eventOf(sample('UInt64', [1, 5]))?.data.value, 2 ** 32 + 5);
  assert.equal(eventOf(sample('Int64', [0xffffffff, 0xfffffffe]))?.data.value, -2);
  const big = eventOf(sample('UInt64', [0xffffffff, 0xffffffff]))?.data;
  assert.equal(big?.exactValue, '18446744073709551615');
  assert.equal(big?.value, 2 ** 64);
});

test('a counter of the wrong type is a message with an error; one without a value is no message', () => {
  assert.match(
    errorOf(sample('String', 'twelve')),
    /ns=1;s=Press7\.GoodCount: expected a number .* got String/,
  );
  assert.match(errorOf(sample('Double', Number.NaN)), /finite number/);
  assert.match(errorOf(sample('UInt32', [1, 2], { arrayType: 'Array' })), /single number/);
  assert.match(errorOf(sample('Boolean', true)), /got Boolean/);
  const waiting = map(sample('Null', null, { status: WAITING }));
  assert.deepEqual(waiting, { kind: 'skip', reason: 'no value (BadWaitingForInitialData)' });
});

test('state values map to running|idle|down|setup|unknown', () => {
  const state = (
    s: OpcuaSample,
    states: Record<string, 'running' | 'idle' | 'down' | 'setup'> | null = null,
  ) => eventOf(s, stateNode(states))?.data;
  assert.deepEqual(state(sample('String', 'running')), {
    plant: 'P1',
    equipmentId: 'PRESS-07',
    state: 'running',
    at: AT.toISOString(),
  });
  assert.equal(state(sample('String', ' SETUP '))?.state, 'setup');
  assert.equal(state(sample('LocalizedText', { locale: 'en', text: 'Down' }))?.state, 'down');
  assert.deepEqual(
    { ...state(sample('String', 'Paused')), at: undefined },
    { plant: 'P1', equipmentId: 'PRESS-07', state: 'unknown', reportedState: 'Paused', at: undefined },
  );
  const codes = { '0': 'idle', '1': 'running', '2': 'down', '3': 'setup', stopped: 'down' } as const;
  assert.equal(state(sample('Int32', 1), codes)?.state, 'running');
  assert.equal(state(sample('Byte', 3), codes)?.state, 'setup');
  assert.equal(state(sample('UInt64', [0, 2]), codes)?.state, 'down');
  assert.equal(state(sample('String', 'STOPPED'), codes)?.state, 'down', 'the table applies to strings too');
  assert.deepEqual(state(sample('Int32', 9), codes)?.reportedState, '9');
  assert.equal(state(sample('Int32', 1))?.state, 'unknown', 'numbers need a table');
  assert.equal(state(sample('Boolean', true), { true: 'running', false: 'idle' })?.state, 'running');
  // No signal: a Bad status or no value is `unknown`, as after a Sparkplug death certificate.
  assert.equal(state(sample('Null', null, { status: WAITING }))?.state, 'unknown');
  // An OPC 40001 MachineryItemState's CurrentState is a LocalizedText, without a text until set.
  // Table keys as compiled: lower-cased.
  const machinery = { executing: 'running', notexecuting: 'idle', outofservice: 'down' } as const;
  assert.equal(
    state(sample('LocalizedText', { locale: 'en', text: 'Executing' }), machinery)?.state,
    'running',
  );
  assert.deepEqual(
    { ...state(sample('LocalizedText', { locale: null, text: null }), machinery), at: undefined },
    { plant: 'P1', equipmentId: 'PRESS-07', state: 'unknown', at: undefined },
  );
  assert.deepEqual(
    state(sample('LocalizedText', { text: 'NotAvailable' }), machinery)?.reportedState,
    'NotAvailable',
  );
  assert.equal(
    state(sample('String', 'running', { status: { code: 0x80000000, name: 'Bad' } }))?.state,
    'unknown',
  );
});

test('a state of the wrong type is a message with an error', () => {
  assert.match(
    errorOf(sample('Double', 1.5), stateNode()),
    /expected a String, LocalizedText or integer state/,
  );
  assert.match(errorOf(sample('Boolean', false), stateNode()), /needs a states table/);
  assert.match(errorOf(sample('String', ['a'], { arrayType: 'Array' }), stateNode()), /single state value/);
  assert.deepEqual(stateOf(sample('String', 'idle'), null), { state: 'idle' });
});

test('ids: the same change is one id, a different value or time another', () => {
  const a = map(sample('UInt32', 7));
  const b = map(sample('UInt32', 7));
  assert.ok(a.kind === 'message' && b.kind === 'message');
  assert.equal(a.id, b.id);
  assert.match(a.id, /^ns=1;s=Press7\.GoodCount@2024-06-12T12:31:45\.250Z#[0-9a-f]{16}$/);
  const ids = new Set([
    a.id,
    sampleId('ns=1;s=Press7.GoodCount', sample('UInt32', 8), RECEIVED),
    sampleId('ns=1;s=Press7.GoodCount', sample('UInt32', 7, { sourcePicoseconds: 500 }), RECEIVED),
    sampleId(
      'ns=1;s=Press7.GoodCount',
      sample('UInt32', 7, { sourceTimestamp: new Date(AT.getTime() + 1) }),
      RECEIVED,
    ),
    sampleId('ns=1;s=Press7.ScrapCount', sample('UInt32', 7), RECEIVED),
    sampleId(
      'ns=1;s=Press7.GoodCount',
      sample('UInt32', 7, { status: { code: 0x40000000, name: 'Uncertain' } }),
      RECEIVED,
    ),
  ]);
  assert.equal(ids.size, 6);
  const untimed = sampleId(
    'n',
    sample('UInt32', 7, { sourceTimestamp: null, serverTimestamp: null }),
    RECEIVED,
  );
  assert.match(untimed, /@received:2024-06-12T12:31:46\.000Z#/);
});

test('with a map, the payload carries everything and no event is built', () => {
  const outcome = map(
    sample('Double', 71.25),
    node({ type: 'quality.measurement.recorded', mapping: 'mapped' }),
    'Temp',
  );
  assert.ok(outcome.kind === 'message');
  assert.equal(outcome.events, undefined);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.payload, {
    nodeId: 'ns=1;s=Press7.GoodCount',
    browseName: 'Temp',
    type: 'quality.measurement.recorded',
    equipmentId: 'PRESS-07',
    plant: 'P1',
    value: 71.25,
    dataType: 'Double',
    status: 'Good',
    sourceTimestamp: AT.toISOString(),
    serverTimestamp: new Date(AT.getTime() + 5).toISOString(),
  });
  assert.deepEqual(JSON.parse(outcome.raw), outcome.payload);
  const wide = map(sample('UInt64', [0xffffffff, 0xffffffff]), node({ mapping: 'mapped' }));
  assert.ok(wide.kind === 'message');
  assert.equal(wide.payload.value, '18446744073709551615');
});

test('a node the server refuses becomes one stable message for the source DLQ', () => {
  const failure = nodeFailureMessage(node({ nodeId: 'ns=1;s=Nope' }), 'BadNodeIdUnknown (0x80340000)', 'P1');
  assert.equal(failure.id, 'ns=1;s=Nope#monitor:BadNodeIdUnknown');
  assert.match(
    failure.error,
    /cannot monitor ns=1;s=Nope: BadNodeIdUnknown \(0x80340000\) \(the server has no such node\)/,
  );
  assert.deepEqual(JSON.parse(failure.raw), failure.payload);
});
