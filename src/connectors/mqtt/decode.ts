/**
 * From one MQTT PUBLISH to what the hub is handed: a stable message id, the decoded payload, the
 * events of the built-in Sparkplug mapping, or the reason the message goes to the source DLQ.
 * Pure apart from the Sparkplug session state it keeps; the source does the networking.
 */
import { createHash } from 'node:crypto';
import type { MappedEvent } from '../framework/types.js';
import { decodePayload, SparkplugDecodeError, type SparkplugPayload } from './sparkplug/codec.js';
import { createSparkplugMapper, type SparkplugMapper } from './sparkplug/mapping.js';
import {
  type RebirthRequest,
  type SessionProblem,
  type SessionProblemCode,
  type SparkplugMessage,
  SparkplugSessions,
} from './sparkplug/session.js';
import type { CompiledSparkplug } from './spec.js';

/** What one PUBLISH becomes. */
export type Decoded =
  | {
      /** Handed to the hub; acknowledged at the broker once the hub acks it. */
      readonly kind: 'deliver';
      readonly id: string;
      readonly payload: unknown;
      /** Events of the built-in mapping; absent when the hub's `map` does the mapping. */
      readonly events?: readonly MappedEvent[];
      /** Set when the message cannot become events: the hub puts it in the source DLQ. */
      readonly error?: string;
      /** Problems worth a degraded health even when the message itself is fine (a seq gap). */
      readonly warnings: readonly string[];
      readonly rebirth?: RebirthRequest;
    }
  | {
      /** Carries nothing for the hub (a command, a host's STATE, a stale death): acknowledged at once. */
      readonly kind: 'skip';
      readonly id: string;
      readonly note: string;
      readonly warnings: readonly string[];
      readonly rebirth?: RebirthRequest;
    };

/** A short digest of topic and payload bytes: the same PUBLISH always gets the same one. */
export function contentDigest(topic: string, bytes: Uint8Array): string {
  return createHash('sha256').update(topic).update('\u0000').update(bytes).digest('hex').slice(0, 32);
}

/**
 * A JSON message. Its id is topic + digest of the bytes, so a redelivered PUBLISH is the same
 * message to the hub; two byte-identical publishes on one topic are one message too (publishers
 * should put a timestamp or sequence number in the payload).
 */
export function decodeJson(topic: string, bytes: Uint8Array): Decoded {
  const id = `${topic}#${contentDigest(topic, bytes)}`;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { kind: 'deliver', id, payload: JSON.parse(text), warnings: [] };
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'not UTF-8 text';
    return { kind: 'deliver', id, payload: null, error: `not JSON: ${reason}`, warnings: [] };
  }
}

/** Session problems after which metrics were dropped: the message cannot be stored as it is. */
const LOSSY: ReadonlySet<SessionProblemCode> = new Set([
  'unknown-alias',
  'invalid-value',
  'unnamed-metric',
  'data-before-birth',
]);

/** A JSON-friendly copy: 64-bit integers beyond 2^53 as decimal strings, bytes as base64. */
export function jsonSafe(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = jsonSafe(v, depth + 1);
  return out;
}

/** What a `map` expression sees of a Sparkplug message. */
function sparkplugPayload(message: SparkplugMessage): unknown {
  const { topic, payload } = message;
  return jsonSafe({
    topic: { ...topic },
    timestamp: payload.timestamp,
    seq: payload.seq,
    bdSeq: message.bdSeq,
    metrics: payload.metrics,
    ...(message.devices ? { devices: message.devices } : {}),
  });
}

function describeProblems(origin: string, problems: readonly SessionProblem[]): string[] {
  return problems.map((p) => `${origin}: ${p.detail}`);
}

/**
 * Sparkplug B: decodes, tracks edge node sessions (alias tables, seq, bdSeq), maps with the
 * built-in rules, and says when an edge node must be asked for a rebirth.
 */
export class SparkplugDecoder {
  private readonly sessions: SparkplugSessions;
  private readonly mapper: SparkplugMapper | null;

  /** @param builtInMapping false when the connector's `map` maps the payload instead. */
  constructor(settings: CompiledSparkplug, builtInMapping = true) {
    this.sessions = new SparkplugSessions({ rebirthHoldOffMs: settings.rebirthHoldOffMs });
    this.mapper = builtInMapping ? createSparkplugMapper(settings.mapping) : null;
  }

  /**
   * The id of a PUBLISH without changing any session: topic (group, type, edge node, device) with
   * the payload's seq and timestamp, which a redelivery repeats; a digest when the payload has no
   * timestamp or cannot be decoded.
   */
  static messageId(topic: string, bytes: Uint8Array): string {
    let payload: SparkplugPayload | undefined;
    try {
      payload = decodePayload(bytes);
    } catch (error) {
      if (!(error instanceof SparkplugDecodeError)) throw error;
    }
    if (payload?.timestamp === undefined) return `${topic}#${contentDigest(topic, bytes)}`;
    return `${topic}#${payload.seq ?? ''}@${payload.timestamp}`;
  }

  /** Feeds one PUBLISH to the sessions (in arrival order) and maps it. */
  decode(topic: string, bytes: Uint8Array, receivedAt: number, id: string): Decoded {
    const outcome = this.sessions.process(topic, bytes, receivedAt);
    const rebirth = outcome.kind === 'rebirth-needed' ? { rebirth: outcome.rebirth } : {};
    if (outcome.kind === 'invalid') {
      return { kind: 'deliver', id, payload: null, events: [], error: outcome.error.message, warnings: [] };
    }
    if (outcome.kind === 'host-state') {
      return { kind: 'skip', id, note: `STATE of host ${outcome.hostId}`, warnings: [] };
    }
    const lossy = outcome.problems.filter((p) => LOSSY.has(p.code));
    const warnings = describeProblems(
      topic,
      outcome.problems.filter((p) => !LOSSY.has(p.code)),
    );
    if (outcome.kind === 'ignored' || (outcome.kind === 'rebirth-needed' && !outcome.message)) {
      if (lossy.length > 0) {
        // Data that cannot be read without a birth certificate: kept in the DLQ, raw.
        const error = lossy.map((p) => p.detail).join('; ');
        return { kind: 'deliver', id, payload: null, events: [], error, warnings, ...rebirth };
      }
      const note = outcome.kind === 'ignored' ? outcome.notes.join('; ') || outcome.reason : 'no session';
      return { kind: 'skip', id, note, warnings, ...rebirth };
    }
    const message = outcome.message!;
    const payload = sparkplugPayload(message);
    if (lossy.length > 0) {
      // Some metrics could not be resolved; storing the rest would silently lose data.
      const error = lossy.map((p) => p.detail).join('; ');
      return { kind: 'deliver', id, payload, events: [], error, warnings, ...rebirth };
    }
    if (!this.mapper) return { kind: 'deliver', id, payload, warnings, ...rebirth };
    const events: MappedEvent[] = this.mapper(message).map((e) => ({
      type: e.type,
      data: e.data,
      subject: e.subject,
      plant: e.data.plant,
      time: e.data.at,
    }));
    return { kind: 'deliver', id, payload, events, warnings, ...rebirth };
  }
}
