import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloudEvent, StoredEvent } from '../../src/model/envelope.js';
import {
  type AttemptRecord,
  type ClientRecord,
  type DeadLetterRecord,
  type IdempotencyOwner,
  instanceLeaseName,
  type MilestoneEventRef,
  type MilestoneStart,
  type QualityHoldRecord,
  type SourceDeadLetter,
  type StateStore,
} from '../../src/store/port.js';
import { makeEvent } from '../helpers/events.js';

export interface StateStoreHarness {
  /** A store on fresh, empty storage. */
  open(): Promise<StateStore>;
  /** Another store on the storage of the last `open()`; the earlier one may still be open. */
  reopen(): Promise<StateStore>;
}

type NewDeadLetter = Omit<DeadLetterRecord, 'position' | 'updatedAt' | 'updatedBy'>;

const DAY = 86_400_000;
const STALE = 300_000;

let sequence = 0;
function storedEvent(overrides: Partial<CloudEvent> & Record<string, unknown> = {}): StoredEvent {
  return { ...makeEvent(overrides), sequence: ++sequence };
}

/** An event without a plant: stored, but never shown to a plant-scoped reader. */
function plantlessEvent(): StoredEvent {
  const { plant: _plant, ...event } = storedEvent();
  return event as StoredEvent;
}

const ATTEMPTS: readonly AttemptRecord[] = [
  { at: '2026-03-01T08:15:00.000Z', status: 503, ms: 120 },
  { at: '2026-03-01T08:15:01.000Z', error: 'connect ECONNREFUSED', ms: 3 },
];

function deadLetter(n: number, fields: Partial<NewDeadLetter> = {}): NewDeadLetter {
  return {
    id: `dl-${n}`,
    route: 'erp-orders',
    reason: 'max-attempts',
    event: storedEvent(),
    attempts: ATTEMPTS,
    at: 1_000 * n,
    status: 'open',
    ...fields,
  };
}

function eventRef(sequence: number): MilestoneEventRef {
  return { id: `e-${sequence}`, type: 'production.order.completed', sequence, time: '2026-03-01T08:15:00Z' };
}

function milestoneStart(n: number, fields: Partial<MilestoneStart> = {}): MilestoneStart {
  return {
    id: `ms-${n}`,
    name: 'order-posted',
    correlation: `PO-${n}`,
    plant: 'P1',
    startEvent: eventRef(n),
    startedAt: 1_000 * n,
    dueAt: 1_000 * n + 60_000,
    ...fields,
  };
}

function client(name: string, fields: Partial<ClientRecord> = {}): ClientRecord {
  return {
    name,
    keyPrefix: `cvk_${name.slice(0, 4)}`,
    keyHash: `hash-of-${name}`,
    scopes: ['events:read:production', 'commands:production-order-release'],
    plants: ['P1', 'P2'],
    createdAt: 1_000,
    revokedAt: null,
    rateLimit: { perSecond: 200, burst: 400 },
    supplierId: null,
    ...fields,
  };
}

function hold(holdId: string, fields: Partial<QualityHoldRecord> = {}): QualityHoldRecord {
  return {
    holdId,
    plant: 'P1',
    material: 'MAT-100',
    lots: ['L1', 'L2'],
    reason: 'contamination suspected',
    placedAt: '2026-03-01T08:15:00Z',
    status: 'active',
    disposition: null,
    updatedAt: 5_000,
    ...fields,
  };
}

const claimAt = (
  at: number,
  fields: { client?: string; key?: string; fingerprint?: string; owner?: IdempotencyOwner } = {},
) => ({
  client: fields.client ?? 'erp',
  key: fields.key ?? 'k1',
  fingerprint: fields.fingerprint ?? 'f1',
  createdAt: at,
  expiresAt: at + DAY,
  ...(fields.owner ? { owner: fields.owner } : {}),
});

/** Gives `instance` a heartbeat lease that lasts the test out. */
const alive = (store: StateStore, instance: string) =>
  store.leases.acquire(instanceLeaseName(instance), instance, 600_000);

const ids = (records: readonly { id: string }[]) => records.map((r) => r.id);

/**
 * The behaviour every StateStore backend must have. Run it once per backend:
 * `stateStoreContract('sqlite', harness)`.
 */
export function stateStoreContract(name: string, harness: StateStoreHarness): void {
  const withStore = async (fn: (store: StateStore) => Promise<void>) => {
    const store = await harness.open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  /** The fresh store and a second one on the same storage, for races between connections. */
  const withTwoStores = async (fn: (a: StateStore, b: StateStore) => Promise<void>) => {
    const a = await harness.open();
    try {
      const b = await harness.reopen();
      try {
        await fn(a, b);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  };

  test(`${name}: clients round-trip every field; upsert replaces; list is in name order`, () =>
    withStore(async (store) => {
      const erp = client('erp-prod');
      const supplier = client('Supplier-7', {
        plants: null,
        rateLimit: null,
        supplierId: 'SUP-7',
        scopes: ['asn:write'],
      });
      await store.clients.upsert(erp);
      await store.clients.upsert(supplier);
      await store.clients.upsert(client('alpha'));
      assert.deepEqual(await store.clients.get('erp-prod'), erp);
      assert.deepEqual(await store.clients.get('Supplier-7'), supplier);
      assert.equal(await store.clients.get('nobody'), undefined);
      // Byte order: upper case sorts before lower case.
      assert.deepEqual(
        (await store.clients.list()).map((c) => c.name),
        ['Supplier-7', 'alpha', 'erp-prod'],
      );

      // A new key for the same client replaces the old one everywhere.
      const rotated = client('erp-prod', {
        keyPrefix: 'cvk_new1',
        keyHash: 'new-hash',
        scopes: ['events:read:quality'],
        plants: ['P3'],
        createdAt: 9_000,
        rateLimit: { perSecond: 5, burst: 10 },
        supplierId: 'SUP-1',
      });
      await store.clients.upsert(rotated);
      assert.deepEqual(await store.clients.get('erp-prod'), rotated);
      assert.deepEqual(await store.clients.findByPrefix('cvk_erp-'), []);
      assert.deepEqual(await store.clients.findByPrefix('cvk_new1'), [rotated]);
      assert.equal((await store.clients.list()).length, 3);
    }));

  test(`${name}: findByPrefix returns every client sharing the prefix; revoke works once`, () =>
    withStore(async (store) => {
      await store.clients.upsert(client('a', { keyPrefix: 'same' }));
      await store.clients.upsert(client('b', { keyPrefix: 'same' }));
      await store.clients.upsert(client('c', { keyPrefix: 'other' }));
      assert.deepEqual((await store.clients.findByPrefix('same')).map((c) => c.name).sort(), ['a', 'b']);
      assert.deepEqual(await store.clients.findByPrefix('sam'), []);

      assert.equal(await store.clients.revoke('a', 7_000), true);
      assert.equal((await store.clients.get('a'))?.revokedAt, 7_000);
      assert.equal(await store.clients.revoke('a', 8_000), false, 'already revoked');
      assert.equal((await store.clients.get('a'))?.revokedAt, 7_000, 'the first revocation stands');
      assert.equal(await store.clients.revoke('nobody', 8_000), false);
      assert.equal((await store.clients.get('b'))?.revokedAt, null);
      // Re-issuing a key (upsert) un-revokes the client.
      await store.clients.upsert(client('a', { keyPrefix: 'fresh' }));
      assert.equal((await store.clients.get('a'))?.revokedAt, null);
    }));

  test(`${name}: a dead letter round-trips its event, attempts and status exactly; ids are unique`, () =>
    withStore(async (store) => {
      const event = storedEvent({
        data: { zeta: 1, alpha: { nested: [1, 2.5, 'x'] }, text: 'tab\tNUL\u0000 ünïcödé 🚚', empty: null },
      });
      const entry = deadLetter(1, { event, reason: 'rejected' });
      await store.deadLetters.add(entry);
      const got = await store.deadLetters.get('dl-1');
      assert.ok(got);
      assert.ok(got.position > 0);
      assert.deepEqual(got, { ...entry, position: got.position, updatedAt: entry.at, updatedBy: null });
      // The event is kept as written, key order included (it is delivered again on replay).
      assert.deepEqual(Object.keys(got.event.data as object), ['zeta', 'alpha', 'text', 'empty']);
      assert.equal(await store.deadLetters.get('dl-404'), undefined);
      await assert.rejects(store.deadLetters.add(deadLetter(1)), 'the same id twice');
      assert.equal((await store.deadLetters.list({}, 0, 10)).length, 1);
    }));

  test(`${name}: dead letters list by every filter, oldest first`, () =>
    withStore(async (store) => {
      const entries = [
        deadLetter(1, { route: 'erp', event: storedEvent({ plant: 'P1' }) }),
        deadLetter(2, { route: 'mes', reason: 'rejected', event: storedEvent({ plant: 'P2' }) }),
        deadLetter(3, {
          route: 'erp',
          status: 'discarded',
          event: storedEvent({ plant: 'P2', type: 'quality.hold.placed' }),
        }),
        deadLetter(4, { route: 'erp', event: plantlessEvent() }),
        deadLetter(5, { route: 'wms', reason: 'max-age', event: storedEvent({ plant: 'P3' }) }),
      ];
      for (const entry of entries) await store.deadLetters.add(entry);
      const list = async (filter: Parameters<StateStore['deadLetters']['list']>[0]) =>
        ids(await store.deadLetters.list(filter, 0, 100));

      assert.deepEqual(await list({}), ['dl-1', 'dl-2', 'dl-3', 'dl-4', 'dl-5']);
      assert.deepEqual(await list({ route: 'erp' }), ['dl-1', 'dl-3', 'dl-4']);
      assert.deepEqual(await list({ type: 'quality.hold.placed' }), ['dl-3']);
      assert.deepEqual(await list({ reason: 'rejected' }), ['dl-2']);
      assert.deepEqual(await list({ status: 'open' }), ['dl-1', 'dl-2', 'dl-4', 'dl-5']);
      assert.deepEqual(await list({ status: 'discarded' }), ['dl-3']);
      assert.deepEqual(await list({ plants: ['P2'] }), ['dl-2', 'dl-3']);
      assert.deepEqual(await list({ plants: ['P1', 'P3'] }), ['dl-1', 'dl-5']);
      assert.deepEqual(await list({ plants: [] }), [], 'no plants: nothing, not everything');
      // `since` is inclusive, `until` exclusive.
      assert.deepEqual(await list({ since: 2_000 }), ['dl-2', 'dl-3', 'dl-4', 'dl-5']);
      assert.deepEqual(await list({ until: 3_000 }), ['dl-1', 'dl-2']);
      assert.deepEqual(await list({ since: 2_000, until: 4_000 }), ['dl-2', 'dl-3']);
      assert.deepEqual(await list({ route: 'erp', status: 'open', plants: ['P1', 'P2'] }), ['dl-1']);
      assert.deepEqual(await list({ route: 'nowhere' }), []);
    }));

  test(`${name}: dead letters page by position without gaps or repeats`, () =>
    withStore(async (store) => {
      for (let n = 1; n <= 7; n++) {
        await store.deadLetters.add(deadLetter(n, { route: n % 2 ? 'odd' : 'even' }));
      }
      const seen: string[] = [];
      let after = 0;
      for (let page = 0; page < 10; page++) {
        const rows = await store.deadLetters.list({}, after, 3);
        if (rows.length === 0) break;
        assert.ok(rows.length <= 3);
        for (const row of rows) {
          assert.ok(row.position > after, 'positions increase');
          after = row.position;
          seen.push(row.id);
        }
      }
      assert.deepEqual(seen, ['dl-1', 'dl-2', 'dl-3', 'dl-4', 'dl-5', 'dl-6', 'dl-7']);
      const [first, second] = await store.deadLetters.list({ route: 'odd' }, 0, 2);
      assert.deepEqual([first?.id, second?.id], ['dl-1', 'dl-3']);
      assert.deepEqual(ids(await store.deadLetters.list({ route: 'odd' }, second!.position, 10)), [
        'dl-5',
        'dl-7',
      ]);
    }));

  test(`${name}: dead letter updates, open counts per route, and lookup by event ids`, () =>
    withStore(async (store) => {
      const entries = [
        deadLetter(1, { route: 'erp' }),
        deadLetter(2, { route: 'erp' }),
        deadLetter(3, { route: 'mes' }),
        deadLetter(4, { route: 'wms' }),
      ];
      for (const entry of entries) await store.deadLetters.add(entry);
      assert.deepEqual(
        await store.deadLetters.openCounts(),
        new Map([
          ['erp', 2],
          ['mes', 1],
          ['wms', 1],
        ]),
      );

      const more: AttemptRecord[] = [...ATTEMPTS, { at: '2026-03-02T00:00:00.000Z', status: 200, ms: 40 }];
      assert.equal(
        await store.deadLetters.update('dl-1', { status: 'replayed', attempts: more, at: 50_000, by: 'ops' }),
        true,
      );
      assert.equal(
        await store.deadLetters.update('dl-4', { status: 'discarded', at: 60_000, by: null }),
        true,
      );
      assert.equal(await store.deadLetters.update('dl-404', { status: 'replayed', at: 1, by: 'ops' }), false);
      const replayed = await store.deadLetters.get('dl-1');
      assert.equal(replayed?.status, 'replayed');
      assert.deepEqual(replayed?.attempts, more);
      assert.equal(replayed?.updatedAt, 50_000);
      assert.equal(replayed?.updatedBy, 'ops');
      assert.equal(replayed?.at, 1_000, 'when it was dead-lettered does not change');
      const discarded = await store.deadLetters.get('dl-4');
      assert.equal(discarded?.status, 'discarded');
      assert.deepEqual(discarded?.attempts, ATTEMPTS, 'attempts stay when the change brings none');
      assert.equal(discarded?.updatedBy, null);
      assert.deepEqual(
        await store.deadLetters.openCounts(),
        new Map([
          ['erp', 1],
          ['mes', 1],
        ]),
      );

      // Any status, oldest first, whatever order the ids come in.
      const found = await store.deadLetters.forEvents([
        entries[3]!.event.id,
        'unknown-event',
        entries[0]!.event.id,
        entries[2]!.event.id,
      ]);
      assert.deepEqual(ids(found), ['dl-1', 'dl-3', 'dl-4']);
      assert.deepEqual(await store.deadLetters.forEvents([]), []);
    }));

  test(`${name}: forEvents finds hundreds of events at once, in position order`, () =>
    withStore(async (store) => {
      const entries = Array.from({ length: 620 }, (_, i) => deadLetter(i + 1));
      for (const entry of entries) await store.deadLetters.add(entry);
      const wanted = entries.filter((_, i) => i % 3 !== 1).map((e) => e.event.id);
      const found = await store.deadLetters.forEvents(wanted.reverse());
      assert.equal(found.length, wanted.length);
      for (let i = 1; i < found.length; i++) assert.ok(found[i]!.position > found[i - 1]!.position);
      assert.deepEqual(new Set(found.map((f) => f.event.id)), new Set(wanted));
    }));

  test(`${name}: the audit trail filters, pages, and keeps ip and detail only when given`, () =>
    withStore(async (store) => {
      await store.audit.record({
        at: 1_000,
        actor: 'alice',
        action: 'keys.create',
        target: 'erp',
        outcome: 'ok',
        ip: '10.0.0.1',
        detail: { scopes: ['a', 'b'], plants: null, n: 2 },
      });
      await store.audit.record({
        at: 2_000,
        actor: 'bob',
        action: 'dlq.replay',
        target: 'dl-1',
        outcome: 'ok',
      });
      await store.audit.record({
        at: 3_000,
        actor: 'alice',
        action: 'dlq.replay',
        target: 'dl-2',
        outcome: 'denied',
      });
      await store.audit.record({
        at: 4_000,
        actor: 'carol',
        action: 'keys.revoke',
        target: 'erp',
        outcome: 'ok',
      });

      const all = await store.audit.list({}, 0, 100);
      assert.deepEqual(
        all.map((e) => e.at),
        [1_000, 2_000, 3_000, 4_000],
      );
      for (let i = 1; i < all.length; i++) assert.ok(all[i]!.position > all[i - 1]!.position);
      assert.deepEqual(all[0], {
        position: all[0]!.position,
        at: 1_000,
        actor: 'alice',
        action: 'keys.create',
        target: 'erp',
        outcome: 'ok',
        ip: '10.0.0.1',
        detail: { scopes: ['a', 'b'], plants: null, n: 2 },
      });
      assert.ok(!('ip' in all[1]!) && !('detail' in all[1]!), 'absent, not null');

      const ats = async (filter: Parameters<StateStore['audit']['list']>[0]) =>
        (await store.audit.list(filter, 0, 100)).map((e) => e.at);
      assert.deepEqual(await ats({ actor: 'alice' }), [1_000, 3_000]);
      assert.deepEqual(await ats({ action: 'dlq.replay' }), [2_000, 3_000]);
      assert.deepEqual(await ats({ outcome: 'denied' }), [3_000]);
      assert.deepEqual(await ats({ target: 'erp' }), [1_000, 4_000]);
      assert.deepEqual(await ats({ since: 2_000, until: 4_000 }), [2_000, 3_000]);
      assert.deepEqual(await ats({ actor: 'alice', action: 'dlq.replay', outcome: 'denied' }), [3_000]);

      const page1 = await store.audit.list({}, 0, 3);
      assert.equal(page1.length, 3);
      const page2 = await store.audit.list({}, page1[2]!.position, 3);
      assert.deepEqual(
        page2.map((e) => e.at),
        [4_000],
      );
    }));

  test(`${name}: schema types are ensured once; versions number 1, 2, 3 and keep their documents`, () =>
    withStore(async (store) => {
      const type = {
        type: 'production.order.released',
        domain: 'production',
        owner: 'erp',
        compatibility: 'backward',
      };
      await store.schemas.ensureType(type);
      await store.schemas.ensureType({ ...type, owner: 'someone-else', compatibility: 'none' });
      assert.deepEqual(
        await store.schemas.type(type.type),
        type,
        'ensureType never changes an existing type',
      );
      await store.schemas.ensureType({
        type: 'Asn.shipped',
        domain: 'supply',
        owner: 'wms',
        compatibility: 'full',
      });
      assert.deepEqual(
        (await store.schemas.types()).map((t) => t.type),
        ['Asn.shipped', 'production.order.released'],
      );
      assert.equal(await store.schemas.type('nope'), undefined);

      await store.schemas.setCompatibility(type.type, 'forward');
      assert.equal((await store.schemas.type(type.type))?.compatibility, 'forward');

      const schema = {
        type: 'object',
        required: ['orderId'],
        properties: { zOrder: { type: 'string' }, orderId: { type: 'string', pattern: '^PO-' } },
      };
      assert.equal(await store.schemas.addVersion(type.type, schema, 'approved', 'alice', 1_000), 1);
      assert.equal(
        await store.schemas.addVersion(type.type, { type: 'object' }, 'proposed', 'bob', 2_000),
        2,
      );
      assert.equal(
        await store.schemas.addVersion('Asn.shipped', { type: 'object' }, 'proposed', 'carol', 2_500),
        1,
      );
      assert.equal(
        await store.schemas.addVersion(type.type, { type: 'object' }, 'proposed', 'bob', 3_000),
        3,
      );

      const versions = await store.schemas.versions(type.type);
      assert.deepEqual(
        versions.map((v) => v.version),
        [1, 2, 3],
      );
      assert.deepEqual(versions[0], {
        type: type.type,
        version: 1,
        status: 'approved',
        schema,
        createdAt: 1_000,
        createdBy: 'alice',
        updatedAt: 1_000,
        updatedBy: 'alice',
      });
      // Property order is the author's (the catalog shows it).
      assert.deepEqual(Object.keys((versions[0]!.schema as typeof schema).properties), ['zOrder', 'orderId']);
      assert.deepEqual(await store.schemas.versions('nope'), []);

      assert.equal(await store.schemas.setStatus(type.type, 2, 'approved', 'carol', 4_000), true);
      assert.equal(await store.schemas.setStatus(type.type, 9, 'approved', 'carol', 4_000), false);
      const second = (await store.schemas.versions(type.type))[1];
      assert.equal(second?.status, 'approved');
      assert.equal(second?.updatedAt, 4_000);
      assert.equal(second?.updatedBy, 'carol');
      assert.equal(second?.createdBy, 'bob');

      assert.deepEqual(
        (await store.schemas.allVersions()).map((v) => `${v.type}@${v.version}`),
        [
          'Asn.shipped@1',
          'production.order.released@1',
          'production.order.released@2',
          'production.order.released@3',
        ],
      );
    }));

  test(`${name}: versions proposed at the same time get distinct consecutive numbers`, () =>
    withTwoStores(async (a, b) => {
      const type = 'quality.hold.placed';
      await a.schemas.ensureType({ type, domain: 'quality', owner: 'qms', compatibility: 'backward' });
      const numbers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).schemas.addVersion(type, { title: `v-${i}` }, 'proposed', `author-${i}`, i),
        ),
      );
      assert.deepEqual(
        [...numbers].sort((x, y) => x - y),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      const versions = await a.schemas.versions(type);
      assert.equal(versions.length, 12);
      // Each number went with the document of the call that got it.
      for (const [i, n] of numbers.entries()) {
        assert.deepEqual(versions[n - 1]?.schema, { title: `v-${i}` });
      }
    }));

  test(`${name}: an idempotency claim is taken once; others see it in progress, then the answer`, () =>
    withStore(async (store) => {
      const repo = store.idempotency;
      assert.deepEqual(await repo.claim(claimAt(1_000), 1_000 - STALE), { claimed: true });
      const second = await repo.claim(claimAt(1_001, { fingerprint: 'f2' }), 1_001 - STALE);
      assert.deepEqual(second, {
        claimed: false,
        existing: {
          client: 'erp',
          key: 'k1',
          fingerprint: 'f1',
          state: 'in-progress',
          status: null,
          headers: null,
          body: null,
          createdAt: 1_000,
          expiresAt: 1_000 + DAY,
          owner: null,
        },
        ownerLeaseMs: null,
      });
      const answer = {
        status: 201,
        headers: { 'content-type': 'application/json', location: '/x/1' },
        body: '{"n":1}',
      };
      await repo.complete('erp', 'k1', answer);
      const third = await repo.claim(claimAt(2_000), 2_000 - STALE);
      assert.deepEqual(third, {
        claimed: false,
        existing: { ...(second.claimed ? {} : second.existing), state: 'done', ...answer },
        ownerLeaseMs: null,
      });
      // A stored answer never changes, and release never forgets it.
      await repo.complete('erp', 'k1', { status: 500, headers: {}, body: 'other' });
      await repo.release('erp', 'k1');
      const fourth = await repo.claim(claimAt(3_000), 3_000 - STALE);
      assert.equal(!fourth.claimed && fourth.existing.status, 201);
      // Keys are per client.
      assert.deepEqual(await repo.claim(claimAt(3_000, { client: 'mes' }), 3_000 - STALE), { claimed: true });
    }));

  test(`${name}: expired records and stale in-progress claims are replaced; live ones are not`, () =>
    withStore(async (store) => {
      const repo = store.idempotency;
      // Expired: a day later the key is free again.
      await repo.claim(claimAt(0, { key: 'old' }), -STALE);
      await repo.complete('erp', 'old', { status: 200, headers: {}, body: '' });
      assert.equal((await repo.claim(claimAt(DAY - 1, { key: 'old' }), DAY - 1 - STALE)).claimed, false);
      assert.deepEqual(await repo.claim(claimAt(DAY, { key: 'old', fingerprint: 'f9' }), DAY - STALE), {
        claimed: true,
      });
      const renewed = await repo.claim(claimAt(DAY + 1, { key: 'old' }), DAY + 1 - STALE);
      assert.equal(!renewed.claimed && renewed.existing.fingerprint, 'f9');
      assert.equal(!renewed.claimed && renewed.existing.state, 'in-progress');
      assert.equal(!renewed.claimed && renewed.existing.status, null, 'the old answer is gone');

      // Stale: an in-progress claim older than staleBefore (its process died) is taken over.
      await repo.claim(claimAt(10_000, { key: 'crash' }), 10_000 - STALE);
      assert.equal((await repo.claim(claimAt(20_000, { key: 'crash' }), 10_000)).claimed, false, 'not older');
      assert.deepEqual(await repo.claim(claimAt(20_000, { key: 'crash', fingerprint: 'f2' }), 10_001), {
        claimed: true,
      });
      // A finished answer is never stale, only expired.
      await repo.claim(claimAt(10_000, { key: 'done' }), 10_000 - STALE);
      await repo.complete('erp', 'done', { status: 202, headers: {}, body: 'ok' });
      assert.equal((await repo.claim(claimAt(50_000, { key: 'done' }), 40_000)).claimed, false);

      // Release frees an in-progress claim.
      await repo.claim(claimAt(10_000, { key: 'failed' }), 10_000 - STALE);
      await repo.release('erp', 'failed');
      assert.deepEqual(await repo.claim(claimAt(10_001, { key: 'failed' }), 10_001 - STALE), {
        claimed: true,
      });
    }));

  test(`${name}: of many concurrent claims of one key exactly one wins`, () =>
    withTwoStores(async (a, b) => {
      const race = (key: string, at: number) =>
        Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            (i % 2 ? a : b).idempotency.claim(claimAt(at, { key, fingerprint: `f-${i}` }), at - STALE),
          ),
        );
      const fresh = await race('new', 1_000);
      assert.equal(fresh.filter((c) => c.claimed).length, 1);
      const winner = fresh.findIndex((c) => c.claimed);
      for (const c of fresh) if (!c.claimed) assert.equal(c.existing.fingerprint, `f-${winner}`);

      // The same when they all race to replace an expired record.
      await a.idempotency.complete('erp', 'new', { status: 200, headers: {}, body: '' });
      const replaced = await race('new', 1_000 + DAY);
      assert.equal(replaced.filter((c) => c.claimed).length, 1);
    }));

  test(`${name}: an in-progress claim whose owner is gone is taken over at once; a live owner's is not`, () =>
    withStore(async (store) => {
      const repo = store.idempotency;
      const at = 1_000;
      const staleBefore = at - STALE;
      await alive(store, 'hub-a');
      await alive(store, 'hub-b');
      const a1 = { instance: 'hub-a', boot: 'boot-1' };
      const b1 = { instance: 'hub-b', boot: 'boot-1' };

      // A live instance's claim stands, and says how long the owner's heartbeat still lasts.
      assert.deepEqual(await repo.claim(claimAt(at, { key: 'live', owner: a1 }), staleBefore), {
        claimed: true,
      });
      const busy = await repo.claim(claimAt(at + 1, { key: 'live', owner: b1 }), staleBefore);
      assert.equal(busy.claimed, false);
      assert.deepEqual(!busy.claimed && busy.existing.owner, a1);
      const left = busy.claimed ? null : busy.ownerLeaseMs;
      assert.ok(left !== null && left > 500_000 && left <= 600_000, `owner lease left: ${left}`);
      // The same process asking again (a concurrent duplicate) does not take its own claim either.
      assert.equal(
        (await repo.claim(claimAt(at + 1, { key: 'live', owner: a1 }), staleBefore)).claimed,
        false,
      );

      // No heartbeat: never had one, or gave it up; its claim is dead to everyone.
      await repo.claim(
        claimAt(at, { key: 'dead', owner: { instance: 'hub-never', boot: 'x' } }),
        staleBefore,
      );
      const taken = await repo.claim(claimAt(at + 1, { key: 'dead', owner: b1 }), staleBefore);
      assert.deepEqual(taken, { claimed: true });
      await alive(store, 'hub-gone');
      await repo.claim(claimAt(at, { key: 'gone', owner: { instance: 'hub-gone', boot: 'x' } }), staleBefore);
      assert.equal(
        (await repo.claim(claimAt(at + 1, { key: 'gone', owner: b1 }), staleBefore)).claimed,
        false,
      );
      await store.leases.release(instanceLeaseName('hub-gone'), 'hub-gone');
      assert.deepEqual(await repo.claim(claimAt(at + 2, { key: 'gone' }), staleBefore), { claimed: true });
      const now = await repo.claim(claimAt(at + 3, { key: 'gone', owner: b1 }), staleBefore);
      assert.deepEqual(!now.claimed && now.existing.owner, null, 'an ownerless claim is kept');

      // The same instance in a later boot knows its claims from before the restart for dead, even
      // though its heartbeat (the same lease name) is alive again; other instances do not.
      await repo.claim(claimAt(at, { key: 'restart', owner: a1 }), staleBefore);
      assert.equal(
        (await repo.claim(claimAt(at + 1, { key: 'restart', owner: b1 }), staleBefore)).claimed,
        false,
      );
      const a2 = { instance: 'hub-a', boot: 'boot-2' };
      assert.deepEqual(await repo.claim(claimAt(at + 1, { key: 'restart', owner: a2 }), staleBefore), {
        claimed: true,
      });
      const after = await repo.claim(claimAt(at + 2, { key: 'restart', owner: b1 }), staleBefore);
      assert.deepEqual(!after.claimed && after.existing.owner, a2);

      // A stored answer is kept whoever stored it, until it expires.
      await repo.claim(
        claimAt(at, { key: 'answered', owner: { instance: 'hub-never', boot: 'x' } }),
        staleBefore,
      );
      await repo.complete('erp', 'answered', { status: 201, headers: {}, body: 'ok' });
      const replay = await repo.claim(claimAt(at + 1, { key: 'answered', owner: b1 }), staleBefore);
      assert.equal(!replay.claimed && replay.existing.status, 201);
    }));

  test(`${name}: of many racers for a dead instance's claim exactly one wins`, () =>
    withTwoStores(async (a, b) => {
      await alive(a, 'hub-a');
      await alive(a, 'hub-b');
      const a2 = { instance: 'hub-a', boot: 'boot-2' }; // hub-a restarted: its boot-1 claims are dead to it
      const b1 = { instance: 'hub-b', boot: 'boot-1' };
      const race = (key: string, at: number) =>
        Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            (i % 2 ? a : b).idempotency.claim(
              claimAt(at, { key, fingerprint: `f-${i}`, owner: i % 4 < 2 ? a2 : b1 }),
              at - STALE,
            ),
          ),
        );
      await a.idempotency.claim(
        claimAt(1_000, { key: 'crashed', owner: { instance: 'hub-gone', boot: 'x' } }),
        1_000 - STALE,
      );
      const racers = await race('crashed', 1_001);
      assert.equal(racers.filter((c) => c.claimed).length, 1);
      const winner = racers.findIndex((c) => c.claimed);
      for (const c of racers) if (!c.claimed) assert.equal(c.existing.fingerprint, `f-${winner}`);

      await a.idempotency.claim(
        claimAt(2_000, { key: 'restarted', owner: { instance: 'hub-a', boot: 'boot-1' } }),
        2_000 - STALE,
      );
      const again = await race('restarted', 2_001);
      assert.equal(again.filter((c) => c.claimed).length, 1);
    }));

  test(`${name}: purgeExpired deletes only records that expired before now`, () =>
    withStore(async (store) => {
      const repo = store.idempotency;
      await repo.claim({ ...claimAt(0, { key: 'a' }), expiresAt: 100 }, -STALE);
      await repo.claim({ ...claimAt(0, { key: 'b' }), expiresAt: 200 }, -STALE);
      await repo.claim({ ...claimAt(0, { key: 'c' }), expiresAt: 300 }, -STALE);
      await repo.complete('erp', 'b', { status: 200, headers: {}, body: '' });
      assert.equal(await repo.purgeExpired(200), 1);
      assert.equal(await repo.purgeExpired(200), 0);
      assert.equal(await repo.purgeExpired(301), 2);
      // Gone, so the key is free even for a claim that would not replace an expired record.
      assert.deepEqual(await repo.claim({ ...claimAt(0, { key: 'c' }), expiresAt: 300 }, -STALE), {
        claimed: true,
      });
    }));

  test(`${name}: quality holds block their plant's lots until released`, () =>
    withStore(async (store) => {
      const h1 = hold('H1');
      await store.holds.put(h1);
      await store.holds.put(hold('H2', { plant: 'P2', lots: ['L1'] }));
      await store.holds.put(
        hold('H3', { lots: ['L2', 'L3'], status: 'dispositioned', disposition: 'scrap' }),
      );
      await store.holds.put(hold('H4', { lots: ['L9'], status: 'released' }));
      assert.deepEqual(await store.holds.get('H1'), h1);
      assert.equal(await store.holds.get('H404'), undefined);

      const blocking = async (plant: string, lots: string[]) =>
        (await store.holds.blockingLots(plant, lots)).map((h) => h.holdId).sort();
      assert.deepEqual(await blocking('P1', ['L1']), ['H1']);
      assert.deepEqual(await blocking('P2', ['L1']), ['H2'], 'lots are per plant');
      assert.deepEqual(await blocking('P1', ['L2', 'L2', 'L3']), ['H1', 'H3'], 'each hold once');
      assert.deepEqual(await blocking('P1', ['L9']), [], 'released');
      assert.deepEqual(await blocking('P1', ['L7']), []);
      assert.deepEqual(await blocking('P1', []), []);
      const [found] = await store.holds.blockingLots('P1', ['L3']);
      assert.deepEqual(
        found,
        hold('H3', { lots: ['L2', 'L3'], status: 'dispositioned', disposition: 'scrap' }),
      );

      // put replaces the whole hold, its lots included.
      const moved = hold('H1', { lots: ['L5'], status: 'active', updatedAt: 9_000, reason: 'narrowed' });
      await store.holds.put(moved);
      assert.deepEqual(await store.holds.get('H1'), moved);
      assert.deepEqual(await blocking('P1', ['L1']), []);
      assert.deepEqual(await blocking('P1', ['L5']), ['H1']);
      await store.holds.put({ ...moved, status: 'released', updatedAt: 10_000 });
      assert.deepEqual(await blocking('P1', ['L5']), []);
      assert.equal((await store.holds.get('H1'))?.status, 'released');
    }));

  test(`${name}: quality holds are listed by filter and plants, by id in byte order, in pages`, () =>
    withStore(async (store) => {
      await store.holds.put(hold('QH-b'));
      await store.holds.put(hold('QH-B', { plant: 'P2' }));
      await store.holds.put(hold('QH-a', { status: 'released' }));
      await store.holds.put(hold('QH-c', { status: 'dispositioned', disposition: 'scrap' }));
      await store.holds.put(hold('QH-d', { plant: 'P3' }));
      const ids = async (filter: Parameters<typeof store.holds.list>[0], after = '', limit = 100) =>
        (await store.holds.list(filter, after, limit)).map((h) => h.holdId);
      assert.deepEqual(await ids({}), ['QH-B', 'QH-a', 'QH-b', 'QH-c', 'QH-d'], 'upper case sorts first');
      assert.deepEqual(await ids({ status: 'active' }), ['QH-B', 'QH-b', 'QH-d']);
      assert.deepEqual(await ids({ status: 'active', plant: 'P1' }), ['QH-b']);
      assert.deepEqual(await ids({ plants: ['P2', 'P3'] }), ['QH-B', 'QH-d']);
      assert.deepEqual(await ids({ plants: [] }), [], 'a client bound to no plant sees none');
      assert.deepEqual(await ids({ plant: 'P1', plants: ['P2'] }), [], 'both filters apply');
      assert.deepEqual(await ids({}, '', 2), ['QH-B', 'QH-a']);
      assert.deepEqual(await ids({}, 'QH-a', 2), ['QH-b', 'QH-c'], 'the next page starts after the cursor');
      assert.deepEqual(await ids({}, 'QH-d', 2), []);
      const [listed] = await store.holds.list({ plant: 'P1', status: 'dispositioned' }, '', 1);
      assert.deepEqual(listed, hold('QH-c', { status: 'dispositioned', disposition: 'scrap' }));
    }));

  test(`${name}: a supplier is added once`, () =>
    withStore(async (store) => {
      const acme = {
        supplierId: 'SUP-2',
        name: 'Acme',
        plants: ['P1', 'P2'],
        createdAt: 1_000,
        createdBy: 'alice',
      };
      assert.equal(await store.suppliers.add(acme), true);
      assert.equal(await store.suppliers.add({ ...acme, name: 'Impostor', plants: [] }), false);
      assert.equal(
        await store.suppliers.add({
          supplierId: 'SUP-1',
          name: 'Bolt',
          plants: [],
          createdAt: 2_000,
          createdBy: 'bob',
        }),
        true,
      );
      assert.deepEqual(await store.suppliers.get('SUP-2'), acme);
      assert.equal(await store.suppliers.get('SUP-404'), undefined);
      assert.deepEqual(
        (await store.suppliers.list()).map((s) => s.supplierId),
        ['SUP-1', 'SUP-2'],
      );
    }));

  test(`${name}: source dead letters keep raw bytes exactly, filter and page`, () =>
    withStore(async (store) => {
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      // A view into a larger buffer: only its own bytes are stored.
      const view = new Uint8Array([9, 9, 0xff, 0x00, 0xfe, 9]).subarray(2, 5);
      const entry = (n: number, fields: Partial<Omit<SourceDeadLetter, 'position'>>) => ({
        connector: 'mqtt-line-1',
        messageId: `m-${n}`,
        origin: 'plant/P1/line/1/state',
        plant: 'P1' as string | null,
        error: 'data/state: must be one of RUNNING, IDLE',
        raw: new TextEncoder().encode(`{"n":${n}}`),
        at: n * 1_000,
        ...fields,
      });
      await store.sourceDeadLetters.add(entry(1, { raw: every }));
      await store.sourceDeadLetters.add(entry(2, { connector: 'csv-orders', plant: 'P2', raw: view }));
      await store.sourceDeadLetters.add(entry(3, { plant: null, raw: new Uint8Array(0) }));
      await store.sourceDeadLetters.add(entry(4, { plant: 'P2' }));

      const all = await store.sourceDeadLetters.list({}, 0, 100);
      assert.deepEqual(
        all.map((e) => e.messageId),
        ['m-1', 'm-2', 'm-3', 'm-4'],
      );
      for (let i = 1; i < all.length; i++) assert.ok(all[i]!.position > all[i - 1]!.position);
      assert.deepEqual(all[0], { ...entry(1, { raw: every }), position: all[0]!.position });
      assert.ok(all[0]!.raw instanceof Uint8Array);
      assert.deepEqual([...all[1]!.raw], [0xff, 0x00, 0xfe]);
      assert.equal(all[2]!.raw.length, 0);
      assert.equal(all[2]!.plant, null);

      const messages = async (filter: Parameters<StateStore['sourceDeadLetters']['list']>[0]) =>
        (await store.sourceDeadLetters.list(filter, 0, 100)).map((e) => e.messageId);
      assert.deepEqual(await messages({ connector: 'mqtt-line-1' }), ['m-1', 'm-3', 'm-4']);
      assert.deepEqual(await messages({ plants: ['P2'] }), ['m-2', 'm-4']);
      assert.deepEqual(
        await messages({ plants: ['P1', 'P2'] }),
        ['m-1', 'm-2', 'm-4'],
        'plant-less ones out',
      );
      assert.deepEqual(await messages({ plants: [] }), []);
      assert.deepEqual(await messages({ connector: 'mqtt-line-1', plants: ['P2'] }), ['m-4']);

      const page = await store.sourceDeadLetters.list({}, 0, 2);
      assert.deepEqual(
        page.map((e) => e.messageId),
        ['m-1', 'm-2'],
      );
      assert.deepEqual(
        (await store.sourceDeadLetters.list({}, page[1]!.position, 2)).map((e) => e.messageId),
        ['m-3', 'm-4'],
      );
    }));

  test(`${name}: a lease has one holder at a time until it lapses or is released`, () =>
    withStore(async (store) => {
      const leases = store.leases;
      assert.equal(await leases.acquire('route/erp', 'hub-a', 60_000), true);
      assert.equal(await leases.acquire('route/erp', 'hub-b', 60_000), false, 'held by another');
      assert.equal(await leases.acquire('route/erp', 'hub-a', 120_000), true, 'the holder renews');
      assert.equal(await leases.acquire('route/mes', 'hub-b', 60_000), true);
      assert.equal(await leases.acquire('timer/retention', 'hub-b', 60_000), true);
      // A lease with no time left has lapsed: anyone may take it, and it is not live.
      assert.equal(await leases.acquire('route/wms', 'hub-a', 0), true);

      const live = await leases.live('route/');
      assert.deepEqual(
        live.map((l) => [l.name, l.holder]),
        [
          ['route/erp', 'hub-a'],
          ['route/mes', 'hub-b'],
        ],
      );
      const erp = live[0]!;
      assert.ok(erp.expiresAt > Date.now() + 60_000, 'renewal moved the expiry');
      assert.ok(erp.expiresAt <= Date.now() + 120_000 + 5_000);
      assert.equal((await leases.live('')).length, 3);
      assert.deepEqual(await leases.live('nothing/'), []);
      assert.equal(await leases.acquire('route/wms', 'hub-b', 60_000), true, 'taken over once lapsed');

      await leases.release('route/erp', 'hub-b');
      assert.equal(await leases.acquire('route/erp', 'hub-b', 60_000), false, 'only the holder releases');
      await leases.release('route/erp', 'hub-a');
      assert.equal(await leases.acquire('route/erp', 'hub-b', 60_000), true);
      assert.deepEqual(
        (await leases.live('route/erp')).map((l) => l.holder),
        ['hub-b'],
      );
    }));

  test(`${name}: of many hubs racing for a free lease exactly one gets it`, () =>
    withTwoStores(async (a, b) => {
      const outcomes = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).leases.acquire('route/erp', `hub-${i}`, 60_000)),
      );
      assert.equal(outcomes.filter(Boolean).length, 1);
      const winner = outcomes.indexOf(true);
      assert.deepEqual(
        (await b.leases.live('route/')).map((l) => l.holder),
        [`hub-${winner}`],
      );
    }));

  test(`${name}: a milestone opens once, is met by its end, and round-trips every field`, () =>
    withStore(async (store) => {
      const m = store.milestones;
      const opened = await m.open(milestoneStart(1), 5_000, false);
      assert.deepEqual(
        { ...opened, position: 0 },
        {
          ...milestoneStart(1),
          position: 0,
          status: 'open',
          lateAt: null,
          metAt: null,
          endEvent: null,
          alerted: { late: false, cleared: false, met: false },
        },
      );
      const again = await m.open({ ...milestoneStart(1), dueAt: 99 }, 6_000, false);
      assert.deepEqual(again, opened, 'a second start changes nothing');
      const ref = { name: 'order-posted', correlation: 'PO-1', plant: 'P1' };
      assert.equal(await m.end('ms-1', ref, eventRef(20), 7_000, false), 'met');
      assert.equal(await m.end('ms-1', ref, eventRef(21), 8_000, false), 'ignored', 'the first end counts');
      const met = await m.get('ms-1');
      assert.equal(met?.status, 'met');
      assert.equal(met?.metAt, 7_000);
      assert.deepEqual(met?.endEvent, eventRef(20));
      assert.equal(met?.position, opened.position);
      assert.equal(await m.get('ms-none'), undefined);
    }));

  test(`${name}: milestones past due turn late once; late ones can still be met; alerts are flagged`, () =>
    withStore(async (store) => {
      const m = store.milestones;
      await m.open(milestoneStart(1, { dueAt: 1_000 }), 0, false);
      await m.open(milestoneStart(2, { dueAt: 2_000 }), 0, false);
      await m.open(milestoneStart(3, { dueAt: 9_000 }), 0, false);
      const late = await m.markLate(2_000, 100);
      assert.deepEqual(
        late.map((r) => [r.id, r.status, r.lateAt]),
        [
          ['ms-1', 'late', 2_000],
          ['ms-2', 'late', 2_000],
        ],
      );
      assert.deepEqual(await m.markLate(3_000, 100), [], 'late only once');
      assert.deepEqual(
        (await m.pendingAlerts({ met: false }, 100)).map((r) => r.id),
        ['ms-1', 'ms-2'],
      );
      await m.setAlerted('ms-1', ['late']);
      assert.deepEqual(
        (await m.pendingAlerts({ met: false }, 100)).map((r) => r.id),
        ['ms-2'],
      );
      const ref = { name: 'order-posted', correlation: 'PO-1', plant: 'P1' };
      assert.equal(await m.end('ms-1', ref, eventRef(30), 4_000, true), 'met');
      const cleared = await m.get('ms-1');
      assert.equal(cleared?.status, 'met');
      assert.equal(cleared?.lateAt, 2_000, 'a late milestone keeps when it was late');
      assert.equal(cleared?.metAt, 4_000);
      assert.deepEqual(
        (await m.pendingAlerts({ met: false }, 100)).map((r) => r.id),
        ['ms-1', 'ms-2'],
        'met after late: its alert is to be cleared',
      );
      await m.setAlerted('ms-1', ['cleared']);
      await m.setAlerted('ms-2', ['late']);
      assert.deepEqual(await m.pendingAlerts({ met: false }, 100), []);
      assert.deepEqual(
        (await m.pendingAlerts({ met: true }, 100)).map((r) => r.id),
        ['ms-1'],
      );
      await m.setAlerted('ms-1', ['met']);
      assert.deepEqual((await m.get('ms-1'))?.alerted, { late: true, cleared: true, met: true });
      assert.equal(await m.markLate(10_000, 1).then((r) => r.length), 1, 'limit bounds the batch');
    }));

  test(`${name}: an end seen before its start is kept and meets the milestone when it starts`, () =>
    withStore(async (store) => {
      const m = store.milestones;
      const ref = (n: number) => ({ name: 'order-posted', correlation: `PO-${n}`, plant: 'P1' });
      assert.equal(await m.end('ms-1', ref(1), eventRef(5), 1_000, false), 'early');
      assert.deepEqual(await m.list({}, 0, 10), [], 'an early end is not a milestone yet');
      assert.deepEqual(await m.counts(), []);
      assert.equal(await m.get('ms-1'), undefined);
      const met = await m.open(milestoneStart(1, { startEvent: eventRef(9) }), 2_000, false);
      assert.equal(met.status, 'met');
      assert.equal(met.metAt, 2_000);
      assert.deepEqual(met.endEvent, eventRef(5));

      // A delivery end must follow its start in the log: an older delivery does not count.
      assert.equal(await m.end('ms-2', ref(2), eventRef(4), 1_000, true), 'early');
      assert.equal(await m.end('ms-2', ref(2), eventRef(8), 1_000, true), 'early');
      assert.equal(await m.end('ms-2', ref(2), eventRef(6), 1_000, true), 'early', 'the latest end is kept');
      const met2 = await m.open(milestoneStart(2, { startEvent: eventRef(8) }), 3_000, true);
      assert.equal(met2.status, 'met');
      assert.deepEqual(met2.endEvent, eventRef(8));
      assert.equal(await m.end('ms-3', ref(3), eventRef(4), 1_000, true), 'early');
      const open3 = await m.open(milestoneStart(3, { startEvent: eventRef(9) }), 3_000, true);
      assert.equal(open3.status, 'open');
      assert.equal(open3.endEvent, null);
      assert.equal(await m.end('ms-3', ref(3), eventRef(7), 4_000, true), 'ignored', 'before the start');
      assert.equal(await m.end('ms-3', ref(3), eventRef(10), 4_000, true), 'met');
    }));

  test(`${name}: applyAll applies opens and ends in order, as open and end would one by one`, () =>
    withStore(async (store) => {
      const m = store.milestones;
      const ref = (n: number) => ({ name: 'order-posted', correlation: `PO-${n}`, plant: 'P1' });
      const end = (n: number, seq: number, at: number, follow = false) =>
        ({
          kind: 'end',
          id: `ms-${n}`,
          ref: ref(n),
          endEvent: eventRef(seq),
          at,
          endMustFollowStart: follow,
        }) as const;
      const open = (n: number, now: number) =>
        ({ kind: 'open', start: milestoneStart(n), now, endMustFollowStart: false }) as const;
      assert.deepEqual(await m.applyAll([]), []);
      const results = await m.applyAll([
        end(2, 5, 1_000),
        open(1, 1_000),
        end(1, 20, 2_000),
        end(1, 21, 3_000),
        open(2, 4_000),
        open(3, 4_000),
      ]);
      assert.deepEqual(
        results.map((r) => (typeof r === 'string' ? r : [r.id, r.status])),
        ['early', ['ms-1', 'open'], 'met', 'ignored', ['ms-2', 'met'], ['ms-3', 'open']],
      );
      assert.equal((await m.get('ms-1'))?.metAt, 2_000, 'the first end counts');
      assert.deepEqual((await m.get('ms-2'))?.endEvent, eventRef(5), 'the early end met it when it started');
      assert.equal((await m.get('ms-3'))?.status, 'open');
    }));

  test(`${name}: milestones list by status, name and plants in pages; counts group by name, plant, status`, () =>
    withStore(async (store) => {
      const m = store.milestones;
      for (let n = 1; n <= 7; n++) {
        await m.open(
          milestoneStart(n, {
            name: n % 2 ? 'order-posted' : 'hold-dispositioned',
            plant: n <= 5 ? 'P1' : 'P2',
            dueAt: n <= 2 ? 1 : 10_000,
          }),
          0,
          false,
        );
      }
      await m.open(milestoneStart(8, { plant: null }), 0, false);
      await m.markLate(5, 100);
      await m.end('ms-3', { name: 'order-posted', correlation: 'PO-3', plant: 'P1' }, eventRef(50), 6, false);
      const ids = async (filter: Parameters<typeof m.list>[0]) =>
        (await m.list(filter, 0, 100)).map((r) => r.id);
      assert.deepEqual(await ids({}), ['ms-1', 'ms-2', 'ms-3', 'ms-4', 'ms-5', 'ms-6', 'ms-7', 'ms-8']);
      assert.deepEqual(await ids({ status: 'late' }), ['ms-1', 'ms-2']);
      assert.deepEqual(await ids({ status: 'met' }), ['ms-3']);
      assert.deepEqual(await ids({ name: 'hold-dispositioned' }), ['ms-2', 'ms-4', 'ms-6']);
      assert.deepEqual(await ids({ plant: 'P2' }), ['ms-6', 'ms-7']);
      assert.deepEqual(await ids({ plants: ['P2'] }), ['ms-6', 'ms-7'], 'plant-bound: no plant-less ones');
      assert.deepEqual(await ids({ status: 'open', plants: ['P1', 'P2'] }), ['ms-4', 'ms-5', 'ms-6', 'ms-7']);
      const seen: string[] = [];
      for (let after = 0, pages = 0; pages < 10; pages++) {
        const page = await m.list({}, after, 3);
        if (page.length === 0) break;
        seen.push(...page.map((r) => r.id));
        after = page.at(-1)!.position;
      }
      assert.deepEqual(seen, await ids({}), 'pages neither skip nor repeat');
      assert.deepEqual(await m.counts(['P2']), [
        { name: 'hold-dispositioned', plant: 'P2', status: 'open', count: 1 },
        { name: 'order-posted', plant: 'P2', status: 'open', count: 1 },
      ]);
      assert.deepEqual(await m.counts(), [
        { name: 'hold-dispositioned', plant: 'P1', status: 'late', count: 1 },
        { name: 'hold-dispositioned', plant: 'P1', status: 'open', count: 1 },
        { name: 'hold-dispositioned', plant: 'P2', status: 'open', count: 1 },
        { name: 'order-posted', plant: null, status: 'open', count: 1 },
        { name: 'order-posted', plant: 'P1', status: 'late', count: 1 },
        { name: 'order-posted', plant: 'P1', status: 'met', count: 1 },
        { name: 'order-posted', plant: 'P1', status: 'open', count: 1 },
        { name: 'order-posted', plant: 'P2', status: 'open', count: 1 },
      ]);
    }));

  test(`${name}: purge drops milestones met long ago and unclaimed early ends, nothing else`, () =>
    withStore(async (store) => {
      const m = store.milestones;
      const ref = (n: number) => ({ name: 'order-posted', correlation: `PO-${n}`, plant: 'P1' });
      await m.open(milestoneStart(1), 0, false);
      await m.open(milestoneStart(2), 0, false);
      await m.end('ms-1', ref(1), eventRef(10), 100, false);
      await m.end('ms-2', ref(2), eventRef(11), 900, false);
      await m.open(milestoneStart(3, { dueAt: 1 }), 0, false);
      await m.markLate(50, 10);
      await m.end('ms-4', ref(4), eventRef(12), 100, false);
      assert.equal(await m.purge(500), 2);
      assert.deepEqual(
        (await m.list({}, 0, 10)).map((r) => r.id),
        ['ms-2', 'ms-3'],
      );
    }));

  test(`${name}: ends and late checks racing from two connections leave every milestone consistent`, () =>
    withTwoStores(async (a, b) => {
      const count = 40;
      for (let n = 1; n <= count; n++) await a.milestones.open(milestoneStart(n, { dueAt: 10 }), 0, false);
      await Promise.all([
        ...Array.from({ length: count }, (_, i) =>
          b.milestones.end(
            `ms-${i + 1}`,
            { name: 'order-posted', correlation: `PO-${i + 1}`, plant: 'P1' },
            eventRef(100 + i),
            20,
            true,
          ),
        ),
        a.milestones.markLate(15, count),
        a.milestones.markLate(15, count),
      ]);
      const all = await a.milestones.list({}, 0, 100);
      assert.equal(all.length, count);
      for (const record of all) {
        assert.equal(record.status, 'met', record.id);
        assert.equal(record.metAt, 20);
        assert.ok(record.lateAt === null || record.lateAt === 15);
      }
    }));

  test(`${name}: everything is still there after closing and reopening; positions keep growing`, async () => {
    const store = await harness.open();
    let lastPosition = 0;
    try {
      await store.clients.upsert(client('erp'));
      await store.deadLetters.add(deadLetter(1));
      await store.audit.record({ at: 1, actor: 'a', action: 'x', target: 't', outcome: 'ok' });
      await store.schemas.ensureType({ type: 't.a', domain: 'd', owner: 'o', compatibility: 'backward' });
      await store.schemas.addVersion('t.a', { type: 'object' }, 'approved', 'a', 1);
      await store.idempotency.claim(claimAt(1), 1 - STALE);
      await store.holds.put(hold('H1'));
      await store.suppliers.add({ supplierId: 'S', name: 'S', plants: ['P1'], createdAt: 1, createdBy: 'a' });
      await store.sourceDeadLetters.add({
        connector: 'c',
        messageId: 'm',
        origin: 'o',
        plant: 'P1',
        error: 'e',
        raw: new Uint8Array([1, 2, 3]),
        at: 1,
      });
      await store.leases.acquire('route/erp', 'hub-a', 600_000);
      lastPosition = (await store.deadLetters.get('dl-1'))!.position;
    } finally {
      await store.close();
    }

    const reopened = await harness.reopen();
    try {
      assert.deepEqual(await reopened.clients.get('erp'), client('erp'));
      assert.equal((await reopened.deadLetters.get('dl-1'))?.position, lastPosition);
      assert.equal((await reopened.audit.list({}, 0, 10)).length, 1);
      assert.equal((await reopened.schemas.versions('t.a')).length, 1);
      assert.equal((await reopened.idempotency.claim(claimAt(2), 2 - STALE)).claimed, false);
      assert.deepEqual(await reopened.holds.get('H1'), hold('H1'));
      assert.equal(
        await reopened.suppliers.add({
          supplierId: 'S',
          name: 'S',
          plants: [],
          createdAt: 2,
          createdBy: 'b',
        }),
        false,
      );
      assert.deepEqual([...((await reopened.sourceDeadLetters.list({}, 0, 10))[0]?.raw ?? [])], [1, 2, 3]);
      assert.equal(await reopened.leases.acquire('route/erp', 'hub-b', 60_000), false);
      await reopened.deadLetters.add(deadLetter(2));
      assert.ok((await reopened.deadLetters.get('dl-2'))!.position > lastPosition);
      assert.equal(await reopened.schemas.addVersion('t.a', {}, 'proposed', 'b', 2), 2);
    } finally {
      await reopened.close();
    }
  });
}
