import type jsonata from 'jsonata';
import type { Dispatcher } from 'undici';
import type { HttpConnectorSettings } from '../connectors/http/http-connector.js';
import type { StoredEvent } from '../model/envelope.js';
import type { TraceCarrier } from '../observability/trace-context.js';
import { LazyPool } from '../util/lazy-undici.js';
import { type AttemptAbort, AttemptDeadlines } from './attempt-deadlines.js';
import type { Clock } from './clock.js';
import { type AttemptOutcome, classifyStatus } from './outcome.js';
import { parseRetryAfter } from './retry.js';
import { eventBody, transformRefused } from './sink.js';

const ATTRIBUTE_HEADER_SKIP = new Set(['data', 'data_base64', 'datacontenttype']);

/** Percent-encodes what HTTP headers cannot carry, as the CloudEvents HTTP binding asks. */
function headerValue(value: unknown): string {
  return String(value).replace(/[^\x20-\x7e]|%/g, (c) => encodeURIComponent(c));
}

/** Characters of a refusal's body kept for its error message. */
const ERROR_TEXT_CHARS = 300;

/** What an attempt needs of an answer: its status, and for a failure its Retry-After and body's start. */
interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly text: string;
}

/**
 * One POST through undici's dispatcher interface rather than `request()`: an answer then costs
 * no response stream and no body promise chain, about a fifth of the client's CPU per request.
 * The body of a success is not kept; a failure keeps its first characters for the error.
 */
function exchange(
  pool: Dispatcher,
  path: string,
  headers: Record<string, string>,
  body: string,
  attempt: AttemptAbort,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let retryAfter: string | undefined;
    const refusal: Buffer[] = [];
    let refusalBytes = 0;
    let abortRequest: ((error: Error) => void) | null = null;
    const onAbort = () => abortRequest?.(new Error(attempt.reason ?? 'stopped'));
    attempt.once('abort', onAbort);
    const settle = () => attempt.off('abort', onAbort);
    pool.dispatch(
      { method: 'POST', path, headers, body },
      {
        onConnect(abort) {
          abortRequest = abort;
          if (attempt.aborted) onAbort();
        },
        onHeaders(statusCode, rawHeaders) {
          status = statusCode;
          if (statusCode >= 300) {
            for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
              if (String(rawHeaders[i]).toLowerCase() === 'retry-after')
                retryAfter = String(rawHeaders[i + 1]);
            }
          }
          return true;
        },
        onData(chunk) {
          // Up to 4 bytes a character: enough bytes for the characters kept, decoded once at the end.
          if (status >= 300 && refusalBytes < ERROR_TEXT_CHARS * 4) {
            refusal.push(chunk);
            refusalBytes += chunk.length;
          }
          return true;
        },
        onComplete() {
          settle();
          const text = refusal.length > 0 ? Buffer.concat(refusal).toString('utf8') : '';
          resolve({ status, retryAfter, text: text.slice(0, ERROR_TEXT_CHARS) });
        },
        onError(error) {
          settle();
          reject(error);
        },
      },
    );
  });
}

/**
 * Delivers events to one HTTP endpoint over a keep-alive connection pool. Without a transform
 * the body is the event in CloudEvents structured mode; with one, the transform's result is the
 * body and the attributes travel as `ce-*` headers (binary mode). The `traceparent` header is the
 * attempt's (a new span in the event's trace); `ce-traceparent` stays the event's own attribute.
 */
export class HttpSink {
  private readonly pool: LazyPool;
  private readonly origin: string;
  private readonly path: string;
  private readonly deadlines = new AttemptDeadlines();

  /** `connections`: the pool's size (the connector's, or the concurrency of the lanes it serves). */
  constructor(
    readonly connector: HttpConnectorSettings,
    private readonly clock: Clock,
    connections: number = connector.connections,
  ) {
    const target = new URL(connector.url ?? connector.baseUrl ?? '');
    this.origin = target.origin;
    this.path = `${target.pathname}${target.search}`;
    this.pool = new LazyPool(this.origin, {
      connections,
      keepAliveTimeout: 30_000,
      pipelining: connector.pipelining,
    });
  }

  get endpoint(): string {
    return `${this.origin}${this.path}`;
  }

  async send(
    event: StoredEvent,
    transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
    trace?: TraceCarrier,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const headers = this.headersFor(trace);
    let body: string;
    try {
      body = await eventBody(event, transform);
    } catch (error) {
      return transformRefused(error);
    }
    if (transform) {
      headers['content-type'] = 'application/json';
      for (const [name, value] of Object.entries(event)) {
        if (!ATTRIBUTE_HEADER_SKIP.has(name) && value !== undefined && value !== null)
          headers[`ce-${name}`] = headerValue(value);
      }
    } else headers['content-type'] = 'application/cloudevents+json';
    return this.post(body, headers, started, timeoutMs, signal);
  }

  /**
   * One request for several events, in order: CloudEvents batched mode (a JSON array of structured
   * events, `application/cloudevents-batch+json`); with a transform, a JSON array of its results.
   * The answer's status is every event's outcome. `trace` is the attempt's, in the first event's trace.
   */
  async sendBatch(
    events: readonly StoredEvent[],
    transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
    trace?: TraceCarrier,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const headers = this.headersFor(trace);
    const parts = new Array<string>(events.length);
    try {
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as StoredEvent;
        parts[i] = await eventBody(event, transform);
      }
    } catch (error) {
      // Refused as a whole: the route splits the batch until the one event it fails on stands alone.
      return transformRefused(error);
    }
    headers['content-type'] = transform ? 'application/json' : 'application/cloudevents-batch+json';
    return this.post(`[${parts.join(',')}]`, headers, started, timeoutMs, signal);
  }

  private headersFor(trace: TraceCarrier | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...this.connector.headers };
    if (trace) {
      headers.traceparent = trace.traceparent;
      if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
    }
    return headers;
  }

  private async post(
    body: string,
    headers: Record<string, string>,
    started: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    // undici's own timeouts are coarse (about half a second); a deadline of our own keeps the route's
    // timeout exact. Stopping the hub aborts the attempt too.
    const attempt = this.deadlines.start(timeoutMs, signal);
    try {
      if (attempt.aborted) throw new Error('stopped');
      const response = await exchange(await this.pool.get(), this.path, headers, body, attempt);
      const ms = performance.now() - started;
      const kind = classifyStatus(response.status);
      if (kind === 'delivered') return { kind, status: response.status, ms };
      const error = `HTTP ${response.status}${response.text ? `: ${response.text}` : ''}`;
      if (kind === 'rejected') return { kind, status: response.status, error, ms };
      return {
        kind,
        status: response.status,
        error,
        ms,
        retryAfterMs: parseRetryAfter(response.retryAfter, this.clock.now()),
      };
    } catch (error) {
      const reason =
        attempt.reason === 'stopped' || signal?.aborted
          ? 'stopped'
          : attempt.reason === 'timeout'
            ? `timeout after ${timeoutMs} ms`
            : (error as Error).message;
      return { kind: 'retry', error: reason, ms: performance.now() - started, retryAfterMs: null };
    } finally {
      this.deadlines.end(attempt, timeoutMs);
    }
  }

  /** Drops the connections. Callers stop their deliveries first; nothing waits on a slow peer. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
