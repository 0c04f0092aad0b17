import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Diagnostic, Parser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { compileConfig } from '../config/compile.js';
import type { RawConfig } from '../config/schema.js';
import { CANONICAL_TYPES } from '../model/catalog.js';
import { CANONICAL_SCHEMAS_V1, jsonSchemaOf } from '../model/schemas/index.js';
import { type AsyncApiInput, buildAsyncApi, type CatalogSchema } from './asyncapi.js';

const ERROR = 0; // DiagnosticSeverity.Error

/** A file under test/data/asyncapi/ (compiled tests run from dist/src/catalog/). */
function fixture(path: string): string {
  return readFileSync(new URL(`../../../test/data/asyncapi/${path}`, import.meta.url), 'utf8');
}

/**
 * The parser reads the external Avro schemas of the ADEO example from local copies, so the control
 * needs no network; any other remote reference fails loudly.
 */
const ADEO_SCHEMAS = 'https://www.asyncapi.com/resources/casestudies/adeo/';
const parser = new Parser({
  __unstable: {
    resolver: {
      resolvers: [
        {
          schema: 'https',
          read: (uri) => {
            const url = uri.toString();
            if (!url.startsWith(ADEO_SCHEMAS)) throw new Error(`no network in tests: ${url}`);
            return fixture(`external/${url.slice(ADEO_SCHEMAS.length)}`);
          },
        },
      ],
    },
  },
});

function errorsOf(diagnostics: Diagnostic[]): string {
  return diagnostics
    .filter((d) => d.severity === ERROR)
    .map((d) => `${d.code} at /${d.path.join('/')}: ${d.message}`)
    .join('\n');
}

const raw = {
  server: { host: '127.0.0.1', port: 8080 },
  connectors: {
    'mes-p1': { kind: 'http', url: 'http://127.0.0.1:9102/events', timeout: '2s' },
    qms: { kind: 'http', url: 'https://hook:s3cret@qms.example.com/conveyor/events?token=t0ken' },
    'line-1': {
      kind: 'mqtt',
      url: 'mqtt://127.0.0.1:1883',
      topics: ['spBv1.0/P1/#'],
      format: 'sparkplug-b',
      plant: 'P1',
    },
  },
  routes: [
    {
      name: 'mes-p1-orders',
      types: ['production.order.released'],
      filter: "plant = 'P1'",
      sink: 'mes-p1',
      retry: { maxAttempts: 8, initialDelay: '500ms', maxDelay: '30s', maxAge: '24h' },
      timeout: '5s',
      lane: 'critical',
    },
    {
      name: 'qms-traceability',
      types: ['quality.*', 'production.material.consumed'],
      transform: '{ "kind": type, "payload": data }',
      sink: 'qms',
      retry: { maxAttempts: 3 },
    },
  ],
} as unknown as RawConfig;

function canonicalInput(): AsyncApiInput {
  const schemas = new Map<string, CatalogSchema>();
  for (const type of CANONICAL_SCHEMAS_V1.keys()) {
    schemas.set(type, { version: 1, schema: jsonSchemaOf(type) as object, status: 'approved' });
  }
  return {
    config: compileConfig(raw, { baseDir: '/tmp/conveyor-catalog-test' }),
    schemas,
    types: CANONICAL_TYPES,
    version: '0.1.0',
  };
}

type Json = { [key: string]: unknown };

test('the catalog is a valid AsyncAPI 3.0 document: no error diagnostics from @asyncapi/parser', async () => {
  const doc = buildAsyncApi(canonicalInput());
  const { document, diagnostics } = await parser.parse(JSON.stringify(doc));
  assert.equal(errorsOf(diagnostics), '', 'the parser reported errors');
  assert.ok(document, 'the parser returned no document');

  assert.equal(document.channels().length, CANONICAL_TYPES.size);
  for (const type of CANONICAL_TYPES.keys()) {
    const channel = document.channels().get(type);
    assert.ok(channel, `no channel for ${type}`);
    assert.equal(channel.address(), type);
    assert.equal(channel.extensions().get('x-owner')?.value(), CANONICAL_TYPES.get(type)?.owner);
    assert.equal(channel.extensions().get('x-lane')?.value(), CANONICAL_TYPES.get(type)?.lane);
    assert.equal(document.operations().get(`publish-${type}`)?.action(), 'send');
  }
});

test('routes become receive operations, wildcards expanded, with their delivery policy', async () => {
  const { document, diagnostics } = await parser.parse(JSON.stringify(buildAsyncApi(canonicalInput())));
  assert.ok(document, errorsOf(diagnostics));
  const receives = document
    .operations()
    .filterByReceive()
    .map((o) => o.id())
    .sort();
  assert.deepEqual(receives, [
    'route-mes-p1-orders-production.order.released',
    'route-qms-traceability-production.material.consumed',
    'route-qms-traceability-quality.disposition.decided',
    'route-qms-traceability-quality.hold.placed',
    'route-qms-traceability-quality.hold.released',
  ]);

  const mes = document.operations().get('route-mes-p1-orders-production.order.released');
  assert.ok(mes);
  assert.equal(mes.channels().all()[0]?.address(), 'production.order.released');
  assert.equal(mes.bindings().get('http')?.value().method, 'POST');
  const ext = (name: string) => mes.extensions().get(name)?.value();
  assert.deepEqual(ext('x-retry'), {
    maxAttempts: 8,
    initialDelayMs: 500,
    maxDelayMs: 30_000,
    maxAgeMs: 86_400_000,
  });
  assert.equal(ext('x-lane'), 'critical');
  assert.equal(ext('x-filter'), "plant = 'P1'");
  assert.equal(ext('x-transform'), null);
  assert.deepEqual(ext('x-sink'), { connector: 'mes-p1', kind: 'http', url: 'http://127.0.0.1:9102/events' });

  const qms = document.operations().get('route-qms-traceability-quality.hold.placed');
  assert.ok(qms);
  assert.equal(qms.extensions().get('x-transform')?.value(), '{ "kind": type, "payload": data }');
  assert.equal(qms.extensions().get('x-retry')?.value().maxAttempts, 3);
  // Credentials in a connector URL never reach the published catalog.
  assert.doesNotMatch(JSON.stringify(buildAsyncApi(canonicalInput())), /s3cret|t0ken/);
  assert.equal(qms.extensions().get('x-sink')?.value().url, 'https://qms.example.com/conveyor/events');
});

test("a message's payload is the CloudEvent envelope whose data resolves to the type's schema", async () => {
  const { document, diagnostics } = await parser.parse(JSON.stringify(buildAsyncApi(canonicalInput())));
  assert.ok(document, errorsOf(diagnostics));
  const message = document.channels().get('production.order.released')?.messages().all()[0];
  assert.ok(message);
  assert.equal(message.contentType(), 'application/cloudevents+json');
  assert.equal(message.correlationId()?.location(), '$message.payload#/id');
  const payload = message.payload();
  assert.ok(payload);
  for (const attribute of ['specversion', 'id', 'source', 'type', 'time', 'data', 'plant']) {
    assert.ok(payload.required()?.includes(attribute), `${attribute} is not required`);
  }
  assert.equal(payload.properties()?.type?.const(), 'production.order.released');
  const data = payload.properties()?.data;
  assert.ok(data);
  assert.equal(data.type(), 'object');
  assert.ok(data.required()?.includes('orderId'));
  assert.ok(data.required()?.includes('dueDate'));
  assert.equal(data.properties()?.quantity?.properties()?.uom?.type(), 'string');

  const example = message.examples().all()[0]?.payload() as Json | undefined;
  assert.ok(example);
  assert.equal(example.type, 'production.order.released');
  assert.equal(example.dataschema, 'urn:conveyor:schema:production.order.released:1');
  assert.equal((example.data as Json).orderId, '100004711');
  assert.equal(example.subject, '100004711');
});

test('every message example is a valid event of its type (the parser does not check examples)', () => {
  const doc = buildAsyncApi(canonicalInput());
  // Not strict: the catalog document itself is the schema resource, and its other keys are not keywords.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  formatsModule.default(ajv);
  ajv.addSchema({ $id: 'urn:conveyor:test:catalog', components: doc.components });
  const messages = (
    doc.components as { messages: Record<string, { examples?: Array<{ payload: unknown }> }> }
  ).messages;
  for (const type of CANONICAL_TYPES.keys()) {
    const validate = ajv.compile({ $ref: `urn:conveyor:test:catalog#/components/schemas/${type}.event` });
    const examples = messages[type]?.examples ?? [];
    assert.ok(examples.length > 0, `${type} has no example`);
    for (const example of examples) {
      assert.ok(validate(example.payload), `${type}: ${ajv.errorsText(validate.errors)}`);
    }
    const wrong = structuredClone(examples[0]?.payload) as Json;
    wrong.type = 'production.order.nonexistent';
    assert.equal(validate(wrong), false, `${type}: the envelope accepts another type`);
  }
});

test('servers: the hub over http and each MQTT connector over mqtt', async () => {
  const { document, diagnostics } = await parser.parse(JSON.stringify(buildAsyncApi(canonicalInput())));
  assert.ok(document, errorsOf(diagnostics));
  const hub = document.servers().get('conveyor');
  assert.equal(hub?.protocol(), 'http');
  assert.equal(hub?.host(), '127.0.0.1:8080');
  assert.equal(hub?.security()[0]?.all()[0]?.scheme().scheme(), 'bearer');
  const line = document.servers().get('line-1');
  assert.equal(line?.protocol(), 'mqtt');
  assert.equal(line?.host(), '127.0.0.1:1883');
  assert.deepEqual(line?.extensions().get('x-topics')?.value(), ['spBv1.0/P1/#']);
  assert.deepEqual(line?.extensions().get('x-produces')?.value(), [
    'telemetry.machine.counter',
    'telemetry.machine.state',
  ]);
  assert.equal(document.servers().length, 2);
});

test('the document is plain JSON and the inputs are left untouched', () => {
  const input = canonicalInput();
  const before = JSON.stringify([...input.schemas]);
  const doc = buildAsyncApi({ ...input, serverUrl: 'https://hub.example.com:8443' });
  assert.equal(JSON.stringify([...input.schemas]), before);
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  const servers = doc.servers as Json;
  assert.equal((servers.conveyor as Json).host, 'hub.example.com:8443');
  assert.equal((servers.conveyor as Json).protocol, 'https');
  const embedded = (doc.components as { schemas: Record<string, Json> }).schemas['quality.hold.placed'];
  assert.equal(embedded?.$id, undefined);
  assert.equal(embedded?.$schema, undefined);
});

test('a proposed schema with $defs keeps its local references resolvable inside the catalog', async () => {
  const input = canonicalInput();
  const schemas = new Map(input.schemas);
  schemas.set('inventory.cycle-count.recorded', {
    version: 2,
    status: 'approved',
    schema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:conveyor:schema:inventory.cycle-count.recorded:2',
      type: 'object',
      required: ['plant', 'location', 'counted'],
      properties: {
        plant: { type: 'string' },
        location: { type: 'string' },
        counted: { $ref: '#/$defs/quantity' },
      },
      $defs: {
        quantity: { type: 'object', required: ['value', 'uom'], properties: { value: { type: 'number' } } },
      },
    },
  });
  const { document, diagnostics } = await parser.parse(JSON.stringify(buildAsyncApi({ ...input, schemas })));
  assert.equal(errorsOf(diagnostics), '', 'the parser reported errors');
  assert.ok(document);
  const channel = document.channels().get('inventory.cycle-count.recorded');
  assert.equal(channel?.extensions().get('x-owner')?.value(), 'unknown');
  const data = channel?.messages().all()[0]?.payload()?.properties()?.data;
  assert.deepEqual(data?.properties()?.counted?.required(), ['value', 'uom']);
  // No route of this config selects inventory events.
  assert.equal(
    document
      .operations()
      .filterByReceive()
      .filter((o) => o.id()?.endsWith('inventory.cycle-count.recorded')).length,
    0,
  );
});

for (const name of [
  'streetlights-mqtt-asyncapi.yml',
  'streetlights-kafka-asyncapi.yml',
  'adeo-kafka-request-reply-asyncapi.yml',
]) {
  test(`control: the official example ${name} parses without error diagnostics`, async () => {
    const { document, diagnostics } = await parser.parse(fixture(`v3.0.0/${name}`));
    assert.equal(errorsOf(diagnostics), '', 'the parser reported errors');
    assert.ok(document);
    assert.ok(document.operations().length > 0);
  });
}

test('control: channels, operations and bindings are extracted from the MQTT example', async () => {
  const { document, diagnostics } = await parser.parse(fixture('v3.0.0/streetlights-mqtt-asyncapi.yml'));
  assert.ok(document, errorsOf(diagnostics));
  assert.deepEqual(
    document
      .channels()
      .all()
      .map((c) => c.id())
      .sort(),
    ['lightTurnOff', 'lightTurnOn', 'lightingMeasured', 'lightsDim'],
  );
  assert.equal(
    document.channels().get('lightingMeasured')?.address(),
    'smartylighting/streetlights/1/0/event/{streetlightId}/lighting/measured',
  );
  const receive = document.operations().get('receiveLightMeasurement');
  assert.equal(receive?.action(), 'receive');
  assert.deepEqual(
    document
      .operations()
      .filterBySend()
      .map((o) => o.id())
      .sort(),
    ['dimLight', 'turnOff', 'turnOn'],
  );
  // The qos comes from an operation trait, applied by the parser.
  assert.equal(receive?.bindings().get('mqtt')?.value().qos, 1);
  assert.equal(document.servers().get('production')?.protocol(), 'mqtt');
  const payload = receive?.messages().all()[0]?.payload();
  assert.equal(payload?.properties()?.lumens?.type(), 'integer');
});
