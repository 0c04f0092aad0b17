import type { Config } from '../config/index.js';
import { typeMatcher } from '../log/port.js';
import { CANONICAL_TYPES, domainOfType, laneOfType } from '../model/catalog.js';
import type { ClientRecord } from '../store/port.js';

export interface TypeDependencies {
  readonly type: string;
  readonly domain: string;
  readonly owner: string;
  readonly lane: 'critical' | 'bulk';
  /** Critical-lane types are business-critical: they carry orders, quality, inventory and shipments. */
  readonly criticality: 'business-critical' | 'bulk';
  readonly publishers: {
    readonly clients: ReadonlyArray<{
      name: string;
      plants: readonly string[] | null;
      via: 'scope' | 'admin';
    }>;
    readonly connectors: ReadonlyArray<{ name: string; kind: string }>;
  };
  readonly consumers: ReadonlyArray<{
    route: string;
    sink: string;
    endpoint: string | null;
    lane: string;
    filter: string | null;
    transform: boolean;
    retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number; maxAgeMs: number };
    timeoutMs: number;
    deadLetterQueue: true;
  }>;
}

/** Types a source connector's configuration says it produces (its defaults when it has no `map`). */
export function connectorTypes(connector: Record<string, unknown>): string[] {
  switch (connector.kind) {
    case 'mqtt':
      return connector.format === 'sparkplug-b'
        ? ['telemetry.machine.counter', 'telemetry.machine.state']
        : [];
    case 'opcua':
      return Array.isArray(connector.nodes)
        ? connector.nodes.map((n) => String((n as { type?: unknown }).type ?? '')).filter(Boolean)
        : [];
    case 'files':
      if (connector.format === 'x12' || connector.format === 'edifact') return ['supplier.asn.received'];
      if (connector.format === 'b2mml') return ['production.*'];
      return typeof connector.type === 'string' ? [connector.type] : [];
    default:
      return [];
  }
}

/**
 * Who publishes and who consumes each type: clients allowed to publish it, connectors that produce
 * it, and the routes that deliver it with their sink, retry and dead-letter policy.
 */
export function buildDependencies(
  config: Config,
  types: ReadonlyArray<{ type: string; domain: string; owner: string }>,
  clients: readonly ClientRecord[],
): TypeDependencies[] {
  const routes = config.routes.map((route) => ({ route, matches: typeMatcher(route.types) }));
  const sources = Object.entries(config.connectors)
    .map(([name, c]) => ({ name, kind: c.kind, produces: connectorTypes(c as Record<string, unknown>) }))
    .filter((s) => s.produces.length > 0)
    .map((s) => ({ ...s, matches: typeMatcher(s.produces) }));
  const active = clients.filter((c) => c.revokedAt === null);
  return types.map(({ type, domain, owner }) => {
    const lane = CANONICAL_TYPES.get(type)?.lane ?? laneOfType(type);
    const publishScope = `events:publish:${domainOfType(type)}`;
    return {
      type,
      domain,
      owner,
      lane,
      criticality: lane === 'critical' ? 'business-critical' : 'bulk',
      publishers: {
        clients: active
          .filter((c) => c.scopes.includes(publishScope) || c.scopes.includes('admin'))
          .map((c) => ({
            name: c.name,
            plants: c.plants,
            via: c.scopes.includes(publishScope) ? ('scope' as const) : ('admin' as const),
          })),
        connectors: sources.filter((s) => s.matches(type)).map((s) => ({ name: s.name, kind: s.kind })),
      },
      consumers: routes
        .filter((r) => r.matches(type))
        .map(({ route }) => {
          const sink = config.connectors[route.sink] as { url?: unknown; baseUrl?: unknown } | undefined;
          const endpoint = publicEndpoint(
            typeof sink?.url === 'string'
              ? sink.url
              : typeof sink?.baseUrl === 'string'
                ? sink.baseUrl
                : null,
          );
          return {
            route: route.name,
            sink: route.sink,
            endpoint,
            lane: route.lane,
            filter: route.filter,
            transform: route.transform !== null,
            retry: { ...route.retry },
            timeoutMs: route.timeoutMs,
            deadLetterQueue: true as const,
          };
        }),
    };
  });
}

/** An endpoint as the catalog shows it: origin and path only, so credentials in a URL never leak. */
function publicEndpoint(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return null;
  }
}
