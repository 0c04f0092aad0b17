import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { type FieldError, ProblemError } from '../errors/problem.js';
import type { LaneAdmission } from '../ingress/lane-admission.js';
import type { EventLog } from '../log/port.js';
import type { CloudEvent } from '../model/envelope.js';
import { schemaId } from '../model/schemas/index.js';
import { requestTrace } from '../observability/request-trace.js';
import type { SchemaRegistry } from '../registry/registry.js';

/** One event a command is about to publish: its type, business key and data. */
export interface CommandEvent {
  readonly type: string;
  readonly subject: string;
  readonly plant?: string;
  readonly data: Record<string, unknown>;
}

/** What a command answers about each event it published. */
export interface PublishedEvent {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly sequence: number;
}

/** `/data/quantity/value` → `/quantity/value`: errors name the request body's fields, not the event's. */
function toBodyPath(error: FieldError, dataPrefix: string): FieldError {
  const path = error.path.startsWith('/data') ? error.path.slice('/data'.length) || '/' : error.path;
  return { path: `${dataPrefix}${path === '/' ? '' : path}` || '/', message: error.message };
}

/**
 * Turns a command's outcome into canonical events and appends them: checked against the catalog
 * schema (so a command can never publish what `/v1/events` would refuse), admitted by the lane,
 * durable before the caller hears 202. With an `Idempotency-Key` the event ids derive from it,
 * so even a retry that outlives the idempotency record is de-duplicated by the log.
 */
export class CommandPublisher {
  constructor(
    private readonly log: EventLog,
    private readonly registry: SchemaRegistry,
    private readonly admission: LaneAdmission,
    private readonly now: () => number = Date.now,
  ) {}

  /** Builds and checks the events; throws `validation-failed` naming body fields. Appends nothing. */
  prepare(request: FastifyRequest, principal: Principal, events: readonly CommandEvent[]): CloudEvent[] {
    const time = new Date(this.now()).toISOString();
    const key = request.headers['idempotency-key'];
    // The caller's trace context, else the one the hub started for this request: every event has one.
    const trace = requestTrace(request).carrier;
    const errors: FieldError[] = [];
    const built = events.map((spec, i) => {
      const latest = this.registry.latestApproved(spec.type);
      const event: CloudEvent = {
        specversion: '1.0',
        id: typeof key === 'string' ? derivedId(principal.client, key, request, i) : randomUUID(),
        source: `/clients/${principal.client}`,
        type: spec.type,
        time,
        subject: spec.subject,
        datacontenttype: 'application/json',
        ...(latest !== undefined ? { dataschema: schemaId(spec.type, latest) } : {}),
        ...(spec.plant !== undefined ? { plant: spec.plant } : {}),
        traceparent: trace.traceparent,
        ...(trace.tracestate !== undefined ? { tracestate: trace.tracestate } : {}),
        data: spec.data,
      };
      // Only the first event's data is the request body; derived events are the hub's own.
      for (const error of this.registry.checkEvent(event).errors) errors.push(toBodyPath(error, ''));
      return event;
    });
    if (errors.length > 0) {
      throw new ProblemError(
        'validation-failed',
        'the request breaks the canonical schema; nothing was published',
        {
          errors: dedupe(errors),
        },
      );
    }
    return built;
  }

  /** Appends prepared events once the lane admits them; resolves when they are durable. */
  async append(events: readonly CloudEvent[]): Promise<PublishedEvent[]> {
    this.admit(events);
    return this.appendAdmitted(events);
  }

  /**
   * Takes the lanes' admission for these events now. Sync commands do this before asking the
   * system of record, so a system that said yes is never followed by a refused append.
   */
  admit(events: readonly CloudEvent[]): void {
    this.admission.admit(events.map((e) => e.type));
  }

  /** Appends events already admitted (see {@link admit}). */
  async appendAdmitted(events: readonly CloudEvent[]): Promise<PublishedEvent[]> {
    const outcomes = await this.log.append(events);
    return events.map((event, i) => ({
      id: event.id,
      type: event.type,
      subject: event.subject as string,
      sequence: (outcomes[i] as { sequence: number }).sequence,
    }));
  }

  async publish(
    request: FastifyRequest,
    principal: Principal,
    events: readonly CommandEvent[],
  ): Promise<PublishedEvent[]> {
    return this.append(this.prepare(request, principal, events));
  }

  /** A stable id for something a keyed request creates (a hold id), or a random one without a key. */
  keyedId(request: FastifyRequest, principal: Principal, prefix: string): string {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string') return `${prefix}-${randomUUID().slice(0, 13).toUpperCase()}`;
    return `${prefix}-${derivedId(principal.client, key, request, -1).slice(0, 13).toUpperCase()}`;
  }
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A stable event id for the i-th event of a keyed request (UUID-shaped, from SHA-256). The body
 * is part of it: a key reused for another request after its record expired must not collide.
 */
function derivedId(client: string, key: string, request: FastifyRequest, index: number): string {
  const body = Buffer.isBuffer(request.body) ? request.body : JSON.stringify(request.body ?? null);
  const hex = createHash('sha256')
    .update(`${client}\u0000${key}\u0000${request.method} ${request.url}\u0000${index}\u0000`)
    .update(body)
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
