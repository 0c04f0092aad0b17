import { type Static, Type as T } from '@sinclair/typebox';
import type { ConfigProblem } from '../config/config-error.js';
import { DURATION_PATTERN, parseDuration } from '../util/duration.js';

const Strict = { additionalProperties: false } as const;
const CounterNames = T.Array(T.String({ minLength: 1, maxLength: 256 }), { minItems: 1 });

/** `analytics:` in conveyor.yaml: what OEE needs beyond the events themselves. */
export const AnalyticsSchema = T.Object(
  {
    idealRates: T.Optional(
      T.Record(T.String({ minLength: 1, maxLength: 128 }), T.Number({ exclusiveMinimum: 0 }), {
        'x-hint': 'a mapping of equipment id to its ideal rate in units per minute, e.g. { PRESS-07: 60 }',
      }),
    ),
    counters: T.Optional(
      T.Object(
        { good: T.Optional(CounterNames), scrap: T.Optional(CounterNames) },
        { ...Strict, 'x-hint': '{ good: [counter names], scrap: [counter names] }' },
      ),
    ),
  },
  { ...Strict, 'x-hint': 'an object with idealRates and optionally counters' },
);

/** `reconciliation:` in conveyor.yaml: how often to check, and which systems of record to ask. */
export const ReconciliationSchema = T.Object(
  {
    every: T.Optional(
      T.String({
        pattern: DURATION_PATTERN,
        description: 'How often the periodic check runs.',
        'x-hint': 'a duration such as 500ms, 30s, 15m or 24h',
      }),
    ),
    systems: T.Optional(
      T.Array(
        T.Object(
          {
            route: T.String({ minLength: 1, 'x-hint': 'the name of a route under routes:' }),
            connector: T.String({ minLength: 1, 'x-hint': 'the name of an http connector with a baseUrl' }),
            path: T.String({
              pattern: '^/',
              'x-hint': 'a path below the connector baseUrl with {orderId}, e.g. /orders/{orderId}/postings',
            }),
          },
          { ...Strict, 'x-hint': 'an object with route, connector and path' },
        ),
      ),
    ),
  },
  { ...Strict, 'x-hint': 'an object with every and systems' },
);

export type RawAnalytics = Static<typeof AnalyticsSchema>;
export type RawReconciliation = Static<typeof ReconciliationSchema>;

/** Counter names (compared case-insensitively) that count good and scrap parts when none are configured. */
export const DEFAULT_GOOD_COUNTERS = ['good', 'goodcount', 'good_count', 'good-count', 'goodparts'];
export const DEFAULT_SCRAP_COUNTERS = [
  'scrap',
  'scrapcount',
  'scrap_count',
  'scrap-count',
  'reject',
  'rejects',
];

export interface AnalyticsSettings {
  /** Units per minute per equipment id. */
  readonly idealRates: Readonly<Record<string, number>>;
  /** Lower-cased counter names. */
  readonly goodCounters: readonly string[];
  readonly scrapCounters: readonly string[];
}

export interface ReconciliationSystem {
  readonly route: string;
  readonly connector: string;
  readonly path: string;
}

export interface ReconciliationSettings {
  /** @default 900000 (15m) */
  readonly everyMs: number;
  readonly systems: readonly ReconciliationSystem[];
}

export function compileAnalytics(raw: RawAnalytics | undefined): AnalyticsSettings {
  const lower = (names: readonly string[]) => names.map((n) => n.toLowerCase());
  return {
    idealRates: { ...(raw?.idealRates ?? {}) },
    goodCounters: lower(raw?.counters?.good ?? DEFAULT_GOOD_COUNTERS),
    scrapCounters: lower(raw?.counters?.scrap ?? DEFAULT_SCRAP_COUNTERS),
  };
}

/** Checks what the schema cannot: the routes and connectors named exist, and the path has {orderId}. */
export function compileReconciliation(
  raw: RawReconciliation | undefined,
  known: { routes: ReadonlySet<string>; connectors: Readonly<Record<string, { kind: string }>> },
  problems: ConfigProblem[],
): ReconciliationSettings {
  const systems = (raw?.systems ?? []).map((system, i) => {
    const at = `reconciliation.systems[${i}]`;
    if (!known.routes.has(system.route)) {
      problems.push({
        path: `${at}.route`,
        message: `no route named "${system.route}"; name one under routes:${known.routes.size ? ` (known: ${[...known.routes].join(', ')})` : ''}`,
      });
    }
    const connector = Object.hasOwn(known.connectors, system.connector)
      ? known.connectors[system.connector]
      : undefined;
    if (!connector) {
      problems.push({
        path: `${at}.connector`,
        message: `no connector named "${system.connector}"; declare it under connectors:`,
      });
    } else if (connector.kind !== 'http') {
      problems.push({
        path: `${at}.connector`,
        message: `connector "${system.connector}" is kind ${connector.kind}; a system of record is asked over kind http`,
      });
    } else if (typeof (connector as { baseUrl?: unknown }).baseUrl !== 'string') {
      problems.push({
        path: `connectors.${system.connector}.baseUrl`,
        message: 'a system of record is asked below the connector baseUrl; set it',
      });
    }
    if (!system.path.includes('{orderId}'))
      problems.push({
        path: `${at}.path`,
        message: 'must contain {orderId}, e.g. /orders/{orderId}/postings',
      });
    for (const [, name] of system.path.matchAll(/\{([^}]*)\}/g)) {
      if (name !== 'orderId' && name !== 'day')
        problems.push({
          path: `${at}.path`,
          message: `unknown placeholder {${name}}; use {orderId} and {day}`,
        });
    }
    return { route: system.route, connector: system.connector, path: system.path };
  });
  let everyMs = 900_000;
  if (raw?.every !== undefined) {
    everyMs = parseDuration(raw.every);
    if (everyMs < 10_000) problems.push({ path: 'reconciliation.every', message: 'must be at least 10s' });
  }
  return { everyMs, systems };
}
