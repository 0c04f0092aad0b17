import { isAbsolute, join, resolve } from 'node:path';
import jsonata from 'jsonata';
import {
  type AnalyticsSettings,
  compileAnalytics,
  compileReconciliation,
  type ReconciliationSettings,
} from '../analytics/settings.js';
import { compileJwtSettings, type JwtSettings } from '../auth/jwt-settings.js';
import {
  ALERT_ROUTE_TYPES,
  type AlertDefinition,
  type CompiledMilestones,
  compileAlerts,
  compileMilestones,
} from '../milestones/definitions.js';
import { laneOfType } from '../model/catalog.js';
import { compileObservability, type ObservabilitySettings } from '../observability/tracing-settings.js';
import { parseDuration, parseSize } from '../util/duration.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import type { RawConfig } from './schema.js';

export type LaneName = 'critical' | 'bulk';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAgeMs: number;
}

export interface LaneConfig {
  readonly concurrency: number;
  readonly maxQueued: number;
  /** Events/s admitted at ingress for this lane; `Infinity` when unset. */
  readonly ingressPerSecond: number;
}

export interface CompiledRoute {
  readonly name: string;
  readonly types: readonly string[];
  readonly filter: string | null;
  readonly transform: string | null;
  readonly sink: string;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly lane: LaneName;
  /** Several events per request; null: one event per request. */
  readonly batch: BatchPolicy | null;
}

/** How a batching route groups events: a batch is sent once full or once its first event waited maxWaitMs. */
export interface BatchPolicy {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
}

export interface ConnectorConfig {
  readonly kind: string;
  readonly [key: string]: unknown;
}

export interface ClientConfig {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly plants: readonly string[] | null;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | null;
}

export type LogConfig =
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      readonly synchronous: 'full' | 'normal';
      readonly retention: {
        readonly maxAgeMs: number | null;
        readonly maxEvents: number | null;
        readonly checkEveryMs: number;
      };
    }
  | {
      readonly kind: 'jetstream';
      readonly servers: readonly string[];
      readonly replicas: number;
      readonly stream: string;
    };

export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/**
 * Connection limits of the HTTP server. The header timeout cuts off clients that trickle their headers
 * (slowloris); the request timeout bounds a whole upload (a 1 MiB body at a slow 100 kB/s takes 10 s);
 * 5 s of keep-alive outlasts a client's pause between requests without holding idle sockets for long.
 */
export const SERVER_DEFAULTS = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnectionsPerAddress: 256,
});

/** The compiled, frozen configuration: defaults applied, durations in ms, sizes in bytes, paths absolute. */
export interface Config {
  readonly dataDir: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly tls: { readonly cert: string; readonly key: string; readonly ca: string | null } | null;
    readonly insecure: boolean;
    /** Time to receive a request line and its headers. @default 10 s */
    readonly headersTimeoutMs: number;
    /** Time to receive a whole request. @default 30 s */
    readonly requestTimeoutMs: number;
    /** Time an idle kept-alive connection is kept. @default 5 s */
    readonly keepAliveTimeoutMs: number;
    /** Open connections per remote address. @default 256 */
    readonly maxConnectionsPerAddress: number;
  };
  readonly store: StoreConfig;
  readonly log: LogConfig;
  readonly auth: { readonly jwt: JwtSettings | null };
  readonly clients: readonly ClientConfig[];
  readonly lanes: Readonly<Record<LaneName, LaneConfig>>;
  readonly referenceData: Readonly<Record<string, string>>;
  readonly connectors: Readonly<Record<string, ConnectorConfig>>;
  readonly commands: Readonly<Record<string, { readonly connector: string; readonly path: string }>>;
  readonly routes: readonly CompiledRoute[];
  /** Business milestones (docs/milestones.md): the configured ones, or the built-in ones. */
  readonly milestones: CompiledMilestones;
  /** Alerts on milestones; each also appears in `routes` as its implicit route. */
  readonly alerts: readonly AlertDefinition[];
  /** Periodic reconciliation and the systems of record it asks (docs/analytics.md). */
  readonly reconciliation: ReconciliationSettings;
  /** Ideal rates and counter names for OEE (docs/analytics.md). */
  readonly analytics: AnalyticsSettings;
  /** Span export (docs/tracing.md); tracing is off unless `observability.tracing` is set. */
  readonly observability: ObservabilitySettings;
}

/** Overrides from the command line and environment; they win over the file. */
export interface ConfigOverrides {
  dataDir?: string;
  host?: string;
  port?: number;
}

/** @default values of a route's `batch`, used where it leaves a field out. */
export const DEFAULT_BATCH = Object.freeze({ maxEvents: 100, maxBytes: 1024 ** 2, maxWaitMs: 10 });

/** Longest a batch may wait to fill: beyond this the wait adds latency and saves no requests. */
const MAX_BATCH_WAIT_MS = 10_000;

/** Smallest batch byte bound that holds a typical event or two. */
const MIN_BATCH_BYTES = 1024;

function compileBatch(
  batch: NonNullable<RawConfig['routes']>[number]['batch'],
  at: string,
  problems: ConfigProblem[],
): BatchPolicy | null {
  if (batch === undefined) return null;
  const policy = {
    maxEvents: batch.maxEvents ?? DEFAULT_BATCH.maxEvents,
    maxBytes: batch.maxBytes ? parseSize(batch.maxBytes) : DEFAULT_BATCH.maxBytes,
    maxWaitMs: batch.maxWait ? parseDuration(batch.maxWait) : DEFAULT_BATCH.maxWaitMs,
  };
  if (policy.maxBytes < MIN_BATCH_BYTES)
    problems.push({
      path: `${at}.batch.maxBytes`,
      message: `${batch.maxBytes} holds hardly one event; use at least 1kb, e.g. 1mb`,
    });
  if (policy.maxWaitMs > MAX_BATCH_WAIT_MS)
    problems.push({
      path: `${at}.batch.maxWait`,
      message: `${batch.maxWait} would hold events back that long; use at most 10s (a few ms is usual)`,
    });
  return policy;
}

/** @default values of the retry policy, used where a route leaves a field out. */
export const DEFAULT_RETRY = Object.freeze({
  maxAttempts: 8,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAgeMs: 86_400_000,
});

const DEFAULT_LANES: Record<LaneName, LaneConfig> = {
  critical: { concurrency: 32, maxQueued: 100_000, ingressPerSecond: Number.POSITIVE_INFINITY },
  bulk: { concurrency: 4, maxQueued: 100_000, ingressPerSecond: Number.POSITIVE_INFINITY },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

function connectorTimeout(
  connector: { timeout?: unknown } | undefined,
  path: string,
  problems: ConfigProblem[],
): number {
  if (connector?.timeout === undefined) return 5_000;
  try {
    return parseDuration(String(connector.timeout));
  } catch (error) {
    problems.push({ path, message: (error as Error).message });
    return 5_000;
  }
}

/** Checks a JSONata expression compiles; returns the problem with its position if not. */
function checkJsonata(expression: string, path: string, problems: ConfigProblem[]): void {
  try {
    jsonata(expression);
  } catch (error) {
    const e = error as { message: string; position?: number; token?: string };
    problems.push({
      path,
      message: `invalid JSONata at position ${e.position ?? '?'}${e.token ? ` near "${e.token}"` : ''}: ${e.message}`,
    });
  }
}

/**
 * Turns a validated raw config into the frozen runtime form, checking what a schema cannot:
 * references between sections, unique names, and that expressions compile.
 */
export function compileConfig(
  raw: RawConfig,
  options: { baseDir: string; overrides?: ConfigOverrides; source?: string },
): Config {
  const problems: ConfigProblem[] = [];
  const { baseDir, overrides = {} } = options;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const dataDir = abs(overrides.dataDir ?? 'data');

  const connectors = raw.connectors ?? {};
  const routeNames = new Set<string>();
  const routes: CompiledRoute[] = (raw.routes ?? []).map((route, i) => {
    const at = `routes[${i}]`;
    if (routeNames.has(route.name))
      problems.push({ path: `${at}.name`, message: `duplicate route name "${route.name}"` });
    routeNames.add(route.name);
    if (!Object.hasOwn(connectors, route.sink)) {
      const known = Object.keys(connectors);
      problems.push({
        path: `${at}.sink`,
        message: `no connector named "${route.sink}"; declare it under connectors:${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      });
    }
    if (route.filter) checkJsonata(route.filter, `${at}.filter`, problems);
    if (route.transform) checkJsonata(route.transform, `${at}.transform`, problems);
    const retry = {
      maxAttempts: route.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      initialDelayMs: route.retry?.initialDelay
        ? parseDuration(route.retry.initialDelay)
        : DEFAULT_RETRY.initialDelayMs,
      maxDelayMs: route.retry?.maxDelay ? parseDuration(route.retry.maxDelay) : DEFAULT_RETRY.maxDelayMs,
      maxAgeMs: route.retry?.maxAge ? parseDuration(route.retry.maxAge) : DEFAULT_RETRY.maxAgeMs,
    };
    if (retry.maxDelayMs < retry.initialDelayMs) {
      problems.push({ path: `${at}.retry.maxDelay`, message: 'must be >= retry.initialDelay' });
    }
    // A route's lane defaults to the lane of its first type: telemetry is bulk, the rest critical.
    const lane: LaneName = route.lane ?? laneOfType(route.types[0] ?? '');
    return {
      name: route.name,
      types: [...route.types],
      filter: route.filter ?? null,
      transform: route.transform ?? null,
      sink: route.sink,
      retry,
      // Unset: the sink connector's timeout, else 5 s.
      timeoutMs: route.timeout
        ? parseDuration(route.timeout)
        : connectorTimeout(
            connectors[route.sink] as { timeout?: unknown } | undefined,
            `connectors.${route.sink}.timeout`,
            problems,
          ),
      lane,
      batch: compileBatch(route.batch, at, problems),
    };
  });

  const milestones = compileMilestones(raw.milestones, routeNames, problems);
  // An alert is a route of the hub's milestone events, so it gets retries, circuits and the DLQ.
  const alerts = compileAlerts(raw.alerts ?? [], connectors, routeNames, problems);
  for (const alert of alerts) {
    routes.push({
      name: alert.route,
      types: [...ALERT_ROUTE_TYPES[alert.when]],
      filter: null,
      transform: null,
      sink: alert.sink,
      retry: { ...DEFAULT_RETRY },
      timeoutMs: connectorTimeout(
        connectors[alert.sink] as { timeout?: unknown } | undefined,
        `connectors.${alert.sink}.timeout`,
        problems,
      ),
      lane: 'critical',
      batch: null,
    });
  }

  const clientNames = new Set<string>();
  const clients: ClientConfig[] = (raw.clients ?? []).map((client, i) => {
    if (clientNames.has(client.name))
      problems.push({ path: `clients[${i}].name`, message: `duplicate client "${client.name}"` });
    clientNames.add(client.name);
    return {
      name: client.name,
      scopes: [...client.scopes],
      plants: client.plants ? [...client.plants] : null,
      rateLimit: client.rateLimit
        ? {
            perSecond: client.rateLimit.perSecond,
            burst: client.rateLimit.burst ?? Math.ceil(client.rateLimit.perSecond * 2),
          }
        : null,
    };
  });

  for (const [name, command] of Object.entries(raw.commands ?? {})) {
    if (!Object.hasOwn(connectors, command.connector)) {
      problems.push({
        path: `commands.${name}.connector`,
        message: `no connector named "${command.connector}"`,
      });
    }
  }

  const lanes = {} as Record<LaneName, LaneConfig>;
  for (const name of ['critical', 'bulk'] as const) {
    const given = raw.lanes?.[name];
    lanes[name] = {
      concurrency: given?.concurrency ?? DEFAULT_LANES[name].concurrency,
      maxQueued: given?.maxQueued ?? DEFAULT_LANES[name].maxQueued,
      ingressPerSecond: given?.ingressPerSecond ?? DEFAULT_LANES[name].ingressPerSecond,
    };
  }

  const rawLog = raw.log ?? { kind: 'sqlite' as const };
  const log: LogConfig =
    rawLog.kind === 'sqlite'
      ? {
          kind: 'sqlite',
          path: rawLog.path ? abs(rawLog.path) : join(dataDir, 'events.db'),
          synchronous: rawLog.synchronous ?? 'full',
          retention: {
            maxAgeMs: rawLog.retention?.maxAge ? parseDuration(rawLog.retention.maxAge) : null,
            maxEvents: rawLog.retention?.maxEvents ?? null,
            checkEveryMs: rawLog.retention?.checkEvery ? parseDuration(rawLog.retention.checkEvery) : 60_000,
          },
        }
      : {
          kind: 'jetstream',
          servers: [...rawLog.servers],
          replicas: rawLog.replicas ?? 1,
          stream: rawLog.stream ?? 'CONVEYOR_EVENTS',
        };

  const rawStore = raw.store ?? { kind: 'sqlite' as const };
  const store: StoreConfig =
    rawStore.kind === 'sqlite'
      ? { kind: 'sqlite', path: rawStore.path ? abs(rawStore.path) : join(dataDir, 'conveyor.db') }
      : { kind: 'postgres', url: rawStore.url };

  const host = overrides.host ?? raw.server?.host ?? '127.0.0.1';
  const tls = raw.server?.tls
    ? {
        cert: abs(raw.server.tls.cert),
        key: abs(raw.server.tls.key),
        ca: raw.server.tls.ca ? abs(raw.server.tls.ca) : null,
      }
    : null;
  const insecure = raw.server?.insecure ?? false;
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  if (!tls && !loopback && !insecure) {
    problems.push({
      path: 'server.host',
      message: `listening on ${host} without TLS; set server.tls (cert, key) or, knowingly, server.insecure: true`,
    });
  }

  const headersTimeoutMs = raw.server?.headersTimeout
    ? parseDuration(raw.server.headersTimeout)
    : SERVER_DEFAULTS.headersTimeoutMs;
  const requestTimeoutMs = raw.server?.requestTimeout
    ? parseDuration(raw.server.requestTimeout)
    : SERVER_DEFAULTS.requestTimeoutMs;
  if (headersTimeoutMs > requestTimeoutMs) {
    problems.push({
      path: raw.server?.headersTimeout ? 'server.headersTimeout' : 'server.requestTimeout',
      message: `server.headersTimeout (${headersTimeoutMs} ms) must be at most server.requestTimeout (${requestTimeoutMs} ms): the headers are part of the request`,
    });
  }

  const jwt = compileJwtSettings(raw.auth?.jwt, baseDir, problems);
  const reconciliation = compileReconciliation(
    raw.reconciliation,
    { routes: routeNames, connectors },
    problems,
  );

  const observability = compileObservability(raw.observability, problems);

  if (problems.length > 0) throw new ConfigError(options.source ?? 'the configuration', problems);

  return deepFreeze({
    dataDir,
    server: {
      host,
      port: overrides.port ?? raw.server?.port ?? 8080,
      bodyLimitBytes: raw.server?.bodyLimit ? parseSize(raw.server.bodyLimit) : 1_048_576,
      tls,
      insecure,
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: raw.server?.keepAliveTimeout
        ? parseDuration(raw.server.keepAliveTimeout)
        : SERVER_DEFAULTS.keepAliveTimeoutMs,
      maxConnectionsPerAddress:
        raw.server?.maxConnectionsPerAddress ?? SERVER_DEFAULTS.maxConnectionsPerAddress,
    },
    store,
    log,
    auth: { jwt },
    clients,
    lanes,
    referenceData: Object.fromEntries(Object.entries(raw.referenceData ?? {}).map(([k, v]) => [k, abs(v)])),
    connectors: connectors as Record<string, ConnectorConfig>,
    commands: raw.commands ?? {},
    routes,
    milestones,
    alerts,
    reconciliation,
    analytics: compileAnalytics(raw.analytics),
    observability,
  });
}
