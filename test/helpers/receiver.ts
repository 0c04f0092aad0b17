import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  readonly id: string;
  readonly key: string;
  readonly sequence: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

/** What the receiver does with a request: answer, answer late, or drop the connection. */
export type Behaviour = (request: {
  id: string;
  key: string;
  count: number;
}) => { status: number; headers?: Record<string, string>; delayMs?: number } | 'drop';

/**
 * A real HTTP endpoint on 127.0.0.1 for delivery tests. It records what it receives (only the
 * requests it answered with 2xx count as received) and can be told to fail, stall, answer
 * 4xx/5xx/429 with Retry-After, or drop connections.
 */
export class TestReceiver extends EventEmitter {
  readonly received: Received[] = [];
  readonly attempts: Array<{ id: string; status: number | 'drop' }> = [];
  behaviour: Behaviour = () => ({ status: 204 });
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly counts = new Map<string, number>();

  constructor() {
    super();
    this.setMaxListeners(0);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let id = String(req.headers['ce-id'] ?? '');
        let key = String(req.headers['ce-subject'] ?? '');
        let sequence = Number(req.headers['ce-sequence'] ?? 0);
        if (!id) {
          try {
            const event = JSON.parse(body) as {
              id: string;
              subject?: string;
              partitionkey?: string;
              sequence: number;
            };
            id = event.id;
            key = event.partitionkey ?? event.subject ?? '';
            sequence = event.sequence;
          } catch {
            id = '?';
          }
        }
        const count = (this.counts.get(id) ?? 0) + 1;
        this.counts.set(id, count);
        const action = this.behaviour({ id, key, count });
        if (action === 'drop') {
          this.attempts.push({ id, status: 'drop' });
          this.emit('attempt');
          req.socket.destroy();
          return;
        }
        const respond = () => {
          this.attempts.push({ id, status: action.status });
          if (action.status >= 200 && action.status < 300) {
            this.received.push({ id, key, sequence, headers: req.headers, body, at: Date.now() });
            this.emit('received');
          }
          res.writeHead(action.status, action.headers ?? {}).end();
          this.emit('attempt');
        };
        if (action.delayMs) setTimeout(respond, action.delayMs);
        else respond();
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
    return this.url;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Waits until `predicate` holds, re-checking on every attempt (answered or dropped); fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('attempt', check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (received ${this.received.length} of ${this.attempts.length} attempts)`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.off('attempt', check);
        resolve();
      };
      this.on('attempt', check);
    });
  }

  /** Unique ids received, in first-received order, per partition key. */
  orderByKey(): Map<string, string[]> {
    const seen = new Set<string>();
    const byKey = new Map<string, string[]>();
    for (const r of this.received) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.id]);
    }
    return byKey;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
