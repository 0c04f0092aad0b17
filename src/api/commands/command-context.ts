import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/principal.js';
import type { CommandPublisher } from '../../commands/publisher.js';
import type { QualityHoldProjection } from '../../commands/quality-holds.js';
import { expandPath, type RecordAnswer, type SystemOfRecord } from '../../commands/system-of-record.js';
import { type FieldError, ProblemError } from '../../errors/problem.js';
import { outgoingTraceparent, requestTrace } from '../../observability/request-trace.js';
import { type HubTracing, SpanAttribute } from '../../observability/tracing.js';
import type { RoutingTable } from '../../reference/routings.js';
import type { StateStore } from '../../store/port.js';
import { requireScope } from '../auth-plugin.js';

/** What every command handler needs. */
export interface CommandContext {
  readonly publisher: CommandPublisher;
  readonly store: StateStore;
  readonly holds: QualityHoldProjection;
  readonly routings: RoutingTable;
  /** The system of record behind a sync command, by command name, when configured. */
  systemFor(command: string): { readonly system: SystemOfRecord; readonly path: string } | undefined;
  readonly now: () => number;
  /** Spans of commands. @default off */
  readonly tracing?: HubTracing;
}

/** The principal, if it holds `commands:<name>`. */
export function requireCommand(request: FastifyRequest, name: string): Principal {
  const span = requestTrace(request).span;
  if (span) {
    span.updateName(`conveyor.command ${name}`);
    span.setAttribute(SpanAttribute.command, name);
  }
  return requireScope(request, `commands:${name}`);
}

/** The JSON body as an object, or a 422 saying what the command takes. */
export function bodyObject(request: FastifyRequest, example: string): Record<string, unknown> {
  const body = request.body;
  if (typeof body === 'string' || Buffer.isBuffer(body))
    throw new ProblemError('unsupported-media-type', 'this command takes application/json');
  if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body)) {
    throw new ProblemError('validation-failed', `the body must be a JSON object such as ${example}`, {
      errors: [{ path: '/', message: 'must be a JSON object' }],
    });
  }
  return body as Record<string, unknown>;
}

/** Refuses fields the hub sets itself: a client must not forge them. */
export function refuseHubOwned(
  body: Record<string, unknown>,
  fields: Readonly<Record<string, string>>,
): void {
  const errors: FieldError[] = Object.entries(fields)
    .filter(([field]) => Object.hasOwn(body, field))
    .map(([field, why]) => ({ path: `/${field}`, message: why }));
  if (errors.length > 0)
    throw new ProblemError('validation-failed', 'the body sets fields only the hub may set', { errors });
}

/** A path parameter must agree with the same field in the body when both are given. */
export function agreeWithPath(body: Record<string, unknown>, field: string, value: string): void {
  if (body[field] !== undefined && body[field] !== value) {
    throw new ProblemError('validation-failed', `${field} in the body differs from the one in the path`, {
      errors: [{ path: `/${field}`, message: `must be "${value}" (as in the path) or left out` }],
    });
  }
}

/**
 * The plant binding: a client bound to plants acts only on those. A missing or foreign plant is
 * 403, named by field, so a bound client learns what it may do without learning about others.
 */
export function requirePlant(principal: Principal, plant: unknown, path = '/plant'): void {
  if (principal.plants === null) return;
  if (typeof plant !== 'string' || !principal.plants.has(plant)) {
    throw new ProblemError(
      'forbidden',
      `client "${principal.client}" may not act for plant "${String(plant ?? '(none)')}"`,
      {
        errors: [
          { path, message: `must be one of this client's plants: ${[...principal.plants].join(', ')}` },
        ],
      },
    );
  }
}

/** The given RFC 3339 time, or now. */
export function timeOrNow(value: unknown, now: () => number): unknown {
  return value === undefined ? new Date(now()).toISOString() : value;
}

/**
 * Asks the system of record configured for a sync command. The request's Idempotency-Key goes
 * along (namespaced by client), so a system that de-duplicates never books a retried request twice.
 */
export async function askSystemOfRecord(
  ctx: CommandContext,
  command: string,
  params: Record<string, string>,
  body: unknown,
  request: FastifyRequest,
): Promise<RecordAnswer> {
  const target = ctx.systemFor(command);
  if (!target) {
    throw new ProblemError(
      'system-of-record-unavailable',
      `no system of record is configured for ${command} (commands.${command} in the hub's config)`,
      { retryAfterSeconds: 60 },
    );
  }
  const key = request.headers['idempotency-key'];
  const client = request.principal?.client ?? '';
  return target.system.post(expandPath(target.path, params), body, {
    // The call is part of the request's trace: the caller's, or the one the hub started.
    traceparent: outgoingTraceparent(request),
    // The client is percent-encoded, so "a:b" + "c" and "a" + "b:c" never meet as one key.
    ...(typeof key === 'string' ? { 'idempotency-key': `${encodeURIComponent(client)}:${key}` } : {}),
    'x-conveyor-client': client,
  });
}
