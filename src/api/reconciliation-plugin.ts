import type { FastifyInstance } from 'fastify';
import { ScanLimitExceeded } from '../analytics/log-scan.js';
import { parseDays, plantsFor } from '../analytics/query-range.js';
import { DIFFERENCE_KINDS } from '../analytics/reconciliation.js';
import { reconciliationCsv } from '../analytics/reconciliation-csv.js';
import { decodeCursor, type ReconciliationService } from '../analytics/reconciliation-service.js';
import { type FieldError, ProblemError } from '../errors/problem.js';
import { requireScope } from './auth-plugin.js';

export interface ReconciliationPluginOptions {
  readonly service: ReconciliationService;
  /** Events one request may scan. @default 200000 */
  readonly scanLimit?: number;
}

const DIFFERENCE_FILTERS = ['any', 'none', ...DIFFERENCE_KINDS] as const;
type DifferenceFilter = (typeof DIFFERENCE_FILTERS)[number];

/**
 * `GET /v1/reconciliation`: per order and day, what the plant reported against what each route's
 * system acknowledged (delivered, pending, dead-lettered, rejected), and the differences; as JSON
 * pages or a CSV download.
 */
export async function reconciliationPlugin(
  app: FastifyInstance,
  options: ReconciliationPluginOptions,
): Promise<void> {
  const { service } = options;
  const routeNames = service.routes.map((r) => r.name);

  app.get('/v1/reconciliation', async (request, reply) => {
    const principal = requireScope(request, 'ops');
    const query = request.query as Record<string, string | undefined>;
    const errors: FieldError[] = [];
    const plants = plantsFor(principal, query.plant || undefined);
    const days = parseDays(query);
    const difference = query.difference || undefined;
    if (difference !== undefined && !(DIFFERENCE_FILTERS as readonly string[]).includes(difference))
      errors.push({ path: 'difference', message: `must be one of ${DIFFERENCE_FILTERS.join(', ')}` });
    const route = query.route || undefined;
    if (route !== undefined && !routeNames.includes(route))
      errors.push({
        path: 'route',
        message: `no route named "${route}"${routeNames.length ? `; known: ${routeNames.join(', ')}` : ''}`,
      });
    const format = query.format || (/\btext\/csv\b/.test(request.headers.accept ?? '') ? 'csv' : 'json');
    if (format !== 'json' && format !== 'csv')
      errors.push({ path: 'format', message: 'must be json or csv' });
    let limit = 100;
    if (query.limit) {
      limit = Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        errors.push({ path: 'limit', message: 'must be an integer from 1 to 1000' });
    }
    if (query.after && decodeCursor(query.after) === null)
      errors.push({ path: 'after', message: 'must be the `next` value of a previous page' });
    if (errors.length > 0) throw new ProblemError('bad-request', 'invalid reconciliation query', { errors });

    const csv = format === 'csv';
    let page: Awaited<ReturnType<ReconciliationService['query']>>;
    try {
      page = await service.query({
        days,
        plants,
        order: query.order || undefined,
        route,
        difference: difference as DifferenceFilter | undefined,
        after: query.after || undefined,
        // A download holds every matching order; a JSON answer is paged.
        limit: csv && !query.limit ? Number.MAX_SAFE_INTEGER : limit,
        ...(options.scanLimit !== undefined ? { scanLimit: options.scanLimit } : {}),
      });
    } catch (error) {
      if (!(error instanceof ScanLimitExceeded)) throw error;
      throw new ProblemError(
        'query-too-broad',
        `reconciling ${days.length === 1 ? `day ${days[0]}` : `${days.length} days`} means reading more than ${error.limit} events; narrow the query`,
        {
          errors: [
            { path: 'day', message: 'ask for one day at a time' },
            { path: 'plant', message: 'name one plant' },
          ],
        },
      );
    }
    if (!csv) return page;
    const name = days.length === 1 ? days[0] : `${days[0]}_${days[days.length - 1]}`;
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="reconciliation-${name}.csv"`)
      .send(reconciliationCsv(page.items));
  });
}
