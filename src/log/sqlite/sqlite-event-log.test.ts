import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { makeEvent } from '../../../test/helpers/events.js';
import type { CloudEvent, StoredEvent } from '../../model/envelope.js';
import { LogStorageFullError } from '../log-errors.js';
import type { ReadOptions } from '../port.js';
import { typeMatcher } from '../port.js';
import { listPartitions } from './schema.js';
import { SqliteEventLog } from './sqlite-event-log.js';

const newPath = () => join(mkdtempSync(join(tmpdir(), 'conveyor-sqlite-')), 'events.db');

async function appendAll(log: SqliteEventLog, events: readonly CloudEvent[], batch = 50): Promise<void> {
  for (let i = 0; i < events.length; i += batch) await log.append(events.slice(i, i + batch));
}

/** Index partitions the storage holds, and row counts, seen through a connection of its own. */
function inspect(path: string, countTables: readonly string[] = []) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      dedup: listPartitions(db, 'dedup'),
      subject: listPartitions(db, 'subject'),
      counts: countTables.map((table) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number),
    };
  } finally {
    db.close();
  }
}

/** The events a filtered read must return, computed from a plain read of the whole log. */
function expected(all: readonly StoredEvent[], options: ReadOptions): string[] {
  const matches = typeMatcher(options.types);
  return all
    .filter(
      (e) =>
        e.sequence > (options.after ?? 0) &&
        (options.subject === undefined || e.subject === options.subject) &&
        (options.plant === undefined || e.plant === options.plant) &&
        (options.plants === undefined || (e.plant !== undefined && options.plants.includes(e.plant))) &&
        matches(e.type),
    )
    .slice(0, options.limit ?? 100)
    .map((e) => `${e.sequence}:${e.id}`);
}

const TYPES = ['production.operation.completed', 'quality.hold.placed', 'telemetry.machine.state'] as const;

/** Events over four subjects, three domains and two plants, interleaved. */
function mixedEvents(count: number, offset = 0): CloudEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    const plant = n % 5 < 2 ? 'P2' : 'P1';
    return makeEvent({ id: `m-${n}`, subject: `S${n % 4}`, type: TYPES[n % 3], plant });
  });
}

test('idempotency holds across index partitions, within a batch and after a restart', async () => {
  const path = newPath();
  const events = Array.from({ length: 450 }, (_, n) => makeEvent({ id: `e-${n}` }));
  const fresh = makeEvent({ id: 'fresh' });
  let log = await SqliteEventLog.open({ path, partitionSize: 100 });
  try {
    await appendAll(log, events);
    const outcomes = await log.append([events[5]!, events[250]!, fresh, events[449]!, fresh, events[120]!]);
    assert.deepEqual(outcomes, [
      { sequence: 6, duplicate: true },
      { sequence: 251, duplicate: true },
      { sequence: 451, duplicate: false },
      { sequence: 450, duplicate: true },
      { sequence: 451, duplicate: true },
      { sequence: 121, duplicate: true },
    ]);
  } finally {
    await log.close();
  }

  // The partition size is the log's own: asking for another one when reopening changes nothing.
  log = await SqliteEventLog.open({ path, partitionSize: 1000 });
  try {
    const again = await log.append([events[10]!, events[300]!, fresh]);
    assert.deepEqual(
      again.map((o) => [o.sequence, o.duplicate]),
      [
        [11, true],
        [301, true],
        [451, true],
      ],
    );
    await appendAll(
      log,
      Array.from({ length: 200 }, (_, n) => makeEvent({ id: `late-${n}` })),
    );
    assert.equal((await log.stats()).events, 651);
    assert.deepEqual(inspect(path).dedup, [0, 1, 2, 3, 4, 5, 6]);
  } finally {
    await log.close();
  }
});

test('subject reads across index partitions return what a filtered scan of the whole log returns', async () => {
  const log = await SqliteEventLog.open({ path: newPath(), partitionSize: 50 });
  try {
    await appendAll(log, mixedEvents(400), 37);
    const all = await log.read({ limit: 10_000 });
    assert.equal(all.length, 400);
    const cases: ReadOptions[] = [
      { subject: 'S1' },
      { subject: 'S1', limit: 1000 },
      { subject: 'S1', types: ['quality.*'], limit: 1000 },
      { subject: 'S2', types: ['telemetry.machine.state', 'production.operation.completed'], limit: 1000 },
      { subject: 'S3', plant: 'P2', limit: 1000 },
      { subject: 'S0', plants: ['P1'], types: ['production.*'], limit: 1000 },
      { subject: 'S1', after: 123, limit: 7 },
      { subject: 'S2', after: 399 },
      { subject: 'S2', types: ['unknown.type'] },
      { subject: 'nobody' },
    ];
    for (const options of cases) {
      const got = (await log.read(options)).map((e) => `${e.sequence}:${e.id}`);
      assert.deepEqual(got, expected(all, options), JSON.stringify(options));
    }
    // Paging by subject visits every event once, in order.
    const paged: string[] = [];
    for (let after = 0; ; ) {
      const page = await log.read({ subject: 'S2', after, limit: 9 });
      if (page.length === 0) break;
      paged.push(...page.map((e) => `${e.sequence}:${e.id}`));
      after = page[page.length - 1]!.sequence;
    }
    assert.deepEqual(paged, expected(all, { subject: 'S2', limit: 1000 }));
    // A consumer filtered by subject reads the same way.
    const consumer = await log.consume('by-subject', { subject: 'S3', types: ['quality.*'] }, { startAt: 0 });
    const fetched = await consumer.fetch(1000, 0);
    assert.deepEqual(
      fetched.map((e) => `${e.sequence}:${e.id}`),
      expected(all, { subject: 'S3', types: ['quality.*'], limit: 1000 }),
    );
    consumer.close();
  } finally {
    await log.close();
  }
});

test('reads at the head, served from the recent events, equal what the file holds', async () => {
  const path = newPath();
  const log = await SqliteEventLog.open({ path });
  const cases: ReadOptions[] = [
    {},
    { limit: 1000 },
    { types: ['quality.*'], limit: 1000 },
    { types: ['telemetry.machine.state', 'production.operation.completed'], limit: 17 },
    { plant: 'P2', limit: 1000 },
    { plants: ['P1'], types: ['production.*'], limit: 1000 },
    { after: 123, limit: 7 },
    { after: 399 },
    { types: ['unknown.type'] },
  ];
  let recent: Array<{ events: string[]; first: StoredEvent | undefined }>;
  try {
    await appendAll(log, mixedEvents(400), 37);
    // A duplicate takes no sequence, so what follows it stays contiguous.
    await log.append([mixedEvents(1, 5)[0]!, ...mixedEvents(2, 400)]);
    recent = await Promise.all(
      cases.map(async (options) => {
        const events = await log.read(options);
        return { events: events.map((e) => JSON.stringify({ ...e })), first: events[0] };
      }),
    );
    // One parsed object for every reader, frozen so that none can change it for the others.
    const again = await log.read({});
    assert.equal(again[0], recent[0]!.first);
    assert.ok(Object.isFrozen(again[0]));
  } finally {
    await log.close();
  }
  // The same file opened again holds no recent events: every read goes to SQLite.
  const reopened = await SqliteEventLog.open({ path });
  try {
    assert.equal(reopened.head(), 402);
    for (const [i, options] of cases.entries()) {
      const fromFile = (await reopened.read(options)).map((e) => JSON.stringify({ ...e }));
      assert.deepEqual(recent[i]!.events, fromFile, JSON.stringify(options));
    }
  } finally {
    await reopened.close();
  }
});

test('a parsed event is kept for other readers as far back as readers have read lately', async () => {
  const log = await SqliteEventLog.open({ path: newPath() });
  try {
    // Readers at the head only: each batch read right after its commit.
    const events = mixedEvents(600);
    let first: StoredEvent | undefined;
    for (let i = 0; i < events.length; i += 20) {
      const before = log.head();
      await log.append(events.slice(i, i + 20));
      const read = await log.read({ after: before });
      first ??= read[0];
    }
    const [atHead] = await log.read({ after: 590, limit: 1 });
    assert.equal((await log.read({ after: 590, limit: 1 }))[0], atHead, 'one parse at the head');
    assert.ok(Object.isFrozen(atHead));
    // The first event's parse was let go once it fell behind: a read now parses its text anew.
    const [old] = await log.read({ limit: 1 });
    assert.equal(old?.sequence, 1);
    assert.notEqual(old, first);
    assert.deepEqual(old, first);
    assert.ok(Object.isFrozen(old));
    // A reader that reads that far back makes the parses that deep shared again.
    assert.equal((await log.read({ limit: 1 }))[0], old);
  } finally {
    await log.close();
  }
});

test('retention removes events from reads at the head too', async () => {
  const log = await SqliteEventLog.open({ path: newPath() });
  try {
    await appendAll(log, mixedEvents(100), 10);
    const consumer = await log.consume('after-retention', {}, { startAt: 0 });
    await log.retain(61);
    const fetched = await consumer.fetch(1000, 0);
    assert.deepEqual(
      fetched.map((e) => e.sequence),
      Array.from({ length: 40 }, (_, i) => 61 + i),
    );
    consumer.close();
  } finally {
    await log.close();
  }
});

test('retention drops index partitions that fall wholly below the cutoff and trims the one it cuts', async () => {
  const path = newPath();
  const log = await SqliteEventLog.open({ path, partitionSize: 100 });
  try {
    const events = mixedEvents(1000);
    await appendAll(log, events, 200);
    let deleted = 0;
    for (let n = await log.retain(551); n > 0; n = await log.retain(551)) deleted += n;
    assert.equal(deleted, 550);
    const storage = inspect(path, ['dedup_p5', 'subject_p5']);
    assert.deepEqual(storage.dedup, [5, 6, 7, 8, 9, 10]);
    assert.deepEqual(storage.subject, [5, 6, 7, 8, 9, 10]);
    // Partition 5 holds sequences 500..599; the entries of 551..599 are left.
    assert.deepEqual(storage.counts, [49, 49]);

    const outcomes = await log.append([events[120]!, events[520]!, events[700]!]);
    assert.deepEqual(outcomes, [
      { sequence: 1001, duplicate: false },
      { sequence: 1002, duplicate: false },
      { sequence: 701, duplicate: true },
    ]);
    const all = await log.read({ limit: 10_000 });
    for (const subject of ['S0', 'S1']) {
      const got = (await log.read({ subject, limit: 1000 })).map((e) => `${e.sequence}:${e.id}`);
      assert.deepEqual(got, expected(all, { subject, limit: 1000 }));
    }
  } finally {
    await log.close();
  }
});

test('an event deleted before its partition is dropped is gone from subject reads and its id is free', async () => {
  const path = newPath();
  const log = await SqliteEventLog.open({ path, partitionSize: 1000 });
  try {
    const events = Array.from({ length: 12_000 }, (_, n) =>
      makeEvent({ id: `d-${n}`, subject: `S${n % 2}` }),
    );
    await appendAll(log, events, 3000);
    // One chunk deletes 1..5000: partitions 0-4 are empty and dropped; partition 5 lies wholly
    // below the cutoff but still holds 5001..5999, so the entry of 5000 stays for now.
    assert.equal(await log.retain(8001), 5000);
    assert.deepEqual(inspect(path).dedup.slice(0, 2), [5, 6]);
    const resent = await log.append([events[4999]!, events[5000]!]);
    assert.deepEqual(resent, [
      { sequence: 12_001, duplicate: false },
      { sequence: 5001, duplicate: true },
    ]);
    const bySubject = await log.read({ subject: 'S1', after: 4990, limit: 3 });
    assert.deepEqual(
      bySubject.map((e) => e.sequence),
      [5002, 5004, 5006],
    );
    assert.equal(await log.retain(8001), 3000);
    assert.deepEqual(inspect(path).dedup.slice(0, 2), [8, 9]);
  } finally {
    await log.close();
  }
});

/** Polls `condition` until it holds or `ms` pass. */
async function eventually(condition: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

test('a full log refuses appends with LogStorageFullError, keeps running, and takes appends again once there is room', async () => {
  // A page cap stands in for the disk: SQLite answers SQLITE_FULL exactly as on a full volume.
  const log = await SqliteEventLog.open({ path: newPath(), maxPages: 160, storageProbeMs: 20 });
  const changes: boolean[] = [];
  log.onStorageChange((full) => changes.push(full));
  try {
    let refusal: unknown;
    let stored = 0;
    for (let i = 0; i < 400 && refusal === undefined; i++) {
      try {
        await log.append([makeEvent({ note: 'x'.repeat(4000) })]);
        stored++;
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(refusal instanceof LogStorageFullError, `refused as full: ${String(refusal)}`);
    assert.equal(log.storageFull(), true);
    assert.equal(log.head(), stored, 'the refused append took no sequence');
    await assert.rejects(log.append([makeEvent({ note: 'x'.repeat(4000) })]), LogStorageFullError);
    assert.equal((await log.read({ limit: 1000 })).length, stored, 'what was acknowledged is all there');

    // Retention frees pages; the probe notices without any append.
    assert.ok((await log.retain(stored - 5)) > 0);
    assert.ok(await eventually(() => !log.storageFull()), 'the log has room again by itself');
    const [outcome] = await log.append([makeEvent({ note: 'x'.repeat(4000) })]);
    assert.equal(outcome?.sequence, stored + 1);
    assert.deepEqual(changes, [true, false], 'one change each way');
  } finally {
    await log.close();
  }
});
