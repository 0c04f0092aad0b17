import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ScriptedServer } from '../../../test/helpers/scripted-server.js';
import { ManualClock } from '../../delivery/clock.js';
import { createLogger } from '../../observability/logger.js';
import type { ConnectorHealth, SourceContext, SourceMessage } from '../framework/types.js';
import { RestPollSource } from './source.js';
import { restPollSourceSpec } from './spec.js';

const ORDERS = '/api/work-orders';
const TYPE = 'production.order.released';

/** A hub that records what it is given; `answer` decides how each batch is settled. */
class Hub implements SourceContext {
  readonly name = 'erp';
  readonly logger = createLogger('silent');
  readonly statuses: ConnectorHealth[] = [];
  readonly batches: SourceMessage[][] = [];
  private readonly controller = new AbortController();
  answer: (batch: readonly SourceMessage[]) => Promise<void> | void = async (batch) => {
    for (const message of batch) await message.ack();
  };

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  deliver(messages: readonly SourceMessage[]): Promise<void> {
    this.batches.push([...messages]);
    return Promise.resolve(this.answer(messages));
  }

  health(status: ConnectorHealth): void {
    this.statuses.push(status);
  }

  types(): string[] {
    return this.statuses.map((s) => s.type);
  }
}

/** Waits for observable state, turning the event loop so HTTP exchanges progress; fails after 5 s. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let dataDir = '';
let server: ScriptedServer;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'conveyor-rest-poll-unit-'));
});
after(() => rm(dataDir, { recursive: true, force: true }));

interface Setup {
  readonly source: RestPollSource;
  readonly hub: Hub;
  readonly clock: ManualClock;
  readonly stateFile: string;
  readonly url: string;
  /** Resolves once the source sleeps (interval or back-off) after `requests` requests in all. */
  asleepAfter(requests: number): Promise<void>;
}

let serial = 0;

/** A started source against `server`, with a manual clock and no jitter. */
async function startSource(
  raw: Record<string, unknown>,
  options: { stateFile?: string; clock?: ManualClock } = {},
): Promise<Setup> {
  const url = `${server.url}${ORDERS}`;
  const problems: Array<{ path: string; message: string }> = [];
  const config = restPollSourceSpec.compile(
    { kind: 'rest-poll', url, type: TYPE, ...raw },
    'connectors.erp',
    problems,
    dataDir,
  );
  assert.deepEqual(problems, []);
  const clock = options.clock ?? new ManualClock();
  const stateFile = options.stateFile ?? join(dataDir, `state-${++serial}.json`);
  const source = new RestPollSource(config, 'erp', { clock, random: () => 1, stateFile });
  const hub = new Hub();
  await source.start(hub);
  return {
    source,
    hub,
    clock,
    stateFile,
    url,
    asleepAfter: (requests) =>
      until(
        () => server.requests.length === requests && clock.pending === 1,
        `the source asleep after request ${requests}`,
      ),
  };
}

const query = (index: number) => new URL(server.requests[index]?.path ?? '/', 'http://peer').searchParams;
const ids = (batch: readonly SourceMessage[] | undefined) => (batch ?? []).map((m) => m.id);

async function withServer(run: () => Promise<void>): Promise<void> {
  server = new ScriptedServer();
  await server.listen();
  try {
    await run();
  } finally {
    await server.close();
  }
}

const ROWS = [
  { id: 'WO-1', plant: 'P2', updatedAt: '2025-01-01T00:00:01Z' },
  { id: 'WO-2', updatedAt: '2025-01-01T00:00:01.500Z' },
];

test('the cursor advances, in memory and on disk, only once every message of the answer was acked', () =>
  withServer(async () => {
    server.reply = (request) => {
      const since = new URL(request.path, 'http://peer').searchParams.get('since');
      return { status: 200, body: since === null ? ROWS : [] };
    };
    const s = await startSource({ cursor: { from: 'updatedAt' }, etag: false, plant: 'P1' });
    s.hub.answer = async ([first, second]) => {
      await first?.ack();
      await second?.nack(500);
    };
    try {
      await s.asleepAfter(1);
      assert.deepEqual(s.hub.types(), ['connecting', 'up']);
      assert.deepEqual(ids(s.hub.batches[0]), [`${s.url}#WO-1`, `${s.url}#WO-2`]);
      const [first, second] = s.hub.batches[0] ?? [];
      assert.deepEqual(first?.events, [{ type: TYPE, data: ROWS[0], plant: 'P2' }]);
      assert.deepEqual(second?.events, [{ type: TYPE, data: ROWS[1], plant: 'P1' }]);
      assert.deepEqual(first?.payload, ROWS[0]);
      assert.equal(first?.raw, JSON.stringify(ROWS[0]));
      await assert.rejects(stat(s.stateFile), { code: 'ENOENT' });

      // The nack asked for 500 ms; the poll comes from the old cursor, offering only what was not acked.
      await s.clock.advance(499);
      assert.equal(server.requests.length, 1);
      s.hub.answer = async (batch) => {
        for (const message of batch) await message.ack();
      };
      await s.clock.advance(1);
      await s.asleepAfter(2);
      assert.equal(query(1).get('since'), null);
      assert.deepEqual(ids(s.hub.batches[1]), [`${s.url}#WO-2`]);
      // WO-2's timestamp is the later instant although "...01Z" sorts after "...01.500Z" as text.
      assert.deepEqual(JSON.parse(await readFile(s.stateFile, 'utf8')), {
        url: s.url,
        cursor: { value: '2025-01-01T00:00:01.500Z', id: 'WO-2' },
        etag: null,
      });

      await s.clock.advance(10_000);
      await s.asleepAfter(3);
      assert.equal(query(2).get('since'), '2025-01-01T00:00:01.500Z');
      assert.equal(s.hub.batches.length, 2);
    } finally {
      await s.source.stop();
    }

    // A restart starts from the saved cursor.
    const again = await startSource(
      { cursor: { from: 'updatedAt' }, etag: false },
      { stateFile: s.stateFile },
    );
    try {
      await again.asleepAfter(4);
      assert.equal(query(3).get('since'), '2025-01-01T00:00:01.500Z');
      assert.equal(again.hub.batches.length, 0);
    } finally {
      await again.source.stop();
    }
  }));

test('stop aborts the poll in flight, waits for the delivery in flight, and keeps the cursor of unacked rows', () =>
  withServer(async () => {
    let answer: (rows: unknown) => void = () => undefined;
    server.reply = () => new Promise((resolve) => (answer = (rows) => resolve({ status: 200, body: rows })));
    const s = await startSource({ cursor: { from: 'updatedAt' } });
    await server.received(1);
    await s.source.stop();
    assert.equal(s.hub.batches.length, 0);
    assert.deepEqual(s.hub.types(), ['connecting'], 'an aborted poll is not an error');
    answer([]);

    server.reply = () => ({ status: 200, body: ROWS });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const t = await startSource({ cursor: { from: 'updatedAt' } }, { stateFile: s.stateFile });
    t.hub.answer = async (batch) => {
      await released;
      for (const message of batch) await message.nack(1_000);
    };
    await until(() => t.hub.batches.length === 1, 'a delivery');
    let stopped = false;
    const stopping = t.source.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, 'stop waits for the delivery in flight');
    release();
    await stopping;
    assert.equal(t.clock.pending, 0);
    await assert.rejects(stat(t.stateFile), { code: 'ENOENT' });
  }));

test('with an ETag, a 304 delivers nothing; the ETag is kept only once the answer was acked', () =>
  withServer(async () => {
    let version = 'v1';
    let rows: unknown[] = [{ id: 'a' }];
    server.reply = (request) =>
      request.headers['if-none-match'] === `"${version}"`
        ? { status: 304, headers: { etag: `"${version}"` } }
        : { status: 200, headers: { etag: `"${version}"` }, body: { items: rows } };
    const s = await startSource({});
    s.hub.answer = async (batch) => {
      for (const message of batch) await message.nack(100);
    };
    try {
      await s.asleepAfter(1);
      assert.equal(server.requests[0]?.headers['if-none-match'], undefined);
      s.hub.answer = async (batch) => {
        for (const message of batch) await message.ack();
      };
      await s.clock.advance(100);
      await s.asleepAfter(2);
      assert.equal(server.requests[1]?.headers['if-none-match'], undefined, 'nacked: no ETag kept');
      assert.deepEqual(ids(s.hub.batches[1]), [`${s.url}#a`]);

      await s.clock.advance(10_000);
      await s.asleepAfter(3);
      assert.equal(server.requests[2]?.headers['if-none-match'], '"v1"');
      assert.equal(s.hub.batches.length, 2, 'a 304 delivers nothing');
      assert.deepEqual(s.hub.types(), ['connecting', 'up']);
      assert.equal(JSON.parse(await readFile(s.stateFile, 'utf8')).etag, '"v1"');

      version = 'v2';
      rows = [{ id: 'a' }, { id: 'b' }];
      await s.clock.advance(10_000);
      await s.asleepAfter(4);
      assert.deepEqual(ids(s.hub.batches[2]), [`${s.url}#b`], 'a row acked before is not offered again');
      await s.clock.advance(10_000);
      await s.asleepAfter(5);
      assert.equal(server.requests[4]?.headers['if-none-match'], '"v2"');
    } finally {
      await s.source.stop();
    }
  }));

test('errors back off per the reconnect policy, reporting down with the reason, until it recovers', () =>
  withServer(async () => {
    server.reply = () => ({ status: 503, body: 'maintenance window' });
    const s = await startSource({ reconnect: { initialDelay: '1s', maxDelay: '4s' } });
    try {
      const delays: number[] = [];
      for (const [n, expected] of [1_000, 2_000, 4_000, 4_000].entries()) {
        await s.asleepAfter(n + 1);
        const status = s.hub.statuses.at(-1);
        assert.equal(status?.type, 'down');
        assert.match(status?.type === 'down' ? status.reason : '', /answered HTTP 503: maintenance window/);
        delays.push(status?.type === 'down' ? (status.retryInMs ?? 0) : 0);
        await s.clock.advance(expected - 1);
        assert.equal(server.requests.length, n + 1, 'no poll before the back-off ends');
        await s.clock.advance(1);
      }
      assert.deepEqual(delays, [1_000, 2_000, 4_000, 4_000]);

      server.reply = () => ({ status: 200, body: [] });
      await s.asleepAfter(5);
      assert.equal(s.hub.statuses.at(-1)?.type, 'up');
      await s.clock.advance(9_999);
      assert.equal(server.requests.length, 5, 'recovered: the interval again');
      server.reply = () => ({ status: 500 });
      await s.clock.advance(1);
      await s.asleepAfter(6);
      const status = s.hub.statuses.at(-1);
      assert.equal(status?.type === 'down' ? status.retryInMs : null, 1_000, 'the back-off starts over');
    } finally {
      await s.source.stop();
    }
  }));

test('a refused connection, a timeout and an answer that is not JSON are down with their reason', async () => {
  const closed = new ScriptedServer();
  await closed.listen();
  await closed.close();
  server = closed;
  const refused = await startSource({});
  try {
    await until(() => refused.hub.statuses.length === 2 && refused.clock.pending === 1, 'status down');
    const status = refused.hub.statuses[1];
    assert.equal(status?.type, 'down');
    assert.match(status?.type === 'down' ? status.reason : '', /connection refused$/);
  } finally {
    await refused.source.stop();
  }

  await withServer(async () => {
    let hold = true;
    server.reply = () => (hold ? new Promise(() => undefined) : { status: 200, body: '<html>login</html>' });
    // The one wall-clock wait here is the 50 ms timeout under test.
    const s = await startSource({ timeout: '50ms' });
    try {
      await s.asleepAfter(1);
      const timedOut = s.hub.statuses.at(-1);
      assert.match(timedOut?.type === 'down' ? timedOut.reason : '', /no answer within 50 ms$/);
      hold = false;
      await s.clock.advance(1_000);
      await s.asleepAfter(2);
      const notJson = s.hub.statuses.at(-1);
      assert.match(notJson?.type === 'down' ? notJson.reason : '', /the answer is not JSON/);
      assert.equal(s.hub.batches.length, 0);
    } finally {
      await s.source.stop();
    }
  });
});

test('a 4xx is degraded (a config problem) and polling goes on at the interval', () =>
  withServer(async () => {
    server.reply = () => ({ status: 401, body: { error: 'invalid token' } });
    const s = await startSource({ auth: { token: 'expired' } });
    try {
      await s.asleepAfter(1);
      assert.equal(server.requests[0]?.headers.authorization, 'Bearer expired');
      await s.clock.advance(9_999);
      assert.equal(server.requests.length, 1, 'no back-off: the interval');
      await s.clock.advance(1);
      await s.asleepAfter(2);
      assert.deepEqual(s.hub.types(), ['connecting', 'degraded'], 'the same problem is reported once');
      const status = s.hub.statuses[1];
      assert.match(status?.type === 'degraded' ? status.reason : '', /HTTP 401: .*invalid token.*check auth/);

      server.reply = () => ({ status: 200, body: [] });
      await s.clock.advance(10_000);
      await s.asleepAfter(3);
      assert.deepEqual(s.hub.types(), ['connecting', 'degraded', 'up']);
    } finally {
      await s.source.stop();
    }
  }));

test('rows that cannot become events carry an error and no events; pageLimit bounds each batch', () =>
  withServer(async () => {
    const rows = [{ id: 1 }, { name: 'no id' }, 'text', { id: 2 }, { id: 3 }];
    server.reply = () => ({ status: 200, body: { result: { rows } } });
    const s = await startSource({ items: 'result.rows', pageLimit: 2 });
    const sizes: number[] = [];
    let inFlight = 0;
    s.hub.answer = async (batch) => {
      inFlight++;
      sizes.push(batch.length);
      assert.equal(inFlight, 1, 'one batch at a time');
      await new Promise((resolve) => setImmediate(resolve));
      for (const message of batch) await message.ack();
      inFlight--;
    };
    try {
      await s.asleepAfter(1);
      assert.deepEqual(sizes, [2, 2, 1]);
      const messages = s.hub.batches.flat();
      const bad = messages.filter((m) => m.error !== undefined);
      assert.deepEqual(
        bad.map((m) => [m.error, m.events, m.raw]),
        [
          ['the row has no id at id (a string or number)', [], '{"name":"no id"}'],
          ['a row must be an object to become an event', [], '"text"'],
        ],
      );
      assert.match(bad[0]?.id ?? '', new RegExp(`^${s.url}#sha256:[0-9a-f]{32}$`));
      assert.deepEqual(
        messages.filter((m) => m.error === undefined).map((m) => m.id),
        [`${s.url}#1`, `${s.url}#2`, `${s.url}#3`],
      );
      assert.equal(messages[0]?.origin, `GET ${s.url} row 0`);
    } finally {
      await s.source.stop();
    }
  }));

test('with a map the hub maps each row; without items the answer must be an array or hold items', () =>
  withServer(async () => {
    server.reply = () => ({ status: 200, body: { results: [{ id: 'x' }] } });
    const mapped = await startSource({ map: '{"type": "production.order.released", "data": $}' });
    try {
      await mapped.asleepAfter(1);
      const status = mapped.hub.statuses.at(-1);
      assert.match(status?.type === 'degraded' ? status.reason : '', /set items/);
      server.reply = () => ({ status: 200, body: [{ id: 'x' }] });
      await mapped.clock.advance(10_000);
      await mapped.asleepAfter(2);
      const [message] = mapped.hub.batches[0] ?? [];
      assert.equal(message?.events, undefined);
      assert.equal(message?.error, undefined);
      assert.deepEqual(message?.payload, { id: 'x' });
    } finally {
      await mapped.source.stop();
    }
  }));

const TIE = '2025-01-01T00:00:00Z';
const tied = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `WO-${i + 1}`, updatedAt: TIE }));

test('a full keyset page is followed at once, without the ETag of the page before; a short one waits the interval', () =>
  withServer(async () => {
    const rows = tied(5);
    server.reply = (request) => {
      const q = new URL(request.path, 'http://peer').searchParams;
      const sinceId = q.get('sinceId');
      const after = rows.filter((r) => sinceId === null || r.id > sinceId);
      return { status: 200, headers: { etag: '"all"' }, body: after.slice(0, 2) };
    };
    const s = await startSource({
      cursor: { from: 'updatedAt', idParam: 'sinceId' },
      paging: { kind: 'keyset', limit: 2 },
    });
    try {
      await s.asleepAfter(3);
      assert.deepEqual(
        s.hub.batches.map((batch) => ids(batch)),
        [[`${s.url}#WO-1`, `${s.url}#WO-2`], [`${s.url}#WO-3`, `${s.url}#WO-4`], [`${s.url}#WO-5`]],
      );
      assert.equal(query(1).get('sinceId'), 'WO-2');
      assert.equal(query(2).get('sinceId'), 'WO-4');
      assert.deepEqual(
        server.requests.map((r) => r.headers['if-none-match']),
        [undefined, undefined, undefined],
        'no ETag while the keyset pages follow each other',
      );
      await s.clock.advance(10_000);
      await s.asleepAfter(4);
      assert.equal(server.requests[3]?.headers['if-none-match'], '"all"', 'the ETag of the last, short page');
      assert.deepEqual(s.hub.types(), ['connecting', 'up']);
    } finally {
      await s.source.stop();
    }
  }));

test('a stalled keyset page is degraded once, with the cursor, the page size and the fix; it recovers to up', () =>
  withServer(async () => {
    let rows: Array<{ id: string; updatedAt: string }> = tied(3);
    // An API that takes only since (inclusive) and answers at most two rows.
    server.reply = (request) => {
      const since = new URL(request.path, 'http://peer').searchParams.get('since');
      return { status: 200, body: rows.filter((r) => since === null || r.updatedAt >= since).slice(0, 2) };
    };
    const s = await startSource({ cursor: { from: 'updatedAt' }, paging: { kind: 'keyset', limit: 2 } });
    try {
      await s.asleepAfter(2);
      assert.deepEqual(s.hub.types(), ['connecting', 'up', 'degraded']);
      const status = s.hub.statuses[2];
      assert.equal(
        status?.type === 'degraded' ? status.reason : '',
        `${s.url}: a full page of 2 rows, all at or before the cursor (updatedAt = ${TIE}, id WO-2) and delivered already, with no way past them: set cursor.idParam (or {id} in cursor.filter) if the API can start after the last id, or page with paging kind next-link, link-header, offset, page or odata, or have the API answer more rows than share one value`,
      );
      await s.clock.advance(10_000);
      await s.asleepAfter(3);
      assert.equal(s.hub.statuses.length, 3, 'the same stall is reported once');
      assert.equal(s.hub.batches.length, 1, 'and nothing is offered again');

      rows = [{ id: 'WO-9', updatedAt: '2025-01-01T00:00:01Z' }];
      await s.clock.advance(10_000);
      await s.asleepAfter(4);
      assert.deepEqual(ids(s.hub.batches[1]), [`${s.url}#WO-9`]);
      assert.deepEqual(s.hub.types(), ['connecting', 'up', 'degraded', 'up']);
    } finally {
      await s.source.stop();
    }
  }));

test('a next link to another host is degraded, not followed with the credentials', () =>
  withServer(async () => {
    server.reply = () => ({
      status: 200,
      body: {
        value: [{ id: 'a' }],
        '@odata.nextLink': 'https://elsewhere.example/api/work-orders?$skiptoken=1',
      },
    });
    const s = await startSource({
      auth: { token: 't' },
      paging: { kind: 'next-link', path: '@odata.nextLink' },
    });
    try {
      await s.asleepAfter(1);
      const status = s.hub.statuses.at(-1);
      assert.match(
        status?.type === 'degraded' ? status.reason : '',
        /the next link points to https:\/\/elsewhere\.example, not http:\/\/127\.0\.0\.1:\d+/,
      );
      assert.equal(server.requests.length, 1);
      await assert.rejects(stat(s.stateFile), { code: 'ENOENT' }, 'an unfinished poll keeps the old cursor');
    } finally {
      await s.source.stop();
    }
  }));

test('rows are found in OData answers without items; a filter carries the cursor; an older cursor file still counts', () =>
  withServer(async () => {
    server.reply = (request) =>
      request.path.includes('%24filter')
        ? {
            status: 200,
            body: { d: { results: [{ ManufacturingOrder: '1000043', LastChangeDateTime: TIE }] } },
          }
        : { status: 200, body: { value: [] } };
    const stateFile = join(dataDir, `legacy-${++serial}.json`);
    const url = `${server.url}${ORDERS}`;
    // What the connector saved before cursors had an id: a bare value.
    await writeFile(stateFile, JSON.stringify({ url, cursor: '2024-12-31T00:00:00Z', etag: null }));
    const s = await startSource(
      {
        idField: 'ManufacturingOrder',
        cursor: {
          from: 'LastChangeDateTime',
          filter: "LastChangeDateTime ge datetimeoffset'{value}' and ManufacturingOrder gt '{id}'",
        },
      },
      { stateFile },
    );
    try {
      await s.asleepAfter(1);
      assert.equal(
        query(0).get('$filter'),
        "LastChangeDateTime ge datetimeoffset'2024-12-31T00:00:00Z' and ManufacturingOrder gt ''",
      );
      assert.deepEqual(ids(s.hub.batches[0]), [`${s.url}#1000043`]);
      assert.deepEqual(JSON.parse(await readFile(s.stateFile, 'utf8')).cursor, { value: TIE, id: '1000043' });
      await s.clock.advance(10_000);
      await s.asleepAfter(2);
      assert.equal(
        query(1).get('$filter'),
        `LastChangeDateTime ge datetimeoffset'${TIE}' and ManufacturingOrder gt '1000043'`,
      );
    } finally {
      await s.source.stop();
    }
  }));

test('without paging, an answer that links more pages is delivered and reported as degraded with the setting', () =>
  withServer(async () => {
    server.reply = () => ({
      status: 200,
      body: { d: { results: [{ id: 'a' }], __next: `${server.url}${ORDERS}?$skiptoken=1` } },
    });
    const s = await startSource({});
    try {
      await s.asleepAfter(1);
      assert.deepEqual(ids(s.hub.batches[0]), [`${s.url}#a`]);
      const status = s.hub.statuses.at(-1);
      assert.equal(
        status?.type === 'degraded' ? status.reason : '',
        `${s.url}: the answer has more pages (d.__next) that are not read; set paging ({kind: next-link, path: 'd.__next'})`,
      );
      server.reply = () => ({ status: 200, headers: { link: `<${ORDERS}?page=2>; rel="next"` }, body: [] });
      await s.clock.advance(10_000);
      await s.asleepAfter(2);
      const linked = s.hub.statuses.at(-1);
      assert.match(
        linked?.type === 'degraded' ? linked.reason : '',
        /\(a Link rel="next" header\).*\{kind: link-header\}/,
      );
    } finally {
      await s.source.stop();
    }
  }));
