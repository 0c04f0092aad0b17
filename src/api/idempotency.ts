import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../errors/problem.js';
import type { IdempotencyOwner, IdempotencyRecord, IdempotencyRepository } from '../store/port.js';

export interface IdempotencyOptions {
  readonly repository: IdempotencyRepository;
  /** Milliseconds since the epoch; tests drive time. @default Date.now */
  readonly now?: () => number;
  /** How long a key and its stored answer are kept. @default 24 h */
  readonly ttlMs?: number;
  /**
   * The hub process the claims are made by. A claim by an instance whose heartbeat lease lapsed, or by
   * this instance in an earlier boot, belongs to a request that died and is taken over at once.
   * Without it, claims carry no owner and only `staleMs` frees them.
   */
  readonly owner?: IdempotencyOwner;
  /** An in-progress claim older than this belongs to a request that died; a new request takes it over. @default 5 min */
  readonly staleMs?: number;
  /** How often expired records are deleted. @default 10 min */
  readonly purgeEveryMs?: number;
}

/** What the request fingerprint covers: the same key sent with anything else is refused. */
export interface FingerprintParts {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly contentType: string | undefined;
  /** Buffers are hashed as bytes, parsed bodies as their JSON; `undefined`/`null` is no body. */
  readonly body: unknown;
}

const HEADER = 'idempotency-key';
const TRACKED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** 1–255 printable ASCII characters (space to tilde). */
const VALID_KEY = /^[\x20-\x7e]{1,255}$/;
const HOUR = 3_600_000;

/** SHA-256 (hex) over method, path+query, content type and body. NUL separates the fields: none of them can hold one, so no two requests share a preimage. */
export function requestFingerprint(parts: FingerprintParts): string {
  const hash = createHash('sha256');
  hash.update(parts.method.toUpperCase());
  hash.update('\0');
  hash.update(parts.url);
  hash.update('\0');
  hash.update((parts.contentType ?? '').trim());
  hash.update('\0');
  const { body } = parts;
  if (Buffer.isBuffer(body)) hash.update(body);
  else if (body !== undefined && body !== null) hash.update(JSON.stringify(body) ?? '');
  return hash.digest('hex');
}

const replayBodies = new WeakMap<FastifyRequest, unknown>();

/**
 * Makes a replay of this request answer `body` instead of the answer sent now: for answers that
 * hold a secret shown only once (a new credential), which must not be kept in the clear.
 */
export function replayWith(request: FastifyRequest, body: unknown): void {
  replayBodies.set(request, body);
}

/** The response headers a replay repeats; framing and per-response headers (date, length) are not stored. */
function storedHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-type' || lower === 'location' || lower === 'retry-after' || lower.startsWith('x-'))
      out[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** The serialized payload as text, or null when it cannot be kept faithfully (a stream, binary bytes). */
function payloadText(payload: unknown): string | null {
  if (payload === undefined || payload === null) return '';
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) {
    const text = payload.toString('utf8');
    return Buffer.from(text).equals(payload) ? text : null;
  }
  return null;
}

/**
 * Whole seconds (at least 1) until a claim still in progress could be taken over: when its owner's
 * heartbeat lease lapses (unless renewed) or, at the latest, when it grows stale.
 */
export function inProgressRetryAfter(
  record: IdempotencyRecord,
  ownerLeaseMs: number | null,
  at: number,
  staleMs: number,
): number {
  const untilStale = record.createdAt + staleMs - at;
  const wait = ownerLeaseMs === null ? untilStale : Math.min(untilStale, ownerLeaseMs);
  return Math.max(1, Math.ceil(wait / 1000));
}

function describeTtl(ttlMs: number): string {
  return ttlMs % HOUR === 0 ? `${ttlMs / HOUR} h` : `${Math.ceil(ttlMs / 60_000)} min`;
}

interface Pending {
  readonly client: string;
  readonly key: string;
  settled: boolean;
}

/**
 * Makes POST/PUT/PATCH/DELETE with an `Idempotency-Key` safe to retry: the first 2xx answer is
 * stored per (client, key) and replayed; anything else frees the key. Register it after the auth
 * plugin (it reads `request.principal`) and before the routes it is to cover.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, options: IdempotencyOptions) => {
    const repository = options.repository;
    const now = options.now ?? Date.now;
    const ttlMs = options.ttlMs ?? 24 * HOUR;
    const staleMs = options.staleMs ?? 5 * 60_000;
    const owner = options.owner;
    const purgeEveryMs = options.purgeEveryMs ?? 10 * 60_000;
    // Only requests that claimed a key are in here; everyone else pays one WeakMap miss.
    const pending = new WeakMap<FastifyRequest, Pending>();

    /** Stores the answer (when given) or frees the key; exactly once per claim. */
    async function settle(
      request: FastifyRequest,
      claim: Pending,
      response: { status: number; headers: Record<string, string>; body: string } | null,
    ): Promise<void> {
      if (claim.settled) return;
      claim.settled = true;
      try {
        if (response) await repository.complete(claim.client, claim.key, response);
        else await repository.release(claim.client, claim.key);
        return;
      } catch (error) {
        request.log.error({ err: error }, 'idempotency: could not record the outcome of a request');
      }
      // The answer could not be stored: free the key rather than leave it stuck in progress.
      if (response) await repository.release(claim.client, claim.key).catch(() => undefined);
    }

    async function claimKey(request: FastifyRequest, reply: FastifyReply, key: string, client: string) {
      const at = now();
      const fingerprint = requestFingerprint({
        method: request.method,
        url: request.url,
        contentType: request.headers['content-type'],
        body: request.body,
      });
      const result = await repository.claim(
        { client, key, fingerprint, createdAt: at, expiresAt: at + ttlMs, ...(owner ? { owner } : {}) },
        at - staleMs,
      );
      if (result.claimed) {
        pending.set(request, { client, key, settled: false });
        return false;
      }
      const existing = result.existing;
      if (existing.fingerprint !== fingerprint) {
        throw new ProblemError(
          'idempotency-key-reused',
          `this Idempotency-Key was already used for a different request (method, path or body) within ${describeTtl(ttlMs)}; use a new key for a new request`,
        );
      }
      if (existing.state !== 'done' || existing.status === null) {
        throw new ProblemError(
          'request-in-progress',
          'a request with this Idempotency-Key is still running; retry after Retry-After to get its answer',
          { retryAfterSeconds: inProgressRetryAfter(existing, result.ownerLeaseMs, at, staleMs) },
        );
      }
      replay(reply, existing);
      return true;
    }

    function replay(reply: FastifyReply, record: IdempotencyRecord): void {
      reply.code(record.status ?? 200);
      for (const [name, value] of Object.entries(record.headers ?? {})) reply.header(name, value);
      reply.header('idempotent-replayed', 'true');
      reply.send(record.body === '' || record.body === null ? undefined : record.body);
    }

    // preHandler: authentication (onRequest) and body parsing are done, schema validation passed.
    app.addHook('preHandler', (request, reply, done) => {
      const header = request.headers[HEADER];
      if (header === undefined || !TRACKED_METHODS.has(request.method)) return done();
      if (typeof header !== 'string' || !VALID_KEY.test(header)) {
        return done(
          new ProblemError('bad-request', 'the Idempotency-Key header is not a valid key', {
            errors: [
              { path: 'header/Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' },
            ],
          }),
        );
      }
      const client = request.principal?.client;
      if (client === undefined) return done(); // anonymous requests have no namespace to track in
      claimKey(request, reply, header, client).then(
        // A replay has been sent: not calling done() keeps the handler from running.
        (replayed) => {
          if (!replayed) done();
        },
        (error: Error) => done(error),
      );
    });

    // onSend sees every answer that went through reply.send: the handler's, the error handler's
    // (thrown errors, 4xx), and one sent long after the client went away, so a request that
    // disconnected still settles when its handler finishes rather than freeing the key while it
    // runs (a retry would then run it twice).
    app.addHook('onSend', (request, reply, payload, done) => {
      const claim = pending.get(request);
      if (claim === undefined || claim.settled) return done();
      const ok = reply.statusCode >= 200 && reply.statusCode < 300;
      const body = !ok
        ? null
        : replayBodies.has(request)
          ? JSON.stringify(replayBodies.get(request))
          : payloadText(payload);
      const response =
        body === null ? null : { status: reply.statusCode, headers: storedHeaders(reply), body };
      // Stored before the client sees the answer, so a retry after it always finds the record.
      settle(request, claim, response).then(() => done(), done);
    });

    // Backstop for answers that bypassed onSend (hijacked replies, fastify's fallback error path).
    app.addHook('onResponse', (request, _reply, done) => {
      const claim = pending.get(request);
      if (claim === undefined || claim.settled) return done();
      settle(request, claim, null).then(() => done(), done);
    });

    let purging = false;
    const timer = setInterval(() => {
      if (purging) return;
      purging = true;
      repository
        .purgeExpired(now())
        .catch((error: unknown) => app.log.warn({ err: error }, 'idempotency: purging expired keys failed'))
        .finally(() => {
          purging = false;
        });
    }, purgeEveryMs);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'conveyor-idempotency', fastify: '5.x' },
);
