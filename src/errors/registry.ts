/**
 * The one registry of error codes. Every problem+json the API answers with comes from here:
 * the `type` URI, the HTTP status and the title are looked up by code, never written inline.
 */
export interface ErrorCodeSpec {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Short, stable, human title (RFC 9457 `title`). */
  readonly title: string;
  /** One line for the docs: when it happens and what the caller should do. */
  readonly doc: string;
  /** Whether repeating the same request later can succeed. */
  readonly retryable: boolean;
}

export const ERROR_CODES = {
  'bad-request': {
    status: 400,
    title: 'Bad request',
    doc: 'The request could not be understood (for example a malformed query parameter). Fix the named field.',
    retryable: false,
  },
  'malformed-json': {
    status: 400,
    title: 'Malformed JSON',
    doc: 'The body is not valid JSON. The detail gives the parser message and position; fix the body.',
    retryable: false,
  },
  'invalid-event': {
    status: 400,
    title: 'Invalid CloudEvent',
    doc: 'An event breaks the CloudEvents 1.0 envelope rules; `errors[]` names each attribute and the fix.',
    retryable: false,
  },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    doc: 'No valid credentials. Send `Authorization: Bearer <api key or JWT>`; the detail says what was wrong (missing, unknown or revoked key, expired or untrusted token).',
    retryable: false,
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    doc: 'The credentials are valid but lack the scope or plant this call needs.',
    retryable: false,
  },
  'not-found': {
    status: 404,
    title: 'Not found',
    doc: 'No such resource or route.',
    retryable: false,
  },
  'method-not-allowed': {
    status: 405,
    title: 'Method not allowed',
    doc: 'The route exists but not with this HTTP method.',
    retryable: false,
  },
  conflict: {
    status: 409,
    title: 'Conflict',
    doc: 'The request conflicts with the current state of the resource.',
    retryable: false,
  },
  'schema-incompatible': {
    status: 409,
    title: 'Schema incompatible',
    doc: "The proposed schema breaks the type's compatibility mode; `errors[]` explains each incompatibility by path and rule.",
    retryable: false,
  },
  'idempotency-key-reused': {
    status: 409,
    title: 'Idempotency key reused',
    doc: 'This `Idempotency-Key` was already used within 24 h for a different request (method, path or body). Use a new key for a new request.',
    retryable: false,
  },
  'request-in-progress': {
    status: 409,
    title: 'Request in progress',
    doc: 'A request with this `Idempotency-Key` is still running. Retry after `Retry-After` to get its stored answer.',
    retryable: true,
  },
  'shipment-blocked-by-quality-hold': {
    status: 409,
    title: 'Shipment blocked by quality hold',
    doc: 'A shipped lot is under a quality hold that blocks it; `holds[]` names each hold and its lots. A use-as-is or rework disposition lifts the block; after scrap or return-to-supplier the lots stay unshippable.',
    retryable: false,
  },
  'payload-too-large': {
    status: 413,
    title: 'Payload too large',
    doc: 'The body is over `server.bodyLimit` (default 1 MiB); send smaller requests.',
    retryable: false,
  },
  'batch-too-large': {
    status: 413,
    title: 'Batch too large',
    doc: 'A batch holds more than 1,000 events; split it.',
    retryable: false,
  },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported media type',
    doc: "The body's Content-Type is not one this endpoint takes: events take application/cloudevents+json, application/cloudevents-batch+json or binary mode (ce-* headers); commands and other calls take application/json; supplier ASNs also application/edi-x12 and application/edifact.",
    retryable: false,
  },
  'validation-failed': {
    status: 422,
    title: 'Validation failed',
    doc: 'The request is well-formed but its content breaks a rule; `errors[]` lists each `{path, message}`.',
    retryable: false,
  },
  'json-too-complex': {
    status: 400,
    title: 'JSON too complex',
    doc: 'The JSON body nests deeper than 32 levels, or holds more than 10,000 members or array items in one object or array; flatten or split it.',
    retryable: false,
  },
  'unknown-routing': {
    status: 422,
    title: 'Unknown routing',
    doc: 'No routing is known for this plant and material in `referenceData.routings`; add the routing rows, or release a material the plant makes.',
    retryable: false,
  },
  'invalid-edi': {
    status: 422,
    title: 'Invalid EDI document',
    doc: 'The X12 856 or EDIFACT DESADV body could not be read; `errors[]` names the segment and element at fault. Nothing was published.',
    retryable: false,
  },
  'refused-by-system-of-record': {
    status: 422,
    title: 'Refused by the system of record',
    doc: 'The system of record (for example the WMS) refused the request; `upstream` carries its status and answer. Nothing was published.',
    retryable: false,
  },
  'query-too-broad': {
    status: 422,
    title: 'Query too broad',
    doc: 'The query would read more events than one request may (200,000 by default), so it was refused before it could slow the hub; `errors[]` names the parameters to narrow (a shorter range, one plant).',
    retryable: false,
  },
  'rate-limited': {
    status: 429,
    title: 'Too many requests',
    doc: 'A rate limit or queue bound was reached; retry after the `Retry-After` seconds.',
    retryable: true,
  },
  internal: {
    status: 500,
    title: 'Internal error',
    doc: 'An unexpected failure inside the hub; nothing was acknowledged. Retry; report it if it persists.',
    retryable: true,
  },
  unavailable: {
    status: 503,
    title: 'Service unavailable',
    doc: 'The hub is starting, stopping or a backend it needs is down; retry after `Retry-After`.',
    retryable: true,
  },
  'system-of-record-unavailable': {
    status: 503,
    title: 'System of record unavailable',
    doc: 'The system of record this command needs is down, too slow, or its circuit is open. Nothing was published; retry after `Retry-After`.',
    retryable: true,
  },
  'store-unavailable': {
    status: 503,
    title: 'State store unavailable',
    doc: "The hub's state store (PostgreSQL in a cluster) cannot be reached or did not answer in time. Nothing this request would have changed was stored; retry after `Retry-After`.",
    retryable: true,
  },
  'log-unavailable': {
    status: 503,
    title: 'Event log unavailable',
    doc: 'The event log (the NATS JetStream cluster) cannot be reached or did not acknowledge in time. Events without a 2xx were not acknowledged; send them again with the same ids after `Retry-After` (duplicates are recognised).',
    retryable: true,
  },
  'log-disk-full': {
    status: 503,
    title: 'Event log disk full',
    doc: "The event log's disk (or its size cap) is full, so nothing of this request was stored. 503 rather than 507, because clients and load balancers already retry a 503 after `Retry-After` (and may try another hub instance); the hub takes events again by itself once there is room, no restart needed. `/readyz` answers 503 and `conveyor_log_disk_full` is 1 meanwhile. Free space on the log's volume (the log itself cannot shrink while the disk has no room), then send the same events again (duplicates are recognised).",
    retryable: true,
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of every problem `type` URI; the docs page has one anchor per code. */
export const PROBLEM_TYPE_BASE = 'urn:conveyor:problem:';

export function problemType(code: ErrorCode): string {
  return PROBLEM_TYPE_BASE + code;
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
