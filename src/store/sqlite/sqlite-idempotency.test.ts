import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStateStore } from './sqlite-state-store.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-idem-'));
  dirs.push(dir);
  return join(dir, 'state.db');
}

const DAY = 86_400_000;
const STALE = 300_000;
const claimAt = (at: number, fields: { client?: string; key?: string; fingerprint?: string } = {}) => ({
  client: fields.client ?? 'erp',
  key: fields.key ?? 'k1',
  fingerprint: fields.fingerprint ?? 'f1',
  createdAt: at,
  expiresAt: at + DAY,
});
const answer = {
  status: 201,
  headers: { 'content-type': 'application/json', location: '/x/1' },
  body: '{"n":1}',
};

test('a claim is taken once; the second sees the in-progress record, then the stored answer', async () => {
  const store = SqliteStateStore.open(tempPath());
  const repo = store.idempotency;
  try {
    assert.deepEqual(await repo.claim(claimAt(1000), 1000 - STALE), { claimed: true });
    const second = await repo.claim(claimAt(1001, { fingerprint: 'f2' }), 1001 - STALE);
    assert.equal(second.claimed, false);
    assert.deepEqual(!second.claimed && second.existing, {
      client: 'erp',
      key: 'k1',
      fingerprint: 'f1',
      state: 'in-progress',
      status: null,
      headers: null,
      body: null,
      createdAt: 1000,
      expiresAt: 1000 + DAY,
      owner: null,
    });
    await repo.complete('erp', 'k1', answer);
    const third = await repo.claim(claimAt(2000), 2000 - STALE);
    assert.equal(third.claimed, false);
    if (!third.claimed) {
      assert.equal(third.existing.state, 'done');
      assert.equal(third.existing.status, 201);
      assert.deepEqual(third.existing.headers, answer.headers);
      assert.equal(third.existing.body, '{"n":1}');
    }
  } finally {
    await store.close();
  }
});

test('keys are namespaced per client', async () => {
  const store = SqliteStateStore.open(tempPath());
  try {
    assert.equal((await store.idempotency.claim(claimAt(0, { client: 'a' }), -STALE)).claimed, true);
    assert.equal((await store.idempotency.claim(claimAt(0, { client: 'b' }), -STALE)).claimed, true);
    assert.equal((await store.idempotency.claim(claimAt(0, { client: 'a' }), -STALE)).claimed, false);
  } finally {
    await store.close();
  }
});

test('release frees an in-progress claim but never a stored answer', async () => {
  const store = SqliteStateStore.open(tempPath());
  const repo = store.idempotency;
  try {
    await repo.claim(claimAt(0), -STALE);
    await repo.release('erp', 'k1');
    assert.equal((await repo.claim(claimAt(1), 1 - STALE)).claimed, true, 'released key is free');
    await repo.complete('erp', 'k1', answer);
    await repo.release('erp', 'k1');
    const later = await repo.claim(claimAt(2), 2 - STALE);
    assert.equal(!later.claimed && later.existing.state, 'done');
  } finally {
    await store.close();
  }
});

test('a stored answer is not overwritten by a second completion', async () => {
  const store = SqliteStateStore.open(tempPath());
  const repo = store.idempotency;
  try {
    await repo.claim(claimAt(0), -STALE);
    await repo.complete('erp', 'k1', answer);
    await repo.complete('erp', 'k1', { status: 200, headers: {}, body: 'other' });
    const seen = await repo.claim(claimAt(1), 1 - STALE);
    assert.equal(!seen.claimed && seen.existing.body, '{"n":1}');
  } finally {
    await store.close();
  }
});

test('expired records and stale in-progress claims are taken over; fresh claims and old answers are not', async () => {
  const store = SqliteStateStore.open(tempPath());
  const repo = store.idempotency;
  try {
    // An answer stays live until its expiry, however old.
    await repo.claim(claimAt(0, { key: 'done' }), -STALE);
    await repo.complete('erp', 'done', answer);
    assert.equal((await repo.claim(claimAt(DAY - 1, { key: 'done' }), DAY - 1 - STALE)).claimed, false);
    assert.equal((await repo.claim(claimAt(DAY, { key: 'done' }), DAY - STALE)).claimed, true);

    // An in-progress claim is live while younger than the stale limit.
    await repo.claim(claimAt(0, { key: 'run' }), -STALE);
    assert.equal((await repo.claim(claimAt(STALE, { key: 'run' }), 0)).claimed, false);
    const taken = await repo.claim(claimAt(STALE + 1, { key: 'run', fingerprint: 'f9' }), 1);
    assert.equal(taken.claimed, true);
    const now = await repo.claim(claimAt(STALE + 2, { key: 'run' }), 2);
    assert.equal(!now.claimed && now.existing.fingerprint, 'f9', 'the new claim replaced the dead one');
  } finally {
    await store.close();
  }
});

test('records survive reopening the store', async () => {
  const path = tempPath();
  const first = SqliteStateStore.open(path);
  await first.idempotency.claim(claimAt(0), -STALE);
  await first.idempotency.complete('erp', 'k1', answer);
  await first.idempotency.claim(claimAt(0, { key: 'k2' }), -STALE);
  await first.close();

  const second = SqliteStateStore.open(path);
  try {
    const done = await second.idempotency.claim(claimAt(10), 10 - STALE);
    assert.equal(done.claimed, false);
    if (!done.claimed) {
      assert.equal(done.existing.state, 'done');
      assert.equal(done.existing.body, answer.body);
      assert.deepEqual(done.existing.headers, answer.headers);
    }
    const running = await second.idempotency.claim(claimAt(10, { key: 'k2' }), 10 - STALE);
    assert.equal(!running.claimed && running.existing.state, 'in-progress');
  } finally {
    await second.close();
  }
});

test('purgeExpired deletes only the records that expired', async () => {
  const store = SqliteStateStore.open(tempPath());
  const repo = store.idempotency;
  try {
    await repo.claim({ ...claimAt(0, { key: 'old' }), expiresAt: 100 }, -STALE);
    await repo.complete('erp', 'old', answer);
    await repo.claim({ ...claimAt(0, { key: 'old-running' }), expiresAt: 150 }, -STALE);
    await repo.claim({ ...claimAt(0, { key: 'live' }), expiresAt: 500 }, -STALE);
    await repo.complete('erp', 'live', answer);

    assert.equal(await repo.purgeExpired(200), 2);
    assert.equal(await repo.purgeExpired(200), 0, 'nothing left to purge');
    const live = await repo.claim(claimAt(200, { key: 'live' }), 200 - STALE);
    assert.equal(!live.claimed && live.existing.state, 'done', 'the live record is kept');
  } finally {
    await store.close();
  }
});
