import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';

/** A setting known now, or only once the hub is up (the demo starts the simulated systems first). */
export type LateBound = string | (() => string);

export interface HubClientOptions {
  /** Attempts per command, the first included, while the hub answers 503/429 or cannot be reached. @default 4 */
  readonly maxAttempts?: number;
  /** Wait before the first retry when the hub sends no Retry-After; doubles per retry. @default 500 */
  readonly retryDelayMs?: number;
  /**
   * Longest wait before a retry. A Retry-After beyond it ends the retries (the answer is returned)
   * rather than retrying earlier than the hub asked. @default 30_000
   */
  readonly maxRetryDelayMs?: number;
  /** Per-request timeout for the response headers and body. @default 10_000 */
  readonly timeoutMs?: number;
  /** Waits before a retry; tests pass one that records the delay and returns at once. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface CommandOptions {
  /** @default application/json (objects are sent as JSON; strings and bytes as they are) */
  readonly contentType?: string;
  /** Sent on every attempt, so the hub answers a retry with the first outcome; generated when absent. */
  readonly idempotencyKey?: string;
  /** Overrides the client's {@link HubClientOptions.maxAttempts} for this call. */
  readonly maxAttempts?: number;
}

export interface CommandResponse {
  readonly status: number;
  /** Parsed JSON for JSON answers (problem+json included), else the text; undefined when empty. */
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** How many requests it took (1 when the first answer was final). */
  readonly attempts: number;
  readonly idempotencyKey: string;
}

/** Thrown by calls made after {@link HubClient.close}, and by commands waiting to retry when it closes. */
export class HubClientClosedError extends Error {
  constructor() {
    super('the hub client is closed');
    this.name = 'HubClientClosedError';
  }
}

const RETRYABLE = new Set([429, 503]);

/**
 * The hub's API as the simulated systems use it, over real HTTP like any other client: CloudEvents
 * publishing and commands, with bounded retries of 503/429 under the same Idempotency-Key.
 */
export class HubClient {
  /** Retries made (each a repeated request after a 503, a 429 or a connection failure). */
  retries = 0;
  private readonly dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  private readonly closing = new AbortController();
  private readonly baseUrl: () => string;
  private readonly apiKey: () => string;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(
    baseUrl: LateBound,
    apiKey: LateBound,
    private readonly options: HubClientOptions = {},
  ) {
    this.baseUrl = typeof baseUrl === 'function' ? baseUrl : () => baseUrl;
    this.apiKey = typeof apiKey === 'function' ? apiKey : () => apiKey;
    // Unref'd: a simulated system waiting to retry must not keep a stopping process alive.
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal, ref: false }));
  }

  /** Publishes events as one batch; resolves with the HTTP status (202 when durable). */
  async publish(events: object[]): Promise<number> {
    if (this.closing.signal.aborted) throw new HubClientClosedError();
    const response = await request(`${this.baseUrl()}/v1/events`, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        authorization: `Bearer ${this.apiKey()}`,
      },
      body: JSON.stringify(events),
      ...this.timeouts(),
    });
    await response.body.dump();
    return response.statusCode;
  }

  /**
   * Sends a command (any API call) and resolves with the final answer. 503 and 429 answers and
   * connection failures are retried with the same Idempotency-Key, after the answer's Retry-After
   * (else an exponential backoff), at most `maxAttempts` times in all. Rejects only when the last
   * attempt could not reach the hub, or the client was closed.
   */
  async command(
    method: string,
    path: string,
    body?: unknown,
    options: CommandOptions = {},
  ): Promise<CommandResponse> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const maxAttempts = Math.max(1, options.maxAttempts ?? this.options.maxAttempts ?? 4);
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    let backoff = this.options.retryDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      if (this.closing.signal.aborted) throw new HubClientClosedError();
      let response: CommandResponse | undefined;
      let failure: unknown;
      try {
        response = await this.send(method, path, body, options.contentType, idempotencyKey, attempt);
      } catch (error) {
        if (this.closing.signal.aborted) throw new HubClientClosedError();
        failure = error;
      }
      if (response && !RETRYABLE.has(response.status)) return response;
      const wait = retryAfterMs(response?.headers['retry-after']) ?? Math.min(backoff, maxDelay);
      if (attempt >= maxAttempts || wait > maxDelay) {
        if (response) return response;
        throw failure;
      }
      backoff *= 2;
      this.retries++;
      try {
        await this.sleep(wait, this.closing.signal);
      } catch (error) {
        if (this.closing.signal.aborted) throw new HubClientClosedError();
        throw error;
      }
    }
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    idempotencyKey: string,
    attempt: number,
  ): Promise<CommandResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.apiKey()}`,
      accept: 'application/json, application/problem+json',
      'idempotency-key': idempotencyKey,
    };
    let payload: string | Uint8Array | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      headers['content-type'] = contentType ?? 'application/json';
    }
    const response = await request(`${this.baseUrl()}${path}`, {
      method: method as 'POST',
      dispatcher: this.dispatcher,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
      signal: this.closing.signal,
      ...this.timeouts(),
    });
    const text = await response.body.text();
    const type = String(response.headers['content-type'] ?? '');
    let parsed: unknown = text === '' ? undefined : text;
    if (text !== '' && type.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON after all: the caller gets the text.
      }
    }
    return {
      status: response.statusCode,
      body: parsed,
      headers: response.headers,
      attempts: attempt,
      idempotencyKey,
    };
  }

  private timeouts(): { headersTimeout: number; bodyTimeout: number } {
    const ms = this.options.timeoutMs ?? 10_000;
    return { headersTimeout: ms, bodyTimeout: ms };
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    // Ends commands waiting to retry; stopping must not wait for a hub that is itself shutting down.
    this.closing.abort();
    await this.dispatcher.destroy();
  }
}

/** Retry-After as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The problem `type` code of a problem+json answer (`urn:conveyor:problem:<code>` → `<code>`). */
export function problemCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const type = (body as { type?: unknown }).type;
  if (typeof type !== 'string') return undefined;
  return type.startsWith('urn:conveyor:problem:') ? type.slice('urn:conveyor:problem:'.length) : type;
}
