import type { FieldError } from '../errors/problem.js';
import { ProblemError } from '../errors/problem.js';
import { type CloudEvent, checkIngressPolicy, decodeEvent } from '../model/envelope.js';
import { parseJsonWithLimits } from '../util/json-limits.js';

export type IngressMode = 'structured' | 'batch' | 'binary';

/** Most events a batched request may carry. */
export const MAX_BATCH = 1000;

export interface DecodedRequest {
  readonly mode: IngressMode;
  /** Events that passed every check, with their index in the request. */
  readonly events: Array<{ index: number; event: CloudEvent }>;
  /** Problems per request index (empty when every event is good); `id` is the event's own when it was a string, else null. */
  readonly rejected: Array<{ index: number; id: string | null; errors: FieldError[] }>;
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJsonMedia(media: string): boolean {
  return media === 'application/json' || media.endsWith('+json') || media === 'text/json';
}

/** JSON with the hub's depth and size limits: a hostile body is refused, never a stack overflow. */
function parseJson(text: string): unknown {
  return parseJsonWithLimits(text);
}

/** Header values are percent-encoded in the CloudEvents HTTP binding. */
function decodeHeaderValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function decodeOne(value: unknown, at: string): { event?: CloudEvent; errors: FieldError[] } {
  const decoded = decodeEvent(value, at);
  if (!decoded.event) return decoded;
  const errors = checkIngressPolicy(decoded.event, at);
  return errors.length > 0 ? { errors } : decoded;
}

/**
 * Turns an HTTP request into CloudEvents, in whichever of the three content modes it uses.
 * Throws a ProblemError for request-level faults (media type, JSON, batch size); per-event
 * problems are returned so the caller can choose all-or-nothing or partial acceptance.
 */
export function decodeHttpRequest(
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | string,
): DecodedRequest {
  const contentType = headers['content-type'];
  const media = mediaTypeOf(Array.isArray(contentType) ? contentType[0] : contentType);
  const text = typeof body === 'string' ? body : body.toString('utf8');

  if (media === 'application/cloudevents+json') {
    const { event, errors } = decodeOne(parseJson(text), '');
    return event
      ? { mode: 'structured', events: [{ index: 0, event }], rejected: [] }
      : { mode: 'structured', events: [], rejected: [{ index: 0, id: idOf(parseJsonSafe(text)), errors }] };
  }

  if (media === 'application/cloudevents-batch+json') {
    const value = parseJson(text);
    if (!Array.isArray(value)) {
      throw new ProblemError('invalid-event', 'a batch must be a JSON array of events', {
        errors: [{ path: '/', message: 'must be an array' }],
      });
    }
    if (value.length > MAX_BATCH) {
      throw new ProblemError(
        'batch-too-large',
        `the batch holds ${value.length} events; at most ${MAX_BATCH} are allowed`,
        {
          errors: [{ path: '/', message: `must hold at most ${MAX_BATCH} events` }],
        },
      );
    }
    const events: DecodedRequest['events'] = [];
    const rejected: DecodedRequest['rejected'] = [];
    value.forEach((item, index) => {
      const { event, errors } = decodeOne(item, `/${index}`);
      if (event) events.push({ index, event });
      else rejected.push({ index, id: idOf(item), errors });
    });
    return { mode: 'batch', events, rejected };
  }

  if (headers['ce-specversion'] !== undefined) return decodeBinary(headers, text, body, media);

  throw new ProblemError(
    'unsupported-media-type',
    `content type "${media || '(none)'}" is not accepted here; use application/cloudevents+json, application/cloudevents-batch+json, or binary mode with ce-* headers`,
  );
}

function decodeBinary(
  headers: Record<string, string | string[] | undefined>,
  text: string,
  body: Buffer | string,
  media: string,
): DecodedRequest {
  const attributes: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || raw === undefined) continue;
    attributes[name.slice(3)] = decodeHeaderValue(Array.isArray(raw) ? raw.join(',') : raw);
  }
  if (media)
    attributes.datacontenttype = Array.isArray(headers['content-type'])
      ? headers['content-type'][0]
      : headers['content-type'];
  if (text.length > 0) {
    if (media === '' || isJsonMedia(media)) attributes.data = parseJson(text);
    else if (media.startsWith('text/') || media === 'application/xml') attributes.data = text;
    else attributes.data_base64 = (typeof body === 'string' ? Buffer.from(body) : body).toString('base64');
  }
  const { event, errors } = decodeOne(attributes, '');
  return event
    ? { mode: 'binary', events: [{ index: 0, event }], rejected: [] }
    : { mode: 'binary', events: [], rejected: [{ index: 0, id: idOf(attributes), errors }] };
}

function parseJsonSafe(text: string): unknown {
  try {
    return parseJsonWithLimits(text);
  } catch {
    return undefined;
  }
}

/** A rejected event's id, echoed in its outcome only when it is a string (as PublishOutcome documents). */
function idOf(value: unknown): string | null {
  const id = value !== null && typeof value === 'object' ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : null;
}
