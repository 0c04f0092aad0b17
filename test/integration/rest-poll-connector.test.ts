import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { createRestPollSource } from '../../src/connectors/rest-poll/source.js';
import { restPollSourceSpec } from '../../src/connectors/rest-poll/spec.js';
import { type ConnectorUnderTest, connectorContract } from '../contracts/connector-contract.js';

interface WorkOrder {
  readonly id: string;
  readonly orderId: string;
  readonly plant: string;
  readonly updatedAt: string;
}

/**
 * An ERP-style endpoint holding work orders in memory: `GET /v1/work-orders?since=` answers the
 * rows updated after `since`, with an ETag over the whole collection (304 when it matches).
 */
class ErpPeer {
  readonly rows: WorkOrder[] = [];
  /** GET requests answered so far (a running source polls every interval). */
  polls = 0;
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
      this.polls++;
      const etag = `W/"${this.rows.length}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      const since = url.searchParams.get('since');
      const items = since === null ? this.rows : this.rows.filter((r) => r.updatedAt > since);
      res.writeHead(200, { 'content-type': 'application/json', etag });
      res.end(JSON.stringify({ items }));
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/work-orders`;
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

  produce(count: number): void {
    for (let i = 0; i < count; i++) {
      const n = this.rows.length + 1;
      this.rows.push({
        id: `WO-${String(n).padStart(6, '0')}`,
        orderId: `WO-${String(n).padStart(6, '0')}`,
        plant: 'P1',
        // Fixed width, so the peer's string comparison orders them by time.
        updatedAt: new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString(),
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
    assert.ok(Value.Check(restPollSourceSpec.schema, raw), 'the test config is schema-valid');
    const problems: Array<{ path: string; message: string }> = [];
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
