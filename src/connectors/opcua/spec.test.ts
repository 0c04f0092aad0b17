import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { describeAjvError } from '../../config/load.js';
import { COUNTER_TYPE, opcuaSourceSpec, STATE_TYPE } from './spec.js';

const BASE = '/srv/conveyor/data';
const AT = 'connectors.plc-1';
const STATE_NODE = { nodeId: 'ns=1;s=Press7.State', type: STATE_TYPE, equipmentId: 'PRESS-07' };
const COUNTER_NODE = { nodeId: 'ns=1;s=Press7.GoodCount', type: COUNTER_TYPE, equipmentId: 'PRESS-07' };

function compile(raw: Record<string, unknown>) {
  const problems: Array<{ path: string; message: string }> = [];
  const config = opcuaSourceSpec.compile(
    { kind: 'opcua', endpoint: 'opc.tcp://127.0.0.1:4840', plant: 'P1', nodes: [STATE_NODE], ...raw },
    AT,
    problems,
    BASE,
  );
  return { config, problems };
}

const paths = (problems: ReadonlyArray<{ path: string }>) => problems.map((p) => p.path).sort();

/** Validates as the connector manager does (Ajv over the spec's schema), naming problems by key path. */
function schemaProblems(raw: Record<string, unknown>) {
  const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(opcuaSourceSpec.schema);
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => {
    const problem = describeAjvError(e);
    return problem.path ? `${AT}.${problem.path}` : AT;
  });
}

test('the example of the spec compiles with the documented defaults', () => {
  const raw = {
    kind: 'opcua',
    endpoint: 'opc.tcp://127.0.0.1:4840',
    plant: 'P1',
    nodes: [{ nodeId: 'ns=1;s=Press7.State', type: 'telemetry.machine.state', equipmentId: 'PRESS-07' }],
  };
  assert.deepEqual(schemaProblems(raw), []);
  const { config, problems } = compile(raw);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    { ...config, nodes: undefined },
    {
      endpoint: 'opc.tcp://127.0.0.1:4840',
      securityMode: 'None',
      securityPolicy: 'None',
      auth: null,
      pkiDir: join(BASE, 'opcua-pki'),
      acceptUnknownServerCertificate: false,
      nodes: undefined,
      publishingIntervalMs: 1_000,
      keepAliveMs: 10_000,
      reconnect: { initialDelayMs: 1_000, maxDelayMs: 30_000, resumeTimeoutMs: 15_000 },
      plant: 'P1',
      mapped: false,
      stateDir: join(BASE, 'connectors'),
    },
  );
  assert.deepEqual(config.nodes, [
    {
      nodeId: 'ns=1;s=Press7.State',
      type: STATE_TYPE,
      mapping: 'state',
      equipmentId: 'PRESS-07',
      counter: null,
      samplingIntervalMs: 1_000,
      deadband: null,
      queueSize: 10,
      discardOldest: true,
      states: null,
    },
  ]);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.nodes[0]));
});

test('node settings, security, auth and folders compile into their runtime form', () => {
  const { config, problems } = compile({
    securityMode: 'SignAndEncrypt',
    auth: { username: 'hub', password: 'pw' },
    pki: { dir: '/etc/conveyor/pki', acceptUnknownServerCertificate: true },
    stateDir: 'kept',
    publishingInterval: '100ms',
    keepAlive: '5s',
    reconnect: { initialDelay: '200ms', maxDelay: '2s', resumeTimeout: '45s' },
    nodes: [
      {
        ...STATE_NODE,
        samplingInterval: '0ms',
        states: { '3': 'running', ' Stopped ': 'down', true: 'running' },
      },
      {
        ...COUNTER_NODE,
        counter: 'good',
        samplingInterval: '250ms',
        deadband: 5,
        queueSize: 1000,
        discardOldest: false,
      },
    ],
  });
  assert.deepEqual(problems, []);
  assert.equal(config.securityPolicy, 'Basic256Sha256', 'a secured channel defaults to Basic256Sha256');
  assert.deepEqual(config.auth, { username: 'hub', password: 'pw' });
  assert.equal(config.pkiDir, '/etc/conveyor/pki');
  assert.equal(config.acceptUnknownServerCertificate, true);
  assert.equal(config.stateDir, join(BASE, 'kept'));
  assert.equal(config.publishingIntervalMs, 100);
  assert.equal(config.keepAliveMs, 5_000);
  assert.deepEqual(config.reconnect, { initialDelayMs: 200, maxDelayMs: 2_000, resumeTimeoutMs: 45_000 });
  const [state, counter] = config.nodes;
  assert.equal(state?.samplingIntervalMs, 0);
  assert.deepEqual(
    [...(state?.states ?? [])],
    [
      ['3', 'running'],
      ['stopped', 'down'],
      ['true', 'running'],
    ],
  );
  assert.deepEqual(
    { ...counter, states: undefined },
    {
      nodeId: 'ns=1;s=Press7.GoodCount',
      type: COUNTER_TYPE,
      mapping: 'counter',
      equipmentId: 'PRESS-07',
      counter: 'good',
      samplingIntervalMs: 250,
      deadband: 5,
      queueSize: 1000,
      discardOldest: false,
      states: undefined,
    },
  );
  assert.equal(compile({ auth: { username: 'hub' } }).config.auth?.password, '');
});

test('with a map, any event type is allowed and plant is optional', () => {
  const { config, problems } = compile({
    plant: undefined,
    map: '{"type": type, "data": {"equipmentId": equipmentId, "temperature": value}}',
    nodes: [
      { nodeId: 'ns=2;i=1042', type: 'quality.measurement.recorded', equipmentId: 'OVEN-1', deadband: 0.5 },
    ],
  });
  assert.deepEqual(problems, []);
  assert.equal(config.mapped, true);
  assert.equal(config.plant, null);
  assert.equal(config.nodes[0]?.mapping, 'mapped');
});

test('compile problems are named by key path', () => {
  const { problems } = compile({
    plant: undefined,
    endpoint: 'opc.tcp://user:pw@plc-1:4840',
    securityMode: 'SignAndEncrypt',
    securityPolicy: 'None',
    publishingInterval: '5ms',
    keepAlive: '1ms',
    reconnect: { initialDelay: '5s', maxDelay: '1s', resumeTimeout: '500ms' },
    nodes: [
      { ...STATE_NODE, counter: 'x', deadband: 1 },
      { ...COUNTER_NODE, states: { '1': 'running' } },
      { nodeId: 'ns=1;s=Press7.Temp', type: 'quality.measurement.recorded', equipmentId: 'PRESS-07' },
      { ...COUNTER_NODE },
    ],
  });
  assert.deepEqual(paths(problems), [
    `${AT}.endpoint`,
    `${AT}.keepAlive`,
    `${AT}.nodes[0].counter`,
    `${AT}.nodes[0].deadband`,
    `${AT}.nodes[1].states`,
    `${AT}.nodes[2].type`,
    `${AT}.nodes[3].nodeId`,
    `${AT}.plant`,
    `${AT}.publishingInterval`,
    `${AT}.reconnect.maxDelay`,
    `${AT}.reconnect.resumeTimeout`,
    `${AT}.securityPolicy`,
  ]);
  const byPath = new Map(problems.map((p) => [p.path, p.message]));
  assert.match(byPath.get(`${AT}.endpoint`) ?? '', /credentials in auth/);
  assert.match(byPath.get(`${AT}.securityPolicy`) ?? '', /SignAndEncrypt needs Basic256Sha256/);
  assert.match(byPath.get(`${AT}.nodes[2].type`) ?? '', /other types need a map/);
  assert.match(byPath.get(`${AT}.nodes[3].nodeId`) ?? '', /already listed at nodes\[1\]/);
  assert.match(byPath.get(`${AT}.plant`) ?? '', /give plant .* or map/);
  assert.match(byPath.get(`${AT}.reconnect.resumeTimeout`) ?? '', /at least 1s/);

  const unprotected = compile({ securityPolicy: 'Basic256Sha256' });
  assert.deepEqual(paths(unprotected.problems), [`${AT}.securityMode`]);
  const signOnly = compile({ securityMode: 'Sign', securityPolicy: 'None' });
  assert.deepEqual(paths(signOnly.problems), [`${AT}.securityPolicy`]);
});

test('the schema refuses what compile never sees', () => {
  const base = { kind: 'opcua', endpoint: 'opc.tcp://plc-1:4840', plant: 'P1', nodes: [STATE_NODE] };
  assert.deepEqual(schemaProblems(base), []);
  assert.deepEqual(schemaProblems({ ...base, endpoint: 'http://plc-1:4840' }), [`${AT}.endpoint`]);
  assert.deepEqual(schemaProblems({ ...base, nodes: [] }), [`${AT}.nodes`]);
  assert.deepEqual(schemaProblems({ ...base, nodes: [{ ...STATE_NODE, nodeId: 'Press7.State' }] }), [
    `${AT}.nodes[0].nodeId`,
  ]);
  assert.ok(schemaProblems({ ...base, securityMode: 'Encrypt' }).length > 0);
  assert.ok(schemaProblems({ ...base, nodes: [{ ...STATE_NODE, states: { '1': 'stopped' } }] }).length > 0);
  assert.ok(schemaProblems({ ...base, nodes: [{ ...COUNTER_NODE, deadband: -1 }] }).length > 0);
  assert.ok(schemaProblems({ ...base, nodes: [{ ...COUNTER_NODE, queueSize: 0 }] }).length > 0);
  assert.ok(schemaProblems({ ...base, topic: 'x' }).length > 0, 'unknown fields are refused');
  assert.deepEqual(schemaProblems({ ...base, reconnect: { resumeTimeout: 'soon' } }), [
    `${AT}.reconnect.resumeTimeout`,
  ]);
  assert.ok(schemaProblems({ ...base, reconnect: { resume: '5s' } }).length > 0, 'unknown reconnect fields');
  for (const nodeId of [
    'i=2258',
    'ns=3;s=Line 1/Press 7',
    'ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a',
    'ns=4;b=M/RbKBsRVkePCePcx24oRA==',
  ])
    assert.deepEqual(schemaProblems({ ...base, nodes: [{ ...STATE_NODE, nodeId }] }), [], nodeId);
});
