import type { Registry } from 'prom-client';
import type { Work } from '../cluster/work-coordinator.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../config/index.js';
import { type CompiledCircuitBreaker, compileCircuitBreaker } from '../connectors/framework/common.js';
import { validateConnectorConfig } from '../connectors/framework/manager.js';
import { connectorKind, connectorKinds } from '../connectors/framework/registry.js';
import { compileHttpConnector } from '../connectors/http/http-connector.js';
import type { EventLog } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';
import { eventLogFields } from '../observability/event-trace.js';
import type { Logger } from '../observability/logger.js';
import type { HubTracing } from '../observability/tracing.js';
import type { DeadLetterRecord, StateStore } from '../store/port.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { type Clock, systemClock } from './clock.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { HttpSink } from './http-sink.js';
import { LaneLimiter } from './lane-limiter.js';
import { type RouteStatus, RouteWorker } from './route-worker.js';
import type { DeliverySink } from './sink.js';

export interface DeliveryEngineOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Events a route holds between the log and its endpoint. @default 10000 */
  readonly window?: number;
  /** Bytes of stored events a route holds between the log and its endpoint. @default 2 MiB */
  readonly windowBytes?: number;
  /** Spans of delivery attempts. @default off */
  readonly tracing?: HubTracing;
}

const CIRCUIT_GAUGE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** A sink a route uses, compiled: how to build it and when its circuit opens. */
export interface CompiledSink {
  readonly create: (clock: Clock) => DeliverySink;
  readonly circuitBreaker: CompiledCircuitBreaker;
}

/**
 * Connections an HTTP sink's pool keeps: the connector's `connections` when set, else the most
 * deliveries its routes' lanes run at once, so no lane slot waits for a connection.
 */
function poolSize(config: Config, sink: string, connections: number, set: boolean): number {
  if (set) return connections;
  const lanes = new Set(config.routes.filter((r) => r.sink === sink).map((r) => r.lane));
  return Math.max(1, ...[...lanes].map((lane) => config.lanes[lane].concurrency));
}

/** Compiles every connector a route delivers to (http, or a registered sink kind); problems by key path. */
export function compileSinkConnectors(config: Config): Map<string, CompiledSink> {
  const problems: Array<{ path: string; message: string }> = [];
  const connectors = new Map<string, CompiledSink>();
  config.routes.forEach((route, i) => {
    const raw = config.connectors[route.sink];
    if (raw === undefined) return;
    if (route.batch !== null && raw.kind !== 'http' && connectorKind(raw.kind)?.sink?.spec.batches !== true) {
      const kinds = connectorKinds()
        .filter((k) => k.kind === 'http' || k.sink?.spec.batches === true)
        .map((k) => k.kind);
      problems.push({
        path: `routes[${i}].batch`,
        message: `connector "${route.sink}" is kind ${raw.kind}, which takes one event at a time; remove batch, or deliver to a kind that batches: ${kinds.join(', ')}`,
      });
    }
    if (connectors.has(route.sink)) return;
    if (raw.kind === 'http') {
      const settings = compileHttpConnector(route.sink, raw, problems);
      if (settings.url === null && settings.baseUrl === null) return;
      const connections = poolSize(config, route.sink, settings.connections, settings.connectionsSet);
      connectors.set(route.sink, {
        create: (clock) => new HttpSink(settings, clock, connections),
        circuitBreaker: settings.circuitBreaker,
      });
      return;
    }
    const sink = connectorKind(raw.kind)?.sink;
    if (!sink) {
      const kinds = connectorKinds()
        .filter((k) => k.roles.includes('sink'))
        .map((k) => k.kind);
      problems.push({
        path: `routes[${i}].sink`,
        message: `connector "${route.sink}" is kind ${raw.kind}, which cannot receive deliveries; sink kinds: ${kinds.join(', ')}`,
      });
      return;
    }
    const at = `connectors.${route.sink}`;
    if (!validateConnectorConfig(raw.kind, sink.spec.schema, raw, at, problems)) return;
    const compiled = sink.spec.compile(raw as Record<string, unknown>, at, problems, config.dataDir);
    connectors.set(route.sink, {
      create: (clock) => sink.factory(compiled, route.sink, clock),
      circuitBreaker: compileCircuitBreaker(raw.circuitBreaker, `${at}.circuitBreaker`, problems),
    });
  });
  if (problems.length > 0) throw new ConfigError('the configuration', problems);
  return connectors;
}

/**
 * The delivery engine: one worker per route, one connection pool and circuit breaker per
 * endpoint, one concurrency limit per lane. Dead letters and their replays go through here.
 */
export class DeliveryEngine {
  readonly metrics: DeliveryMetrics;
  private readonly workers = new Map<string, RouteWorker>();
  private readonly sinks: DeliverySink[] = [];
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly replays = new Set<Promise<unknown>>();
  private readonly deliveredListeners: Array<(route: string, event: StoredEvent) => void> = [];
  private readonly stop = new AbortController();
  private dlqGaugeTimer: NodeJS.Timeout | null = null;

  constructor(
    config: Config,
    log: EventLog,
    private readonly store: StateStore,
    registry: Registry,
    private readonly logger: Logger,
    options: DeliveryEngineOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    this.metrics = new DeliveryMetrics(registry);
    const connectors = compileSinkConnectors(config);
    const sinks = new Map<string, DeliverySink>();
    for (const [name, settings] of connectors) {
      const sink = settings.create(clock);
      sinks.set(name, sink);
      this.sinks.push(sink);
      const breaker = new CircuitBreaker(sink.endpoint, settings.circuitBreaker, clock);
      breaker.onChange((state) => {
        this.metrics.circuitState.set({ endpoint: name }, CIRCUIT_GAUGE[state]);
        logger.warn({ connector: name, endpoint: sink.endpoint, state }, 'circuit state changed');
      });
      this.metrics.circuitState.set({ endpoint: name }, 0);
      this.breakers.set(name, breaker);
    }
    const lanes = {
      critical: new LaneLimiter('critical', config.lanes.critical.concurrency),
      bulk: new LaneLimiter('bulk', config.lanes.bulk.concurrency),
    };
    for (const route of config.routes) {
      const sink = sinks.get(route.sink) as DeliverySink;
      this.workers.set(
        route.name,
        new RouteWorker(route, {
          log,
          sink,
          breaker: this.breakers.get(route.sink) as CircuitBreaker,
          lane: lanes[route.lane],
          deadLetters: store.deadLetters,
          clock,
          metrics: this.metrics,
          logger,
          ...(options.window !== undefined ? { window: options.window } : {}),
          ...(options.windowBytes !== undefined ? { windowBytes: options.windowBytes } : {}),
          ...(options.random !== undefined ? { random: options.random } : {}),
          ...(options.tracing !== undefined ? { tracing: options.tracing } : {}),
          onDelivered: (name, event) => {
            for (const listener of this.deliveredListeners) {
              try {
                listener(name, event);
              } catch (error) {
                logger.error({ err: error, route: name }, 'a delivery listener failed');
              }
            }
          },
        }),
      );
    }
  }

  /** Starts every route here (a hub without work coordination). */
  async start(): Promise<void> {
    for (const worker of this.workers.values()) await worker.start();
    await this.startGauges();
  }

  /** One work item per route (`route:<name>`): a route is delivered by one hub instance at a time. */
  routeWorks(): Work[] {
    return [...this.workers.values()].map((worker) => ({
      name: `route:${worker.route.name}`,
      start: () => worker.start(),
      stop: () => worker.standBy(),
    }));
  }

  /** Keeps the dead-letter gauge current; the routes are started by the work coordinator. */
  async startGauges(): Promise<void> {
    await this.refreshDlqGauge();
    this.dlqGaugeTimer = setInterval(() => void this.refreshDlqGauge(), 5_000);
    this.dlqGaugeTimer.unref();
  }

  async close(): Promise<void> {
    this.stop.abort();
    if (this.dlqGaugeTimer) clearInterval(this.dlqGaugeTimer);
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    await Promise.allSettled([...this.replays]);
    await Promise.all(this.sinks.map((s) => s.close()));
  }

  /** Calls `listener` for every event a route of this instance delivered (milestones end on these). */
  onDelivered(listener: (route: string, event: StoredEvent) => void): void {
    this.deliveredListeners.push(listener);
  }

  routeNames(): string[] {
    return [...this.workers.keys()];
  }

  worker(name: string): RouteWorker | undefined {
    return this.workers.get(name);
  }

  /** Events waiting in a lane: the largest backlog among the routes this instance delivers. */
  backlog(lane: string): number {
    let most = 0;
    for (const worker of this.workers.values()) {
      // A route another instance delivers has no position here that moves; that instance limits it.
      if (worker.route.lane === lane && worker.delivering) most = Math.max(most, worker.lagEvents());
    }
    return most;
  }

  subscriptions(): RouteStatus[] {
    return [...this.workers.values()].map((w) => w.status());
  }

  /** Re-delivers a dead letter in the background; resolves once it is marked `replaying`. */
  async replayDeadLetter(entry: DeadLetterRecord, actor: string): Promise<'replaying'> {
    const worker = this.workers.get(entry.route);
    if (!worker) throw new Error(`route "${entry.route}" no longer exists`);
    await this.store.deadLetters.update(entry.id, { status: 'replaying', at: Date.now(), by: actor });
    const run = worker.redeliver(entry, actor, this.stop.signal).catch((error: unknown) => {
      this.logger.error(
        { dlq: entry.id, ...eventLogFields(entry.event), err: error },
        'dead-letter replay failed',
      );
    });
    this.replays.add(run);
    void run.finally(() => {
      this.replays.delete(run);
      void this.refreshDlqGauge();
    });
    return 'replaying';
  }

  private async refreshDlqGauge(): Promise<void> {
    try {
      const counts = await this.store.deadLetters.openCounts();
      for (const name of this.workers.keys())
        this.metrics.dlqOpen.set({ route: name }, counts.get(name) ?? 0);
    } catch (error) {
      this.logger.error({ err: error }, 'could not count dead letters');
    }
  }
}
