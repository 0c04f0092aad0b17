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
