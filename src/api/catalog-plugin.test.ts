import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exampleData, makeEvent } from '../../test/helpers/events.js';
import { auth, createTestHub } from '../../test/helpers/hub.js';
import { clientRecordFor } from '../auth/api-keys.js';
import type { Hub } from '../hub.js';
import { CANONICAL_TYPES } from '../model/catalog.js';
import { jsonSchemaOf } from '../model/schemas/index.js';

let hub: Hub;
const WRITER = 'cvy_catalog-writer-key-0123456789abcdefghijk';
const APPROVER = 'cvy_catalog-approver-key-0123456789abcdefghi';
const released = 'production.order.released';

before(async () => {
  hub = await createTestHub({
    connectors: {
      'mes-p1': { kind: 'http', url: 'http://127.0.0.1:9/events' },
      line: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883', topics: ['spBv1.0/P1/#'], format: 'sparkplug-b' },
    },
    routes: [
      { name: 'mes-orders', types: [released], sink: 'mes-p1', retry: { maxAttempts: 3 } },
      { name: 'everything-quality', types: ['quality.*'], sink: 'mes-p1' },
    ],
  });
  await hub.store.clients.upsert(clientRecordFor('writer', WRITER, ['catalog:write'], null, 0));
  await hub.store.clients.upsert(clientRecordFor('approver', APPROVER, ['catalog:approve'], null, 0));
  await hub.store.clients.upsert(
    clientRecordFor(
      'erp',
      'cvy_erp-publisher-key-0123456789abcdefghijkl',
      ['events:publish:production'],
      ['P1'],
      0,
    ),
  );
});
after(() => hub.close());

const json = (key: string) => ({ ...auth(key), 'content-type': 'application/json' });
const publish = (event: object) =>
  hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });

test('the catalog lists every canonical type with owner, compatibility and versions', async () => {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/catalog/schemas', headers: auth() });
  const { items } = res.json();
  assert.equal(items.length, CANONICAL_TYPES.size);
  const entry = items.find((i: { type: string }) => i.type === 'quality.hold.placed');
  assert.deepEqual(
    {
      owner: entry.owner,
      domain: entry.domain,
      compatibility: entry.compatibility,
      versions: entry.versions,
    },
    {
      owner: 'quality-assurance',
      domain: 'quality',
      compatibility: 'BACKWARD',
      versions: [{ version: 1, status: 'approved' }],
    },
  );
  const one = (
    await hub.app.inject({ method: 'GET', url: `/v1/catalog/schemas/${released}`, headers: auth() })
  ).json();
  assert.equal(one.versions[0].schema.properties.orderId.type, 'string');
  assert.ok(one.versions[0].schema.properties.orderId.description.includes('JobOrder'));
  assert.equal(
    (await hub.app.inject({ method: 'GET', url: '/v1/catalog/schemas/no.such.type', headers: auth() }))
      .statusCode,
    404,
  );
});

test('event data is validated at ingress: 422 with JSON Pointer paths, nothing appended', async () => {
  const head = hub.log.head();
  const res = await publish(
    makeEvent({
      type: released,
      data: { ...exampleData(released), quantity: { value: -1, uom: 'EA' }, dueDate: 'soon' },
    }),
  );
  assert.equal(res.statusCode, 422);
  const problem = res.json();
  assert.equal(problem.code, 'validation-failed');
  assert.deepEqual(problem.errors.map((e: { path: string }) => e.path).sort(), [
    '/data/dueDate',
    '/data/quantity/value',
  ]);
  const unknown = await publish({ ...makeEvent(), type: 'production.order.teleported' });
  assert.equal(unknown.statusCode, 422);
  assert.equal(unknown.json().errors[0].path, '/type');
  assert.equal(hub.log.head(), head);
});

test('propose needs catalog:write, approve needs catalog:approve; both are audited; approved versions are usable', async () => {
  const schema = structuredClone(jsonSchemaOf(released)) as { properties: Record<string, unknown> };
  schema.properties.priority = { type: 'integer', minimum: 1, maximum: 9 };
  const denied = await hub.app.inject({
    method: 'POST',
    url: `/v1/catalog/schemas/${released}/versions`,
    headers: json(APPROVER),
    payload: { schema },
  });
  assert.equal(denied.statusCode, 403);
  const proposed = await hub.app.inject({
    method: 'POST',
    url: `/v1/catalog/schemas/${released}/versions`,
    headers: json(WRITER),
    payload: { schema },
  });
  assert.equal(proposed.statusCode, 201, proposed.body);
  assert.deepEqual(proposed.json(), { type: released, version: 2, status: 'proposed' });
  const selfApprove = await hub.app.inject({
    method: 'POST',
    url: `/v1/catalog/schemas/${released}/versions/2/approve`,
    headers: json(WRITER),
  });
  assert.equal(selfApprove.statusCode, 403);
  const approved = await hub.app.inject({
    method: 'POST',
    url: `/v1/catalog/schemas/${released}/versions/2/approve`,
    headers: json(APPROVER),
  });
  assert.deepEqual(approved.json(), { type: released, version: 2, status: 'approved' });
  const event = makeEvent({
    type: released,
    dataschema: `urn:conveyor:schema:${released}:2`,
    data: { ...exampleData(released), priority: 4 },
  });
  assert.equal((await publish(event)).statusCode, 202);
  const trail = await hub.store.audit.list({}, 0, 100);
  const actions = trail
    .filter((a) => a.action.startsWith('schema.') || a.action === 'request.denied')
    .map((a) => [a.action, a.actor, a.outcome, a.target]);
  assert.deepEqual(actions, [
    ['request.denied', 'approver', 'denied', `POST /v1/catalog/schemas/${released}/versions`],
    ['schema.propose', 'writer', 'done', `${released}:2`],
    ['request.denied', 'writer', 'denied', `POST /v1/catalog/schemas/${released}/versions/2/approve`],
    ['schema.approve', 'approver', 'done', `${released}:2`],
  ]);
});

test('an incompatible proposal is 409 schema-incompatible with explanations', async () => {
  const schema = structuredClone(jsonSchemaOf('quality.hold.placed')) as {
    properties: Record<string, unknown>;
    required: string[];
  };
  schema.properties.inspector = { type: 'string' };
  schema.required.push('inspector');
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/catalog/schemas/quality.hold.placed/versions',
    headers: json(WRITER),
    payload: { schema },
  });
  assert.equal(res.statusCode, 409);
  const problem = res.json();
  assert.equal(problem.type, 'urn:conveyor:problem:schema-incompatible');
  assert.ok(
    problem.errors.some(
      (e: { path: string; message: string }) =>
        e.path === '/properties/inspector' && /required/.test(e.message),
    ),
  );
  const missing = await hub.app.inject({
    method: 'POST',
    url: '/v1/catalog/schemas/quality.hold.placed/versions',
    headers: json(WRITER),
    payload: { compatibility: 'FULL' },
  });
  assert.equal(missing.statusCode, 422);
  assert.equal(missing.json().errors[0].path, '/schema');
});

test('events against a deprecated version are accepted with a Deprecation header and counted', async () => {
  const dep = await hub.app.inject({
    method: 'POST',
    url: '/v1/catalog/schemas/maintenance.downtime.ended/versions/1/deprecate',
    headers: json(APPROVER),
  });
  assert.equal(dep.statusCode, 200);
  const res = await publish(makeEvent({ type: 'maintenance.downtime.ended' }));
  assert.equal(res.statusCode, 202);
  assert.equal(res.headers.deprecation, 'true');
  const metrics = await hub.app.inject({ method: 'GET', url: '/metrics', headers: auth() });
  assert.match(
    metrics.body,
    /conveyor_ingest_deprecated_schema_events_total\{type="maintenance.downtime.ended",version="1"\} 1/,
  );
  await hub.app.inject({
    method: 'POST',
    url: '/v1/catalog/schemas/maintenance.downtime.ended/versions/1/retire',
    headers: json(APPROVER),
  });
  const retired = await publish(makeEvent({ type: 'maintenance.downtime.ended' }));
  assert.equal(retired.statusCode, 422);
});

test('dependencies say who publishes and who consumes each type, with retry and DLQ policy', async () => {
  const { items } = (
    await hub.app.inject({ method: 'GET', url: '/v1/catalog/dependencies', headers: auth() })
  ).json();
  const orders = items.find((i: { type: string }) => i.type === released);
  assert.equal(orders.criticality, 'business-critical');
  assert.deepEqual(
    orders.consumers.map(
      (c: { route: string; sink: string; retry: { maxAttempts: number }; deadLetterQueue: boolean }) => [
        c.route,
        c.sink,
        c.retry.maxAttempts,
        c.deadLetterQueue,
      ],
    ),
    [['mes-orders', 'mes-p1', 3, true]],
  );
  assert.ok(
    orders.publishers.clients.some(
      (c: { name: string; via: string; plants: string[] }) =>
        c.name === 'erp' && c.via === 'scope' && c.plants[0] === 'P1',
    ),
  );
  const hold = items.find((i: { type: string }) => i.type === 'quality.hold.placed');
  assert.deepEqual(
    hold.consumers.map((c: { route: string }) => c.route),
    ['everything-quality'],
  );
  const counter = items.find((i: { type: string }) => i.type === 'telemetry.machine.counter');
  assert.deepEqual(counter.publishers.connectors, [{ name: 'line', kind: 'mqtt' }]);
  assert.equal(counter.criticality, 'bulk');
});

test('an approved schema with a backtracking-prone pattern cannot freeze the hub', async () => {
  const type = 'quality.gauge.read';
  const schema = {
    type: 'object',
    required: ['plant', 'gauge'],
    properties: { plant: { type: 'string' }, gauge: { type: 'string', pattern: '^(a+)+$' } },
  };
  const proposed = await hub.app.inject({
    method: 'POST',
    url: `/v1/catalog/schemas/${type}/versions`,
    headers: json(WRITER),
    payload: { schema, owner: 'quality-engineering' },
  });
  assert.equal(proposed.statusCode, 201, proposed.body);
  const approved = await hub.app.inject({
    method: 'POST',
    url: `/v1/catalog/schemas/${type}/versions/1/approve`,
    headers: json(APPROVER),
  });
  assert.equal(approved.statusCode, 200, approved.body);
  for (const length of [27, 10_000]) {
    const started = performance.now();
    const res = await publish({
      specversion: '1.0',
      id: `gauge-${length}`,
      source: '/plants/P1/qms',
      type,
      time: '2026-03-01T08:15:00Z',
      subject: 'G-1',
      plant: 'P1',
      data: { plant: 'P1', gauge: `${'a'.repeat(length)}!` },
    });
    const ms = performance.now() - started;
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().errors[0].path, '/data/gauge');
    assert.ok(ms < 500, `a ${length}-character value took ${ms.toFixed(0)} ms`);
  }
  const health = await hub.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 200);
});

test('a pattern the linear-time engine cannot run is refused at proposal, naming where it is', async () => {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/catalog/schemas/quality.gauge.calibrated/versions',
    headers: json(WRITER),
    payload: {
      owner: 'quality-engineering',
      schema: { type: 'object', properties: { gauge: { type: 'string', pattern: '^(?!X)\\w+$' } } },
    },
  });
  assert.equal(res.statusCode, 422, res.body);
  const problem = res.json();
  assert.equal(problem.errors[0].path, '/schema/properties/gauge/pattern');
  assert.match(problem.errors[0].message, /\^\(\?!X\)\\w\+\$.*lookahead and lookbehind are not supported/);
});
