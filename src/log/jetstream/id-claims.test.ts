import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Claim, ClaimBatcher, type IdClaims } from './id-claims.js';

/** An index in memory that records each call and holds it open until released. */
class HeldClaims implements IdClaims {
  readonly kind = 'postgres';
  readonly concurrency = 1;
  readonly calls: Claim[][] = [];
  readonly entries = new Map<string, number>();
  private readonly releases: Array<() => void> = [];

  claim(claims: readonly Claim[]): Promise<number[]> {
    this.calls.push([...claims]);
    return new Promise((resolve) => {
      this.releases.push(() => {
        for (const { key, sequence } of [...claims].sort((a, b) => a.sequence - b.sequence))
          if (!this.entries.has(key)) this.entries.set(key, sequence);
        resolve(claims.map((c) => this.entries.get(c.key) as number));
      });
    });
  }

  release(): void {
    this.releases.shift()?.();
  }

  async sync(): Promise<void> {}
  async close(): Promise<void> {}
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('claims of one turn go as one call; claims made while a call is under way go together in the next', async () => {
  const index = new HeldClaims();
  const batcher = new ClaimBatcher(index, 1_000, index.concurrency);
  const first = [batcher.claim('a', 1, false), batcher.claim('b', 2, false)];
  await until(() => index.calls.length === 1);
  const second = [batcher.claim('c', 3, false), batcher.claim('a', 4, false)];
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(index.calls.length, 1, 'nothing more is sent while the one call allowed is under way');
  const third = batcher.claim('d', 5, false);
  index.release();
  assert.deepEqual(await Promise.all(first), [1, 2]);
  await until(() => index.calls.length === 2);
  assert.deepEqual(
    index.calls[1]?.map((c) => c.key),
    ['c', 'a', 'd'],
  );
  index.release();
  assert.deepEqual(
    await Promise.all([...second, third]),
    [3, 1, 5],
    'a key claimed before keeps its first sequence',
  );
});

test('a batch is cut at its size limit, and claims expecting an entry go apart from those expecting none', async () => {
  const index = new HeldClaims();
  const batcher = new ClaimBatcher(
    { ...index, concurrency: 10, claim: (c) => index.claim(c), sync: async () => {}, close: async () => {} },
    2,
    10,
  );
  const all = [
    batcher.claim('a', 1, false),
    batcher.claim('b', 2, true),
    batcher.claim('c', 3, false),
    batcher.claim('d', 4, false),
  ];
  await until(() => index.calls.length === 3);
  assert.deepEqual(
    index.calls.map((call) => call.map((c) => c.key)),
    [['a', 'c'], ['b'], ['d']],
  );
  for (let i = 0; i < 3; i++) index.release();
  assert.deepEqual(await Promise.all(all), [1, 2, 3, 4]);
});
