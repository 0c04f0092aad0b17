import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { ERROR_CODES } from '../errors/registry.js';
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
  '/docs': ['get'],
};
const PUBLIC = new Set(['/healthz', '/readyz', '/docs']);

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
  assert.deepEqual((doc.components as Json).securitySchemes, {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key (`cvy_` + 43 base64url characters), created with `conveyor keys create`.',
    },
  });
});

test('scopes follow the API docs', () => {
  const scope = (method: string, path: string) => paths[path]?.[method]?.['x-required-scope'];
  assert.equal(scope('post', '/v1/events'), 'events:publish:<domain>');
  assert.equal(scope('get', '/v1/events'), 'events:read:<domain>');
  for (const path of ['/v1/subscriptions', '/v1/dlq', '/v1/dlq/{id}', '/metrics'])
    assert.equal(scope('get', path), 'ops');
  for (const path of ['/v1/dlq/replay', '/v1/dlq/{id}/discard', '/v1/subscriptions/{name}/replay'])
    assert.equal(scope('post', path), 'ops');
  assert.equal(scope('post', '/v1/catalog/schemas/{type}/versions'), 'catalog:write');
  for (const verb of ['approve', 'deprecate', 'retire'])
    assert.equal(scope('post', `/v1/catalog/schemas/{type}/versions/{version}/${verb}`), 'catalog:approve');
  assert.equal(scope('get', '/healthz'), null);
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
  assert.equal(data.oneOf.length, 20);
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
