import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ScanLimitExceeded } from '../analytics/log-scan.js';
import { queryOee, queryThroughput } from '../analytics/oee-query.js';
import { parseWindow, plantsFor } from '../analytics/query-range.js';
import type { AnalyticsSettings } from '../analytics/settings.js';
import type { Principal } from '../auth/principal.js';
import { ProblemError } from '../errors/problem.js';
import type { EventLog } from '../log/port.js';
import { hasScope, requirePrincipal } from './auth-plugin.js';

export interface AnalyticsPluginOptions {
  readonly log: EventLog;
  readonly settings: AnalyticsSettings;
  readonly now?: () => number;
  /** Events one request may scan. @default 200000 */
  readonly scanLimit?: number;
}

/** The default window: the last 8 hours (a shift). */
const DEFAULT_WINDOW_MS = 8 * 3_600_000;

/**
 * Figures a plant manager or a dashboard reads need `analytics:read`; `ops` (which can also
 * replay and discard) includes it, so operators need no second scope.
 */
function requireAnalytics(request: FastifyRequest): Principal {
  const principal = requirePrincipal(request);
  if (!hasScope(principal, 'analytics:read') && !hasScope(principal, 'ops'))
    throw new ProblemError(
      'forbidden',
      `this call needs the "analytics:read" (or "ops") scope; client "${principal.client}" does not have it`,
    );
  return principal;
}

function tooBroad(error: unknown): never {
  if (error instanceof ScanLimitExceeded)
    throw new ProblemError(
      'query-too-broad',
      `the range holds more than ${error.limit} events to read; narrow it`,
      {
        errors: [
          { path: 'from', message: 'shorten the range (from/to)' },
          { path: 'plant', message: 'name one plant' },
        ],
      },
    );
  throw error;
}

/**
 * `GET /v1/analytics/oee` (availability, performance, quality per machine) and
 * `GET /v1/analytics/throughput` (completed operations per plant), computed from the log.
 */
export async function analyticsPlugin(app: FastifyInstance, options: AnalyticsPluginOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const scan = options.scanLimit !== undefined ? { scanLimit: options.scanLimit } : {};

  app.get('/v1/analytics/oee', async (request) => {
    const principal = requireAnalytics(request);
    const query = request.query as Record<string, string | undefined>;
    const plants = plantsFor(principal, query.plant || undefined);
    const window = parseWindow(query, now(), DEFAULT_WINDOW_MS);
    const items = await queryOee(options.log, options.settings, {
      ...window,
      ...scan,
      plants,
      equipment: query.equipment || undefined,
      now: now(),
    }).catch(tooBroad);
    return { items };
  });

  app.get('/v1/analytics/throughput', async (request) => {
    const principal = requireAnalytics(request);
    const query = request.query as Record<string, string | undefined>;
    const plants = plantsFor(principal, query.plant || undefined);
    const window = parseWindow(query, now(), DEFAULT_WINDOW_MS);
    const items = await queryThroughput(options.log, { ...window, ...scan, plants, now: now() }).catch(
      tooBroad,
    );
    return { items };
  });
}
