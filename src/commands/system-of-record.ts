import type { HttpConnectorSettings } from '../connectors/http/http-connector.js';
import { CircuitBreaker } from '../delivery/circuit-breaker.js';
import type { Clock } from '../delivery/clock.js';
import { parseRetryAfter } from '../delivery/retry.js';
import { ProblemError } from '../errors/problem.js';
import { LazyPool } from '../util/lazy-undici.js';

/** The answer of a system of record that accepted a request. */
export interface RecordAnswer {
  readonly status: number;
  readonly body: unknown;
}

const MAX_ANSWER_BYTES = 1_048_576;

/** Fills `{name}` placeholders from the path parameters, each percent-encoded. */
export function expandPath(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined)
      throw new Error(`path template ${template} names {${name}}, which the command lacks`);
    return encodeURIComponent(value);
  });
}

/**
 * Request/reply to a system of record (WMS, ERP) over its `kind: http` connector, for the sync
 * commands: the connector's timeout, and a circuit breaker that answers 503 at once while the
 * system is known to be down instead of tying up the caller. Only 2xx counts as success; a 4xx
 * is the system refusing the request (the system is up), anything else is the system failing.
 */
export class SystemOfRecord {
  readonly breaker: CircuitBreaker;
  private readonly pool: LazyPool;
  private readonly base: URL;

  constructor(
    readonly connector: HttpConnectorSettings,
    private readonly clock: Clock,
  ) {
    if (connector.baseUrl === null && connector.url === null)
      throw new Error(`connector ${connector.name} has no baseUrl`);
    this.base = new URL(connector.baseUrl ?? (connector.url as string));
    this.pool = new LazyPool(this.base.origin, {
      connections: connector.connections,
      keepAliveTimeout: 30_000,
    });
    this.breaker = new CircuitBreaker(this.base.origin, connector.circuitBreaker, clock);
  }

  get timeoutMs(): number {
    return this.connector.timeoutMs ?? 5_000;
  }

  /** POSTs JSON to `path` (below the connector's baseUrl); throws problem errors the API can send as they are. */
  async post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<RecordAnswer> {
    const name = this.connector.name;
    if (!this.breaker.tryAcquire()) {
      throw unavailable(
        `the system of record "${name}" is failing (its circuit is open); nothing was published`,
        this.breaker.waitMs() / 1000,
      );
    }
    const controller = new AbortController();
    // The connector's timeout on the injectable clock (tests drive it instead of waiting).
    const finished = new AbortController();
    void this.clock.sleep(this.timeoutMs, finished.signal).then(() => {
      if (!finished.signal.aborted) controller.abort();
    });
    const basePath = this.base.pathname.replace(/\/$/, '');
    try {
      const response = await (await this.pool.get()).request({
        method: 'POST',
        path: `${basePath}${path}`,
        headers: {
          ...this.connector.headers,
          ...headers,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await readLimited(response.body, MAX_ANSWER_BYTES);
      const answer = parseAnswer(text);
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.breaker.success();
        return { status: response.statusCode, body: answer };
      }
      const retryable =
        response.statusCode === 408 || response.statusCode === 429 || response.statusCode >= 500;
      if (!retryable) {
        // The system is up and said no: that says nothing bad about its health.
        this.breaker.success();
        throw new ProblemError(
          'refused-by-system-of-record',
          `the system of record "${name}" refused the request with ${response.statusCode}; nothing was published`,
          { extensions: { upstream: { status: response.statusCode, body: answer } } },
        );
      }
      this.breaker.failure();
      const header = response.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(typeof header === 'string' ? header : undefined, this.clock.now());
      throw unavailable(
        `the system of record "${name}" answered ${response.statusCode}; nothing was published`,
        (retryAfterMs ?? 1000) / 1000,
      );
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      this.breaker.failure();
      const timedOut = controller.signal.aborted;
      throw unavailable(
        timedOut
          ? `the system of record "${name}" did not answer within ${this.timeoutMs} ms; nothing was published`
          : `the system of record "${name}" cannot be reached (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was published`,
        1,
      );
    } finally {
      finished.abort();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function unavailable(detail: string, retryAfterSeconds: number): ProblemError {
  return new ProblemError('system-of-record-unavailable', detail, {
    retryAfterSeconds: Math.max(1, retryAfterSeconds),
  });
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

function parseAnswer(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return { text: text.slice(0, 2000) };
  }
}
