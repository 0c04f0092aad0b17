import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Type as T } from '@sinclair/typebox';
import { ADMIN_KEY, auth, createTestHub } from '../../test/helpers/hub.js';
import { SourceCommonFields } from '../connectors/framework/common.js';
import { registerSource } from '../connectors/framework/registry.js';
import type { SourceContext, SourceMessage } from '../connectors/framework/types.js';
import type { Hub } from '../hub.js';

/** A source whose messages the test pushes: the framework's runtime is what is under test here. */
const contexts = new Map<string, SourceContext>();
registerSource(
  'memory',
  {
    kind: 'memory',
    summary: 'Messages pushed by tests.',
    stability: 'experimental',
    schema: T.Object({ ...SourceCommonFields }, { additionalProperties: false }),
    compile: () => ({}),
  },
  (_config, name) => ({
    async start(context) {
      contexts.set(name, context);
      context.health({ type: 'up', at: new Date().toISOString() });
    },
    async stop() {
      contexts.delete(name);
    },
  }),
);

let hub: Hub;
before(async () => {
  hub = await createTestHub({
    connectors: {
      press: {
        kind: 'memory',
        plant: 'P1',
        map: '{"type": "telemetry.machine.counter", "data": {"plant": "P1", "equipmentId": machine, "counter": name, "value": v, "at": ts}}',
      },
      mill: { kind: 'memory', plant: 'P2' },
    },
  });
  await hub.listen();
});
after(() => hub.close());

function message(id: string, payload: unknown, extra: Partial<SourceMessage> = {}) {
  const calls: string[] = [];
  const m: SourceMessage = {
    id,
    origin: `test/${id}`,
    payload,
    raw: JSON.stringify(payload),
    ack: () => {
      calls.push(`ack@${hub.log.head()}`);
    },
    nack: (ms) => {
      calls.push(`nack ${ms}`);
    },
    ...extra,
  };
  return { m, calls };
}

test('a source message is mapped, checked and durable before its ack; the same message twice is one event', async () => {
  const ctx = contexts.get('press');
  assert.ok(ctx);
  const head = hub.log.head();
  const good = message('m-1', { machine: 'PRESS-7', name: 'good', v: 41, ts: '2026-03-01T08:00:00Z' });
  await ctx.deliver([good.m]);
  assert.deepEqual(good.calls, [`ack@${head + 1}`], 'acked once, after the event was in the log');
  const [event] = await hub.log.read({ after: head, limit: 10 });
  assert.equal(event?.type, 'telemetry.machine.counter');
  assert.equal(event?.source, '/connectors/press');
  assert.equal(event?.plant, 'P1');
  assert.equal(event?.subject, 'PRESS-7');
  assert.deepEqual(event?.data, {
    plant: 'P1',
    equipmentId: 'PRESS-7',
    counter: 'good',
    value: 41,
    at: '2026-03-01T08:00:00Z',
  });
  const again = message('m-1', { machine: 'PRESS-7', name: 'good', v: 41, ts: '2026-03-01T08:00:00Z' });
  await ctx.deliver([again.m]);
  assert.equal(hub.log.head(), head + 1, 'a redelivered message is stored once');
  assert.equal(again.calls.length, 1);
});

test('messages that cannot become valid events go to the source DLQ with their raw bytes, and are acked', async () => {
  const press = contexts.get('press');
  const mill = contexts.get('mill');
  assert.ok(press && mill);
  const head = hub.log.head();
  const invalid = message('m-2', { machine: 'PRESS-7', name: 'good', v: -1, ts: 'yesterday' });
  const undecodable = message('m-3', null, {
    raw: Buffer.from([0xde, 0xad]),
    error: 'malformed payload at byte 0',
  });
  const unmapped = message('m-4', { anything: true }); // mill has no map and the message no built-in events
  await press.deliver([invalid.m, undecodable.m]);
  await mill.deliver([unmapped.m]);
  assert.equal(hub.log.head(), head, 'nothing appended');
  for (const c of [invalid, undecodable, unmapped]) assert.equal(c.calls.length, 1);

  const list = async (name: string, key = ADMIN_KEY) =>
    hub.app.inject({ method: 'GET', url: `/v1/connectors/${name}/dead-letters`, headers: auth(key) });
  const press1 = (await list('press')).json().items;
  assert.equal(press1.length, 2);
  assert.match(press1[0].error, /not valid canonical events: \/data\/at: must be an RFC 3339/);
  assert.equal(press1[0].origin, 'test/m-2');
  assert.equal(press1[1].error, 'malformed payload at byte 0');
  assert.deepEqual(Buffer.from(press1[1].raw, 'base64'), Buffer.from([0xde, 0xad]));
  const mill1 = (await list('mill')).json().items;
  assert.match(mill1[0].error, /no map is configured/);

  // A plant-bound ops client sees only its plants' source dead letters.
  const created = await hub.app.inject({
    method: 'POST',
    url: '/v1/clients',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'ops-p2', scopes: ['ops'], plants: ['P2'] }),
  });
  const key = created.json().key as string;
  assert.deepEqual((await list('press', key)).json().items, []);
  assert.equal((await list('mill', key)).json().items.length, 1);
  assert.equal((await list('nothing')).statusCode, 404);
});

test('GET /v1/connectors shows each source’s health and counts (ops only)', async () => {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/connectors', headers: auth() });
  assert.equal(res.statusCode, 200);
  const press = res.json().items.find((c: { name: string }) => c.name === 'press');
  assert.equal(press.kind, 'memory');
  assert.equal(press.health.type, 'up');
  assert.equal(press.events, 1);
  assert.equal(press.deadLettered, 2);
  assert.ok(press.messages >= 4);
  assert.equal(press.lastError.origin, 'test/m-3');
  const metrics = await hub.app.inject({ method: 'GET', url: '/metrics', headers: auth() });
  assert.match(metrics.body, /conveyor_connector_health\{connector="press",kind="memory"\} 1/);
});

test('a connector of an unknown kind, or a bad source config, is refused at start by key path', async () => {
  await assert.rejects(
    createTestHub({ connectors: { plc: { kind: 'teletype' } } }),
    /connectors\.plc\.kind: no connector kind "teletype"/,
  );
  await assert.rejects(
    createTestHub({ connectors: { press: { kind: 'memory', map: '{"a": ', plant: 'P 1' } } }),
    /connectors\.press\.plant/,
  );
  await assert.rejects(
    createTestHub({ connectors: { press: { kind: 'memory', map: '{"a": ' } } }),
    /connectors\.press\.map: invalid JSONata/,
  );
});

test('a map can look up reference data: $routing(plant, material) enriches an order from the routings file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-map-ref-'));
  writeFileSync(
    join(dir, 'routings.csv'),
    'plant,material,operation,workCenter,component,componentQuantity,uom\nP1,FG-1,0010,WC-A,RM-1,2,KG\n',
  );
  const enriched = await createTestHub({
    referenceData: { routings: join(dir, 'routings.csv') },
    connectors: {
      erp: {
        kind: 'memory',
        plant: 'P1',
        map: '($r := $routing(plant, material); {"type": "production.order.released", "data": {"orderId": id, "plant": plant, "material": material, "quantity": {"value": qty, "uom": "EA"}, "dueDate": due, "routing": $r.routing, "bom": $r.bom}})',
      },
    },
  });
  await enriched.listen();
  try {
    const ctx = contexts.get('erp');
    assert.ok(ctx);
    const order = { id: 'PO-REF-1', plant: 'P1', material: 'FG-1', qty: 5, due: '2026-12-01T00:00:00Z' };
    const { m, calls } = message('erp-1', order);
    await ctx.deliver([m]);
    assert.equal(calls.length, 1);
    const [event] = await enriched.log.read({ types: ['production.order.released'], limit: 1 });
    assert.ok(event);
    const data = event.data as { routing: unknown; bom: unknown };
    assert.deepEqual(data.routing, [{ operation: '0010', workCenter: 'WC-A' }]);
    assert.deepEqual(data.bom, [{ material: 'RM-1', quantity: { value: 2, uom: 'KG' } }]);
  } finally {
    await enriched.close();
  }
});
