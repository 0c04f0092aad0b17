import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { IndexPartitions } from './index-partitions.js';
import { dedupKey, listPartitions } from './schema.js';

const key = (n: number) => dedupKey('/plants/P1/mes', `id-${n}`);

function openDb(): Database.Database {
  return new Database(join(mkdtempSync(join(tmpdir(), 'conveyor-idx-')), 'events.db'));
}

/** Claims keys 1..count for sequences 1..count, as appends do. */
function fill(index: IndexPartitions, count: number): void {
  for (let seq = 1; seq <= count; seq++) {
    index.roll(seq);
    assert.equal(index.claim(key(seq), seq), undefined);
  }
}

test('a key is found in whichever partition holds it, after a restart too', () => {
  const db = openDb();
  const index = new IndexPartitions(db, 10);
  index.load(1);
  fill(index, 25);
  assert.deepEqual(listPartitions(db, 'dedup'), [0, 1, 2]);
  assert.deepEqual(listPartitions(db, 'subject'), [0, 1, 2]);
  assert.deepEqual(index.claim(key(24), 26), { holder: 24, inHot: true });
  assert.deepEqual(index.claim(key(3), 26), { holder: 3, inHot: false });
  // The key belongs to the older event: the entry just made in the hot partition goes.
  index.release(key(3), 26);
  assert.equal(db.prepare('SELECT count(*) FROM dedup_p2').pluck().get(), 6);

  const restarted = new IndexPartitions(db, 10);
  restarted.load(26);
  assert.deepEqual(restarted.claim(key(7), 26), { holder: 7, inHot: false });
  assert.deepEqual(restarted.claim(key(15), 26), { holder: 15, inHot: false });
  db.close();
});

test('an older partition is read only when its filter may hold the key', () => {
  const db = openDb();
  const index = new IndexPartitions(db, 10);
  index.load(1);
  fill(index, 12);
  // Take partition 0's table away behind the index's back: any read of it now throws.
  db.exec('DROP TABLE dedup_p0');
  for (let n = 1000; n < 3000; n++) assert.equal(index.claim(key(n), 13), undefined);
  assert.throws(() => index.claim(key(4), 13), /no such table/);
  db.close();
});

test('after a rolled-back rollover the index follows the database again', () => {
  const db = openDb();
  const index = new IndexPartitions(db, 10);
  index.load(1);
  fill(index, 9);
  const failing = db.transaction(() => {
    for (let seq = 10; seq <= 12; seq++) {
      index.roll(seq);
      index.claim(key(seq), seq);
    }
    throw new Error('disk full');
  });
  assert.throws(() => failing(), /disk full/);
  assert.deepEqual(listPartitions(db, 'dedup'), [0]);
  index.reconcile(10);
  // Partition 1 is written afresh; the rolled-back keys are new, the committed ones are not.
  index.roll(10);
  assert.equal(index.claim(key(11), 10), undefined);
  assert.deepEqual(index.claim(key(5), 11), { holder: 5, inHot: false });
  assert.deepEqual(listPartitions(db, 'dedup'), [0, 1]);
  db.close();
});

test('retention removes the entries of deleted events and drops partitions left empty', () => {
  const db = openDb();
  const index = new IndexPartitions(db, 10);
  index.load(1);
  for (let seq = 1; seq <= 35; seq++) {
    index.roll(seq);
    index.claim(key(seq), seq);
    index.addSubject(`S${seq % 3}`, seq, 1);
  }
  // Events 1..24 go: partitions 0 and 1 wholly, partition 2 in part.
  const rows = Array.from({ length: 24 }, (_, i) => ({
    seq: i + 1,
    source: '/plants/P1/mes',
    id: `id-${i + 1}`,
    subject: `S${(i + 1) % 3}`,
  }));
  index.forget(rows, 25);
  assert.equal(db.prepare('SELECT count(*) FROM dedup_p2').pluck().get(), 5);
  assert.equal(db.prepare('SELECT min(seq) FROM subject_p2').pluck().get(), 25);
  assert.equal(index.dropEmpty(25), 2);
  assert.deepEqual(listPartitions(db, 'dedup'), [2, 3]);
  assert.deepEqual(listPartitions(db, 'subject'), [2, 3]);
  assert.equal(index.claim(key(4), 36), undefined, 'a key of a dropped partition is free again');
  assert.equal(index.claim(key(22), 37), undefined, 'a key deleted from a kept partition is free again');
  assert.deepEqual(index.claim(key(26), 38), { holder: 26, inHot: false });
  // The hot partition is never dropped, even when every event before it is gone.
  assert.equal(index.dropEmpty(1000), 1);
  assert.deepEqual(listPartitions(db, 'dedup'), [3]);
  db.close();
});
