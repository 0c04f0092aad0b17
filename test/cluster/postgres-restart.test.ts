/**
 * PostgreSQL restarts under a running hub: requests that need the state store fail fast with 503
 * `store-unavailable` (never a hang, never a 2xx for state that was not stored), events still go
 * into the log, and everything works again once the server is back.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeEvent } from '../helpers/events.js';
import { auth, createTestHub } from '../helpers/hub.js';
import { PostgresServer } from '../helpers/postgres.js';

let server: PostgresServer;
let url = '';

before(async () => {
  server = await PostgresServer.start();
  url = await server.createDatabase('conveyor_restart');
});
after(() => server.close());

test('while PostgreSQL is down, store-backed requests answer 503 within 3 s; after its restart they succeed', {
  timeout: 120_000,
}, async () => {
  const hub = await createTestHub({ store: { kind: 'postgres', url } });
  await hub.listen();
  try {
    const createClient = (name: string) =>
      hub.app.inject({
        method: 'POST',
        url: '/v1/clients',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: { name, scopes: ['events:read:production'] },
      });
    assert.equal((await createClient('before-outage')).statusCode, 201);

    // A hung server (a frozen host, a partition): the statement timeout answers, not the client's patience.
    server.freeze();
    const started = Date.now();
    const hung = await hub.app.inject({ method: 'GET', url: '/v1/dlq', headers: auth() });
    server.thaw();
    assert.equal(hung.statusCode, 503, hung.body);
    assert.ok(Date.now() - started < 8_000, `a hung store answered after ${Date.now() - started} ms`);

    await server.stop();
    for (const [name, call] of [
      ['create a client', () => createClient('during-outage')],
      ['list dead letters', () => hub.app.inject({ method: 'GET', url: '/v1/dlq', headers: auth() })],
      ['read the audit trail', () => hub.app.inject({ method: 'GET', url: '/v1/audit', headers: auth() })],
    ] as const) {
      const started = Date.now();
      const res = await call();
      const ms = Date.now() - started;
      assert.equal(res.statusCode, 503, `${name}: ${res.body}`);
      assert.equal(res.json().code, 'store-unavailable', res.body);
      assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set');
      assert.ok(ms < 3_000, `${name} answered after ${ms} ms`);
    }
    // Events need only the log, so they are still accepted (the key was verified before).
    const event = makeEvent();
    const ingest = await hub.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(event),
    });
    assert.equal(ingest.statusCode, 202, ingest.body);

    await server.resume();
    let res = await createClient('after-outage');
    // The pool's broken connections are replaced on the next calls.
    for (let i = 0; i < 20 && res.statusCode === 503; i++) res = await createClient('after-outage');
    assert.equal(res.statusCode, 201, res.body);
    const names = (await hub.app.inject({ method: 'GET', url: '/v1/clients', headers: auth() }))
      .json()
      .items.map((c: { name: string }) => c.name);
    assert.ok(names.includes('before-outage') && names.includes('after-outage'));
    assert.ok(!names.includes('during-outage'), 'nothing was stored for a request that got 503');
  } finally {
    await hub.close();
  }
});
