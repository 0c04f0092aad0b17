import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request a ScriptedServer received. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

/** What a ScriptedServer answers. A string or Buffer body goes out as is, anything else as JSON. */
export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/**
 * A real HTTP server on 127.0.0.1: a system of record, a decoy, a JWKS endpoint or a delivery
 * sink, as the test scripts it. `reply` may return a promise, so a test can hold an answer until
 * it releases it (or forever: `close()` drops the connection).
 */
export class ScriptedServer {
  readonly requests: Exchange[] = [];
  reply: (request: Exchange) => Reply | Promise<Reply> = () => ({ status: 200, body: {} });
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<() => void> = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        const exchange: Exchange = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          text,
          json,
        };
        this.requests.push(exchange);
        for (const wake of this.waiters.splice(0)) wake();
        Promise.resolve(this.reply(exchange)).then(
          (answer) => {
            if (res.destroyed) return;
            const body =
              answer.body === undefined
                ? ''
                : typeof answer.body === 'string' || Buffer.isBuffer(answer.body)
                  ? answer.body
                  : JSON.stringify(answer.body);
            res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
            res.end(body);
          },
          () => res.destroy(),
        );
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves once `count` requests have arrived in all. */
  async received(count: number): Promise<void> {
    while (this.requests.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
