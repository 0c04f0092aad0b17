import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { type OpcuaSourceConfig, opcuaSourceSpec } from '../../src/connectors/opcua/spec.js';

/**
 * An OPC UA source config compiled as the hub would, with short intervals for tests; the test
 * fails when it is not schema-valid or has problems.
 */
export function compileOpcuaSource(
  at: { endpoint: string; connector: string; stateDir: string },
  raw: Record<string, unknown>,
): OpcuaSourceConfig {
  const full = {
    kind: 'opcua',
    endpoint: at.endpoint,
    plant: 'P1',
    publishingInterval: '100ms',
    keepAlive: '1s',
    reconnect: { initialDelay: '100ms', maxDelay: '500ms' },
    ...raw,
  };
  assert.ok(Value.Check(opcuaSourceSpec.schema, full), 'the test config is schema-valid');
  const problems: Array<{ path: string; message: string }> = [];
  const config = opcuaSourceSpec.compile(full, `connectors.${at.connector}`, problems, at.stateDir);
  assert.deepEqual(problems, []);
  return config;
}
