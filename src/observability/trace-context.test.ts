import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventLogFields, eventTraceContext } from './event-trace.js';
import {
  childTraceparent,
  derivedTraceContext,
  formatTraceparent,
  newTraceparent,
  parseTraceparent,
  traceIdOf,
  validTracestate,
} from './trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

test('a valid traceparent is read; the spec’s invalid forms start a new trace', () => {
  assert.deepEqual(parseTraceparent(VALID), { traceId: TRACE, spanId: SPAN, flags: '01' });
  // A later version may add fields after the flags; version 00 may not.
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-future`)?.traceId, TRACE);
  for (const bad of [
    `${VALID}-extra`,
    `ff-${TRACE}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    'garbage',
    undefined,
    [VALID, VALID],
  ])
    assert.equal(parseTraceparent(bad), null, String(bad));
});

test('a new trace has random non-zero ids and the sampled flag', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const value = newTraceparent();
    const parsed = parseTraceparent(value);
    assert.ok(parsed, value);
    assert.equal(parsed.flags, '01');
    seen.add(parsed.traceId);
  }
  assert.equal(seen.size, 2000);
});

test('a child keeps the trace and flags and gets a new span id', () => {
  const parent = parseTraceparent(`00-${TRACE}-${SPAN}-00`);
  assert.ok(parent);
  const child = parseTraceparent(childTraceparent(parent));
  assert.ok(child);
  assert.equal(child.traceId, TRACE);
  assert.equal(child.flags, '00');
  assert.notEqual(child.spanId, SPAN);
  assert.equal(formatTraceparent(parent), `00-${TRACE}-${SPAN}-00`);
  assert.equal(traceIdOf(VALID), TRACE);
});

test('tracestate is passed on only when it is printable and within the length vendors keep', () => {
  assert.equal(validTracestate('congo=t61rcWkgMzE'), 'congo=t61rcWkgMzE');
  assert.equal(validTracestate('a=\u0001'), undefined);
  assert.equal(validTracestate('x'.repeat(513)), undefined);
  assert.equal(validTracestate(''), undefined);
});

test('an event without a trace context gets one derived from its id, the same every time', () => {
  const event = { specversion: '1.0' as const, id: 'evt-1', source: '/s', type: 't' };
  const derived = eventTraceContext(event);
  assert.deepEqual(derived, derivedTraceContext('evt-1'));
  assert.notDeepEqual(derived, derivedTraceContext('evt-2'));
  assert.match(formatTraceparent(derived), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.deepEqual(eventLogFields({ ...event, traceparent: VALID }), { eventId: 'evt-1', traceId: TRACE });
});
