import { createHash } from 'node:crypto';
import type { CloudEvent } from '../../model/envelope.js';
import type { EventFilter } from '../port.js';
import { typeMatcher } from '../port.js';

/** The token an absent (or empty) attribute gets. No encoded value is a lone `_`. */
export const ABSENT_TOKEN = '_';

/** Encoded values longer than this are replaced by a hash: NATS bounds a whole subject line. */
const MAX_TOKEN_LENGTH = 64;

/**
 * Most server-side filter subjects one read or consumer uses (JetStream 2.9 takes one filter per
 * consumer, so each is a consumer of its own); past this, filters widen and the rest is done here.
 */
export const MAX_FILTER_SUBJECTS = 8;

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Stream names double as the first subject token and as a part of KV bucket names. */
export function assertStreamName(name: string): void {
  if (!STREAM_NAME.test(name)) {
    throw new Error(`stream name "${name}" must be 1-64 letters, digits, '_' or '-'`);
  }
}

function plainByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d // -
  );
}

/**
 * One NATS subject token for an attribute value. Letters, digits and `-` stay as they are; every
 * other UTF-8 byte becomes `_XX` (hex), so '.', '*', '>', whitespace and '_' itself never reach the
 * subject and distinct values give distinct tokens. Absent or empty values give `_`; values whose
 * encoding would be longer than 64 characters give `_H` and a hash (no longer distinct, which is
 * why every read also checks the attributes themselves). The output is also a valid KV key.
 */
export function encodeToken(value: string | undefined): string {
  if (value === undefined || value === '') return ABSENT_TOKEN;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += plainByte(byte)
      ? String.fromCharCode(byte)
      : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (out.length > MAX_TOKEN_LENGTH) {
      return `_H${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
    }
  }
  return out;
}

/** The tokens of an event type: one per dot-separated part. */
function typeTokens(type: string): string {
  return type.split('.').map(encodeToken).join('.');
}

/**
 * Where an event is stored: `<stream>.<plant>.<subject>.<type parts...>`. The type comes last so
 * that a domain (`quality.*`) is the wildcard `quality.>`; plant and business subject come first so
 * that each is one token a filter can fix or leave as `*`.
 */
export function eventSubject(stream: string, event: CloudEvent): string {
  return `${stream}.${encodeToken(event.plant)}.${encodeToken(event.subject)}.${typeTokens(event.type)}`;
}

/**
 * The subject-token patterns of a type list: an exact type, `<domain>.>` for `domain.*`, or `>`
 * for every type. Exact types a listed domain already covers are dropped.
 */
function typePatterns(types: readonly string[] | undefined): string[] {
  if (types === undefined || types.length === 0 || types.includes('*')) return ['>'];
  const domains = new Set(types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -2)));
  const out = new Set<string>();
  for (const type of types) {
    if (type.endsWith('.*')) out.add(`${typeTokens(type.slice(0, -2))}.>`);
    else if (![...domains].some((d) => type.startsWith(`${d}.`))) out.add(typeTokens(type));
  }
  return [...out];
}

/**
 * The server-side filter subjects that together select (at least) the events a filter matches, or
 * `null` when nothing can match (a `plant` outside `plants`). At most `MAX_FILTER_SUBJECTS`: past
 * that the plant part widens to `*`, then the type part to `>`.
 */
export function filterSubjects(stream: string, filter: EventFilter): string[] | null {
  let plants: string[];
  if (filter.plant !== undefined) {
    if (filter.plants && !filter.plants.includes(filter.plant)) return null;
    plants = [encodeToken(filter.plant)];
  } else if (filter.plants) {
    if (filter.plants.length === 0) return null;
    plants = [...new Set(filter.plants.map(encodeToken))];
  } else plants = ['*'];
  let types = typePatterns(filter.types);
  if (plants.length * types.length > MAX_FILTER_SUBJECTS) {
    if (types.length <= MAX_FILTER_SUBJECTS) plants = ['*'];
    else if (plants.length <= MAX_FILTER_SUBJECTS) types = ['>'];
    else [plants, types] = [['*'], ['>']];
  }
  const subject = filter.subject === undefined ? '*' : encodeToken(filter.subject);
  return plants.flatMap((plant) => types.map((type) => `${stream}.${plant}.${subject}.${type}`));
}

/**
 * The exact test of a filter against an event, as the embedded log applies it: server-side
 * subjects narrow what is read, this decides.
 */
export function eventMatcher(filter: EventFilter): (event: CloudEvent) => boolean {
  const types = typeMatcher(filter.types);
  const plants = filter.plants ? new Set(filter.plants) : null;
  return (event) =>
    types(event.type) &&
    (filter.subject === undefined || event.subject === filter.subject) &&
    (filter.plant === undefined || event.plant === filter.plant) &&
    (plants === null || (event.plant !== undefined && plants.has(event.plant)));
}

/**
 * The idempotency key of an event: a hash of (source, id), unambiguous however either is spelled.
 * Used as the JetStream message id (duplicate window) and as the KV key of the id index.
 */
export function idempotencyKey(source: string, id: string): string {
  return createHash('sha256').update(`${source.length}:${source}${id}`).digest('base64url');
}
