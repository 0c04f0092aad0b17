import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { parseAsn } from '../edi/index.js';
import { ERROR_CODES } from '../errors/registry.js';
import { CANONICAL_TYPES } from '../model/catalog.js';
import { CANONICAL_SCHEMAS_V1, jsonSchemaOf } from '../model/schemas/index.js';
import { buildOpenApi, OPENAPI_OPERATIONS, type OpenApiDocument } from './openapi.js';

type Json = { [key: string]: unknown };

function canonicalSchemas(): Map<string, object> {
  return new Map([...CANONICAL_SCHEMAS_V1.keys()].map((type) => [type, jsonSchemaOf(type) as object]));
}

const doc = buildOpenApi({ schemas: canonicalSchemas(), version: '0.1.0' });
const paths = doc.paths as Record<string, Record<string, Json>>;
const components = doc.components as { schemas: Record<string, Json>; parameters: Record<string, Json> };

/** Every endpoint the hub serves today, plus the catalog endpoints. */
const EXPECTED: Record<string, string[]> = {
  '/v1/events': ['get', 'post'],
  '/v1/trace/{subject}': ['get'],
  '/v1/production-orders/{orderId}/release': ['post'],
  '/v1/material-consumptions': ['post'],
  '/v1/quality/holds/{holdId}/disposition': ['post'],
  '/v1/inventory/reservations': ['post'],
  '/v1/shipments/{shipmentId}/confirmation': ['post'],
  '/v1/suppliers': ['post'],
  '/v1/suppliers/{supplierId}/asns': ['post'],
  '/v1/subscriptions': ['get'],
  '/v1/subscriptions/{name}/replay': ['post'],
  '/v1/dlq': ['get'],
  '/v1/dlq/{id}': ['get'],
  '/v1/dlq/{id}/replay': ['post'],
  '/v1/dlq/{id}/discard': ['post'],
  '/v1/dlq/replay': ['post'],
  '/v1/dlq/discard': ['post'],
  '/healthz': ['get'],
  '/readyz': ['get'],
  '/metrics': ['get'],
  '/v1/catalog/schemas': ['get'],
  '/v1/catalog/schemas/{type}': ['get'],
  '/v1/catalog/schemas/{type}/versions': ['post'],
  '/v1/catalog/schemas/{type}/versions/{version}/approve': ['post'],
  '/v1/catalog/schemas/{type}/versions/{version}/deprecate': ['post'],
  '/v1/catalog/schemas/{type}/versions/{version}/retire': ['post'],
  '/v1/catalog/dependencies': ['get'],
  '/v1/catalog/asyncapi.json': ['get'],
  '/v1/openapi.json': ['get'],
  '/v1/clients': ['get', 'post'],
  '/v1/clients/{name}': ['delete'],
  '/v1/cluster': ['get'],
  '/v1/reconciliation': ['get'],
  '/v1/analytics/oee': ['get'],
  '/v1/analytics/throughput': ['get'],
  '/v1/milestones': ['get'],
  '/v1/milestones/summary': ['get'],
  '/v1/overview': ['get'],
  '/v1/quality/holds': ['get', 'post'],
  '/v1/connectors': ['get'],
  '/v1/connectors/{name}/dead-letters': ['get'],
  '/v1/audit': ['get'],
  '/docs': ['get'],
  '/': ['get'],
};
const PUBLIC = new Set(['/healthz', '/readyz', '/docs', '/']);

/** The problem examples of one response, by code. */
function examplesOf(response: Json | undefined): Record<string, { value: Json }> {
  const content = (response?.content ?? {}) as Record<string, { examples?: Record<string, { value: Json }> }>;
  return content['application/problem+json']?.examples ?? {};
}

function operations(): Array<{ path: string; method: string; op: Json }> {
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );
}

test('the document is valid OpenAPI 3.1 for @readme/openapi-parser, without warnings', async () => {
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  assert.ok(result.valid, compileErrors(result));
  assert.deepEqual(result.warnings, []);
  assert.equal(doc.openapi, '3.1.0');
});

test('every endpoint is documented with its methods, and OPENAPI_OPERATIONS lists exactly those', () => {
  const documented = Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [path, Object.keys(item).sort()]),
  );
  assert.deepEqual(documented, EXPECTED);
  const listed = OPENAPI_OPERATIONS.map((o) => `${o.method} ${o.path}`).sort();
  const expected = Object.entries(EXPECTED)
    .flatMap(([path, methods]) => methods.map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  assert.deepEqual(listed, expected);
});

test('every operation has an id, a summary, a 2xx, problem responses and its scope', () => {
  const ids = new Set<string>();
  for (const { path, method, op } of operations()) {
    const at = `${method.toUpperCase()} ${path}`;
    assert.equal(typeof op.operationId, 'string', `${at}: no operationId`);
    assert.ok(!ids.has(op.operationId as string), `${at}: duplicate operationId`);
    ids.add(op.operationId as string);
    assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${at}: no summary`);
    assert.ok(Object.hasOwn(op, 'x-required-scope'), `${at}: no x-required-scope`);
    const scope = op['x-required-scope'];
    assert.ok(scope === null || typeof scope === 'string');
    assert.match(
      op.description as string,
      scope ? new RegExp(`Scope: \`${scope}\``) : /Scope:|No credentials/,
    );

    const responses = op.responses as Record<string, Json>;
    const statuses = Object.keys(responses);
    assert.ok(
      statuses.some((s) => s.startsWith('2')),
      `${at}: no 2xx response`,
    );
    const problems = statuses.filter((s) => Number(s) >= 400);
    assert.ok(problems.length > 0, `${at}: no problem response`);
    for (const status of problems) {
      // /readyz answers its own small JSON body while the hub starts or stops; it is a probe, not a problem.
      if (path === '/readyz' && status === '503') continue;
      const content = responses[status]?.content as Record<string, Json> | undefined;
      assert.deepEqual(
        content?.['application/problem+json']?.schema,
        { $ref: '#/components/schemas/Problem' },
        `${at} ${status}: not a Problem`,
      );
      const examples = content?.['application/problem+json']?.examples as Record<string, { value: Json }>;
      for (const [code, example] of Object.entries(examples)) {
        assert.equal(example.value.code, code);
        assert.equal(ERROR_CODES[code as keyof typeof ERROR_CODES]?.status, Number(status), `${at}: ${code}`);
      }
    }
    if (PUBLIC.has(path)) {
      assert.deepEqual(op.security, [], `${at}: a probe must not need credentials`);
      assert.equal(responses['401'], undefined);
    } else {
      assert.equal(op.security, undefined, `${at}: must inherit the global bearerAuth`);
      assert.ok(responses['401'], `${at}: no 401`);
    }
  }
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
  const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
  assert.deepEqual(Object.keys(schemes), ['bearerAuth']);
  assert.equal(schemes.bearerAuth?.type, 'http');
  assert.equal(schemes.bearerAuth?.scheme, 'bearer');
  const description = schemes.bearerAuth?.description as string;
  for (const phrase of [
    'API key (`cvy_` + 43 base64url characters)',
    '`conveyor keys create`',
    '`auth.jwt`',
    '`jwksUrl` or `jwksFile`',
    '`iss` and `aud`',
    'scope claim',
    '`plants` claim',
    '`supplier_id`',
  ])
    assert.ok(description.includes(phrase), phrase);
});

test('every authenticated call may be rate-limited; the probes and the reference page may not', () => {
  for (const { path, method, op } of operations()) {
    const responses = op.responses as Record<string, Json>;
    if (PUBLIC.has(path)) {
      assert.equal(responses['429'], undefined, `${method} ${path}`);
      continue;
    }
    const examples = (responses['429']?.content as Record<string, { examples: Json }> | undefined)?.[
      'application/problem+json'
    ]?.examples;
    assert.ok(examples && Object.hasOwn(examples, 'rate-limited'), `${method} ${path}: no 429 rate-limited`);
    assert.deepEqual(responses['429']?.headers, {
      'Retry-After': { $ref: '#/components/headers/Retry-After' },
    });
  }
});

test('every state-changing call takes an Idempotency-Key and may answer a replay or a key conflict', () => {
  const key = components.parameters['Idempotency-Key'] as Json;
  assert.equal(key.in, 'header');
  assert.equal(key.name, 'Idempotency-Key');
  assert.deepEqual((key.schema as Json).maxLength, 255);
  const headers = (doc.components as { headers: Record<string, Json> }).headers;
  assert.deepEqual(headers['Idempotent-Replayed']?.schema, { type: 'string', const: 'true' });
  let changing = 0;
  for (const { path, method, op } of operations()) {
    const at = `${method.toUpperCase()} ${path}`;
    const refs = ((op.parameters ?? []) as Json[]).map((p) => p.$ref);
    const responses = op.responses as Record<string, Json>;
    if (method === 'get') {
      assert.ok(!refs.includes('#/components/parameters/Idempotency-Key'), at);
      continue;
    }
    changing++;
    assert.ok(refs.includes('#/components/parameters/Idempotency-Key'), `${at}: no Idempotency-Key`);
    const conflicts = Object.keys(examplesOf(responses['409']));
    assert.ok(conflicts.includes('idempotency-key-reused') && conflicts.includes('request-in-progress'), at);
    for (const [status, response] of Object.entries(responses).filter(([s]) => s.startsWith('2'))) {
      assert.deepEqual(
        (response.headers as Json | undefined)?.['Idempotent-Replayed'],
        { $ref: '#/components/headers/Idempotent-Replayed' },
        `${at} ${status}`,
      );
    }
  }
  assert.equal(changing, 20);
  // The headers an operation had of its own are kept.
  const publish = paths['/v1/events']?.post as { responses: Record<string, { headers: Json }> };
  const published = publish.responses['202']?.headers ?? {};
  assert.ok(published.Deprecation && published['Idempotent-Replayed']);
});

test('scopes follow the API docs', () => {
  const scope = (method: string, path: string) => paths[path]?.[method]?.['x-required-scope'];
  assert.equal(scope('post', '/v1/events'), 'events:publish:<domain>');
  assert.equal(scope('get', '/v1/events'), 'events:read:<domain>');
  assert.equal(scope('get', '/v1/trace/{subject}'), 'events:read:<domain>');
  for (const path of ['/v1/subscriptions', '/v1/dlq', '/v1/dlq/{id}', '/metrics'])
    assert.equal(scope('get', path), 'ops');
  for (const path of ['/v1/dlq/replay', '/v1/dlq/{id}/discard', '/v1/subscriptions/{name}/replay'])
    assert.equal(scope('post', path), 'ops');
  assert.equal(scope('post', '/v1/catalog/schemas/{type}/versions'), 'catalog:write');
  for (const verb of ['approve', 'deprecate', 'retire'])
    assert.equal(scope('post', `/v1/catalog/schemas/{type}/versions/{version}/${verb}`), 'catalog:approve');
  assert.equal(scope('get', '/healthz'), null);
  const commands: Record<string, string> = {
    '/v1/production-orders/{orderId}/release': 'production-order-release',
    '/v1/material-consumptions': 'material-consumption',
    '/v1/quality/holds': 'quality-hold',
    '/v1/quality/holds/{holdId}/disposition': 'quality-disposition',
    '/v1/inventory/reservations': 'inventory-reservation',
    '/v1/shipments/{shipmentId}/confirmation': 'shipment-confirmation',
    '/v1/suppliers': 'supplier-onboarding',
    '/v1/suppliers/{supplierId}/asns': 'supplier-asn',
  };
  for (const [path, name] of Object.entries(commands)) {
    assert.equal(scope('post', path), `commands:${name}`, path);
    assert.deepEqual(paths[path]?.post?.tags, ['commands']);
  }
  for (const [method, path] of [
    ['get', '/v1/clients'],
    ['post', '/v1/clients'],
    ['delete', '/v1/clients/{name}'],
    ['get', '/v1/audit'],
  ] as const) {
    assert.equal(scope(method, path), 'admin', `${method} ${path}`);
    assert.deepEqual(paths[path]?.[method]?.tags, ['admin']);
  }
  const tags = (doc.tags as Array<{ name: string }>).map((t) => t.name);
  assert.deepEqual(tags, ['events', 'commands', 'delivery', 'catalog', 'admin', 'ops']);
  for (const { op } of operations()) assert.ok(tags.includes((op.tags as string[])[0] as string));
});

test('the Problem schema lists every registered code, in an enum and in a table', () => {
  const problem = components.schemas.Problem as {
    properties: { code: { enum: string[] } };
    description: string;
  };
  assert.deepEqual(problem.properties.code.enum, Object.keys(ERROR_CODES));
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.ok(
      problem.description.includes(`| \`${code}\` | ${spec.status} |`),
      `${code} is not in the table`,
    );
  }
  assert.deepEqual((components.schemas.Problem as { required: string[] }).required, [
    'type',
    'title',
    'status',
    'detail',
    'code',
  ]);
});

test('POST /v1/events: three content modes, partial batches, 202/207 and its problems', () => {
  const post = paths['/v1/events']?.post as Json;
  const body = post.requestBody as { content: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.content).sort(), [
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
    'application/json',
  ]);
  const params = (post.parameters as Array<{ $ref: string }>).map((p) => p.$ref.split('/').pop());
  assert.ok(params.includes('partial'));
  assert.ok(params.includes('ce-specversion') && params.includes('ce-type'));
  const responses = Object.keys(post.responses as Json);
  for (const status of ['202', '207', '400', '401', '403', '413', '415', '422', '429', '500'])
    assert.ok(responses.includes(status), status);
  assert.deepEqual(components.schemas.CloudEventBatch?.maxItems, 1000);
});

test('lists page with after and limit (1..1000) and answer {items, next}', () => {
  assert.deepEqual((components.parameters.limit as { schema: Json }).schema, {
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    default: 100,
  });
  for (const path of ['/v1/events', '/v1/dlq']) {
    const refs = ((paths[path]?.get?.parameters ?? []) as Json[]).map((p) => p.$ref);
    assert.ok(
      refs.includes('#/components/parameters/after') && refs.includes('#/components/parameters/limit'),
    );
  }
  for (const page of [
    'EventPage',
    'DeadLetterPage',
    'SubscriptionPage',
    'SchemaTypeSummaryPage',
    'DependencyPage',
  ]) {
    assert.deepEqual(components.schemas[page]?.required, ['items', 'next'], page);
  }
});

test('catalog: proposing answers 201 {type, version, status} or 409 schema-incompatible', () => {
  const propose = paths['/v1/catalog/schemas/{type}/versions']?.post as { responses: Record<string, Json> };
  assert.ok(propose.responses['201']);
  const conflict = propose.responses['409']?.content as Record<
    string,
    { examples: Record<string, { value: Json }> }
  >;
  const example = conflict['application/problem+json']?.examples['schema-incompatible']?.value;
  assert.equal(example?.code, 'schema-incompatible');
  assert.ok(Array.isArray(example?.errors));
  assert.deepEqual(components.schemas.SchemaVersionStatus?.required, ['type', 'version', 'status']);
});

test('canonical data schemas are reachable from the CloudEvent envelope through components', async () => {
  const data = (components.schemas.CloudEvent as { properties: { data: { oneOf: Json[] } } }).properties.data;
  assert.equal(data.oneOf.length, CANONICAL_TYPES.size);
  assert.ok(data.oneOf.some((s) => s.$ref === '#/components/schemas/production.order.released'));
  const embedded = components.schemas['production.order.released'];
  assert.ok(((embedded?.required ?? []) as string[]).includes('orderId'));
  assert.equal(embedded?.$id, undefined);
  assert.equal(embedded?.$schema, undefined);

  const resolved = (await dereference(structuredClone(doc) as Parameters<typeof dereference>[0])) as Json;
  const post = (resolved.paths as Record<string, Record<string, Json>>)['/v1/events']?.post as Json;
  const envelope = (post.requestBody as { content: Record<string, { schema: Json }> }).content[
    'application/cloudevents+json'
  ]?.schema as { properties: { data: { oneOf: Json[] } } };
  assert.ok(envelope.properties.data.oneOf.some((s) => (s.required as string[]).includes('dueDate')));
});

test('every canonical example is a valid CloudEvent whose data matches exactly one data schema', () => {
  // Not strict: the document is loaded whole as a schema resource, and its other keys are not keywords.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  formatsModule.default(ajv);
  ajv.addSchema({ $id: 'urn:conveyor:test:openapi', components: doc.components });
  const event = ajv.compile({ $ref: 'urn:conveyor:test:openapi#/components/schemas/CloudEvent' });
  for (const [type, schema] of canonicalSchemas()) {
    const example = (schema as { examples: unknown[] }).examples[0];
    const candidate = {
      specversion: '1.0',
      id: `${type}-1`,
      source: '/plants/P1/mes',
      type,
      time: '2024-06-14T08:00:00Z',
      data: example,
    };
    assert.ok(event(candidate), `${type}: ${ajv.errorsText(event.errors)}`);
    const matching = [...CANONICAL_SCHEMAS_V1.keys()].filter((other) =>
      ajv.validate({ $ref: `urn:conveyor:test:openapi#/components/schemas/${other}` }, example),
    );
    assert.deepEqual(matching, [type]);
  }
  assert.equal(event({ specversion: '1.0', id: 'x', source: '/s', type: 't', time: 'now', data: {} }), false);
});

test('the inputs are left untouched and the document is plain JSON', () => {
  const schemas = canonicalSchemas();
  const before = JSON.stringify([...schemas]);
  const built: OpenApiDocument = buildOpenApi({ schemas, serverUrl: 'https://hub.example.com' });
  assert.equal(JSON.stringify([...schemas]), before);
  assert.deepEqual(JSON.parse(JSON.stringify(built)), built);
  assert.deepEqual(built.servers, [{ url: 'https://hub.example.com', description: 'The Conveyor hub.' }]);
});

/** An Ajv that resolves the document's component references. */
function documentAjv(document: OpenApiDocument, id: string): Ajv2020 {
  // Not strict: the document is loaded whole as a schema resource, and its other keys are not keywords.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  formatsModule.default(ajv);
  ajv.addSchema({ $id: id, components: document.components });
  return ajv;
}

test('command and admin bodies: every example matches its schema, and the schemas follow the data schemas', () => {
  const ajv = documentAjv(doc, 'urn:conveyor:test:openapi-bodies');
  let checked = 0;
  for (const { path, method, op } of operations()) {
    const content = (op.requestBody as { content?: Record<string, Json> } | undefined)?.content;
    const json = content?.['application/json'];
    if (!json?.examples) continue;
    const schema = json.schema as { $ref: string };
    const validate = ajv.compile({ $ref: `urn:conveyor:test:openapi-bodies${schema.$ref}` });
    for (const [name, example] of Object.entries(json.examples as Record<string, { value: unknown }>)) {
      assert.ok(validate(example.value), `${method} ${path} ${name}: ${ajv.errorsText(validate.errors)}`);
      checked++;
    }
  }
  assert.ok(checked >= 10, `${checked} examples`);

  const release = components.schemas.ProductionOrderReleaseRequest as {
    required: string[];
    properties: Record<string, Json>;
  };
  assert.deepEqual(release.required, ['plant', 'material', 'quantity', 'dueDate']);
  assert.equal(release.properties.routing, undefined);
  assert.equal(release.properties.bom, undefined);
  assert.deepEqual(release.properties.quantity, {
    $ref: '#/components/schemas/production.order.released/properties/quantity',
  });
  const reservation = components.schemas.InventoryReservationRequest as { properties: Json };
  assert.equal(reservation.properties.reservationId, undefined);
  const hold = components.schemas.QualityHoldRequest as { required: string[] };
  assert.deepEqual(hold.required, ['plant', 'material', 'lots', 'reason']);
  const disposition = components.schemas.QualityDispositionRequest as { required: string[] };
  assert.deepEqual(disposition.required, ['disposition']);
  const releaseBody = ajv.compile({
    $ref: 'urn:conveyor:test:openapi-bodies#/components/schemas/ProductionOrderReleaseRequest',
  });
  assert.equal(
    releaseBody({ plant: 'P1', material: 'M', quantity: { value: -1, uom: 'EA' }, dueDate: '2026-01-01' }),
    false,
  );
});

test('commands answer what they published; admin answers carry keys only on creation', () => {
  const published = components.schemas.PublishedEvent as { required: string[] };
  assert.deepEqual(published.required, ['id', 'type', 'subject', 'sequence']);
  const success = (method: string, path: string) =>
    Object.keys(paths[path]?.[method]?.responses as Json).filter((s) => s.startsWith('2'));
  assert.deepEqual(success('post', '/v1/production-orders/{orderId}/release'), ['202']);
  assert.deepEqual(success('post', '/v1/material-consumptions'), ['202']);
  assert.deepEqual(success('post', '/v1/quality/holds'), ['202']);
  assert.deepEqual(success('post', '/v1/quality/holds/{holdId}/disposition'), ['202']);
  assert.deepEqual(success('post', '/v1/inventory/reservations'), ['201']);
  assert.deepEqual(success('post', '/v1/shipments/{shipmentId}/confirmation'), ['201']);
  assert.deepEqual(success('post', '/v1/suppliers'), ['201']);
  assert.deepEqual(success('post', '/v1/suppliers/{supplierId}/asns'), ['202']);
  assert.deepEqual(success('post', '/v1/clients'), ['201']);
  assert.deepEqual(success('delete', '/v1/clients/{name}'), ['200']);
  const supplier = components.schemas.SupplierOnboardingResult as { properties: Record<string, Json> };
  assert.deepEqual((supplier.properties.credential as { required: string[] }).required, [
    'client',
    'key',
    'scopes',
  ]);
  assert.deepEqual(components.schemas.CreatedClient?.required, ['name', 'key']);
  assert.equal((components.schemas.Client as { properties: Json }).properties.key, undefined);
});

test('commands list the problems their handlers answer with', () => {
  const codes = (method: string, path: string) => {
    const responses = paths[path]?.[method]?.responses as Record<string, Json>;
    return Object.values(responses).flatMap((r) => Object.keys(examplesOf(r)));
  };
  const expect = (method: string, path: string, expected: string[]) => {
    const listed = codes(method, path);
    for (const code of expected) assert.ok(listed.includes(code), `${method} ${path}: ${code}`);
  };
  const body = ['malformed-json', 'json-too-complex', 'payload-too-large', 'unsupported-media-type'];
  const common = ['unauthorized', 'forbidden', 'rate-limited', 'internal', 'validation-failed', ...body];
  expect('post', '/v1/production-orders/{orderId}/release', [...common, 'unknown-routing']);
  expect('post', '/v1/material-consumptions', common);
  expect('post', '/v1/quality/holds', [...common, 'conflict']);
  expect('post', '/v1/quality/holds/{holdId}/disposition', [...common, 'not-found', 'conflict']);
  const sync = ['refused-by-system-of-record', 'system-of-record-unavailable'];
  expect('post', '/v1/inventory/reservations', [...common, ...sync]);
  expect('post', '/v1/shipments/{shipmentId}/confirmation', [
    ...common,
    ...sync,
    'shipment-blocked-by-quality-hold',
  ]);
  expect('post', '/v1/suppliers', [...common, ...sync, 'conflict']);
  expect('post', '/v1/suppliers/{supplierId}/asns', [...common, 'not-found', 'invalid-edi', 'bad-request']);
  expect('post', '/v1/clients', [...common, 'conflict']);
  expect('delete', '/v1/clients/{name}', ['forbidden', 'not-found', 'conflict']);
  expect('get', '/v1/audit', ['bad-request', 'forbidden']);

  const confirmation = paths['/v1/shipments/{shipmentId}/confirmation']?.post?.responses as Record<
    string,
    Json
  >;
  const blocked = examplesOf(confirmation['409'])['shipment-blocked-by-quality-hold']?.value;
  assert.ok(Array.isArray(blocked?.holds) && (blocked.holds as Json[])[0]?.holdId);
  assert.ok(((confirmation['503']?.headers ?? {}) as Json)['Retry-After']);
  const problem = components.schemas.Problem as { properties: Json };
  assert.ok(problem.properties.holds && problem.properties.upstream);
});

test('ASNs come as JSON, X12 856 or EDIFACT DESADV, and the three examples are the same notice', () => {
  const post = paths['/v1/suppliers/{supplierId}/asns']?.post as Json;
  const content = (
    post.requestBody as { content: Record<string, { examples: Record<string, { value: unknown }> }> }
  ).content;
  assert.deepEqual(Object.keys(content).sort(), [
    'application/edi-x12',
    'application/edifact',
    'application/json',
  ]);
  const names = (post.parameters as Json[]).map((p) => (p.name as string | undefined) ?? p.$ref);
  assert.ok(names.includes('plant') && names.includes('utcOffset'));
  const json = content['application/json']?.examples.asn?.value as Json;
  for (const [type, format] of [
    ['application/edi-x12', 'x12'],
    ['application/edifact', 'edifact'],
  ] as const) {
    const text = content[type]?.examples.asn?.value as string;
    const parsed = parseAsn(text, format);
    assert.deepEqual(parsed.warnings, [], type);
    assert.equal(parsed.asns.length, 1);
    const data = parsed.asns[0]?.data as unknown as Json;
    assert.deepEqual(parsed.asns[0]?.warnings, []);
    for (const field of ['asnId', 'plant', 'shipDate'])
      assert.equal(data[field], json[field], `${type} ${field}`);
    const line = (data.lines as Json[])[0] as Json;
    const expected = (json.lines as Json[])[0] as Json;
    assert.deepEqual(
      [line.material, line.quantity, line.lots],
      [expected.material, expected.quantity, expected.lots],
    );
  }
});

test('without data schemas the document is still valid: command bodies then name no data fields', async () => {
  const bare = buildOpenApi({ schemas: new Map() });
  const result = await validate(structuredClone(bare) as Parameters<typeof validate>[0]);
  assert.ok(result.valid, compileErrors(result));
  assert.deepEqual(result.warnings, []);
  const release = (bare.components as { schemas: Record<string, Json> }).schemas
    .ProductionOrderReleaseRequest;
  assert.deepEqual(release?.properties, {});
});
