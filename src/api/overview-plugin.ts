import type { FastifyInstance } from 'fastify';
import type { ConnectorManager } from '../connectors/framework/manager.js';
import type { DeliveryEngine } from '../delivery/engine.js';
import type { RateSampler } from '../observability/rates.js';
import type { StateStore } from '../store/port.js';
import { requireScope } from './auth-plugin.js';

export interface OverviewPluginOptions {
  readonly sampler: RateSampler;
  readonly delivery: DeliveryEngine;
  readonly connectors: ConnectorManager;
  readonly store: StateStore;
  /** This hub instance's name (rates are this instance's). */
  readonly instanceId: string;
  readonly now?: () => number;
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * `GET /v1/overview`: the console's live picture in one call: this instance's ingest, delivery and
 * failure rates with their last minutes, each route's lag and circuit, open dead letters and the
 * health of the source connectors.
 */
export async function overviewPlugin(app: FastifyInstance, options: OverviewPluginOptions): Promise<void> {
  const { sampler, delivery, connectors, store } = options;
  const now = options.now ?? Date.now;

  app.get('/v1/overview', async (request) => {
    requireScope(request, 'ops');
    const { rates, totals } = sampler.current();
    const open = await store.deadLetters.openCounts();
    const subscriptions = delivery.subscriptions();
    const routes = subscriptions.map((s) => ({
      name: s.name,
      sink: s.sink,
      endpoint: s.endpoint,
      lane: s.lane,
      state: s.state,
      lag: s.lag,
      inFlight: s.inFlight,
      retryingKeys: s.retryingKeys,
      circuit: s.circuit,
      dlqOpen: open.get(s.name) ?? 0,
      delivered: s.delivered,
      failedAttempts: s.failedAttempts,
      deadLettered: s.deadLettered,
      lastError: s.lastError,
    }));
    // One breaker per endpoint, shared by the routes that deliver there.
    const circuits = new Map<string, { endpoint: string; sink: string; state: string; routes: string[] }>();
    for (const s of subscriptions) {
      const circuit = circuits.get(s.endpoint) ?? {
        endpoint: s.endpoint,
        sink: s.sink,
        state: s.circuit,
        routes: [],
      };
      circuit.routes.push(s.name);
      // A route on standby does not know the breaker; one that runs does.
      if (s.state !== 'standby') circuit.state = s.circuit;
      circuits.set(s.endpoint, circuit);
    }
    const lagged = subscriptions.filter((s) => s.state !== 'standby');
    return {
      at: new Date(now()).toISOString(),
      instance: options.instanceId,
      intervalSeconds: sampler.intervalMs / 1000,
      windowSeconds: sampler.windowMs / 1000,
      ingest: { perSecond: round(rates.ingest), total: totals.ingest },
      deliveries: {
        perSecond: round(rates.delivered),
        failedPerSecond: round(rates.failed),
        total: totals.delivered,
        failedTotal: totals.failed,
      },
      dlqOpen: [...open.values()].reduce((sum, n) => sum + n, 0),
      lag: {
        events: lagged.reduce((sum, s) => sum + s.lag.events, 0),
        seconds: lagged.reduce((most, s) => Math.max(most, s.lag.seconds), 0),
      },
      series: sampler.series().map((p) => ({
        t: new Date(p.t).toISOString(),
        ingest: round(p.ingest),
        delivered: round(p.delivered),
        failed: round(p.failed),
      })),
      routes,
      connectors: connectors.statuses().map((c) => ({
        name: c.name,
        kind: c.kind,
        plant: c.plant,
        health: c.health,
        messages: c.messages,
        events: c.events,
        deadLettered: c.deadLettered,
        lastError: c.lastError,
      })),
      circuits: [...circuits.values()],
    };
  });
}
