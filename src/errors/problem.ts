import { ERROR_CODES, type ErrorCode, problemType } from './registry.js';

/** One field-level finding in a validation problem; `path` is a JSON Pointer or an attribute name. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** RFC 9457 problem details, as sent on the wire. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/**
 * An error the API turns into problem+json. Thrown anywhere below the API; the error handler
 * renders it. `retryAfterSeconds` becomes a `Retry-After` header.
 */
export class ProblemError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { errors?: FieldError[]; retryAfterSeconds?: number; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.code = code;
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.extensions = options.extensions ?? {};
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  toProblem(instance?: string): ProblemDocument {
    const spec = ERROR_CODES[this.code];
    const doc: ProblemDocument = {
      ...this.extensions,
      type: problemType(this.code),
      title: spec.title,
      status: spec.status,
      detail: this.message,
      code: this.code,
    };
    if (instance !== undefined) doc.instance = instance;
    if (this.errors !== undefined) doc.errors = this.errors;
    return doc;
  }
}
