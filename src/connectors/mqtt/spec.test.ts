import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { describeAjvError } from '../../config/load.js';
import { compileSourceCommon } from '../framework/common.js';
import { type MqttSourceConfig, mqttSourceSpec, topicFilterProblem } from './spec.js';

const AT = 'connectors.line-1';
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile(mqttSourceSpec.schema);
const baseDir = mkdtempSync(join(tmpdir(), 'conveyor-mqtt-spec-'));

/** The schema, then the common fields, then the kind's compile: what the hub does at start. */
function check(raw: Record<string, unknown>): {
  config?: MqttSourceConfig;
  problems: Array<{ path: string; message: string }>;
} {
  const problems: Array<{ path: string; message: string }> = [];
  if (!validate(raw)) {
    for (const error of validate.errors ?? []) {
      const problem = describeAjvError(error);
      problems.push({ path: problem.path ? `${AT}.${problem.path}` : AT, message: problem.message });
    }
    return { problems };
  }
  compileSourceCommon(raw, AT, problems);
  const config = mqttSourceSpec.compile(raw, AT, problems, baseDir);
  return { config, problems };
}

/** SPEC §1's example connector. */
const LINE_1 = {
  kind: 'mqtt',
  url: 'mqtt://127.0.0.1:1883',
  topics: ['spBv1.0/P1/#'],
  format: 'sparkplug-b',
  plant: 'P1',
};

const JSON_SOURCE = {
  kind: 'mqtt',
  url: 'mqtt://127.0.0.1:1883',
  topics: ['plant/+/counters'],
  map: '{"type": "telemetry.machine.counter", "data": $}',
};

test("SPEC's line-1 compiles with every default applied, frozen", () => {
  const { config, problems } = check(LINE_1);
  assert.deepEqual(problems, []);
  assert.deepEqual(config, {
    url: 'mqtt://127.0.0.1:1883',
    topics: ['spBv1.0/P1/#'],
    format: 'sparkplug-b',
    qos: 1,
    clientId: null,
    protocolVersion: 4,
    auth: null,
    tls: null,
    reconnect: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
    keepaliveSeconds: 30,
    sessionExpirySeconds: null,
    maxInFlight: 100,
    maxInFlightBytes: 16 * 1024 * 1024,
    plant: 'P1',
    mapped: false,
    sparkplug: { mapping: { plant: 'P1' }, rebirthHoldOffMs: 5_000, hostId: null },
  });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config!.topics));
  assert.ok(Object.isFrozen(config!.sparkplug!.mapping));
});

test('every setting is carried into the compiled config', () => {
  const ca = join(baseDir, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
  const { config, problems } = check({
    ...LINE_1,
    url: 'mqtts://broker.plant.example:8883',
    topics: ['spBv1.0/P1/#', 'spBv1.0/+/NDEATH/#'],
    qos: 0,
    clientId: 'hub-line-1',
    protocolVersion: 5,
    auth: { username: 'hub', password: 's3cret' },
    tls: { ca: 'ca.pem', rejectUnauthorized: false },
    reconnect: { initialDelay: '250ms', maxDelay: '10s' },
    keepalive: '45s',
    sessionExpiry: '1d',
    maxInFlight: 500,
    maxInFlightBytes: '2mb',
    rules: {
      stateMetrics: ['Mode'],
      include: ['Press/**'],
      exclude: ['Press/Debug/*'],
      controlMetrics: true,
    },
    rebirthHoldOff: '30s',
    hostId: 'conveyor',
  });
  assert.deepEqual(problems, []);
  assert.equal(config!.url, 'mqtts://broker.plant.example:8883');
  assert.deepEqual(config!.topics, ['spBv1.0/P1/#', 'spBv1.0/+/NDEATH/#']);
  assert.equal(config!.qos, 0);
  assert.equal(config!.clientId, 'hub-line-1');
  assert.equal(config!.protocolVersion, 5);
  assert.deepEqual(config!.auth, { username: 'hub', password: 's3cret' });
  assert.equal(config!.tls!.ca!.toString(), '-----BEGIN CERTIFICATE-----\n');
  assert.equal(config!.tls!.rejectUnauthorized, false);
  assert.deepEqual(config!.reconnect, { initialDelayMs: 250, maxDelayMs: 10_000 });
  assert.equal(config!.keepaliveSeconds, 45);
  assert.equal(config!.sessionExpirySeconds, 86_400);
  assert.equal(config!.maxInFlight, 500);
  assert.equal(config!.maxInFlightBytes, 2 * 1024 * 1024);
  assert.deepEqual(config!.sparkplug, {
    mapping: {
      plant: 'P1',
      stateMetricNames: ['Mode'],
      include: ['Press/**'],
      exclude: ['Press/Debug/*'],
      controlMetrics: true,
    },
    rebirthHoldOffMs: 30_000,
    hostId: 'conveyor',
  });
});

test('format json with a map compiles; its payloads are mapped by the hub', () => {
  const { config, problems } = check(JSON_SOURCE);
  assert.deepEqual(problems, []);
  assert.equal(config!.format, 'json');
  assert.equal(config!.mapped, true);
  assert.equal(config!.sparkplug, null);
  assert.equal(config!.plant, null);
});

test('a sparkplug-b source with a map hands the decoded payload to the map', () => {
  const { config, problems } = check({ ...LINE_1, map: '[]' });
  assert.deepEqual(problems, []);
  assert.equal(config!.mapped, true);
});

const BAD: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['a URL of another scheme', { ...LINE_1, url: 'http://127.0.0.1:1883' }, 'url', /mqtt:\/\/ or mqtts:\/\//],
  ['a URL without a host', { ...LINE_1, url: 'mqtt://' }, 'url', /mqtt:\/\/ or mqtts:\/\/|host/],
  ['credentials in the URL', { ...LINE_1, url: 'mqtt://hub:pw@127.0.0.1:1883' }, 'url', /auth/],
  ['a URL with a path', { ...LINE_1, url: 'mqtt://127.0.0.1:1883/spBv1.0' }, 'url', /no path/],
  ['no topics', { ...LINE_1, topics: [] }, 'topics', /fewer than 1|must be a list/],
  ['a topic missing', { kind: 'mqtt', url: 'mqtt://h' }, 'topics', /is required/],
  ['# not last', { ...JSON_SOURCE, topics: ['a/#/b'] }, 'topics[0]', /# must be a whole level/],
  ['+ inside a level', { ...JSON_SOURCE, topics: ['a', 'a/b+/c'] }, 'topics[1]', /\+ must be a whole level/],
  ['a topic listed twice', { ...JSON_SOURCE, topics: ['a/#', 'a/#'] }, 'topics[1]', /twice/],
  ['a sparkplug-b topic outside spBv1.0', { ...LINE_1, topics: ['factory/#'] }, 'topics[0]', /spBv1\.0\//],
  ['an unknown format', { ...LINE_1, format: 'xml' }, 'format', /json or sparkplug-b/],
  ['QoS 2', { ...LINE_1, qos: 2 }, 'qos', /0 or 1/],
  ['protocol level 3', { ...LINE_1, protocolVersion: 3 }, 'protocolVersion', /MQTT 3\.1\.1/],
  ['an empty client id', { ...LINE_1, clientId: '' }, 'clientId', /fewer than 1/],
  ['maxInFlight 0', { ...LINE_1, maxInFlight: 0 }, 'maxInFlight', />= 1/],
  ['maxInFlight past MQTT', { ...LINE_1, maxInFlight: 70_000 }, 'maxInFlight', /<= 65535/],
  ['maxInFlightBytes without a unit', { ...LINE_1, maxInFlightBytes: '4096' }, 'maxInFlightBytes', /size/],
  ['maxInFlightBytes below 1kb', { ...LINE_1, maxInFlightBytes: '512b' }, 'maxInFlightBytes', /at least 1kb/],
  ['auth without a username', { ...LINE_1, auth: { password: 'x' } }, 'auth.username', /is required/],
  ['tls towards mqtt://', { ...LINE_1, tls: { rejectUnauthorized: true } }, 'tls', /mqtts/],
  [
    'a TLS file that does not exist',
    { ...LINE_1, url: 'mqtts://h:8883', tls: { ca: 'missing.pem' } },
    'tls.ca',
    /cannot read/,
  ],
  [
    'maxDelay below initialDelay',
    { ...LINE_1, reconnect: { initialDelay: '5s', maxDelay: '1s' } },
    'reconnect.maxDelay',
    />= initialDelay/,
  ],
  [
    'a reconnect delay that is no duration',
    { ...LINE_1, reconnect: { initialDelay: '5' } },
    'reconnect.initialDelay',
    /duration/,
  ],
  ['keepalive 0s', { ...LINE_1, keepalive: '0s' }, 'keepalive', /1s to 65535s/],
  ['sessionExpiry on MQTT 3.1.1', { ...LINE_1, sessionExpiry: '1h' }, 'sessionExpiry', /protocolVersion: 5/],
  ['format json without a map', { ...JSON_SOURCE, map: undefined }, 'map', /needs map/],
  ['a map that is no JSONata', { ...JSON_SOURCE, map: '{"type": ' }, 'map', /invalid JSONata/],
  [
    'rules on a json source',
    { ...JSON_SOURCE, rules: { controlMetrics: true } },
    'rules',
    /sparkplug-b only/,
  ],
  [
    'rebirthHoldOff on a json source',
    { ...JSON_SOURCE, rebirthHoldOff: '5s' },
    'rebirthHoldOff',
    /sparkplug-b only/,
  ],
  ['rules next to a map', { ...LINE_1, map: '[]', rules: { include: ['a'] } }, 'rules', /not used when map/],
  ['an unknown rule', { ...LINE_1, rules: { states: ['x'] } }, 'rules.states', /unknown key/],
  ['an empty stateMetrics', { ...LINE_1, rules: { stateMetrics: [] } }, 'rules.stateMetrics', /fewer than 1/],
  ['a plant code with a space', { ...LINE_1, plant: 'P 1' }, 'plant', /pattern|must/],
  ['an unknown key', { ...LINE_1, cleanSession: true }, 'cleanSession', /unknown key/],
];

for (const [what, raw, path, message] of BAD) {
  test(`names the path of ${what}: ${AT}.${path}`, () => {
    const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const { problems } = check(cleaned);
    const found = problems.filter((p) => p.path === `${AT}.${path}`);
    assert.ok(found.length > 0, `no problem at ${AT}.${path} in ${JSON.stringify(problems)}`);
    assert.ok(
      found.some((p) => message.test(p.message)),
      `${JSON.stringify(found)} does not match ${message}`,
    );
  });
}

test('topic filters follow the MQTT wildcard rules', () => {
  for (const good of ['#', '+', 'a/+/c', 'a/b/#', '+/+/#', 'spBv1.0/P1/#', '/a//b/']) {
    assert.equal(topicFilterProblem(good), undefined, good);
  }
  for (const bad of ['a#', '#/a', 'a/+b', 'a/b+/c', 'x\u0000y']) {
    assert.notEqual(topicFilterProblem(bad), undefined, bad);
  }
});
