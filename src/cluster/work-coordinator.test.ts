import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ManualClock } from '../delivery/clock.js';
import { createLogger } from '../observability/logger.js';
import type { LeaseRepository } from '../store/port.js';
import { MIGRATIONS } from '../store/sqlite/migrations.js';
import { SqliteLeases } from '../store/sqlite/sqlite-leases.js';
import { StateWriter } from '../store/sqlite/state-writer.js';
import { type Work, WorkCoordinator } from './work-coordinator.js';

const logger = createLogger('silent');

/** Leases in one in-memory store, on a clock the test moves; `down` makes every call fail. */
function leaseStore(clock: ManualClock) {
  const db = new Database(':memory:');
  for (const migration of MIGRATIONS) db.exec(migration);
  const leases = new SqliteLeases(db, StateWriter.inline(db), () => clock.now());
  const state = { down: false };
  const guarded: LeaseRepository = {
    acquire: (...args) => (state.down ? Promise.reject(new Error('store down')) : leases.acquire(...args)),
    release: (...args) => (state.down ? Promise.reject(new Error('store down')) : leases.release(...args)),
    live: (...args) => (state.down ? Promise.reject(new Error('store down')) : leases.live(...args)),
  };
  return { leases: guarded, state };
}

/** Work items that record where they run, and fail the test if two instances run one at once. */
function works(count: number) {
  const runningOn = new Map<string, string>();
  const make = (instance: string): Work[] =>
    Array.from({ length: count }, (_, i) => ({
      name: `route:r${i}`,
      async start() {
        const other = runningOn.get(`route:r${i}`);
        assert.equal(other, undefined, `route:r${i} started on ${instance} while running on ${other}`);
        runningOn.set(`route:r${i}`, instance);
      },
      async stop() {
        runningOn.delete(`route:r${i}`);
      },
    }));
  return { runningOn, make };
}

const coordinator = (leases: LeaseRepository, items: Work[], instanceId: string, clock: ManualClock) =>
  new WorkCoordinator(leases, items, { instanceId, clock, logger, ttlMs: 6_000, renewEveryMs: 2_000 });

test('a lone instance runs all the work; a second one gets its fair share handed over, never both at once', async () => {
  const clock = new ManualClock();
  const { leases } = leaseStore(clock);
  const { runningOn, make } = works(4);
  const a = coordinator(leases, make('a'), 'a', clock);
  const b = coordinator(leases, make('b'), 'b', clock);
  await a.round();
  assert.equal(a.owned().length, 4);
  for (let i = 0; i < 4; i++) {
    await clock.advance(2_000);
    await b.round();
    await a.round();
  }
  assert.equal(a.owned().length, 2);
  assert.equal(b.owned().length, 2);
  assert.equal(runningOn.size, 4);
  assert.deepEqual([...a.owned(), ...b.owned()].sort(), ['route:r0', 'route:r1', 'route:r2', 'route:r3']);
  await a.close();
  await b.close();
  assert.equal(runningOn.size, 0);
});

test('when an instance dies, the other takes its work over once the leases lapse, not before', async () => {
  const clock = new ManualClock();
  const { leases } = leaseStore(clock);
  const { runningOn, make } = works(2);
  const a = coordinator(leases, make('a'), 'a', clock);
  const b = coordinator(leases, make('b'), 'b', clock);
  await a.round();
  await b.round();
  assert.equal(a.owned().length, 2);
  // a dies: no more rounds, no release, and its work dies with it. Its leases were renewed at t0.
  runningOn.clear();
  await clock.advance(4_000);
  await b.round();
  assert.equal(b.owned().length, 0, 'a lease that has not lapsed is respected');
  await clock.advance(2_000);
  await b.round();
  assert.equal(b.owned().length, 2, 'taken over within ttl + one renewal period');
  for (const name of b.owned()) assert.equal(runningOn.get(name), 'b');
  await b.close();
});

test('an instance that cannot reach the store stops its work before its leases can lapse', async () => {
  const clock = new ManualClock();
  const { leases, state } = leaseStore(clock);
  const { runningOn, make } = works(2);
  const a = coordinator(leases, make('a'), 'a', clock);
  await a.round();
  assert.equal(runningOn.size, 2);
  state.down = true;
  await clock.advance(2_000);
  await a.round();
  assert.equal(runningOn.size, 2, 'one missed renewal is survivable');
  await clock.advance(2_000);
  await a.round();
  assert.equal(runningOn.size, 0, 'stopped 4 s after the last renewal, 2 s before the lease lapses');
  state.down = false;
  await clock.advance(2_000);
  await a.round();
  assert.equal(runningOn.size, 2, 'resumed once the store answers');
  await a.close();
});

test('a lease is refused to another holder until it lapses, renewed by its own, and released at once', async () => {
  const clock = new ManualClock();
  const db = new Database(':memory:');
  for (const migration of MIGRATIONS) db.exec(migration);
  const leases = new SqliteLeases(db, StateWriter.inline(db), () => clock.now());
  assert.equal(await leases.acquire('route:x', 'a', 1_000), true);
  assert.equal(await leases.acquire('route:x', 'b', 1_000), false);
  await clock.advance(900);
  assert.equal(await leases.acquire('route:x', 'a', 1_000), true, 'renewed');
  await clock.advance(900);
  assert.equal(await leases.acquire('route:x', 'b', 1_000), false, 'the renewal counts from its own time');
  assert.deepEqual(
    (await leases.live('route:')).map((l) => [l.name, l.holder]),
    [['route:x', 'a']],
  );
  await leases.release('route:x', 'b');
  assert.equal((await leases.live('route:')).length, 1, 'only the holder can release');
  await leases.release('route:x', 'a');
  assert.equal(await leases.acquire('route:x', 'b', 1_000), true);
});
