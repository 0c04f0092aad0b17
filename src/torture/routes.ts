import type { SentEvent } from './checker.js';

/** How the torture receiver answers a route's deliveries. */
export type ReceiverMode = 'healthy' | 'flaky' | 'poison';

/** A route of the torture config: what the hub is told, and the checker's own model of it. */
export interface TortureRoute {
  readonly name: string;
  readonly types: readonly string[];
  /** JSONata for the hub's config. */
  readonly filter?: string;
  /** The same filter, written independently for the checker. */
  readonly accepts?: (event: SentEvent) => boolean;
  readonly mode: ReceiverMode;
  /** The route's per-attempt timeout in ms (the receiver answers later than this to be "late"). */
  readonly timeoutMs: number;
}

/** Does `type` match one of `patterns` (exact types or `domain.*`)? Written apart from the hub's matcher. */
export function typeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => (p.endsWith('.*') ? type.startsWith(p.slice(0, -1)) : p === type));
}

export function selects(route: TortureRoute, event: SentEvent): boolean {
  return typeMatches(route.types, event.type) && (route.accepts?.(event) ?? true);
}

/**
 * The standing routes of every scenario: a broad one, a sparse one that mixes a domain wildcard
 * with an exact type of another domain, a filtered one, one whose endpoint rejects some events
 * (dead letters, replayed later) and one whose endpoint fails, stalls, resets and answers late.
 */
export const STANDING_ROUTES: readonly TortureRoute[] = [
  {
    name: 'p1-production',
    types: ['production.*'],
    filter: "plant = 'P1'",
    accepts: (e) => e.plant === 'P1',
    mode: 'healthy',
    timeoutMs: 2_000,
  },
  {
    name: 'quality-and-releases',
    types: ['quality.*', 'production.order.released'],
    mode: 'healthy',
    timeoutMs: 2_000,
  },
  {
    name: 'p2-materials',
    types: ['production.material.consumed', 'inventory.*'],
    filter: "plant = 'P2'",
    accepts: (e) => e.plant === 'P2',
    mode: 'healthy',
    timeoutMs: 2_000,
  },
  { name: 'maintenance-poison', types: ['maintenance.*'], mode: 'poison', timeoutMs: 2_000 },
  {
    name: 'flaky-operations',
    types: ['production.operation.completed'],
    filter: "plant = 'P1'",
    accepts: (e) => e.plant === 'P1',
    mode: 'flaky',
    timeoutMs: 1_500,
  },
];

/** A route present only until the config changes (it is removed between restarts). */
export const REMOVED_ROUTE: TortureRoute = {
  name: 'removed-later',
  types: ['production.material.consumed', 'maintenance.downtime.ended'],
  mode: 'healthy',
  timeoutMs: 2_000,
};

/** A route that appears when the config changes (added between restarts). */
export const ADDED_ROUTE: TortureRoute = {
  name: 'added-later',
  types: ['inventory.*', 'quality.hold.placed'],
  mode: 'healthy',
  timeoutMs: 2_000,
};

/** The hub config (JSON, which the YAML loader reads too) for these routes, each to its own path. */
export function hubConfig(
  routes: readonly TortureRoute[],
  receiverUrl: string,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...base,
    connectors: Object.fromEntries(
      routes.map((r) => [
        r.name,
        {
          kind: 'http',
          url: `${receiverUrl}/${r.name}`,
          // A short open circuit: the flaky endpoint trips it often, and the run must go on.
          circuitBreaker: { failureThreshold: 5, resetAfter: '200ms' },
        },
      ]),
    ),
    routes: routes.map((r) => ({
      name: r.name,
      types: r.types,
      ...(r.filter ? { filter: r.filter } : {}),
      sink: r.name,
      retry: { maxAttempts: 1000, initialDelay: '20ms', maxDelay: '200ms', maxAge: '1h' },
      timeout: `${r.timeoutMs}ms`,
    })),
  };
}
