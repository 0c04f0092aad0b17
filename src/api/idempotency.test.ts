import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ProblemError } from '../errors/problem.js';
import {
  type IdempotencyClaim,
  type IdempotencyOwner,
  type IdempotencyRepository,
  instanceLeaseName,
} from '../store/port.js';
import { SqliteStateStore } from '../store/sqlite/sqlite-state-store.js';
import {
  type IdempotencyOptions,
  idempotencyPlugin,
  inProgressRetryAfter,
  requestFingerprint,
} from './idempotency.js';
import { installProblemHandlers } from './problem-handler.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type Method = keyof IdempotencyRepository;

/** The real SQLite repository, with a log of calls and promises for "this call has finished". */
class SpyRepository implements IdempotencyRepository {
  readonly calls: Method[] = [];
  readonly purges: Array<{ now: number; removed: number }> = [];
  private waiters: Array<{ method: Method; done: Deferred<void> }> = [];

  constructor(private readonly inner: IdempotencyRepository) {}

  /** Resolves once the next call of `method` has finished. */
  next(method: Method): Promise<void> {
    const done = deferred();
    this.waiters.push({ method, done });
    return done.promise;
  }

  private finished(method: Method): void {
    const ready = this.waiters.filter((w) => w.method === method);
    this.waiters = this.waiters.filter((w) => w.method !== method);
    for (const w of ready) w.done.resolve();
  }

  async claim(...args: Parameters<IdempotencyRepository['claim']>): Promise<IdempotencyClaim> {
    this.calls.push('claim');
    const result = await this.inner.claim(...args);
    this.finished('claim');
    return result;
  }

  async complete(...args: Parameters<IdempotencyRepository['complete']>): Promise<void> {
    this.calls.push('complete');
    await this.inner.complete(...args);
    this.finished('complete');
  }

  async release(client: string, key: string): Promise<void> {
    this.calls.push('release');
    await this.inner.release(client, key);
    this.finished('release');
  }

  async purgeExpired(now: number): Promise<number> {
    this.calls.push('purgeExpired');
    const removed = await this.inner.purgeExpired(now);
    this.purges.push({ now, removed });
    this.finished('purgeExpired');
    return removed;
  }
}

/** One run of the controllable handler: the test learns when it started and decides how it ends. */
interface SlowRun {
  entered: Deferred<void>;
  disconnected: Deferred<void>;
  finish: Deferred<'ok' | 'fail'>;
}

interface Harness {
  app: FastifyInstance;
  store: SqliteStateStore;
  repo: SpyRepository;
  clock: { now: number };
  counts: { orders: number; typed: number; boom: number; slow: number; deletes: number };
  /** Prepares the next /slow request. */
  armSlow(): SlowRun;
  close(): Promise<void>;
}

const START = Date.UTC(2026, 2, 1);
const HOUR = 3_600_000;

async function harness(options: Partial<IdempotencyOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-idem-api-'));
  dirs.push(dir);
  const store = SqliteStateStore.open(join(dir, 'state.db'));
  const repo = new SpyRepository(store.idempotency);
  const clock = { now: START };
  const counts = { orders: 0, typed: 0, boom: 0, slow: 0, deletes: 0 };
  let armed: SlowRun | null = null;

  const app = Fastify();
  installProblemHandlers(app);
  app.decorateRequest('principal', null);
  // Stands in for the auth plugin: the client name comes from a test header.
  app.addHook('onRequest', async (request) => {
    const client = request.headers['x-client'];
    if (typeof client === 'string') {
      request.principal = {
        client,
        scopes: new Set(),
        plants: null,
        rateLimit: null,
        supplierId: null,
        via: 'api-key',
      };
    }
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(new ProblemError('malformed-json', (error as Error).message), undefined);
    }
  });
  await app.register(idempotencyPlugin, { repository: repo, now: () => clock.now, ...options });

  app.post('/orders', async (request, reply) => {
    const body = request.body as { qty?: number } | undefined;
    if ((body?.qty ?? 0) < 0) throw new ProblemError('validation-failed', 'qty must not be negative');
    const n = ++counts.orders;
    reply.code(201).header('location', `/orders/${n}`).header('x-order-number', String(n));
    return { order: n, received: body ?? null };
  });
  app.post(
    '/typed',
    { schema: { body: { type: 'object', required: ['qty'], properties: { qty: { type: 'integer' } } } } },
    async (_request, reply) => {
      reply.code(201);
      return { typed: ++counts.typed };
    },
  );
  app.post('/boom', async () => {
    counts.boom++;
    throw new Error('boom');
  });
  app.post('/slow', async (request, reply) => {
    const run = armed;
    armed = null;
    if (!run) throw new Error('the test did not arm /slow');
    counts.slow++;
    request.raw.socket.once('close', () => run.disconnected.resolve());
    run.entered.resolve();
    if ((await run.finish.promise) === 'fail') throw new Error('slow failed');
    reply.code(201);
    return { slow: counts.slow };
  });
  app.delete('/orders/:id', async (_request, reply) => {
    counts.deletes++;
    return reply.code(204).send();
  });
  app.get('/orders', async () => counts);
  await app.ready();

  return {
    app,
    store,
    repo,
    clock,
    counts,
    armSlow() {
      armed = { entered: deferred(), disconnected: deferred(), finish: deferred() };
      return armed;
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

function send(
  h: Harness,
  url: string,
  opts: { key?: string; client?: string | null; body?: unknown; method?: 'POST' | 'DELETE' | 'GET' } = {},
) {
  const headers: Record<string, string> = {};
  if (opts.client !== null) headers['x-client'] = opts.client ?? 'erp';
  if (opts.key !== undefined) headers['idempotency-key'] = opts.key;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return h.app.inject({
    method: opts.method ?? 'POST',
    url,
    headers,
    ...(opts.body !== undefined ? { payload: JSON.stringify(opts.body) } : {}),
  });
}

test('requestFingerprint covers method, path and query, content type and body', () => {
  const base = { method: 'POST', url: '/orders?x=1', contentType: 'application/json', body: { a: 1 } };
  const fp = requestFingerprint(base);
  assert.match(fp, /^[0-9a-f]{64}$/);
  assert.equal(requestFingerprint({ ...base }), fp, 'deterministic');
  assert.equal(requestFingerprint({ ...base, method: 'post' }), fp, 'method case does not matter');
  for (const change of [
    { method: 'PUT' },
    { url: '/orders?x=2' },
    { url: '/orders' },
    { contentType: 'text/plain' },
    { contentType: undefined },
    { body: { a: 2 } },
    { body: undefined },
  ]) {
    assert.notEqual(requestFingerprint({ ...base, ...change }), fp, JSON.stringify(change));
  }
  // A Buffer is hashed as its bytes: the same text as a raw body gives the parsed body's hash.
  assert.equal(requestFingerprint({ ...base, body: Buffer.from('{"a":1}') }), fp);
  assert.equal(
    requestFingerprint({ ...base, body: Buffer.alloc(0) }),
    requestFingerprint({ ...base, body: undefined }),
    'an empty body is no body',
  );
});

test('the same key and body replays the first answer without running the handler again', async () => {
  const h = await harness();
  try {
    const first = await send(h, '/orders', { key: 'order-1', body: { qty: 5 } });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const again = await send(h, '/orders', { key: 'order-1', body: { qty: 5 } });
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    assert.deepEqual(again.json(), { order: 1, received: { qty: 5 } });
    assert.equal(again.headers['content-type'], first.headers['content-type']);
    assert.equal(again.headers.location, '/orders/1');
    assert.equal(again.headers['x-order-number'], '1');
    assert.equal(h.counts.orders, 1, 'the handler ran once');
  } finally {
    await h.close();
  }
});

test('an empty 204 answer is replayed as well (DELETE)', async () => {
  const h = await harness();
  try {
    const first = await send(h, '/orders/7', { key: 'del-7', method: 'DELETE' });
    assert.equal(first.statusCode, 204);
    const again = await send(h, '/orders/7', { key: 'del-7', method: 'DELETE' });
    assert.equal(again.statusCode, 204);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, '');
    assert.equal(h.counts.deletes, 1);
  } finally {
    await h.close();
  }
});

test('the same key with another body or path is refused with idempotency-key-reused', async () => {
  const h = await harness();
  try {
    assert.equal((await send(h, '/orders', { key: 'k', body: { qty: 1 } })).statusCode, 201);
    for (const res of [
      await send(h, '/orders', { key: 'k', body: { qty: 2 } }),
      await send(h, '/orders?dry=1', { key: 'k', body: { qty: 1 } }),
      await send(h, '/typed', { key: 'k', body: { qty: 1 } }),
    ]) {
      assert.equal(res.statusCode, 409, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const problem = res.json();
      assert.equal(problem.code, 'idempotency-key-reused');
      assert.match(problem.detail, /different request/);
      assert.match(problem.detail, /24 h/);
      assert.match(problem.detail, /new key/);
    }
    assert.equal(h.counts.orders, 1);
    assert.equal(h.counts.typed, 0);
  } finally {
    await h.close();
  }
});

test('of two concurrent requests with one key exactly one runs; the other gets request-in-progress', async () => {
  const h = await harness();
  try {
    const run = h.armSlow();
    const firstPending = send(h, '/slow', { key: 'slow-1', body: { n: 1 } });
    await run.entered.promise; // the first holds the claim and is inside its handler

    const second = await send(h, '/slow', { key: 'slow-1', body: { n: 1 } });
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().code, 'request-in-progress');
    // Claims without an owner are freed only by growing stale (5 min): that is the real wait.
    assert.equal(second.headers['retry-after'], '300');
    const other = await send(h, '/slow', { key: 'slow-1', body: { n: 2 } });
    assert.equal(other.json().code, 'idempotency-key-reused', 'another request is refused outright');

    run.finish.resolve('ok');
    const first = await firstPending;
    assert.equal(first.statusCode, 201);
    const retry = await send(h, '/slow', { key: 'slow-1', body: { n: 1 } });
    assert.equal(retry.statusCode, 201);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body, first.body);
    assert.equal(h.counts.slow, 1, 'exactly one execution');
  } finally {
    await h.close();
  }
});

test('a failed request is not stored: the same key runs once the request is fixed', async () => {
  const h = await harness();
  try {
    const bad = await send(h, '/orders', { key: 'fix-me', body: { qty: -1 } });
    assert.equal(bad.statusCode, 422);
    const again = await send(h, '/orders', { key: 'fix-me', body: { qty: -1 } });
    assert.equal(again.statusCode, 422);
    assert.equal(again.headers['idempotent-replayed'], undefined, 'failures are not replayed');
    const fixed = await send(h, '/orders', { key: 'fix-me', body: { qty: 1 } });
    assert.equal(fixed.statusCode, 201, fixed.body);
    assert.equal(h.counts.orders, 1);

    // Schema validation rejects before the claim is even taken.
    const calls = h.repo.calls.length;
    const invalid = await send(h, '/typed', { key: 'typed-1', body: { qty: 'many' } });
    assert.equal(invalid.statusCode, 400);
    assert.equal(h.repo.calls.length, calls, 'schema failures never reach the repository');
    assert.equal((await send(h, '/typed', { key: 'typed-1', body: { qty: 3 } })).statusCode, 201);
    assert.equal(h.counts.typed, 1);
  } finally {
    await h.close();
  }
});

test('a handler that throws releases its claim', async () => {
  const h = await harness();
  try {
    const first = await send(h, '/boom', { key: 'boom-1', body: {} });
    assert.equal(first.statusCode, 500);
    const second = await send(h, '/boom', { key: 'boom-1', body: {} });
    assert.equal(second.statusCode, 500, 'not a 409: the claim was released');
    assert.equal(h.counts.boom, 2);
    assert.deepEqual(h.repo.calls, ['claim', 'release', 'claim', 'release']);
  } finally {
    await h.close();
  }
});

test('a client that disconnects: its claim settles when the handler ends', async (t) => {
  const h = await harness();
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as { port: number };
  /** Sends /slow over a real socket, waits until its handler runs, then hangs up. */
  const postAndHangUp = async (key: string): Promise<SlowRun> => {
    const run = h.armSlow();
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/slow',
      agent: false,
      headers: { 'x-client': 'erp', 'idempotency-key': key, 'content-type': 'application/json' },
    });
    req.on('error', () => undefined); // the test hangs up on purpose
    req.end('{"n":1}');
    await run.entered.promise;
    req.destroy();
    await run.disconnected.promise; // the server has seen the socket close
    return run;
  };
  try {
    await t.test('failing after the disconnect frees the key', async () => {
      const run = await postAndHangUp('gone-1');
      const released = h.repo.next('release');
      run.finish.resolve('fail');
      await released;
      h.armSlow().finish.resolve('ok');
      const res = await send(h, '/slow', { key: 'gone-1', body: { n: 1 } });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.headers['idempotent-replayed'], undefined, 'it ran again');
      assert.equal(h.counts.slow, 2);
    });
    await t.test('succeeding after the disconnect stores the answer for the retry', async () => {
      const run = await postAndHangUp('gone-2');
      // The orphaned handler still runs: freeing the key now would let a retry run it twice.
      const early = await send(h, '/slow', { key: 'gone-2', body: { n: 1 } });
      assert.equal(early.json().code, 'request-in-progress');
      const completed = h.repo.next('complete');
      run.finish.resolve('ok');
      await completed;
      const retry = await send(h, '/slow', { key: 'gone-2', body: { n: 1 } });
      assert.equal(retry.statusCode, 201);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.deepEqual(retry.json(), { slow: 3 });
      assert.equal(h.counts.slow, 3);
    });
  } finally {
    await h.close();
  }
});

test('after the 24 h window (injected clock) the key runs again', async () => {
  const h = await harness();
  try {
    assert.equal((await send(h, '/orders', { key: 'daily', body: { qty: 1 } })).statusCode, 201);
    h.clock.now = START + 24 * HOUR - 1;
    const replayed = await send(h, '/orders', { key: 'daily', body: { qty: 1 } });
    assert.equal(replayed.headers['idempotent-replayed'], 'true');
    h.clock.now = START + 24 * HOUR;
    const fresh = await send(h, '/orders', { key: 'daily', body: { qty: 1 } });
    assert.equal(fresh.statusCode, 201);
    assert.equal(fresh.headers['idempotent-replayed'], undefined);
    assert.equal(fresh.json().order, 2);
    assert.equal(h.counts.orders, 2);
  } finally {
    await h.close();
  }
});

test('the same key from two clients is two requests', async () => {
  const h = await harness();
  try {
    const a = await send(h, '/orders', { key: 'shared', client: 'erp', body: { qty: 1 } });
    const b = await send(h, '/orders', { key: 'shared', client: 'wms', body: { qty: 1 } });
    assert.equal(a.json().order, 1);
    assert.equal(b.json().order, 2);
    assert.equal(b.headers['idempotent-replayed'], undefined);
    const againA = await send(h, '/orders', { key: 'shared', client: 'erp', body: { qty: 1 } });
    const againB = await send(h, '/orders', { key: 'shared', client: 'wms', body: { qty: 1 } });
    assert.equal(againA.json().order, 1);
    assert.equal(againB.json().order, 2);
    assert.equal(h.counts.orders, 2);
  } finally {
    await h.close();
  }
});

test('a stale in-progress claim (its process crashed) is taken over; a fresh one is not', async () => {
  const h = await harness();
  const fingerprint = requestFingerprint({
    method: 'POST',
    url: '/orders',
    contentType: 'application/json',
    body: { qty: 1 },
  });
  const crash = async (key: string, ageMs: number) => {
    const createdAt = h.clock.now - ageMs;
    const claim = { client: 'erp', key, fingerprint, createdAt, expiresAt: createdAt + 24 * HOUR };
    assert.equal((await h.store.idempotency.claim(claim, createdAt - 1)).claimed, true);
  };
  try {
    await crash('crashed', 6 * 60_000);
    const taken = await send(h, '/orders', { key: 'crashed', body: { qty: 1 } });
    assert.equal(taken.statusCode, 201, taken.body);
    assert.equal(h.counts.orders, 1);

    await crash('running', 60_000);
    const busy = await send(h, '/orders', { key: 'running', body: { qty: 1 } });
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().code, 'request-in-progress');
    assert.equal(h.counts.orders, 1);
  } finally {
    await h.close();
  }
});

test('a claim by a process known to be gone is taken over at once; a live owner gets Retry-After until its heartbeat could lapse', async () => {
  const h = await harness({ owner: { instance: 'hub-a', boot: 'boot-2' } });
  const fingerprint = requestFingerprint({
    method: 'POST',
    url: '/orders',
    contentType: 'application/json',
    body: { qty: 1 },
  });
  const claimBy = async (key: string, owner: IdempotencyOwner) => {
    const at = h.clock.now;
    const claim = { client: 'erp', key, fingerprint, createdAt: at, expiresAt: at + 24 * HOUR, owner };
    assert.equal((await h.store.idempotency.claim(claim, at - 1)).claimed, true);
  };
  try {
    await h.store.leases.acquire(instanceLeaseName('hub-a'), 'hub-a', 6_000);
    await h.store.leases.acquire(instanceLeaseName('hub-b'), 'hub-b', 6_000);

    // This instance before its restart (same name, earlier boot) is a dead process.
    await claimBy('before-restart', { instance: 'hub-a', boot: 'boot-1' });
    const restarted = await send(h, '/orders', { key: 'before-restart', body: { qty: 1 } });
    assert.equal(restarted.statusCode, 201, restarted.body);

    // An instance without a live heartbeat is dead.
    await claimBy('crashed', { instance: 'hub-gone', boot: 'boot-1' });
    const crashed = await send(h, '/orders', { key: 'crashed', body: { qty: 1 } });
    assert.equal(crashed.statusCode, 201, crashed.body);
    assert.equal(h.counts.orders, 2);

    // A live instance's claim stands: retry when its 6 s heartbeat could have lapsed.
    await claimBy('running', { instance: 'hub-b', boot: 'boot-1' });
    const busy = await send(h, '/orders', { key: 'running', body: { qty: 1 } });
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().code, 'request-in-progress');
    const retryAfter = Number(busy.headers['retry-after']);
    assert.ok(retryAfter >= 5 && retryAfter <= 6, `Retry-After ${retryAfter}`);
    assert.equal(h.counts.orders, 2);
  } finally {
    await h.close();
  }
});

test('Retry-After of a request in progress: until the owner could be declared dead or the claim grows stale, at least 1 s', () => {
  const record = {
    client: 'erp',
    key: 'k',
    fingerprint: 'f',
    state: 'in-progress' as const,
    status: null,
    headers: null,
    body: null,
    createdAt: 1_000_000,
    expiresAt: 1_000_000 + 24 * HOUR,
    owner: { instance: 'hub-b', boot: 'b' },
  };
  const stale = 300_000;
  assert.equal(inProgressRetryAfter(record, 4_200, 1_000_000, stale), 5, 'the heartbeat lapses first');
  assert.equal(inProgressRetryAfter(record, null, 1_000_000, stale), 300, 'no heartbeat: until stale');
  assert.equal(inProgressRetryAfter(record, 6_000, 1_000_000 + stale - 2_500, stale), 3, 'stale first');
  assert.equal(inProgressRetryAfter(record, 0, 1_000_000, stale), 1, 'never below 1 s');
  assert.equal(inProgressRetryAfter(record, null, 1_000_000 + 2 * stale, stale), 1);
});

test('invalid keys are refused with 400 bad-request', async () => {
  const h = await harness();
  try {
    for (const key of ['', 'x'.repeat(256), 'x'.repeat(300), 'clé', 'tab\there']) {
      const res = await send(h, '/orders', { key, body: { qty: 1 } });
      assert.equal(res.statusCode, 400, `${JSON.stringify(key)}: ${res.body}`);
      const problem = res.json();
      assert.equal(problem.code, 'bad-request');
      assert.equal(problem.errors[0].path, 'header/Idempotency-Key');
    }
    assert.equal(h.counts.orders, 0);
    assert.deepEqual(h.repo.calls, []);
    const longest = await send(h, '/orders', { key: `~ ${'k'.repeat(253)}`, body: { qty: 1 } });
    assert.equal(longest.statusCode, 201, '255 printable characters, spaces included, are fine');
  } finally {
    await h.close();
  }
});

test('requests without a key, reads and anonymous requests never touch the repository', async () => {
  const h = await harness();
  try {
    assert.equal((await send(h, '/orders', { body: { qty: 1 } })).statusCode, 201);
    assert.equal((await send(h, '/orders', { body: { qty: 1 } })).statusCode, 201);
    assert.equal((await send(h, '/orders', { key: 'read', method: 'GET' })).statusCode, 200);
    const anonymous = { key: 'anon', client: null, body: { qty: 1 } };
    assert.equal((await send(h, '/orders', anonymous)).statusCode, 201);
    const again = await send(h, '/orders', anonymous);
    assert.equal(again.headers['idempotent-replayed'], undefined);
    assert.equal(h.counts.orders, 4, 'every request ran');
    assert.deepEqual(h.repo.calls, []);
  } finally {
    await h.close();
  }
});

test('expired records are purged on a timer with the injected clock', async () => {
  const h = await harness({ purgeEveryMs: 1 });
  // The purge timer is unref'd (it must not keep a hub alive); this keeps the test's loop alive meanwhile.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    const old = START - 48 * HOUR;
    await h.store.idempotency.claim(
      { client: 'erp', key: 'old', fingerprint: 'f', createdAt: old, expiresAt: old + 24 * HOUR },
      old,
    );
    // The second purge surely started after the insert (the first may have been under way).
    await h.repo.next('purgeExpired');
    await h.repo.next('purgeExpired');
    assert.ok(
      h.repo.purges.some((p) => p.now === START && p.removed === 1),
      JSON.stringify(h.repo.purges),
    );
  } finally {
    clearInterval(keepAlive);
    await h.close();
  }
});
