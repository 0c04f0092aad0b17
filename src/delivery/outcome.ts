/** What one delivery attempt came to. */
export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly status: number; readonly ms: number }
  /** Worth trying again later: 408, 429, 5xx, timeouts, connection errors. */
  | {
      readonly kind: 'retry';
      readonly status?: number;
      readonly error: string;
      readonly ms: number;
      readonly retryAfterMs: number | null;
    }
  /** The endpoint refused this event (other 4xx): retrying cannot help; it goes to the DLQ at once. */
  | { readonly kind: 'rejected'; readonly status: number; readonly error: string; readonly ms: number };

/** Classifies an HTTP status as SPEC'd: 2xx ok; 408, 429, 5xx retried; any other status rejected. */
export function classifyStatus(status: number): 'delivered' | 'retry' | 'rejected' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}
