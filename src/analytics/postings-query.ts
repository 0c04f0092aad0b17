import type { HttpConnectorSettings } from '../connectors/http/http-connector.js';
import { LazyPool } from '../util/lazy-undici.js';

/** What a system of record holds for one order: the event ids it booked, or only how many. */
export type PostingsAnswer =
  | { readonly ids: readonly string[] | null; readonly count: number }
  | { readonly error: string };

const MAX_ANSWER_BYTES = 1_048_576;

/**
 * Asks a system of record (over its `kind: http` connector, below its `baseUrl`) what it holds for
 * an order: `GET <path>` with `{orderId}` and `{day}` filled in, answered by JSON
 * `{ "events": ["<event id>", ...] }` or `{ "count": n }`. The connector's timeout and headers
 * apply; any failure (unreachable, timeout, non-2xx, another shape) is an `{error}`, never thrown.
 */
export class PostingsQuery {
  private readonly pool: LazyPool;
  private readonly base: URL;

  constructor(
    private readonly connector: HttpConnectorSettings,
    private readonly path: string,
  ) {
    this.base = new URL(connector.baseUrl ?? connector.url ?? 'http://127.0.0.1/');
    this.pool = new LazyPool(this.base.origin, { connections: 4, keepAliveTimeout: 30_000 });
  }

  async ask(orderId: string, day: string): Promise<PostingsAnswer> {
    const path = `${this.base.pathname.replace(/\/$/, '')}${this.path
      .replaceAll('{orderId}', encodeURIComponent(orderId))
      .replaceAll('{day}', encodeURIComponent(day))}`;
    const timeoutMs = this.connector.timeoutMs ?? 5_000;
    const name = this.connector.name;
    try {
      const response = await (await this.pool.get()).request({
        method: 'GET',
        path,
        headers: { ...this.connector.headers, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readLimited(response.body, MAX_ANSWER_BYTES);
      if (response.statusCode === 404) return { ids: [], count: 0 };
      if (response.statusCode < 200 || response.statusCode >= 300)
        return { error: `${name} answered ${response.statusCode}` };
      return parsePostings(text, name);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return { error: `${name} did not answer within ${timeoutMs} ms` };
      return { error: `${name} cannot be reached (${e.code ?? e.message})` };
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Reads `{events: [ids]}` or `{count}`; anything else is an error naming the expected shape. */
export function parsePostings(text: string, name: string): PostingsAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: `${name} did not answer JSON` };
  }
  const events = (body as { events?: unknown } | null)?.events;
  if (Array.isArray(events) && events.every((id) => typeof id === 'string'))
    return { ids: events as string[], count: events.length };
  const count = (body as { count?: unknown } | null)?.count;
  if (typeof count === 'number' && Number.isInteger(count) && count >= 0) return { ids: null, count };
  return { error: `${name} answered neither {"events": [ids]} nor {"count": n}` };
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new Error(`answer larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
