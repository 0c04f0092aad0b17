import type { FieldError } from '../errors/problem.js';
import { CANONICAL_TYPES } from './catalog.js';

/** A CloudEvents 1.0 event in the JSON event format, as the hub stores and delivers it. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  plant?: string;
  partitionkey?: string;
  traceparent?: string;
  /** Extension attributes: strings, booleans or integers. */
  [extension: string]: unknown;
}

/** An event as read back from the log: the hub's `sequence` is set. */
export type StoredEvent = CloudEvent & { sequence: number };

/**
 * A log backend may attach the event's stored JSON (without `sequence`) under this key, as a
 * non-enumerable property, so a delivery can send it without serialising the object again.
 */
export const STORED_JSON: unique symbol = Symbol('conveyor.storedJson');

/** A parsed event as read back from the log: its `sequence` set and its stored JSON attached. */
export function asStoredEvent(event: CloudEvent, sequence: number, body: string): StoredEvent {
  const stored = event as StoredEvent;
  stored.sequence = sequence;
  Object.defineProperty(stored, STORED_JSON, { value: body });
  return stored;
}

/** The event in CloudEvents JSON with its `sequence`, reusing the stored text when there is one. */
export function storedEventJson(event: StoredEvent): string {
  const stored = (event as { [STORED_JSON]?: string })[STORED_JSON];
  if (stored?.endsWith('}')) {
    return stored.length > 2
      ? `${stored.slice(0, -1)},"sequence":${event.sequence}}`
      : `{"sequence":${event.sequence}}`;
  }
  return JSON.stringify(event);
}

/** `storedEventJson(event).length`, without building the text when the stored text is there. */
export function storedEventJsonLength(event: StoredEvent): number {
  const stored = (event as { [STORED_JSON]?: string })[STORED_JSON];
  if (!stored?.endsWith('}')) return storedEventJson(event).length;
  const sequence = `"sequence":${event.sequence}`.length;
  // `{…,"sequence":n}` adds a comma and the attribute; `{}` becomes `{"sequence":n}`.
  return stored.length > 2 ? stored.length + 1 + sequence : 2 + sequence;
}

/** Bytes of an event's stored JSON (what a delivery window holds), estimated when the log attached none. */
export function storedSizeOf(event: StoredEvent): number {
  return (event as { [STORED_JSON]?: string })[STORED_JSON]?.length ?? ESTIMATED_EVENT_BYTES;
}
const ESTIMATED_EVENT_BYTES = 1024;

const CORE_STRINGS = ['id', 'source', 'type'] as const;
const OPTIONAL_STRINGS = ['subject', 'datacontenttype', 'dataschema', 'time'] as const;
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_INT32 = 2_147_483_647;

/** Attributes only the hub may set; a producer sending them would forge the hub's bookkeeping. */
export const HUB_OWNED_ATTRIBUTES: ReadonlySet<string> = new Set(['sequence']);

/** RFC 3339 date-time with seconds and an offset in range (what CloudEvents `time` requires). */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31 || hour! > 23 || minute! > 59 || second! > 60)
    return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return !Number.isNaN(Date.parse(value.toUpperCase()));
}

/**
 * Checks a decoded JSON value against the CloudEvents 1.0 JSON format rules and returns the
 * event with `null` optional attributes dropped. Conformance only: the hub's own policy
 * (required `time` and `data`, plants, reserved names) is `checkIngressPolicy`.
 */
export function decodeEvent(value: unknown, at = ''): { event?: CloudEvent; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { errors: [{ path: at || '/', message: 'an event must be a JSON object' }] };
  }
  const input = value as Record<string, unknown>;
  const event: Record<string, unknown> = {};
  const problem = (name: string, message: string) => errors.push({ path: `${at}/${name}`, message });

  if (input.specversion === undefined) problem('specversion', 'is required; set it to "1.0"');
  else if (input.specversion !== '1.0')
    problem('specversion', `must be "1.0" (got ${JSON.stringify(input.specversion)})`);
  else event.specversion = '1.0';

  for (const name of CORE_STRINGS) {
    const v = input[name];
    if (v === undefined || v === null) problem(name, 'is required');
    else if (typeof v !== 'string') problem(name, `must be a string (got ${typeof v})`);
    else if (v.length === 0) problem(name, 'must not be empty');
    else event[name] = v;
  }
  for (const name of OPTIONAL_STRINGS) {
    const v = input[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') problem(name, `must be a string (got ${typeof v})`);
    else if (v.length === 0) problem(name, 'must not be empty when present; leave it out instead');
    else event[name] = v;
  }
  if (typeof event.time === 'string' && !isRfc3339(event.time)) {
    problem('time', 'must be an RFC 3339 timestamp with seconds and offset, e.g. 2026-03-01T08:15:00Z');
    delete event.time;
  }
  if (typeof event.datacontenttype === 'string' && !MEDIA_TYPE.test(event.datacontenttype)) {
    problem('datacontenttype', 'must be a media type such as application/json (RFC 2046)');
  }

  const hasData = input.data !== undefined && input.data !== null;
  const hasBase64 = input.data_base64 !== undefined && input.data_base64 !== null;
  if (hasData && hasBase64)
    problem('data_base64', 'must not be present together with data; send one of them');
  if (hasData) event.data = input.data;
  if (hasBase64) {
    if (typeof input.data_base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(input.data_base64)) {
      problem('data_base64', 'must be a base64 string');
    } else event.data_base64 = input.data_base64;
  }

  for (const [name, v] of Object.entries(input)) {
    if (
      name in event ||
      (CORE_STRINGS as readonly string[]).includes(name) ||
      (OPTIONAL_STRINGS as readonly string[]).includes(name)
    )
      continue;
    if (name === 'specversion' || name === 'data' || name === 'data_base64') continue;
    if (!ATTRIBUTE_NAME.test(name)) {
      problem(name, 'extension attribute names must be 1-20 lower-case letters or digits');
      continue;
    }
    if (v === null || v === undefined) continue;
    if (typeof v === 'string' || typeof v === 'boolean') event[name] = v;
    else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_INT32) event[name] = v;
    else problem(name, 'extension attribute values must be strings, booleans or 32-bit integers');
  }
  return errors.length > 0 ? { errors } : { event: event as CloudEvent, errors };
}

/**
 * The hub's requirements on top of CloudEvents: `time` and `data` are required, hub-owned
 * attributes are refused, `plant` agrees with `data.plant`, and plant-scoped canonical types
 * name a plant. Fills `plant` from `data.plant` so the log can index it.
 */
export function checkIngressPolicy(event: CloudEvent, at = ''): FieldError[] {
  const errors: FieldError[] = [];
  const problem = (name: string, message: string) => errors.push({ path: `${at}/${name}`, message });
  if (event.time === undefined) problem('time', 'is required; set the RFC 3339 time the fact occurred');
  if (event.data === undefined && event.data_base64 === undefined) problem('data', 'is required');
  for (const name of HUB_OWNED_ATTRIBUTES) {
    if (name in event) problem(name, 'is set by the hub; leave it out');
  }
  for (const name of ['plant', 'partitionkey', 'traceparent'] as const) {
    if (event[name] !== undefined && typeof event[name] !== 'string') problem(name, 'must be a string');
  }
  if (typeof event.traceparent === 'string' && !TRACEPARENT.test(event.traceparent)) {
    problem('traceparent', 'must be a W3C trace context, e.g. 00-<32 hex>-<16 hex>-01');
  }
  const data = event.data;
  const dataPlant =
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? (data as Record<string, unknown>).plant
      : undefined;
  if (dataPlant !== undefined && typeof dataPlant !== 'string')
    problem('data/plant', 'must be a string plant code');
  if (typeof event.plant === 'string' && typeof dataPlant === 'string' && event.plant !== dataPlant) {
    problem('plant', `is "${event.plant}" but data.plant is "${dataPlant}"; they must agree`);
  }
  if (event.plant === undefined && typeof dataPlant === 'string') event.plant = dataPlant;
  if (event.plant === undefined && CANONICAL_TYPES.get(event.type)?.plantScoped) {
    problem('plant', `is required for ${event.type}; set the plant attribute or data.plant`);
  }
  return errors;
}

/** The ordering key: `partitionkey`, else `subject`, else the event id (no ordering promise). */
export function partitionKeyOf(event: CloudEvent): string {
  return event.partitionkey ?? event.subject ?? event.id;
}
