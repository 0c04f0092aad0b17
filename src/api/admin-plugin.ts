import type { FastifyInstance } from 'fastify';
import { type ApiKeyVerifier, clientRecordFor, generateApiKey } from '../auth/api-keys.js';
import { type FieldError, ProblemError } from '../errors/problem.js';
import { isRfc3339 } from '../model/envelope.js';
import type { AuditFilter, RateLimit, StateStore } from '../store/port.js';
import { requestAudit } from './audit.js';
import { requireScope } from './auth-plugin.js';
import { replayWith } from './idempotency.js';
import { parseListQuery } from './list-query.js';

export interface AdminPluginOptions {
  readonly store: StateStore;
  readonly apiKeys: ApiKeyVerifier;
  /** Runs before the audit trail is read: refusals counted in memory are written, so a reader sees them. */
  readonly beforeAuditRead?: () => Promise<void>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PLANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const SCOPE =
  /^(admin|ops|analytics:read|catalog:write|catalog:approve|events:(publish|read):[a-z][a-z0-9-]*|commands:[a-z][a-z0-9-]*)$/;

interface ClientInput {
  name: string;
  scopes: string[];
  plants: string[] | null;
  rateLimit: RateLimit | null;
  supplierId: string | null;
}

function validateClient(body: unknown): ClientInput {
  const errors: FieldError[] = [];
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ProblemError(
      'validation-failed',
      'the body must be {"name", "scopes": [...], "plants"?: [...], "rateLimit"?: {...}}',
      {
        errors: [{ path: '/', message: 'must be a JSON object' }],
      },
    );
  if (typeof b.name !== 'string' || !NAME.test(b.name))
    errors.push({
      path: '/name',
      message: 'must be letters, digits, ".", "_" or "-" (at most 64 characters)',
    });
  if (!Array.isArray(b.scopes) || b.scopes.length === 0)
    errors.push({
      path: '/scopes',
      message: 'must list at least one scope, e.g. ["events:publish:production"]',
    });
  else
    b.scopes.forEach((s, i) => {
      if (typeof s !== 'string' || !SCOPE.test(s))
        errors.push({
          path: `/scopes/${i}`,
          message:
            'must be admin, ops, analytics:read, catalog:write, catalog:approve, events:publish:<domain>, events:read:<domain> or commands:<name>',
        });
    });
  if (b.plants !== undefined && b.plants !== null) {
    if (!Array.isArray(b.plants) || b.plants.length === 0)
      errors.push({ path: '/plants', message: 'must list plant codes, or be left out for every plant' });
    else
      b.plants.forEach((p, i) => {
        if (typeof p !== 'string' || !PLANT.test(p))
          errors.push({ path: `/plants/${i}`, message: 'must be a plant code such as P1' });
      });
  }
  let rateLimit: RateLimit | null = null;
  if (b.rateLimit !== undefined && b.rateLimit !== null) {
    const r = b.rateLimit as Record<string, unknown>;
    if (typeof r.perSecond !== 'number' || !(r.perSecond > 0))
      errors.push({ path: '/rateLimit/perSecond', message: 'must be a number > 0' });
    if (r.burst !== undefined && (!Number.isInteger(r.burst) || (r.burst as number) < 1))
      errors.push({ path: '/rateLimit/burst', message: 'must be an integer >= 1' });
    if (errors.length === 0)
      rateLimit = {
        perSecond: r.perSecond as number,
        burst: (r.burst as number | undefined) ?? Math.ceil((r.perSecond as number) * 2),
      };
  }
  if (
    b.supplierId !== undefined &&
    b.supplierId !== null &&
    (typeof b.supplierId !== 'string' || !NAME.test(b.supplierId))
  )
    errors.push({ path: '/supplierId', message: 'must be the id of an onboarded supplier' });
  if (errors.length > 0)
    throw new ProblemError('validation-failed', 'the client cannot be created', { errors });
  return {
    supplierId: typeof b.supplierId === 'string' ? b.supplierId : null,
    name: b.name as string,
    scopes: [...new Set(b.scopes as string[])],
    plants: Array.isArray(b.plants) ? [...new Set(b.plants as string[])] : null,
    rateLimit,
  };
}

function parseTime(value: string | undefined, path: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isRfc3339(value))
    throw new ProblemError('bad-request', `${path} must be an RFC 3339 time`, {
      errors: [{ path, message: 'must be an RFC 3339 time such as 2026-03-01T08:00:00Z' }],
    });
  return Date.parse(value);
}

/** Clients and their keys, and the audit trail. Everything here needs `admin`. */
export async function adminPlugin(app: FastifyInstance, options: AdminPluginOptions): Promise<void> {
  const { store, apiKeys } = options;
  const audit = requestAudit(store.audit);

  app.get('/v1/clients', async (request) => {
    requireScope(request, 'admin');
    const items = (await store.clients.list()).map((c) => ({
      name: c.name,
      scopes: c.scopes,
      plants: c.plants,
      rateLimit: c.rateLimit,
      supplierId: c.supplierId,
      createdAt: new Date(c.createdAt).toISOString(),
      revokedAt: c.revokedAt === null ? null : new Date(c.revokedAt).toISOString(),
    }));
    return { items, next: null };
  });

  app.post('/v1/clients', async (request, reply) => {
    requireScope(request, 'admin');
    const input = validateClient(request.body);
    const existing = await store.clients.get(input.name);
    if (existing && existing.revokedAt === null) {
      throw new ProblemError(
        'conflict',
        `client "${input.name}" exists; revoke it first (DELETE /v1/clients/${input.name}) to re-key it`,
        {
          errors: [{ path: '/name', message: 'is taken by an active client' }],
        },
      );
    }
    if (input.supplierId !== null && !(await store.suppliers.get(input.supplierId))) {
      throw new ProblemError(
        'validation-failed',
        `no supplier "${input.supplierId}"; onboard it with POST /v1/suppliers`,
        { errors: [{ path: '/supplierId', message: 'must be the id of an onboarded supplier' }] },
      );
    }
    const key = generateApiKey();
    await store.clients.upsert(
      clientRecordFor(input.name, key, input.scopes, input.plants, Date.now(), {
        rateLimit: input.rateLimit,
        supplierId: input.supplierId,
      }),
    );
    apiKeys.forget(input.name);
    replayWith(request, { name: input.name, key: null, note: 'the key is shown only once' });
    await audit(request, 'client.create', input.name, 'done', {
      scopes: input.scopes,
      plants: input.plants,
      rateLimit: input.rateLimit,
      supplierId: input.supplierId,
    });
    return reply.code(201).send({ name: input.name, key });
  });

  app.delete('/v1/clients/:name', async (request) => {
    const principal = requireScope(request, 'admin');
    const { name } = request.params as { name: string };
    if (name === principal.client)
      throw new ProblemError('conflict', 'a client cannot revoke itself; use another admin client');
    const revoked = await store.clients.revoke(name, Date.now());
    apiKeys.forget(name);
    if (!revoked) throw new ProblemError('not-found', `no active client "${name}"`);
    await audit(request, 'client.revoke', name, 'done');
    return { name, status: 'revoked' };
  });

  app.get('/v1/audit', async (request) => {
    requireScope(request, 'admin');
    await options.beforeAuditRead?.();
    const query = request.query as Record<string, string | undefined>;
    const { after, limit } = parseListQuery(query);
    const filter: AuditFilter = {
      ...(query.actor ? { actor: query.actor } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...(query.outcome ? { outcome: query.outcome } : {}),
      ...(query.target ? { target: query.target } : {}),
    };
    const since = parseTime(query.since, 'query/since');
    const until = parseTime(query.until, 'query/until');
    const items = await store.audit.list(
      { ...filter, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) },
      after,
      limit,
    );
    const last = items[items.length - 1];
    return {
      items: items.map(({ position, at, ...rest }) => ({
        position,
        at: new Date(at).toISOString(),
        ...rest,
      })),
      next: items.length === limit && last ? String(last.position) : null,
    };
  });
}
