import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/api-keys.js';
import type { DeliveryEngine } from '../delivery/engine.js';
import { ProblemError } from '../errors/problem.js';
import type { EventLog } from '../log/port.js';
import { isRfc3339 } from '../model/envelope.js';
import type { DeadLetterFilter, DeadLetterRecord, DeadLetterStatus, StateStore } from '../store/port.js';
import { requestAudit } from './audit.js';
import { requireScope } from './auth-plugin.js';
import { parseListQuery } from './list-query.js';

export interface DeliveryPluginOptions {
  readonly log: EventLog;
  readonly store: StateStore;
  readonly delivery: DeliveryEngine;
}

/** Most dead letters one bulk replay or discard acts on. */
export const BULK_LIMIT = 10_000;

const STATUSES: readonly DeadLetterStatus[] = ['open', 'replaying', 'replayed', 'discarded'];

function toWire(entry: DeadLetterRecord) {
  return {
    id: entry.id,
    route: entry.route,
    reason: entry.reason,
    status: entry.status,
    event: entry.event,
    attempts: entry.attempts,
    at: new Date(entry.at).toISOString(),
    updatedAt: new Date(entry.updatedAt).toISOString(),
    updatedBy: entry.updatedBy,
  };
}

function parseTime(value: unknown, path: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !isRfc3339(value)) {
    throw new ProblemError('bad-request', `${path} must be an RFC 3339 time`, {
      errors: [{ path, message: 'must be an RFC 3339 time such as 2026-03-01T08:00:00Z' }],
    });
  }
  return Date.parse(value);
}

/** A filter from query or body fields; a plant-bound client only ever sees its plants' entries. */
function deadLetterFilter(
  source: Record<string, unknown>,
  principal: Principal,
  where: string,
): DeadLetterFilter {
  const status = source.status;
  if (status !== undefined && !STATUSES.includes(status as DeadLetterStatus)) {
    throw new ProblemError('bad-request', `status must be one of ${STATUSES.join(', ')}`, {
      errors: [{ path: `${where}status`, message: `must be one of: ${STATUSES.join(', ')}` }],
    });
  }
  const text = (name: string) => {
    const v = source[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string')
      throw new ProblemError('bad-request', `${name} must be a string`, {
        errors: [{ path: `${where}${name}`, message: 'must be a string' }],
      });
    return v;
  };
  const route = text('route');
  const type = text('type');
  const reason = text('reason');
  const since = parseTime(source.since, `${where}since`);
  const until = parseTime(source.until, `${where}until`);
  return {
    ...(route !== undefined ? { route } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(status !== undefined ? { status: status as DeadLetterStatus } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(principal.plants !== null ? { plants: [...principal.plants] } : {}),
  };
}

function visibleTo(principal: Principal, entry: DeadLetterRecord): boolean {
  return (
    principal.plants === null || (entry.event.plant !== undefined && principal.plants.has(entry.event.plant))
  );
}

/** Subscriptions (route state, replay) and the dead-letter queue. Everything here needs the `ops` scope. */
export async function deliveryPlugin(app: FastifyInstance, options: DeliveryPluginOptions): Promise<void> {
  const { log, store, delivery } = options;
  const audit = requestAudit(store.audit);

  const loadEntry = async (id: string, principal: Principal) => {
    const entry = await store.deadLetters.get(id);
    // Another plant's entry is reported as missing: its existence is not the client's business.
    if (!entry || !visibleTo(principal, entry)) throw new ProblemError('not-found', `no dead letter "${id}"`);
    return entry;
  };

  app.get('/v1/subscriptions', async (request) => {
    requireScope(request, 'ops');
    return { items: delivery.subscriptions(), next: null };
  });

  app.post('/v1/subscriptions/:name/replay', async (request, reply) => {
    const principal = requireScope(request, 'ops');
    if (principal.plants !== null)
      throw new ProblemError('forbidden', 'a plant-bound client cannot replay a whole subscription');
    const { name } = request.params as { name: string };
    const worker = delivery.worker(name);
    if (!worker)
      throw new ProblemError('not-found', `no subscription "${name}"; GET /v1/subscriptions lists them`);
    const from = (request.body as { from?: unknown } | undefined)?.from;
    let sequence: number;
    if (typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) sequence = from;
    else if (typeof from === 'string' && /^\d+$/.test(from)) sequence = Number(from);
    else if (typeof from === 'string' && isRfc3339(from)) sequence = await log.sequenceAt(Date.parse(from));
    else {
      throw new ProblemError('validation-failed', 'from must be a sequence number or an RFC 3339 time', {
        errors: [
          { path: '/from', message: 'must be a sequence (e.g. 1042) or a time (e.g. 2026-03-01T08:00:00Z)' },
        ],
      });
    }
    await worker.replayFrom(sequence);
    await audit(request, 'subscription.replay', name, 'accepted', { from: sequence });
    return reply
      .code(202)
      .send({ name, from: sequence, head: log.head(), events: Math.max(0, log.head() - sequence + 1) });
  });

  app.get('/v1/dlq', async (request) => {
    const principal = requireScope(request, 'ops');
    const query = request.query as Record<string, string | undefined>;
    const { after, limit } = parseListQuery(query);
    const items = await store.deadLetters.list(deadLetterFilter(query, principal, ''), after, limit);
    const last = items[items.length - 1];
    return { items: items.map(toWire), next: items.length === limit && last ? String(last.position) : null };
  });

  app.get('/v1/dlq/:id', async (request) => {
    const principal = requireScope(request, 'ops');
    return toWire(await loadEntry((request.params as { id: string }).id, principal));
  });

  app.post('/v1/dlq/:id/replay', async (request, reply) => {
    const principal = requireScope(request, 'ops');
    const entry = await loadEntry((request.params as { id: string }).id, principal);
    if (entry.status !== 'open') {
      await audit(request, 'dlq.replay', entry.id, 'refused', { status: entry.status });
      throw new ProblemError(
        'conflict',
        `dead letter ${entry.id} is ${entry.status}; only open entries can be replayed`,
      );
    }
    await delivery.replayDeadLetter(entry, principal.client);
    await audit(request, 'dlq.replay', entry.id, 'accepted', { route: entry.route, eventId: entry.event.id });
    return reply.code(202).send({ id: entry.id, status: 'replaying' });
  });

  app.post('/v1/dlq/:id/discard', async (request) => {
    const principal = requireScope(request, 'ops');
    const entry = await loadEntry((request.params as { id: string }).id, principal);
    if (entry.status !== 'open')
      throw new ProblemError(
        'conflict',
        `dead letter ${entry.id} is ${entry.status}; only open entries can be discarded`,
      );
    await store.deadLetters.update(entry.id, { status: 'discarded', at: Date.now(), by: principal.client });
    await audit(request, 'dlq.discard', entry.id, 'done', { route: entry.route, eventId: entry.event.id });
    return { id: entry.id, status: 'discarded' };
  });

  /** Bulk replay/discard by filter: acts on open entries only, at most BULK_LIMIT per call. */
  const bulk = (action: 'replay' | 'discard') => async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = requireScope(request, 'ops');
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ProblemError(
        'validation-failed',
        'the body must be a filter object, e.g. {"route": "mes-p1-orders"}',
      );
    }
    const filter = { ...deadLetterFilter(body, principal, '/'), status: 'open' as const };
    const ids: string[] = [];
    for (let after = 0; ids.length < BULK_LIMIT; ) {
      const page = await store.deadLetters.list(filter, after, Math.min(1000, BULK_LIMIT - ids.length));
      if (page.length === 0) break;
      for (const entry of page) {
        if (action === 'replay') await delivery.replayDeadLetter(entry, principal.client);
        else
          await store.deadLetters.update(entry.id, {
            status: 'discarded',
            at: Date.now(),
            by: principal.client,
          });
        ids.push(entry.id);
      }
      after = (page[page.length - 1] as DeadLetterRecord).position;
    }
    await audit(request, `dlq.${action}-bulk`, JSON.stringify(filter), 'done', { count: ids.length });
    return reply
      .code(action === 'replay' ? 202 : 200)
      .send({ matched: ids.length, ids, status: action === 'replay' ? 'replaying' : 'discarded' });
  };
  app.post('/v1/dlq/replay', bulk('replay'));
  app.post('/v1/dlq/discard', bulk('discard'));
}
