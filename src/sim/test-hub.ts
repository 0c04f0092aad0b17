/**
 * For the simulated systems' tests: a real loopback HTTP server that stands in for the hub's API. It
 * records every request and answers as the test scripts it (202/201/409/503 with Retry-After, ...).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown;
}

export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Sent as JSON (problem+json for 4xx/5xx) unless a string. */
  readonly body?: unknown;
}

/** Decides the answer; `nth` counts requests to the same method and path, from 1. */
export type Script = (request: RecordedRequest, nth: number) => ScriptedAnswer;

/** The answer of the hub's command API to a request that passes its checks. */
export function accepted(request: RecordedRequest): ScriptedAnswer {
  if (request.path === '/v1/events') return { status: 202 };
  if (request.path === '/v1/inventory/reservations' || request.path.startsWith('/v1/shipments/')) {
    return { status: 201, body: { result: request.json, events: [] } };
  }
  return { status: 202, body: { events: [{ id: 'e1', type: 'x', sequence: 1, subject: 's' }] } };
}

/** A problem+json answer as the hub sends it. */
export function problem(status: number, code: string, extra: Record<string, unknown> = {}): ScriptedAnswer {
  return {
    status,
    headers: status === 503 || status === 429 ? { 'retry-after': '0' } : {},
    body: { type: `urn:conveyor:problem:${code}`, title: code, status, detail: code, ...extra },
  };
}

export class TestHub {
  readonly requests: RecordedRequest[] = [];
  script: Script = accepted;
  url = '';
  private readonly server: Server;
  private readonly counts = new Map<string, number>();
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          json,
        };
        const key = `${recorded.method} ${recorded.path}`;
        const nth = (this.counts.get(key) ?? 0) + 1;
        this.counts.set(key, nth);
        this.requests.push(recorded);
        answer(res, this.script(recorded, nth));
        for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Resolves once `count` requests in all have been answered. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Forgets the recorded requests and the counts, and answers as the hub does again. */
  reset(): void {
    this.requests.length = 0;
    this.counts.clear();
    this.script = accepted;
  }

  /** The recorded requests to paths starting with `prefix`. */
  to(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function answer(res: ServerResponse, scripted: ScriptedAnswer): void {
  const headers: Record<string, string> = { ...scripted.headers };
  let text = '';
  if (typeof scripted.body === 'string') text = scripted.body;
  else if (scripted.body !== undefined) {
    text = JSON.stringify(scripted.body);
    headers['content-type'] ??= scripted.status >= 400 ? 'application/problem+json' : 'application/json';
  }
  res.writeHead(scripted.status, headers).end(text);
}
