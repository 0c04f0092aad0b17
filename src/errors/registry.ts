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
    doc: 'No valid credentials. Send `Authorization: Bearer <api key>`.',
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
    doc: 'Use application/cloudevents+json, application/cloudevents-batch+json, or binary mode with ce-* headers.',
    retryable: false,
  },
  'validation-failed': {
    status: 422,
    title: 'Validation failed',
    doc: 'The request is well-formed but its content breaks a rule; `errors[]` lists each `{path, message}`.',
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
