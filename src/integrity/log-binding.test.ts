import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeEvent } from '../../test/helpers/events.js';
import { SqliteEventLog } from '../log/sqlite/sqlite-event-log.js';
import { SqliteStateStore } from '../store/sqlite/sqlite-state-store.js';
import { bindLogToStore, checkPairing, LogBindingError } from './log-binding.js';

/** A log and a store opened directly, as a version before identities left them. */
async function pair(dir = mkdtempSync(join(tmpdir(), 'conveyor-binding-'))) {
  const places = { log: join(dir, 'events.db'), store: join(dir, 'conveyor.db') };
  const log = await SqliteEventLog.open({ path: places.log });
  const store = SqliteStateStore.open(places.store);
  return {
    dir,
    log,
    store,
    places,
    close: async () => {
      await log.close();
      await store.close();
    },
  };
}

async function deadLetterAt(store: SqliteStateStore, sequence: number): Promise<void> {
  await store.deadLetters.add({
    id: `dl-${sequence}`,
    route: 'mes',
    reason: 'rejected',
    event: { ...makeEvent(), sequence },
    attempts: [],
    at: Date.now(),
    status: 'open',
  });
}

test('a pair from an older version adopts one identity, recorded in both, and keeps it', async () => {
  const p = await pair();
  try {
    await p.log.append([makeEvent(), makeEvent()]);
    await deadLetterAt(p.store, 2);
    assert.equal(await p.log.identity(), null);
    const identity = await bindLogToStore(p.log, p.store, p.places);
    assert.equal(await p.log.identity(), identity);
    assert.equal(await p.store.logBinding.identity(), identity);
  } finally {
    await p.close();
  }
  const again = await pair(p.dir);
  try {
    const identity = await again.log.identity();
    assert.ok(identity);
    assert.equal(await bindLogToStore(again.log, again.store, again.places), identity);
  } finally {
    await again.close();
  }
});

test('an older store whose dead letters point past a new, empty log is refused', async () => {
  const p = await pair();
  try {
    await deadLetterAt(p.store, 40);
    await assert.rejects(bindLogToStore(p.log, p.store, p.places), (error: Error) => {
      assert.ok(error instanceof LogBindingError);
      assert.match(error.message, /refers to event 40 .*past the head 0 /);
      assert.ok(error.message.includes(p.places.log));
      return true;
    });
    assert.equal(await p.log.identity(), null, 'nothing is recorded on a refused start');
    assert.equal(await p.store.logBinding.identity(), null);
  } finally {
    await p.close();
  }
});

test('a brand-new store adopts a bound log; a used store without an identity does not', async () => {
  const bound = await pair();
  const identity = await bindLogToStore(bound.log, bound.store, bound.places);
  await bound.close();
  const fresh = await pair(bound.dir);
  await fresh.store.close();
  const freshStore = SqliteStateStore.open(
    join(mkdtempSync(join(tmpdir(), 'conveyor-store-')), 'conveyor.db'),
  );
  try {
    assert.equal(await bindLogToStore(fresh.log, freshStore, fresh.places), identity);
    assert.equal(await freshStore.logBinding.identity(), identity);
  } finally {
    await freshStore.close();
  }
  const usedStore = SqliteStateStore.open(
    join(mkdtempSync(join(tmpdir(), 'conveyor-store-')), 'conveyor.db'),
  );
  try {
    await deadLetterAt(usedStore, 0);
    const state = await checkPairing(fresh.log, usedStore, fresh.places);
    assert.equal(state.findings.length, 1);
    assert.match(state.findings[0]?.what ?? '', /records no log identity/);
  } finally {
    await usedStore.close();
    await fresh.log.close();
  }
});

test('a consumer past the head is a finding that names it', async () => {
  const p = await pair();
  try {
    await p.log.append([makeEvent()]);
    const consumer = await p.log.consume('route.wms', {});
    await consumer.seek(9);
    consumer.close();
    const state = await checkPairing(p.log, p.store, p.places);
    assert.deepEqual(
      state.findings.map((f) => f.what.replace(p.places.log, 'LOG')),
      [
        "consumer route.wms of the event log LOG is at sequence 9, past the log's head 1: events it had reached are missing from the log",
      ],
    );
  } finally {
    await p.close();
  }
});
