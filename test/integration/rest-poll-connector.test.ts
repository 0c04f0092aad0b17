import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { validateConnectorConfig } from '../../src/connectors/framework/manager.js';
import { createRestPollSource } from '../../src/connectors/rest-poll/source.js';
import { restPollSourceSpec } from '../../src/connectors/rest-poll/spec.js';
import {
  type ConnectorUnderTest,
  connectorContract,
  RecordingContext,
} from '../contracts/connector-contract.js';

interface WorkOrder {
  readonly id: string;
  readonly orderId: string;
  readonly plant: string;
  readonly updatedAt: string;
}

/** How the peer pages its answers, as the ERP APIs the connector supports do. */
type PeerPaging = 'none' | 'next-link' | 'link-header' | 'offset' | 'page' | 'odata';

/**
 * An ERP-style endpoint holding work orders in memory, ordered by (updatedAt, id): `GET
 * /v1/work-orders?since=` answers the rows updated after `since` (or at it, when `inclusive`), past
 * `sinceId` among rows at `since` when given, with an ETag over the whole collection (304 when it
 * matches). At most `pageSize` rows per answer (all when null), paged as `paging` says.
 */
class ErpPeer {
  readonly rows: WorkOrder[] = [];
  /** Paths of the GET requests answered so far (a running source polls every interval). */
  readonly requests: string[] = [];
  inclusive = false;
  pageSize: number | null = null;
  paging: PeerPaging = 'none';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://peer');
      if (req.method !== 'GET' || url.pathname !== '/v1/work-orders') {
        res.writeHead(404).end();
        return;
      }
      this.requests.push(req.url ?? '');
      const etag = `W/"${this.rows.length}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      const { items, next } = this.answer(url.searchParams);
      const headers: Record<string, string> = { 'content-type': 'application/json', etag };
      if (next !== null && this.paging === 'link-header')
        headers.link = `<${next}>; rel="next", </v1/work-orders>; rel="first"`;
      res.writeHead(200, headers);
      // OData V2 wraps rows in d.results with an absolute d.__next; V4 has value and a relative nextLink.
      if (this.paging === 'odata')
        res.end(
          JSON.stringify({ d: { results: items, ...(next ? { __next: `${this.origin}${next}` } : {}) } }),
        );
      else if (this.paging === 'next-link')
        res.end(JSON.stringify({ value: items, ...(next ? { '@odata.nextLink': next } : {}) }));
      else res.end(JSON.stringify({ items }));
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The rows of one answer, and the path of the next page when there is one and a link says so. */
  private answer(query: URLSearchParams): { items: WorkOrder[]; next: string | null } {
    const since = query.get('since');
    const sinceId = query.get('sinceId');
    const after = (r: WorkOrder) => {
      if (since === null) return true;
      if (r.updatedAt !== since) return r.updatedAt > since;
      return sinceId !== null ? r.id > sinceId : this.inclusive;
    };
    const matching = this.rows.filter(after);
    const number = (name: string) => (query.has(name) ? Number(query.get(name)) : null);
    let start = number('skiptoken') ?? number('offset') ?? number('$skip') ?? 0;
    let asked = number('limit') ?? number('$top') ?? number('size');
    const page = number('page');
    if (page !== null && asked !== null) start = (page - 1) * asked;
    asked ??= Number.POSITIVE_INFINITY;
    const count = Math.min(asked, this.pageSize ?? Number.POSITIVE_INFINITY);
    const items = matching.slice(start, start + count);
    // Server-driven paging: a link to the rest when the server cut the answer short.
    const cut = start + items.length < matching.length && items.length < asked;
    const linked = this.paging === 'next-link' || this.paging === 'link-header' || this.paging === 'odata';
    if (!cut || !linked) return { items, next: null };
    const next = new URLSearchParams(query);
    next.delete('$skip');
    next.set('skiptoken', String(start + items.length));
    // The link finishes the window the client asked for, as OData's server-driven paging does.
    if (query.has('$top')) next.set('$top', String(asked - items.length));
    return { items, next: `/v1/work-orders?${next}` };
  }

  get polls(): number {
    return this.requests.length;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `${this.origin}/v1/work-orders`;
  }

  /** Listens on port 0 the first time, then on the same port again. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds `count` work orders, each a second after the last, or all at `at` when given. */
  produce(count: number, at?: string): void {
    for (let i = 0; i < count; i++) {
      const n = this.rows.length + 1;
      this.rows.push({
        id: `WO-${String(n).padStart(6, '0')}`,
        orderId: `WO-${String(n).padStart(6, '0')}`,
        plant: 'P1',
        // Fixed width, so the peer's string comparison orders them by time.
        updatedAt: at ?? new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString(),
      });
    }
  }
}

connectorContract('rest-poll', async (): Promise<ConnectorUnderTest> => {
  const peer = new ErpPeer();
  const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-rest-poll-'));
  // The port is known only once the peer listens; the config is compiled on first use.
  let config: ReturnType<typeof restPollSourceSpec.compile> | null = null;
  const compiled = () => {
    if (config) return config;
    const raw = {
      kind: 'rest-poll',
      url: peer.url,
      interval: '100ms',
      items: 'items',
      cursor: { from: 'updatedAt' },
      type: 'production.order.released',
      plant: 'P1',
      pageLimit: 100,
      timeout: '2s',
      reconnect: { initialDelay: '100ms', maxDelay: '500ms' },
    };
    const problems: Array<{ path: string; message: string }> = [];
    validateConnectorConfig('rest-poll', restPollSourceSpec.schema, raw, 'connectors.erp-orders', problems);
    config = restPollSourceSpec.compile(raw, 'connectors.erp-orders', problems, dataDir);
    assert.deepEqual(problems, []);
    return config;
  };
  return {
    startPeer: () => peer.start(),
    stopPeer: () => peer.stop(),
    produce: async (count) => peer.produce(count),
    // Two more polls of a running source, or 1 s when none polls (a stopped one must not).
    settle: async () => {
      const target = peer.polls + 2;
      for (const deadline = Date.now() + 1000; peer.polls < target && Date.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 20));
    },
    createSource: () => createRestPollSource(compiled(), 'erp-orders'),
    close: async () => {
      await peer.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

/** The instant five work orders share: more than one page of the peer's. */
const TIE = '2024-12-31T23:59:59.000Z';

describe('rest-poll paging and the (value, id) cursor', () => {
  let dataDir = '';
  let peer: ErpPeer;
  const sources: Array<{ stop(): Promise<void> }> = [];
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conveyor-rest-poll-paging-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  let serial = 0;
  /** A fresh inclusive peer with five rows at TIE and pages of `pageSize`, as `paging` says. */
  async function peerWithTie(paging: PeerPaging, pageSize: number | null): Promise<ErpPeer> {
    peer = new ErpPeer();
    peer.inclusive = true;
    peer.paging = paging;
    peer.pageSize = pageSize;
    peer.produce(5, TIE);
    await peer.start();
    return peer;
  }

  function configFor(raw: Record<string, unknown>, name: string) {
    const full = {
      kind: 'rest-poll',
      url: peer.url,
      interval: '100ms',
      type: 'production.order.released',
      plant: 'P1',
      timeout: '2s',
      ...raw,
    };
    // Checked as the hub checks it: the schema, then the kind's compile.
    const problems: Array<{ path: string; message: string }> = [];
    validateConnectorConfig('rest-poll', restPollSourceSpec.schema, full, `connectors.${name}`, problems);
    const config = restPollSourceSpec.compile(full, `connectors.${name}`, problems, dataDir);
    assert.deepEqual(problems, []);
    return config;
  }

  /** Starts a source on `peer`; returns its context. Stopped after each test. */
  async function startSource(raw: Record<string, unknown>, name = `erp-${++serial}`) {
    const source = createRestPollSource(configFor(raw, name), name);
    const ctx = new RecordingContext(name);
    await source.start(ctx);
    sources.push(source);
    return { ctx, source, stateFile: join(dataDir, 'connectors', `${name}.json`) };
  }

  async function cleanUp(): Promise<void> {
    for (const source of sources.splice(0)) await source.stop();
    await peer.stop();
  }

  const ids = (count: number, from = 1) =>
    Array.from({ length: count }, (_, i) => `${peer.url}#WO-${String(from + i).padStart(6, '0')}`);

  /** Every work order of the peer arrives, each delivered and acked exactly once, with later ones too. */
  async function expectAllOnce(ctx: RecordingContext): Promise<void> {
    await ctx.until(() => ctx.acked.size >= 5, 'all five rows that share one updatedAt');
    peer.produce(2);
    await ctx.until(() => ctx.acked.size >= 7, 'the two later rows');
    // Two more polls, so a row offered again would show.
    const target = peer.polls + 2;
    await ctx.until(() => peer.polls >= target, 'two more polls');
    assert.deepEqual(
      ctx.delivered.map((m) => m.id),
      ids(7),
      'every row once, in order',
    );
    assert.ok([...ctx.acked.values()].every((n) => n === 1));
    assert.equal(ctx.statuses.at(-1)?.type, 'up');
  }

  test('five rows at one updatedAt with pages of 2 (an OData V4 nextLink): all five once, then later rows', async () => {
    await peerWithTie('next-link', 2);
    try {
      const { ctx } = await startSource({
        items: 'value',
        cursor: { from: 'updatedAt' },
        paging: { kind: 'next-link', path: '@odata.nextLink' },
      });
      await expectAllOnce(ctx);
    } finally {
      await cleanUp();
    }
  });

  test('the same API polled without paging is not silently stuck: degraded, naming the setting', async () => {
    await peerWithTie('next-link', 2);
    try {
      const { ctx } = await startSource({ items: 'value', cursor: { from: 'updatedAt' } });
      await ctx.until(() => ctx.statuses.at(-1)?.type === 'degraded', 'status degraded');
      const status = ctx.statuses.at(-1);
      assert.match(
        status?.type === 'degraded' ? status.reason : '',
        /more pages \(@odata\.nextLink\) that are not read; set paging \(\{kind: next-link, path: '@odata\.nextLink'\}\)/,
      );
    } finally {
      await cleanUp();
    }
  });

  /** Per kind: the peer's paging, its page size, the connector config, and a request only that paging makes. */
  const kinds: Array<[string, PeerPaging, number | null, Record<string, unknown>, RegExp]> = [
    ['an RFC 8288 Link header', 'link-header', 2, { paging: { kind: 'link-header' } }, /skiptoken=4/],
    ['offset and limit', 'offset', null, { paging: { kind: 'offset', limit: 2 } }, /offset=4&limit=2/],
    ['page number and size', 'page', null, { paging: { kind: 'page', size: 2 } }, /page=3&size=2/],
    [
      'OData $skip/$top with server-driven paging (V2 d.__next)',
      'odata',
      2,
      { items: 'd.results', paging: { kind: 'odata', top: 3 } },
      /%24skip=3&%24top=3.*%24top=1&skiptoken=5/,
    ],
    [
      'a keyset cursor (since and sinceId)',
      'none',
      2,
      { cursor: { from: 'updatedAt', idParam: 'sinceId' }, paging: { kind: 'keyset', limit: 2 } },
      /sinceId=WO-000004/,
    ],
  ];
  for (const [what, paging, pageSize, raw, marker] of kinds)
    test(`pages with ${what}: every row once`, async () => {
      await peerWithTie(paging, pageSize);
      try {
        const { ctx } = await startSource({ items: 'items', cursor: { from: 'updatedAt' }, ...raw });
        await expectAllOnce(ctx);
        assert.ok(
          marker.test(peer.requests.join(' ')),
          `a request like ${marker} in ${peer.requests.slice(0, 8).join(' ')}`,
        );
      } finally {
        await cleanUp();
      }
    });

  test('a full page whose rows were all delivered, with no way past them, is degraded with the reason', async () => {
    await peerWithTie('none', 2);
    try {
      const { ctx } = await startSource({
        items: 'items',
        cursor: { from: 'updatedAt' },
        paging: { kind: 'keyset', limit: 2 },
      });
      await ctx.until(() => ctx.statuses.at(-1)?.type === 'degraded', 'status degraded');
      const status = ctx.statuses.at(-1);
      const reason = status?.type === 'degraded' ? status.reason : '';
      assert.ok(reason.includes(`updatedAt = ${TIE}`), reason);
      assert.match(reason, /page of 2 rows/);
      assert.match(reason, /cursor\.idParam/);
      assert.deepEqual([...ctx.distinct()], ids(2), 'the first page once, nothing else');
      assert.ok([...ctx.acked.values()].every((n) => n === 1));
    } finally {
      await cleanUp();
    }
  });

  /** Per API: its paging, the connector config, and the query a restarted source must send first. */
  const restarts: Array<[string, PeerPaging, Record<string, unknown>, Record<string, string | null>]> = [
    [
      'an API that takes since and sinceId',
      'none',
      { cursor: { from: 'updatedAt', idParam: 'sinceId' }, paging: { kind: 'keyset', limit: 2 } },
      { since: TIE, sinceId: 'WO-000005' },
    ],
    [
      'an inclusive since that answers the tied rows again',
      'next-link',
      { items: 'value', paging: { kind: 'next-link', path: '@odata.nextLink' } },
      { since: TIE, sinceId: null },
    ],
  ];
  for (const [what, paging, raw, first] of restarts)
    test(`a restart resumes from the saved (updatedAt, id) cursor, no row lost or offered again: ${what}`, async () => {
      await peerWithTie(paging, 2);
      const config = { items: 'items', cursor: { from: 'updatedAt' }, ...raw };
      const name = `erp-restart-${paging}`;
      try {
        const before = await startSource(config, name);
        await before.ctx.until(() => before.ctx.acked.size >= 5, 'the five tied rows');
        await before.source.stop();
        const saved = JSON.parse(await readFile(before.stateFile, 'utf8'));
        assert.deepEqual(
          { url: saved.url, cursor: saved.cursor },
          { url: peer.url, cursor: { value: TIE, id: 'WO-000005' } },
        );

        peer.produce(2);
        const polled = peer.polls;
        const after = await startSource(config, name);
        await after.ctx.until(() => after.ctx.acked.size >= 2, 'the two later rows');
        const resumed = new URL(peer.requests[polled] ?? '', 'http://peer').searchParams;
        assert.deepEqual(Object.fromEntries(Object.keys(first).map((key) => [key, resumed.get(key)])), first);
        const target = peer.polls + 2;
        await after.ctx.until(() => peer.polls >= target, 'two more polls');
        assert.deepEqual(
          after.ctx.delivered.map((m) => m.id),
          ids(2, 6),
        );
      } finally {
        await cleanUp();
      }
    });
});
