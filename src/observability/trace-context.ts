import { createHash, randomFillSync } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as the hub carries it: on events (the
 * CloudEvents `traceparent` and `tracestate` attributes), on requests and on every delivery
 * attempt. Plain strings and cheap functions: these run per event and per attempt whether or not
 * spans are exported.
 */

/** A parsed `traceparent` (version 00 layout; later versions are read the same way, as the spec asks). */
export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero: the span that produced the carrier. */
  readonly spanId: string;
  /** The trace-flags byte as two hex digits; bit 0 is `sampled`. */
  readonly flags: string;
}

/** A trace context as it travels: the `traceparent` value and, when there is one, `tracestate`. */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** The spec's limit on `tracestate` is 32 list members; 512 characters is what a vendor must keep. */
const TRACESTATE_MAX = 512;
const TRACESTATE = /^[\x20-\x7e]*$/;

/**
 * Reads a `traceparent` the way a receiver must: version `ff` and all-zero ids are invalid, a
 * version 00 value has nothing after the flags. Anything else is `null` (start a new trace).
 */
export function parseTraceparent(value: unknown): TraceContext | null {
  if (typeof value !== 'string' || value.length < 55) return null;
  const m = TRACEPARENT.exec(value);
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, flags };
}

/** A `tracestate` worth passing on: printable, within the length a vendor must keep; else `undefined`. */
export function validTracestate(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > TRACESTATE_MAX) return undefined;
  return TRACESTATE.test(value) ? value : undefined;
}

/** The `traceparent` of a context (always written as version 00). */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

/** The trace id of a `traceparent`, or `undefined` when it is not a valid one. */
export function traceIdOf(traceparent: unknown): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

// Ids come from a pool filled by the CSPRNG: one system call per 512 ids instead of one per id.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    if (poolOffset + bytes > POOL_SIZE) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (hex !== zero) return hex;
  }
}

/** A random 8-byte span id. */
export function newSpanId(): string {
  return randomHex(8, ZERO_SPAN);
}

/** A random 16-byte trace id. */
export function newTraceId(): string {
  return randomHex(16, ZERO_TRACE);
}

/** A new trace the hub starts: random ids, `sampled` set so the systems downstream record it. */
export function newTraceparent(): string {
  return `00-${newTraceId()}-${newSpanId()}-01`;
}

/** The context of a new span under `parent`: same trace and flags, a new span id. */
export function childTraceparent(parent: TraceContext): string {
  return `00-${parent.traceId}-${newSpanId()}-${parent.flags}`;
}

/**
 * A trace context derived from a stable name (an event id): the same on every hub instance and
 * every retry. For events that have no trace context of their own (stored before the hub added
 * one, or raised by the hub itself), so all their deliveries still share one trace.
 */
export function derivedTraceContext(name: string): TraceContext {
  const hex = createHash('sha256').update(name).digest('hex');
  const traceId = hex.slice(0, 32) === ZERO_TRACE ? `${hex.slice(0, 31)}1` : hex.slice(0, 32);
  const spanId = hex.slice(32, 48) === ZERO_SPAN ? `${hex.slice(32, 47)}1` : hex.slice(32, 48);
  return { traceId, spanId, flags: '01' };
}
