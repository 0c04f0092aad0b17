import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../errors/problem.js';
import type { MilestoneFilter, MilestoneRecord, MilestoneStatus, StateStore } from '../store/port.js';
import { requireScope } from './auth-plugin.js';
import { parseListQuery } from './list-query.js';

export interface MilestonesPluginOptions {
  readonly store: StateStore;
  /** @default Date.now */
  readonly now?: () => number;
}

const STATUSES: readonly MilestoneStatus[] = ['open', 'late', 'met'];

const iso = (ms: number) => new Date(ms).toISOString();

/** A milestone as the API shows it; `ageSeconds` runs from the start to the end, or to now while open. */
export function milestoneToWire(record: MilestoneRecord, now: number) {
  const until = record.metAt ?? now;
  return {
    id: record.id,
    name: record.name,
    correlation: record.correlation,
    plant: record.plant,
    status: record.status,
    startedAt: iso(record.startedAt),
    dueAt: iso(record.dueAt),
    endedAt: record.metAt === null ? null : iso(record.metAt),
    ageSeconds: Math.max(0, Math.round((until - record.startedAt) / 1000)),
    late: record.lateAt !== null || until > record.dueAt,
    events: [
      { ...record.startEvent, role: 'start' as const },
      ...(record.endEvent ? [{ ...record.endEvent, role: 'end' as const }] : []),
    ],
  };
}

function text(query: Record<string, string | undefined>, name: string): string | undefined {
  const value = query[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Business milestones (`ops` scope): `GET /v1/milestones` lists them, `GET /v1/milestones/summary`
 * counts them by name and plant. A plant-bound client sees only its plants' milestones.
 */
export async function milestonesPlugin(
  app: FastifyInstance,
  options: MilestonesPluginOptions,
): Promise<void> {
  const { store } = options;
  const now = options.now ?? Date.now;

  app.get('/v1/milestones', async (request) => {
    const principal = requireScope(request, 'ops');
    const query = request.query as Record<string, string | undefined>;
    const { after, limit } = parseListQuery(query);
    const status = text(query, 'status');
    if (status !== undefined && !STATUSES.includes(status as MilestoneStatus)) {
      throw new ProblemError('bad-request', `status must be one of ${STATUSES.join(', ')}`, {
        errors: [{ path: 'status', message: `must be one of: ${STATUSES.join(', ')}` }],
      });
    }
    const name = text(query, 'name');
    const plant = text(query, 'plant');
    const filter: MilestoneFilter = {
      ...(status !== undefined ? { status: status as MilestoneStatus } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(plant !== undefined ? { plant } : {}),
      ...(principal.plants !== null ? { plants: [...principal.plants] } : {}),
    };
    const items = await store.milestones.list(filter, after, limit);
    const last = items.at(-1);
    const at = now();
    return {
      items: items.map((record) => milestoneToWire(record, at)),
      next: items.length === limit && last ? String(last.position) : null,
    };
  });

  app.get('/v1/milestones/summary', async (request) => {
    const principal = requireScope(request, 'ops');
    const counts = await store.milestones.counts(
      principal.plants === null ? undefined : [...principal.plants],
    );
    const rows = new Map<
      string,
      { name: string; plant: string | null; open: number; late: number; met: number }
    >();
    for (const count of counts) {
      const key = `${count.name}\u0000${count.plant ?? ''}`;
      const row = rows.get(key) ?? { name: count.name, plant: count.plant, open: 0, late: 0, met: 0 };
      row[count.status] += count.count;
      rows.set(key, row);
    }
    return { items: [...rows.values()] };
  });
}
