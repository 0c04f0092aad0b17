import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { PostgresStateStore } from '../../src/store/postgres/pg-state-store.js';
import { StoreUnavailableError } from '../../src/store/store-errors.js';
import { PostgresServer, sharedPostgres } from '../helpers/postgres.js';
import { type StateStoreHarness, stateStoreContract } from './state-store-contract.js';

let url = '';
const harness: StateStoreHarness = {
  async open() {
    url = await (await sharedPostgres()).createDatabase('conveyor_state');
    return PostgresStateStore.open({ url });
  },
  reopen: () => PostgresStateStore.open({ url }),
};

stateStoreContract('postgres', harness);

/** Resolves with how long `promise` took to reject, failing when it resolves. */
async function rejectionTime(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  assert.fail('expected the call to fail');
}

test('postgres: four hubs opening one fresh database at once migrate it exactly once', async () => {
  const fresh = await (await sharedPostgres()).createDatabase('conveyor_migrate');
  const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStateStore.open({ url: fresh })));
  try {
    const client = new pg.Client({ connectionString: fresh });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.map((r) => r.version),
        MIGRATIONS.map((_, i) => i + 1),
      );
    } finally {
      await client.end();
    }
    // Every one of them works on the same data.
    await stores[0]!.suppliers.add({
      supplierId: 'S1',
      name: 'Acme',
      plants: [],
      createdAt: 1,
      createdBy: 'a',
    });
    for (const store of stores) assert.equal((await store.suppliers.get('S1'))?.name, 'Acme');
    // A later start finds nothing to do.
    const late = await PostgresStateStore.open({ url: fresh });
    await late.close();
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
});

test('postgres: a database migrated by a newer hub is refused', async () => {
  const fresh = await (await sharedPostgres()).createDatabase('conveyor_newer');
  await (await PostgresStateStore.open({ url: fresh })).close();
  const client = new pg.Client({ connectionString: fresh });
  await client.connect();
  await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [
    MIGRATIONS.length + 1,
  ]);
  await client.end();
  await assert.rejects(PostgresStateStore.open({ url: fresh }), /newer than this hub knows/);
});

describe('postgres: an unavailable server', () => {
  let server: PostgresServer;
  let database = '';
  before(async () => {
    server = await PostgresServer.start();
    database = await server.createDatabase('conveyor_faults');
  });
  after(() => server.close());

  test('stopped: calls fail fast with StoreUnavailableError, and work again once it is back', async () => {
    const store = await PostgresStateStore.open({ url: database });
    try {
      await store.clients.upsert({
        name: 'erp',
        keyPrefix: 'p',
        keyHash: 'h',
        scopes: [],
        plants: null,
        createdAt: 1,
        revokedAt: null,
        rateLimit: null,
        supplierId: null,
      });
      await server.stop();
      const read = await rejectionTime(store.clients.get('erp'));
      assert.ok(read.error instanceof StoreUnavailableError, String(read.error));
      assert.ok(read.ms < 3_000, `took ${read.ms} ms`);
      const claim = await rejectionTime(
        store.idempotency.claim({ client: 'c', key: 'k', fingerprint: 'f', createdAt: 1, expiresAt: 2 }, 0),
      );
      assert.ok(claim.error instanceof StoreUnavailableError, String(claim.error));
      const tx = await rejectionTime(
        store.holds.put({
          holdId: 'H1',
          plant: 'P1',
          material: 'M',
          lots: ['L1'],
          reason: 'r',
          placedAt: '2026-03-01T08:15:00Z',
          status: 'active',
          disposition: null,
          updatedAt: 1,
        }),
      );
      assert.ok(tx.error instanceof StoreUnavailableError, String(tx.error));
      assert.ok(tx.ms < 3_000, `took ${tx.ms} ms`);
      // A new hub cannot open it either, and says why.
      const opening = await rejectionTime(PostgresStateStore.open({ url: database }));
      assert.ok(opening.error instanceof StoreUnavailableError, String(opening.error));

      await server.resume();
      assert.equal((await store.clients.get('erp'))?.name, 'erp', 'the pool reconnects by itself');
    } finally {
      await store.close();
    }
  });

  test('killed: calls fail with StoreUnavailableError; after recovery committed writes are there', async () => {
    const store = await PostgresStateStore.open({ url: database });
    try {
      await store.suppliers.add({
        supplierId: 'S-kill',
        name: 'Kept',
        plants: [],
        createdAt: 1,
        createdBy: 'a',
      });
      await server.kill();
      const read = await rejectionTime(store.suppliers.get('S-kill'));
      assert.ok(read.error instanceof StoreUnavailableError, String(read.error));
      assert.ok(read.ms < 3_000, `took ${read.ms} ms`);
      await server.resume();
      assert.equal((await store.suppliers.get('S-kill'))?.name, 'Kept');
    } finally {
      await store.close();
    }
  });

  test('hung: a server that stops answering fails calls after the statement timeout, not never', async () => {
    const store = await PostgresStateStore.open({ url: database, statementTimeoutMs: 1_000 });
    await store.suppliers.add({
      supplierId: 'S-hung',
      name: 'Frozen',
      plants: [],
      createdAt: 1,
      createdBy: 'a',
    });
    try {
      server.freeze();
      const [held, fresh] = await Promise.all([
        rejectionTime(store.suppliers.list()),
        rejectionTime(store.clients.list()),
      ]);
      for (const outcome of [held, fresh]) {
        assert.ok(outcome.error instanceof StoreUnavailableError, String(outcome.error));
        assert.ok(outcome.ms < 3_000, `took ${outcome.ms} ms`);
      }
    } finally {
      server.thaw();
    }
    try {
      assert.equal((await store.suppliers.get('S-hung'))?.name, 'Frozen', 'answers again once thawed');
    } finally {
      await store.close();
    }
  });
});
