import type { FastifyInstance } from 'fastify';
import type { QualityHoldProjection } from '../commands/quality-holds.js';
import { type FieldError, ProblemError } from '../errors/problem.js';
import type { QualityHoldRecord, QualityHoldStatus, StateStore } from '../store/port.js';
import { hasScope, requirePrincipal } from './auth-plugin.js';
import { parseListQuery } from './list-query.js';

export interface QualityHoldsPluginOptions {
  readonly store: StateStore;
  readonly holds: QualityHoldProjection;
}

const STATUSES: readonly QualityHoldStatus[] = ['active', 'released', 'dispositioned'];
const PLANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** Hold ids are the cursor; anything longer than an id can be is not one. */
const MAX_CURSOR = 256;

function toWire(hold: QualityHoldRecord) {
  return {
    holdId: hold.holdId,
    plant: hold.plant,
    material: hold.material,
    lots: hold.lots,
    reason: hold.reason,
    placedAt: hold.placedAt,
    status: hold.status,
    disposition: hold.disposition,
    updatedAt: new Date(hold.updatedAt).toISOString(),
  };
}

/**
 * `GET /v1/quality/holds`: the holds the hub enforces on shipments, as its projection of the
 * quality events has them. For operations (`ops`) and the quality system (`commands:quality-hold`).
 */
export async function qualityHoldsPlugin(
  app: FastifyInstance,
  options: QualityHoldsPluginOptions,
): Promise<void> {
  const { store, holds } = options;

  app.get('/v1/quality/holds', async (request) => {
    const principal = requirePrincipal(request);
    if (!hasScope(principal, 'ops') && !hasScope(principal, 'commands:quality-hold')) {
      throw new ProblemError(
        'forbidden',
        `listing quality holds needs the "ops" or "commands:quality-hold" scope; client "${principal.client}" has neither`,
      );
    }
    const query = request.query as Record<string, string | undefined>;
    const { limit } = parseListQuery({ limit: query.limit });
    const errors: FieldError[] = [];
    const status = query.status || undefined;
    if (status !== undefined && !STATUSES.includes(status as QualityHoldStatus))
      errors.push({ path: 'status', message: `must be one of: ${STATUSES.join(', ')}` });
    const plant = query.plant || undefined;
    if (plant !== undefined && !PLANT.test(plant))
      errors.push({ path: 'plant', message: 'must be a plant code (letters, digits, _ or -)' });
    const after = query.after ?? '';
    if (after.length > MAX_CURSOR)
      errors.push({ path: 'after', message: 'must be the `next` value of a previous page' });
    if (errors.length > 0) throw new ProblemError('bad-request', 'invalid query parameters', { errors });
    if (plant !== undefined && principal.plants !== null && !principal.plants.has(plant)) {
      throw new ProblemError('forbidden', `client "${principal.client}" may not read plant "${plant}"`, {
        errors: [{ path: 'plant', message: `must be one of: ${[...principal.plants].join(', ')}` }],
      });
    }
    // Holds placed by events just appended are in the list, as they are for the shipment check.
    await holds.catchUp();
    const items = await store.holds.list(
      {
        ...(plant !== undefined ? { plant } : {}),
        ...(status !== undefined ? { status: status as QualityHoldStatus } : {}),
        ...(principal.plants !== null ? { plants: [...principal.plants] } : {}),
      },
      after,
      limit,
    );
    const last = items.at(-1);
    return { items: items.map(toWire), next: items.length === limit && last ? last.holdId : null };
  });
}
