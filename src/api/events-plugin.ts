import type { FastifyInstance } from 'fastify';
import type { Principal } from '../auth/api-keys.js';
import { type FieldError, ProblemError } from '../errors/problem.js';
import { decodeHttpRequest } from '../ingress/http-codec.js';
import type { LaneAdmission } from '../ingress/lane-admission.js';
import type { EventLog } from '../log/port.js';
import { domainOfType } from '../model/catalog.js';
import { type CloudEvent, isRfc3339 } from '../model/envelope.js';
import type { HubMetrics } from '../observability/metrics.js';
import { endRequestTrace, type RequestTrace, startRequestTrace } from '../observability/request-trace.js';
import { type HubTracing, SpanAttribute } from '../observability/tracing.js';
import type { SchemaRegistry } from '../registry/registry.js';
import { hasScope, requirePrincipal } from './auth-plugin.js';
import { parseListQuery } from './list-query.js';

export interface EventsPluginOptions {
  readonly log: EventLog;
  readonly metrics: HubMetrics;
  readonly admission: LaneAdmission;
  readonly registry: SchemaRegistry;
  /** Spans of ingest requests. @default off */
  readonly tracing?: HubTracing;
}

/**
 * A batch is checked in slices: after this much synchronous work the handler lets the event
 * loop run, so a critical event arriving meanwhile is not held behind a bulk batch's validation.
 */
const SLICE_MS = 0.5;

/** The domain of the hub's own events (milestone alerts). */
const HUB_DOMAIN = 'conveyor';

/** Problems that stop a principal from publishing an event: scope per domain, plant binding. */
function publishDenials(principal: Principal, event: CloudEvent, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const domain = domainOfType(event.type);
  if (domain === HUB_DOMAIN) {
    // Milestone alerts are raised by the hub alone; a forged one would alert customer service.
    errors.push({
      path: `${at}/type`,
      message: `${HUB_DOMAIN}.* events are raised by the hub itself and cannot be published`,
    });
  } else if (!hasScope(principal, `events:publish:${domain}`)) {
    errors.push({
      path: `${at}/type`,
      message: `client "${principal.client}" may not publish ${domain} events (needs events:publish:${domain})`,
    });
  }
  if (principal.plants !== null && (event.plant === undefined || !principal.plants.has(event.plant))) {
    errors.push({
      path: `${at}/plant`,
      message: `client "${principal.client}" may not publish for plant "${event.plant ?? '(none)'}"`,
    });
  }
  return errors;
}

/** The CloudEvents API: ingress in three HTTP modes, and queries over the log. */
export async function eventsPlugin(app: FastifyInstance, options: EventsPluginOptions): Promise<void> {
  const { log, metrics } = options;

  // Bodies are parsed by the CloudEvents codec, which knows the three modes and reports errors by field.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  if (options.tracing?.enabled)
    app.addHook('onResponse', async (request, reply) => endRequestTrace(request, reply));

  app.post('/v1/events', async (request, reply) => {
    const started = process.hrtime.bigint();
    const trace = startRequestTrace(request, options.tracing, 'conveyor.ingest');
    const principal = requirePrincipal(request);
    const partial = (request.query as { partial?: string }).partial === 'true';
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const ceType = request.headers['ce-type'];
    options.admission.preCheck(typeof ceType === 'string' ? ceType : body);
    const decoded = decodeHttpRequest(request.headers, body);
    const rejected = [...decoded.rejected];
    const accepted: typeof decoded.events = [];
    let forbidden = false;
    let invalidData = false;
    const deprecated = new Set<string>();
    let sliceStarted = performance.now();
    for (const item of decoded.events) {
      if (decoded.mode === 'batch' && performance.now() - sliceStarted > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStarted = performance.now();
      }
      const at = decoded.mode === 'batch' ? `/${item.index}` : '';
      const denials = publishDenials(principal, item.event, at);
      if (denials.length > 0) {
        forbidden = true;
        rejected.push({ index: item.index, id: item.event.id, errors: denials });
        continue;
      }
      const check = options.registry.checkEvent(item.event, at);
      if (check.errors.length > 0) {
        invalidData = true;
        rejected.push({ index: item.index, id: item.event.id, errors: check.errors });
        continue;
      }
      if (check.deprecated) {
        deprecated.add(`${check.deprecated.type}:${check.deprecated.version}`);
        metrics.deprecatedEvents.inc({
          type: check.deprecated.type,
          version: String(check.deprecated.version),
        });
      }
      accepted.push(item);
    }
    const observe = (status: number) =>
      metrics.ingestRequestSeconds.observe(
        { mode: decoded.mode, status: String(status) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );

    if (rejected.length > 0 && !partial) {
      metrics.ingestEvents.inc(
        { outcome: 'rejected', mode: decoded.mode },
        decoded.events.length + decoded.rejected.length,
      );
      const errors = rejected.sort((a, b) => a.index - b.index).flatMap((r) => r.errors);
      const onlyDenied = forbidden && !invalidData && decoded.rejected.length === 0;
      // Envelope faults are 400; well-formed events whose data breaks its schema are 422.
      const code = onlyDenied
        ? 'forbidden'
        : decoded.rejected.length > 0
          ? 'invalid-event'
          : invalidData
            ? 'validation-failed'
            : 'forbidden';
      const count = decoded.events.length + decoded.rejected.length;
      const detail = onlyDenied
        ? 'the client may not publish some of these events; nothing was appended'
        : count > 1
          ? `${rejected.length} of ${count} events are invalid; nothing was appended (send ?partial=true to accept the valid ones)`
          : 'the event is invalid; nothing was appended';
      observe(code === 'forbidden' ? 403 : code === 'invalid-event' ? 400 : 422);
      throw new ProblemError(code, detail, { errors });
    }

    try {
      options.admission.admit(accepted.map((a) => a.event.type));
    } catch (error) {
      metrics.ingestEvents.inc({ outcome: 'throttled', mode: decoded.mode }, accepted.length);
      observe(429);
      throw error;
    }
    const outcomes = await log.append(accepted.map((a) => withTraceContext(a.event, trace)));
    metrics.logAppendBatch.observe(outcomes.length);
    let duplicates = 0;
    const results: Array<Record<string, unknown>> = accepted.map((a, i) => {
      const outcome = outcomes[i] as { sequence: number; duplicate: boolean };
      if (outcome.duplicate) duplicates++;
      return {
        index: a.index,
        id: a.event.id,
        sequence: outcome.sequence,
        duplicate: outcome.duplicate,
        status: 'accepted',
      };
    });
    metrics.ingestEvents.inc({ outcome: 'accepted', mode: decoded.mode }, outcomes.length - duplicates);
    if (duplicates > 0) metrics.ingestEvents.inc({ outcome: 'duplicate', mode: decoded.mode }, duplicates);
    metrics.logHead.set(log.head());
    if (trace.span) describeIngest(trace, decoded.mode, accepted, duplicates, rejected.length);

    if (rejected.length > 0) {
      metrics.ingestEvents.inc({ outcome: 'rejected', mode: decoded.mode }, rejected.length);
      for (const r of rejected)
        results.push({ index: r.index, id: r.id, status: 'rejected', errors: r.errors });
      results.sort((a, b) => (a.index as number) - (b.index as number));
      observe(207);
      return reply.code(207).send({ events: results });
    }
    observe(202);
    // RFC 9745: the request used a deprecated schema version; the link names which.
    if (deprecated.size > 0)
      reply.header('deprecation', 'true').header('x-conveyor-deprecated-schemas', [...deprecated].join(', '));
    if (decoded.mode !== 'batch') for (const r of results) delete r.index;
    return reply.code(202).send({ events: results });
  });

  app.get('/v1/events', async (request) => {
    const principal = requirePrincipal(request);
    const query = request.query as Record<string, string | undefined>;
    const { after, limit } = parseListQuery(query);
    const types = query.type
      ? query.type
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : undefined;
    for (const type of types ?? []) {
      const domain = domainOfType(type);
      if (!hasScope(principal, `events:read:${domain}`)) {
        throw new ProblemError('forbidden', `reading ${domain} events needs the events:read:${domain} scope`);
      }
    }
    const readable = types ?? readableTypes(principal);
    if (readable !== undefined && readable.length === 0) {
      throw new ProblemError('forbidden', 'this client may not read events (needs events:read:<domain>)');
    }
    if (query.plant && principal.plants !== null && !principal.plants.has(query.plant)) {
      throw new ProblemError('forbidden', `client "${principal.client}" may not read plant "${query.plant}"`);
    }
    const range = parseTimeRange(query);
    // The range becomes log positions: events appended from `from` up to (not including) `to`.
    const first = range.from === undefined ? 1 : await log.sequenceAt(range.from);
    const end = range.to === undefined ? Number.POSITIVE_INFINITY : await log.sequenceAt(range.to);
    const start = Math.max(after, first - 1);
    if (start + 1 >= end) return { items: [], next: null };
    const head = log.head();
    const page = await log.readPage({
      types: readable,
      subject: query.subject,
      plant: query.plant,
      plants: principal.plants === null ? undefined : [...principal.plants],
      after: start,
      limit,
    });
    const items = page.events.filter((e) => e.sequence < end);
    // A page is bounded work: it may stop short of `limit` (even at none) before the end of the
    // range. `next` is where it stopped examining, so following it never skips an event.
    const last = Math.min(head, end - 1);
    return { items, next: page.through < last ? String(page.through) : null };
  });
}

/**
 * An event without a trace context of its own takes the request's (the caller's `traceparent`
 * header, else the trace the hub started for the request), so every stored event has one. It is
 * added before the append: a re-sent event is still a duplicate by its id, and the log keeps the
 * first version, trace context included.
 */
function withTraceContext(event: CloudEvent, trace: RequestTrace): CloudEvent {
  if (event.traceparent === undefined) {
    event.traceparent = trace.carrier.traceparent;
    if (trace.carrier.tracestate !== undefined && event.tracestate === undefined)
      event.tracestate = trace.carrier.tracestate;
  }
  return event;
}

/** What the ingest span tells: the request's mode and counts, and the event when there is one. */
function describeIngest(
  trace: RequestTrace,
  mode: string,
  accepted: ReadonlyArray<{ event: CloudEvent }>,
  duplicates: number,
  rejected: number,
): void {
  const span = trace.span;
  if (!span) return;
  span.setAttribute(SpanAttribute.ingestMode, mode);
  span.setAttribute(SpanAttribute.events, accepted.length);
  span.setAttribute(SpanAttribute.duplicates, duplicates);
  span.setAttribute(SpanAttribute.rejected, rejected);
  const only = accepted.length === 1 ? accepted[0]?.event : undefined;
  if (only) {
    span.setAttribute(SpanAttribute.eventId, only.id);
    span.setAttribute(SpanAttribute.eventType, only.type);
    if (only.subject !== undefined) span.setAttribute(SpanAttribute.eventSubject, only.subject);
    if (only.plant !== undefined) span.setAttribute(SpanAttribute.plant, only.plant);
  }
}

/** Longest time range one query over the log may span. */
export const MAX_EVENT_RANGE_MS = 31 * 24 * 3600 * 1000;

/** `from` (inclusive) and `to` (exclusive) as RFC 3339 times, checked against each other and the range limit. */
function parseTimeRange(query: Record<string, string | undefined>): { from?: number; to?: number } {
  const errors: FieldError[] = [];
  const time = (name: 'from' | 'to') => {
    const value = query[name];
    if (value === undefined || value === '') return undefined;
    if (!isRfc3339(value)) {
      errors.push({ path: name, message: 'must be an RFC 3339 time such as 2026-03-01T08:00:00Z' });
      return undefined;
    }
    return Date.parse(value);
  };
  const from = time('from');
  const to = time('to');
  if (from !== undefined && to !== undefined) {
    if (to <= from) errors.push({ path: 'to', message: 'must be later than from' });
    else if (to - from > MAX_EVENT_RANGE_MS)
      errors.push({ path: 'to', message: 'must be at most 31 days after from; narrow the range' });
  }
  if (errors.length > 0) throw new ProblemError('bad-request', 'invalid time range', { errors });
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

/** The type patterns (`domain.*`) a principal may read; `undefined` for every type (admin). */
export function readableTypes(principal: Principal): string[] | undefined {
  return principal.scopes.has('admin') ? undefined : readableDomains(principal);
}

function readableDomains(principal: Principal): string[] {
  return [...principal.scopes]
    .filter((s) => s.startsWith('events:read:'))
    .map((s) => `${s.slice('events:read:'.length)}.*`);
}
