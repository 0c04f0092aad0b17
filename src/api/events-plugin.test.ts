import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { makeEvent } from '../../test/helpers/events.js';
import { ADMIN_KEY, auth, createTestHub } from '../../test/helpers/hub.js';
import { clientRecordFor } from '../auth/api-keys.js';
import { ManualClock } from '../delivery/clock.js';
import type { Hub } from '../hub.js';
import '../../test/helpers/seed.js';

let hub: Hub & { logs: { lines: string[] } };
const STRUCTURED = { 'content-type': 'application/cloudevents+json', ...auth() };
const BATCH = { 'content-type': 'application/cloudevents-batch+json', ...auth() };

before(async () => {
  hub = await createTestHub({ server: { port: 0, bodyLimit: '256kb' } });
  await hub.store.clients.upsert(
    clientRecordFor(
      'mes-p1',
      'cvy_mes-p1-key-0123456789abcdefghijklmnop',
      ['events:publish:production', 'events:read:production'],
      ['P1'],
      0,
    ),
  );
});
after(() => hub.close());

const post = (headers: Record<string, string>, payload: unknown, url = '/v1/events') =>
  hub.app.inject({
    method: 'POST',
    url,
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

test('a structured event is accepted with 202 only once it is in the log', async () => {
  const event = makeEvent();
  const res = await post(STRUCTURED, event);
  assert.equal(res.statusCode, 202);
  const body = res.json() as { events: Array<{ id: string; sequence: number; duplicate: boolean }> };
  assert.equal(body.events[0]?.id, event.id);
  const stored = await hub.log.read({ after: body.events[0]!.sequence - 1, limit: 1 });
  assert.equal(stored[0]?.id, event.id);
  const again = await post(STRUCTURED, event);
  assert.equal(again.statusCode, 202);
  assert.equal(again.json().events[0].duplicate, true);
  assert.equal(again.json().events[0].sequence, body.events[0]?.sequence);
});

test('a batch is all-or-nothing, naming each bad event by index', async () => {
  const head = hub.log.head();
  const good = makeEvent();
  const res = await post(BATCH, [
    good,
    { ...makeEvent(), specversion: '0.3' },
    { ...makeEvent(), time: 'yesterday' },
  ]);
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  const problem = res.json();
  assert.equal(problem.type, 'urn:conveyor:problem:invalid-event');
  assert.deepEqual(
    problem.errors.map((e: { path: string }) => e.path),
    ['/1/specversion', '/2/time'],
  );
  assert.equal(hub.log.head(), head, 'nothing appended');
});

test('?partial=true appends the valid events and lists each outcome (207)', async () => {
  const good = makeEvent();
  const res = await post(BATCH, [good, { ...makeEvent(), id: '' }], '/v1/events?partial=true');
  assert.equal(res.statusCode, 207);
  const { events } = res.json();
  assert.equal(events[0].status, 'accepted');
  assert.equal(events[0].id, good.id);
  assert.equal(events[1].status, 'rejected');
  assert.equal(events[1].errors[0].path, '/1/id');
});

test('?partial=true outcomes follow the documented PublishResponse, whatever the rejected events carried as id', async () => {
  const spec = await hub.app.inject({ method: 'GET', url: '/v1/openapi.json', headers: auth() });
  assert.equal(spec.statusCode, 200);
  // Not strict: the document is loaded whole as a schema resource, and its other keys are not keywords.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'urn:conveyor:test:publish', components: spec.json().components });
  const valid = ajv.compile({ $ref: 'urn:conveyor:test:publish#/components/schemas/PublishResponse' });
  const good = makeEvent();
  const ids: unknown[] = [42, { nested: 'x' }, ['a'], true, null, ''];
  const batch = [good, ...ids.map((id) => ({ ...makeEvent(), id })), { ...makeEvent(), id: undefined }];
  const res = await post(BATCH, batch, '/v1/events?partial=true');
  assert.equal(res.statusCode, 207, res.body);
  const body = res.json() as { events: Array<{ id: unknown; status: string }> };
  assert.ok(valid(body), `${ajv.errorsText(valid.errors)}: ${res.body.slice(0, 400)}`);
  assert.deepEqual(
    body.events.map((e) => [e.id, e.status]),
    [[good.id, 'accepted'], ...ids.map((id) => [id === '' ? '' : null, 'rejected']), [null, 'rejected']],
  );
});

test('binary mode takes attributes from ce-* headers and the body as data', async () => {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      ...auth(),
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'bin-1',
      'ce-source': '/plants/P1/mes',
      'ce-type': 'production.scrap.reported',
      'ce-time': '2026-03-01T08:15:00Z',
      'ce-subject': 'PO%201',
      'ce-plant': 'P1',
    },
    payload: JSON.stringify({
      orderId: 'PO 1',
      plant: 'P1',
      material: 'M',
      quantity: { value: 1, uom: 'EA' },
      reasonCode: 'R1',
    }),
  });
  assert.equal(res.statusCode, 202, res.body);
  const [stored] = await hub.log.read({ subject: 'PO 1', limit: 1 });
  assert.equal(stored?.type, 'production.scrap.reported');
  assert.equal((stored!.data as { reasonCode: string }).reasonCode, 'R1');
  assert.equal(stored?.datacontenttype, 'application/json');
});

test('request-level faults get precise problems and append nothing', async () => {
  const head = hub.log.head();
  const cases: Array<[string, Record<string, string>, string, number, string]> = [
    ['malformed JSON', STRUCTURED, '{"id": ', 400, 'malformed-json'],
    ['unknown content type', { ...auth(), 'content-type': 'text/csv' }, 'a,b', 415, 'unsupported-media-type'],
    ['no content type', auth(), '{}', 415, 'unsupported-media-type'],
    ['batch not an array', BATCH, '{}', 400, 'invalid-event'],
    [
      'batch over 1000',
      BATCH,
      JSON.stringify(Array.from({ length: 1001 }, () => ({}))),
      413,
      'batch-too-large',
    ],
    [
      'body over the limit',
      STRUCTURED,
      JSON.stringify({ ...makeEvent(), data: { blob: 'x'.repeat(300_000) } }),
      413,
      'payload-too-large',
    ],
  ];
  for (const [name, headers, payload, status, code] of cases) {
    const res = await post(headers, payload);
    assert.equal(res.statusCode, status, `${name}: ${res.body}`);
    assert.equal(res.json().code, code, name);
    assert.ok(res.json().detail.length > 10, name);
  }
  assert.equal(hub.log.head(), head);
});

test('missing or wrong credentials are 401 problems; probes need none', async () => {
  const none = await hub.app.inject({ method: 'GET', url: '/v1/events' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().type, 'urn:conveyor:problem:unauthorized');
  const wrong = await hub.app.inject({
    method: 'GET',
    url: '/v1/events',
    headers: auth('cvy_not-a-real-key-000000000000000'),
  });
  assert.equal(wrong.statusCode, 401);
  assert.equal((await hub.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.equal((await hub.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  const unknown = await hub.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: auth() });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().code, 'not-found');
});

test('a plant-bound client cannot publish or read another plant', async () => {
  const mes = auth('cvy_mes-p1-key-0123456789abcdefghijklmnop');
  const ok = await post(
    { ...mes, 'content-type': 'application/cloudevents+json' },
    makeEvent({ plant: 'P1' }),
  );
  assert.equal(ok.statusCode, 202);
  const other = makeEvent({ plant: 'P2', data: { plant: 'P2' } });
  const denied = await post({ ...mes, 'content-type': 'application/cloudevents+json' }, other);
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json().errors[0].path, '/plant');
  const quality = await post(
    { ...mes, 'content-type': 'application/cloudevents+json' },
    makeEvent({ type: 'quality.hold.placed', plant: 'P1' }),
  );
  assert.equal(quality.statusCode, 403, 'no publish scope for the quality domain');
  await post(STRUCTURED, makeEvent({ plant: 'P2', subject: 'P2-ONLY', data: { plant: 'P2' } }));
  const read = await hub.app.inject({ method: 'GET', url: '/v1/events?limit=1000', headers: mes });
  assert.equal(read.statusCode, 200);
  assert.ok(read.json().items.every((e: { plant: string }) => e.plant === 'P1'));
  const readP2 = await hub.app.inject({ method: 'GET', url: '/v1/events?plant=P2', headers: mes });
  assert.equal(readP2.statusCode, 403);
});

test('GET /v1/events filters and pages with next', async () => {
  const subject = `PAGE-${Date.now()}`;
  await post(
    BATCH,
    Array.from({ length: 5 }, () => makeEvent({ subject })),
  );
  const first = await hub.app.inject({
    method: 'GET',
    url: `/v1/events?subject=${subject}&limit=3`,
    headers: auth(),
  });
  const page1 = first.json();
  assert.equal(page1.items.length, 3);
  assert.ok(page1.next);
  assert.equal(typeof page1.items[0].sequence, 'number');
  const second = await hub.app.inject({
    method: 'GET',
    url: `/v1/events?subject=${subject}&limit=3&after=${page1.next}`,
    headers: auth(),
  });
  assert.equal(second.json().items.length, 2);
  assert.equal(second.json().next, null);
  const bad = await hub.app.inject({ method: 'GET', url: '/v1/events?limit=5000', headers: auth() });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().errors[0].path, 'limit');
});

test('GET /v1/events takes a time range (from inclusive, to exclusive, by append time), checked', async () => {
  const subject = `RANGE-${Date.now()}`;
  /** Waits until the clock has moved past `t`, so the next append is strictly later (bounded). */
  const after = async (t: number) => {
    for (let i = 0; Date.now() <= t && i < 1000; i++) await new Promise((r) => setImmediate(r));
  };
  const get = (query: string) =>
    hub.app.inject({ method: 'GET', url: `/v1/events?subject=${subject}&${query}`, headers: auth() });
  await post(STRUCTURED, makeEvent({ subject }));
  const t1 = Date.now();
  await after(t1);
  await post(BATCH, [makeEvent({ subject }), makeEvent({ subject }), makeEvent({ subject })]);
  const t2 = Date.now();
  await after(t2);
  await post(STRUCTURED, makeEvent({ subject }));
  const iso = (t: number) => new Date(t + 1).toISOString();

  const all = (await get('')).json().items as Array<{ sequence: number }>;
  assert.equal(all.length, 5);
  const middle = await get(`from=${iso(t1)}&to=${iso(t2)}`);
  assert.equal(middle.statusCode, 200, middle.body);
  assert.deepEqual(
    middle.json().items.map((e: { sequence: number }) => e.sequence),
    all.slice(1, 4).map((e) => e.sequence),
  );
  const paged = (await get(`from=${iso(t1)}&to=${iso(t2)}&limit=2`)).json();
  assert.equal(paged.items.length, 2);
  const rest = (await get(`from=${iso(t1)}&to=${iso(t2)}&limit=2&after=${paged.next}`)).json();
  assert.deepEqual(
    rest.items.map((e: { sequence: number }) => e.sequence),
    [all[3]?.sequence],
  );
  assert.equal(rest.next, null, 'the page ends at `to`');
  assert.equal((await get(`from=${iso(t2)}`)).json().items.length, 1);
  assert.equal((await get(`to=${iso(t1)}`)).json().items.length, 1);

  for (const [query, path] of [
    ['from=yesterday', 'from'],
    [`from=${iso(t2)}&to=${iso(t1)}`, 'to'],
    ['from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
  ] as const) {
    const bad = await get(query);
    assert.equal(bad.statusCode, 400, query);
    assert.equal(bad.json().code, 'bad-request');
    assert.equal(bad.json().errors[0].path, path, query);
  }
});

test('metrics count ingest and need the ops scope', async () => {
  const res = await hub.app.inject({ method: 'GET', url: '/metrics', headers: auth() });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /conveyor_ingest_events_total\{outcome="accepted",mode="structured"\} \d+/);
  assert.match(res.body, /conveyor_ingest_request_duration_seconds_bucket/);
  const mes = await hub.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: auth('cvy_mes-p1-key-0123456789abcdefghijklmnop'),
  });
  assert.equal(mes.statusCode, 403);
});

test('readiness is 503 until the hub listens', async () => {
  const res = await hub.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(res.statusCode, 503);
});

test('no log line ever contains an API key', async () => {
  await hub.app.inject({ method: 'GET', url: '/v1/events', headers: auth() });
  await post(
    {
      'content-type': 'application/cloudevents+json',
      authorization: 'Bearer cvy_wrong-key-abcdefghijklmnopqrstu',
    },
    '{',
  );
  const all = hub.logs.lines.join('');
  assert.ok(!all.includes(ADMIN_KEY));
  assert.ok(!all.includes('cvy_wrong-key'));
});

test('10,000 fuzzed bodies never cause a 5xx and never append an invalid event', async () => {
  const contentTypes = fc.constantFrom(
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
    'application/json',
    'text/plain',
    'application/octet-stream',
  );
  const jsonish = fc.oneof(
    fc.json(),
    fc.string(),
    fc.record(
      {
        specversion: fc.constantFrom('1.0', '0.3', 1),
        id: fc.string(),
        source: fc.string(),
        type: fc.string(),
        time: fc.string(),
        data: fc.anything(),
      },
      { requiredKeys: [] },
    ),
    fc.array(
      fc.record(
        {
          specversion: fc.constant('1.0'),
          id: fc.string(),
          source: fc.string(),
          type: fc.string(),
          time: fc.constant('2026-01-01T00:00:00Z'),
          data: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    ),
  );
  const ceHeaders = fc.dictionary(
    fc.constantFrom('ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-time', 'ce-plant', 'ce-x'),
    fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  );
  await fc.assert(
    fc.asyncProperty(contentTypes, jsonish, ceHeaders, async (contentType, value, headers) => {
      const payload = typeof value === 'string' ? value : JSON.stringify(value);
      const res = await hub.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...auth(), ...headers, 'content-type': contentType },
        payload,
      });
      assert.ok(res.statusCode < 500, `${res.statusCode}: ${res.body}`);
      if (res.statusCode >= 400)
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    }),
    { numRuns: 10_000 },
  );
  // Every stored event satisfies the envelope rules.
  for (let afterSeq = 0; ; ) {
    const page = await hub.log.read({ after: afterSeq, limit: 1000 });
    if (page.length === 0) break;
    for (const e of page) assert.ok(e.specversion === '1.0' && e.id && e.source && e.type && e.time);
    afterSeq = page[page.length - 1]!.sequence;
  }
});

test('a bulk flood over the lane rate gets 429 with Retry-After; critical events still pass', async () => {
  // The bucket refills by the hub's clock: held still, the test does not depend on how fast it runs.
  const clock = new ManualClock(Date.now());
  const limited = await createTestHub({ lanes: { bulk: { ingressPerSecond: 50 } } }, undefined, { clock });
  try {
    const telemetry = Array.from({ length: 60 }, () =>
      makeEvent({
        type: 'telemetry.machine.counter',
        data: { plant: 'P1', equipmentId: 'PRESS-1', counter: 'good', value: 1, at: '2026-03-01T08:00:00Z' },
      }),
    );
    const send = (events: unknown[]) =>
      limited.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(events),
      });
    assert.equal((await send(telemetry.slice(0, 50))).statusCode, 202);
    const flood = await send(telemetry.slice(50));
    assert.equal(flood.statusCode, 429);
    assert.ok(Number(flood.headers['retry-after']) >= 1);
    assert.equal(flood.json().code, 'rate-limited');
    assert.equal((await send([makeEvent()])).statusCode, 202, 'critical traffic is unaffected');
  } finally {
    await limited.close();
  }
});

test("the hub's own milestone alerts cannot be published, not even by an admin", async () => {
  const forged = makeEvent({
    type: 'conveyor.milestone.late',
    source: '/conveyor/milestones',
    data: { milestone: 'forged' },
  });
  const res = await post(STRUCTURED, forged);
  assert.equal(res.statusCode, 403, res.body);
  assert.match(res.json().errors[0].message, /raised by the hub itself/);
  const stored = await hub.app.inject({
    method: 'GET',
    url: '/v1/events?type=conveyor.milestone.late',
    headers: auth(),
  });
  assert.deepEqual(stored.json().items, []);
});

test('GET /v1/events following next finds a match behind 12,000 events the filter leaves out', async () => {
  const after = hub.log.head();
  for (let i = 0; i < 12; i++) await hub.log.append(Array.from({ length: 1000 }, () => makeEvent()));
  const release = makeEvent({ type: 'production.order.released' });
  await hub.log.append([release]);
  await hub.log.append(
    Array.from({ length: 150 }, (_, i) => makeEvent({ type: 'quality.hold.placed', subject: `H-${i}` })),
  );
  const ids: string[] = [];
  let cursor: string | null = String(after);
  for (let pages = 0; cursor !== null; pages++) {
    assert.ok(pages < 1000, 'paging ends');
    const res: { statusCode: number; body: string; json(): unknown } = await hub.app.inject({
      method: 'GET',
      url: `/v1/events?type=quality.*,production.order.released&limit=100&after=${cursor}`,
      headers: auth(),
    });
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json() as { items: Array<{ id: string }>; next: string | null };
    ids.push(...page.items.map((e) => e.id));
    cursor = page.next;
  }
  assert.equal(ids[0], release.id, 'the release comes first');
  assert.equal(ids.length, 151);
});

test('a large batch is checked in slices: a single event sent while it is being checked is appended first', async () => {
  const batch = Array.from({ length: 600 }, (_, i) => makeEvent({ id: `slice-${i}` }));
  const single = makeEvent({ id: 'slice-single' });
  const registry = hub.registry;
  const check = registry.checkEvent.bind(registry);
  let singleSent: Promise<{ statusCode: number; json(): { events: Array<{ sequence: number }> } }> | null =
    null;
  // The single event goes out once the batch's validation is under way.
  registry.checkEvent = (event, at) => {
    if (event.id === 'slice-5' && singleSent === null) singleSent = post(STRUCTURED, single);
    return check(event, at);
  };
  try {
    const batchRes = await post(BATCH, batch);
    assert.equal(batchRes.statusCode, 202);
    const singleRes = await (singleSent as unknown as Promise<typeof batchRes>);
    assert.equal(singleRes.statusCode, 202);
    const singleSequence = singleRes.json().events[0]!.sequence as number;
    const batchFirst = batchRes.json().events[0]!.sequence as number;
    assert.ok(
      singleSequence < batchFirst,
      `the single event (${singleSequence}) waited for the batch (from ${batchFirst})`,
    );
  } finally {
    registry.checkEvent = check;
  }
});
