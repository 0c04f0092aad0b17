/**
 * The event log cannot be reached or did not acknowledge in time (a JetStream leader election, a
 * lost connection). Nothing was acknowledged, so the same append may be sent again: the log
 * recognises events it already has by (source, id). The API answers 503.
 */
export class LogUnavailableError extends Error {
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogUnavailableError';
  }
}

/**
 * The log's disk (or its configured size cap) is full: the append was rolled back and nothing
 * was acknowledged. The log keeps running and takes appends again as soon as there is room;
 * the API answers 503 with Retry-After.
 */
export class LogStorageFullError extends Error {
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogStorageFullError';
  }
}
