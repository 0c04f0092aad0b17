import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';

function table() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  const count = () => (db.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c;
  return { db, group: new GroupCommit<number>(db, (n) => insert.run(n)), count };
}

test('the writes of one turn are committed in one transaction, and resolve once committed', async () => {
  const { group, count } = table();
  const writes = Array.from({ length: 200 }, (_, n) => group.add(n));
  assert.equal(count(), 0, 'nothing is written before the turn ends');
  await Promise.all(writes);
  assert.equal(count(), 200);
  assert.equal(group.commits, 1, '200 writes, one commit');
  await Promise.all([group.add(500), group.add(501)]);
  assert.equal(group.commits, 2);
});

test('a write that fails is refused alone; the others of its turn are kept', async () => {
  const { group, count } = table();
  await group.add(1);
  const outcomes = await Promise.allSettled([group.add(2), group.add(1), group.add(3)]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /UNIQUE|PRIMARY KEY/);
  assert.equal(count(), 3);
});

test('flush commits what is queued at once (before the store closes)', async () => {
  const { db, group, count } = table();
  const pending = group.add(7);
  group.flush();
  assert.equal(count(), 1);
  db.close();
  await pending;
});
