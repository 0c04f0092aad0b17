import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { ConfigError, loadConfigFromObject } from '../config/index.js';
import { registerBuiltInConnectors } from '../connectors/index.js';
import { compileSinkConnectors } from './engine.js';

registerBuiltInConnectors();

const configWith = (sink: Record<string, unknown>) =>
  loadConfigFromObject(
    { connectors: { out: sink }, routes: [{ name: 'to-out', types: ['production.*'], sink: 'out' }] },
    { dataDir: tmpdir() },
  );

const sinks: Array<Record<string, unknown>> = [
  { kind: 'http', url: 'http://127.0.0.1:9/events' },
  { kind: 'file-out', dir: 'out' },
  { kind: 'mqtt-out', url: 'mqtt://127.0.0.1:1883', topic: 'conveyor/{type}' },
  {
    kind: 'opcua-out',
    endpoint: 'opc.tcp://127.0.0.1:4840',
    writes: [{ nodeId: 'ns=1;s=X', dataType: 'String', value: 'id' }],
  },
];

for (const sink of sinks) {
  test(`${sink.kind}: the circuit breaker is configured per connector, with defaults`, () => {
    const configured = compileSinkConnectors(
      configWith({ ...sink, circuitBreaker: { failureThreshold: 2, resetAfter: '1m' } }),
    ).get('out');
    assert.deepEqual(configured?.circuitBreaker, { failureThreshold: 2, resetAfterMs: 60_000 });
    const defaults = compileSinkConnectors(configWith(sink)).get('out');
    assert.deepEqual(defaults?.circuitBreaker, { failureThreshold: 5, resetAfterMs: 30_000 });
  });

  test(`${sink.kind}: a bad circuit breaker is refused naming the key`, () => {
    assert.throws(
      () => compileSinkConnectors(configWith({ ...sink, circuitBreaker: { failureThreshold: 0 } })),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.path === 'connectors.out.circuitBreaker.failureThreshold'),
    );
  });
}

test('a batching route to a sink that takes one event at a time is refused naming the field and the kinds that batch', () => {
  const [, , mqtt, opcua] = sinks as [unknown, unknown, Record<string, unknown>, Record<string, unknown>];
  const batched = (sink: Record<string, unknown>) =>
    loadConfigFromObject(
      {
        connectors: { out: sink },
        routes: [{ name: 'to-out', types: ['production.*'], sink: 'out', batch: { maxEvents: 10 } }],
      },
      { dataDir: tmpdir() },
    );
  assert.throws(
    () => compileSinkConnectors(batched(opcua)),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.some(
        (p) => p.path === 'routes[0].batch' && /remove batch.*file-out, http, mqtt-out/.test(p.message),
      ),
  );
  assert.ok(compileSinkConnectors(batched(mqtt)).get('out'));
});
