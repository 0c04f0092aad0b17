import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { StoredEvent } from '../../model/envelope.js';
import { SqliteStateStore } from './sqlite-state-store.js';

function openStore() {
  const path = join(mkdtempSync(join(tmpdir(), 'conveyor-writer-')), 'state.db');
  const store = SqliteStateStore.open(path);
  // A second connection sees only what is committed to the file.
  const observer = new Database(path, { readonly: true });
  const count = (table: string) =>
    (observer.prepare(`SELECT count(*) AS c FROM ${table}`).get() as { c: number }).c;
  return { store, observer, count };
}

const entry = (n: number) => ({ at: n, actor: 'ops', action: 'test', target: `t${n}`, outcome: 'ok' });

function deadLetter(id: string) {
  const event = {
    specversion: '1.0',
    id,
    source: '/test',
    type: 'quality.inspection.completed',
    sequence: 1,
  } as unknown as StoredEvent;
  return { id, route: 'r', reason: 'refused', event, attempts: [], at: 1, status: 'open' as const };
}

test('the writes of one turn are one commit on the writer thread, each resolved once it is in the file', async (t) => {
  const { store, observer, count } = openStore();
  t.after(async () => {
    observer.close();
    await store.close();
  });
  const writes = Array.from({ length: 200 }, (_, n) => store.audit.record(entry(n)));
  assert.equal(count('audit'), 0, 'nothing is written before the turn ends');
  await Promise.all(writes);
  assert.equal(count('audit'), 200, 'resolved means committed: another connection sees every row');
  assert.equal(store.writer.commits, 1, '200 writes, one commit');
  await Promise.all([store.audit.record(entry(500)), store.audit.record(entry(501))]);
  assert.equal(store.writer.commits, 2);
});

test('writes queued while a commit is under way go together into the next one', async (t) => {
  const { store, observer, count } = openStore();
  t.after(async () => {
    observer.close();
    await store.close();
  });
  const first = store.audit.record(entry(1));
  await new Promise((resolve) => setImmediate(resolve)); // the first commit is now on the writer
  const later = Array.from({ length: 50 }, (_, n) => store.audit.record(entry(10 + n)));
  await first;
  await Promise.all(later);
  assert.equal(count('audit'), 51);
  assert.ok(store.writer.commits <= 3, `51 writes took ${store.writer.commits} commits`);
});

test('a write that fails is refused alone, with SQLite’s reason; the others of its batch are kept', async (t) => {
  const { store, observer, count } = openStore();
  t.after(async () => {
    observer.close();
    await store.close();
  });
  await store.deadLetters.add(deadLetter('dl-1'));
  const outcomes = await Promise.allSettled([
    store.deadLetters.add(deadLetter('dl-2')),
    store.deadLetters.add(deadLetter('dl-1')),
    store.audit.record(entry(3)),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /UNIQUE/);
  assert.equal(count('dead_letters'), 2);
  assert.equal(count('audit'), 1);
});

test('milestone changes are applied on the writer thread and their records come back', async (t) => {
  const { store, observer } = openStore();
  t.after(async () => {
    observer.close();
    await store.close();
  });
  const ref = { id: 'e1', type: 'production.order.released', sequence: 7, time: '2026-03-01T08:00:00Z' };
  const [opened, ended] = await store.milestones.applyAll([
    {
      kind: 'open',
      start: {
        id: 'm1',
        name: 'released-to-started',
        correlation: 'PO-1',
        plant: 'P1',
        startEvent: ref,
        startedAt: 1000,
        dueAt: 2000,
      },
      now: 1000,
      endMustFollowStart: false,
    },
    {
      kind: 'end',
      id: 'm1',
      ref: { name: 'released-to-started', correlation: 'PO-1', plant: 'P1' },
      endEvent: { ...ref, id: 'e2', sequence: 8 },
      at: 1500,
      endMustFollowStart: false,
    },
  ]);
  assert.equal((opened as { status: string }).status, 'open');
  assert.equal(ended, 'met');
  assert.equal(
    (await store.milestones.get('m1'))?.status,
    'met',
    'the main connection reads what the writer wrote',
  );
});

test('close commits what is queued; a write after it is refused', async () => {
  const { store, observer, count } = openStore();
  const pending = store.audit.record(entry(7));
  await store.close();
  await pending;
  assert.equal(count('audit'), 1);
  observer.close();
  await assert.rejects(store.audit.record(entry(8)), /closed/);
});
