import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { ReconciliationJob } from './analytics/reconciliation-job.js';
import { ReconciliationService } from './analytics/reconciliation-service.js';
import { adminPlugin } from './api/admin-plugin.js';
import { analyticsPlugin } from './api/analytics-plugin.js';
import { DenialAudit, requestAudit } from './api/audit.js';
import { authPlugin, denialReason } from './api/auth-plugin.js';
import { catalogPlugin } from './api/catalog-plugin.js';
import { clusterPlugin } from './api/cluster-plugin.js';
import { commandsPlugin } from './api/commands/commands-plugin.js';
import { connectorsPlugin } from './api/connectors-plugin.js';
import { CONSOLE_ASSETS_PREFIX, consolePlugin } from './api/console-plugin.js';
import { deliveryPlugin } from './api/delivery-plugin.js';
import { docsPlugin } from './api/docs-plugin.js';
import { eventsPlugin } from './api/events-plugin.js';
import { idempotencyPlugin } from './api/idempotency.js';
import { milestonesPlugin } from './api/milestones-plugin.js';
import { opsPlugin } from './api/ops-plugin.js';
import { overviewPlugin } from './api/overview-plugin.js';
import { frameworkErrorHandler, installProblemHandlers, methodIndex } from './api/problem-handler.js';
import { qualityHoldsPlugin } from './api/quality-holds-plugin.js';
import { reconciliationPlugin } from './api/reconciliation-plugin.js';
import { checkRequestParameters, MAX_ENCODED_PATH_SEGMENT } from './api/request-parameters.js';
import { securityHeaders } from './api/security-headers.js';
import { tracePlugin } from './api/trace-plugin.js';
import { ApiKeyVerifier, clientRecordFor, generateApiKey } from './auth/api-keys.js';
import { ClientPolicies } from './auth/client-policy.js';
import { jwtBearer } from './auth/jwt-principal.js';
import { WorkCoordinator } from './cluster/work-coordinator.js';
import { CommandPublisher } from './commands/publisher.js';
import { QualityHoldProjection } from './commands/quality-holds.js';
import { CommandSystems } from './commands/systems.js';
import type { Config } from './config/index.js';
import { ConnectorManager, compileSources } from './connectors/framework/manager.js';
import { registerBuiltInConnectors } from './connectors/index.js';
import { type Clock, systemClock } from './delivery/clock.js';
import { compileSinkConnectors, DeliveryEngine } from './delivery/engine.js';
import { LaneAdmission } from './ingress/lane-admission.js';
import { bindLogToStore, placesOf } from './integrity/log-binding.js';
import { openEventLog } from './log/factory.js';
import type { EventLog } from './log/port.js';
import { RetentionJob } from './log/retention.js';
import { MilestoneTracker } from './milestones/tracker.js';
import { lazyChildLoggerFactory } from './observability/lazy-logger.js';
import type { Logger } from './observability/logger.js';
import { HubMetrics } from './observability/metrics.js';
import { countAppends, RateSampler } from './observability/rates.js';
import { HubTracing } from './observability/tracing.js';
import { RoutingTable } from './reference/routings.js';
import { SchemaRegistry } from './registry/registry.js';
import { guardConnections, nodeServerOptions } from './server/connection-limits.js';
import { loadTlsOptions } from './server/tls.js';
import { openStateStore } from './store/factory.js';
import type { StateStore } from './store/port.js';
import { parseJsonWithLimits } from './util/json-limits.js';

/** A shutdown step taking longer than this is logged with its time. */
const SLOW_CLOSE_STEP_MS = 2_000;

export interface HubOptions {
  readonly logger: Logger;
  /** Seeds (or re-keys) the `admin` client with this key; see CONVEYOR_ADMIN_KEY. */
  readonly adminKey?: string;
  /** Collect Node process metrics. @default true */
  readonly processMetrics?: boolean;
  /** The delivery engine's clock (tests drive time). @default the system clock */
  readonly clock?: Clock;
  /** Events a route holds between the log and its endpoint. @default 10000 */
  readonly deliveryWindow?: number;
  /** Bytes of stored events a route holds between the log and its endpoint. @default 2 MiB */
  readonly deliveryWindowBytes?: number;
  /**
   * This instance's name among the hubs sharing a store; unique per running hub. A hub restarted
   * under the same name takes over the Idempotency-Keys its killed predecessor held at once.
   * @default host:pid:random
   */
  readonly instanceId?: string;
  /** The built web console (index.html and assets/). @default dist/console */
  readonly consoleRoot?: string;
  /** How often counted refusals of credentials are written to the audit trail. @default 10000 */
  readonly denialAuditEveryMs?: number;
}

export interface Hub {
  /** The shutdown step under way while `close` runs, else null. */
  closing(): string | null;
  readonly config: Config;
  readonly app: FastifyInstance;
  readonly log: EventLog;
  readonly store: StateStore;
  readonly metrics: HubMetrics;
  readonly delivery: DeliveryEngine;
  readonly registry: SchemaRegistry;
  /** Every route the API serves (method and URL pattern). */
  readonly routes: ReadonlyArray<{ method: string; url: string }>;
  /** The base URL it listens on (after `listen`). */
  url: string;
  /** A generated admin key, set only on the very first start without CONVEYOR_ADMIN_KEY. */
  readonly generatedAdminKey: string | null;
  /** Spreads routes, sources and retention over the hub instances sharing the store. */
  readonly coordinator: WorkCoordinator;
  listen(): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish, stops deliveries, flushes the log, closes everything. */
  close(): Promise<void>;
}

const ADMIN_CLIENT = 'admin';

/** The product version the exports and `--version` report. */
export const PRODUCT_VERSION = '0.1.0';

/** Makes sure an admin exists: from the given key, or a fresh one whose key is returned once. */
async function seedAdmin(store: StateStore, adminKey: string | undefined): Promise<string | null> {
  const now = Date.now();
  if (adminKey !== undefined) {
    await store.clients.upsert(clientRecordFor(ADMIN_CLIENT, adminKey, ['admin'], null, now));
    return null;
  }
  const clients = await store.clients.list();
  if (clients.some((c) => c.revokedAt === null && c.scopes.includes('admin'))) return null;
  const key = generateApiKey();
  await store.clients.upsert(clientRecordFor(ADMIN_CLIENT, key, ['admin'], null, now));
  return key;
}

/** Says once (a log line and a gauge) when the log's disk runs full, and once when it has room again. */
function watchDiskFull(log: EventLog, metrics: HubMetrics, logger: Logger): void {
  metrics.logDiskFull.set(log.storageFull() ? 1 : 0);
  log.onStorageChange((full) => {
    metrics.logDiskFull.set(full ? 1 : 0);
    if (full)
      logger.error(
        'event log disk is full: appends are refused (503 log-disk-full) and /readyz is not ready until there is room; free space on its volume or apply retention',
      );
    else logger.info('event log has room again: appends are accepted');
  });
}

/** Builds a hub from a compiled config: opens the store and log, assembles the API and the delivery engine. */
export async function createHub(config: Config, options: HubOptions): Promise<Hub> {
  // Refuse a bad sink, source, command target or reference file before opening anything.
  registerBuiltInConnectors();
  compileSinkConnectors(config);
  const sources = compileSources(config);
  const clock = options.clock ?? systemClock;
  const systems = new CommandSystems(config, clock);
  let routings: RoutingTable;
  try {
    routings = new RoutingTable(config.referenceData.routings ?? null, (error) =>
      options.logger.error(
        { err: error },
        'reference routings could not be reloaded; the previous ones stay in force',
      ),
    );
  } catch (error) {
    await systems.close();
    throw error;
  }
  const store = await openStateStore(config);
  let log: EventLog | null = null;
  try {
    log = await openEventLog(config);
    await bindLogToStore(log, store, placesOf(config));
    return await assembleHub(config, options, store, log, { systems, routings, sources });
  } catch (error) {
    // Nothing half-built may keep the process alive (the log's writer thread, open files).
    await systems.close().catch(() => undefined);
    await log?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

async function assembleHub(
  config: Config,
  options: HubOptions,
  store: StateStore,
  storedLog: EventLog,
  parts: { systems: CommandSystems; routings: RoutingTable; sources: ReturnType<typeof compileSources> },
): Promise<Hub> {
  const clock = options.clock ?? systemClock;
  const metrics = new HubMetrics({ defaultMetrics: options.processMetrics ?? true });
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  // Off unless observability.tracing is configured; trace context travels on events either way.
  const tracing = await HubTracing.create(config.observability.tracing, {
    logger: options.logger,
    version: PRODUCT_VERSION,
    instanceId,
  });
  // Every event this instance appends (API, commands, sources) counts as ingest on the console.
  const { log, appended } = countAppends(storedLog);
  const generatedAdminKey = await seedAdmin(store, options.adminKey);
  const apiKeys = new ApiKeyVerifier(store.clients);
  const registry = await SchemaRegistry.open(store.schemas);
  const holds = new QualityHoldProjection(log, store.holds);
  await holds.open();
  const delivery = new DeliveryEngine(config, log, store, metrics.registry, options.logger, {
    clock,
    ...(options.deliveryWindow !== undefined ? { window: options.deliveryWindow } : {}),
    ...(options.deliveryWindowBytes !== undefined ? { windowBytes: options.deliveryWindowBytes } : {}),
    tracing,
  });
  const milestones = new MilestoneTracker({
    definitions: config.milestones.definitions,
    skipped: config.milestones.skipped,
    log,
    store: store.milestones,
    logger: options.logger,
    clock,
    metrics,
    announceMet: config.alerts.some((alert) => alert.when === 'milestone.met'),
  });
  delivery.onDelivered((route, event) => milestones.onDelivered(route, event));
  let ready = false;

  const headers = securityHeaders({
    tls: config.server.tls !== null,
    docsPrefix: '/docs',
    consoleAssetsPrefix: CONSOLE_ASSETS_PREFIX,
  });
  const serverOptions = nodeServerOptions(config.server);
  const app = Fastify({
    // pino's own types are stricter than fastify's logger interface; the instance is compatible.
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: config.server.bodyLimitBytes,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler(headers),
    // Node's options go in `http` (or with the TLS ones); fastify sets two of them again from its own.
    ...(config.server.tls
      ? { https: { ...loadTlsOptions(config.server.tls), ...serverOptions } }
      : { http: serverOptions }),
    requestTimeout: serverOptions.requestTimeout,
    keepAliveTimeout: serverOptions.keepAliveTimeout,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: MAX_ENCODED_PATH_SEGMENT },
  });
  // The header timeout starts with a client's first byte; the guard also bounds a silent connection.
  guardConnections(app.server, {
    maxPerAddress: config.server.maxConnectionsPerAddress,
    firstRequestTimeoutMs: config.server.headersTimeoutMs,
  });
  const routes: Array<{ method: string; url: string }> = [];
  installProblemHandlers(app, methodIndex(routes));
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url });
  });
  // An empty JSON body is no body: action endpoints (approve, replay, discard) need none.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    try {
      done(null, parseJsonWithLimits(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook('onSend', headers);
  // After authentication (an anonymous caller learns nothing about parameters), before every handler.
  app.addHook('preValidation', checkRequestParameters);
  // The console's page and bundles are public (before authentication); the API it calls is not.
  await app.register(consolePlugin, options.consoleRoot ? { root: options.consoleRoot } : {});
  // The API reference page and its assets are public; the documents behind /v1 are not.
  await app.register(authPlugin, {
    apiKeys,
    jwt: jwtBearer(config.auth.jwt),
    policies: new ClientPolicies(config.clients),
    publicPrefixes: ['/docs'],
  });
  // Claims name this process, so a restart or another instance knows them dead once it is gone.
  await app.register(idempotencyPlugin, {
    repository: store.idempotency,
    owner: { instance: instanceId, boot: randomBytes(8).toString('hex') },
  });
  // By route pattern: a URL full of ids would make the label unbounded; unknown paths count as one.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.countRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode);
    done();
  });
  // Every refused credential or permission is on the audit trail, with the address it came from:
  // refused permissions (403) one row each, refused credentials (401) counted per address and
  // reason and written once per interval, so a flood of bad keys costs no write per request.
  const audit = requestAudit(store.audit);
  const denials = new DenialAudit(store.audit, {
    ...(options.denialAuditEveryMs !== undefined ? { everyMs: options.denialAuditEveryMs } : {}),
    onError: (error) => options.logger.error({ err: error }, 'could not record refused credentials'),
  });
  app.addHook('onResponse', async (request, reply) => {
    const target = `${request.method} ${request.url.split('?')[0]}`;
    if (reply.statusCode === 401) {
      denials.note({ address: request.ip, reason: denialReason(request) ?? 'unauthorized', target });
      return;
    }
    if (reply.statusCode !== 403) return;
    await audit(request, 'request.denied', target, 'denied', {
      status: reply.statusCode,
    }).catch((error) => request.log.error({ err: error }, 'could not record a denied request'));
  });
  watchDiskFull(log, metrics, options.logger);
  // A hub whose log cannot store anything must not be sent traffic meanwhile.
  await app.register(opsPlugin, { metrics, isReady: () => ready && !log.storageFull() });
  const admission = new LaneAdmission(
    config,
    (lane) => delivery.backlog(lane),
    () => clock.now(),
  );
  const connectors = new ConnectorManager(parts.sources, {
    log,
    registry,
    admission,
    store,
    metrics,
    logger: options.logger,
    routings: parts.routings,
    tracing,
  });
  await app.register(eventsPlugin, { log, metrics, admission, registry, tracing });
  await app.register(commandsPlugin, {
    publisher: new CommandPublisher(log, registry, admission),
    store,
    holds,
    routings: parts.routings,
    systemFor: (command) => parts.systems.target(command),
    now: Date.now,
    tracing,
  });
  await app.register(qualityHoldsPlugin, { store, holds });
  await app.register(adminPlugin, { store, apiKeys, beforeAuditRead: () => denials.flush() });
  await app.register(tracePlugin, { config, log, store, delivery });
  await app.register(connectorsPlugin, { config, connectors, store });
  await app.register(catalogPlugin, { registry, store, config });
  await app.register(docsPlugin, { registry, config, version: PRODUCT_VERSION });
  await app.register(deliveryPlugin, { log, store, delivery });
  await app.register(milestonesPlugin, { store });
  // Wall-clock time: the delivery engine's clock (which tests drive) must not gain sleepers here.
  const reconciliation = new ReconciliationService({ config, log, store, delivery });
  await app.register(reconciliationPlugin, { service: reconciliation });
  await app.register(analyticsPlugin, { log, settings: config.analytics });
  const reconciliationJob = new ReconciliationJob(reconciliation, {
    everyMs: config.reconciliation.everyMs,
    clock: systemClock,
    logger: options.logger,
    metrics,
  });

  const retention =
    config.log.kind === 'sqlite' ? new RetentionJob(log, config.log.retention, options.logger) : null;
  // Work that must run once across the hub instances sharing this store; a lone hub runs it all.
  const coordinator = new WorkCoordinator(
    store.leases,
    [
      ...delivery.routeWorks(),
      ...connectors.works(),
      ...(retention
        ? [{ name: 'retention', start: async () => retention.start(), stop: async () => retention.stop() }]
        : []),
      ...(milestones.active ? [milestones.work()] : []),
      reconciliationJob,
    ],
    {
      instanceId,
      logger: options.logger,
    },
  );
  await app.register(clusterPlugin, { store, coordinator });
  const sampler = new RateSampler(
    () => {
      let delivered = 0;
      let failed = 0;
      for (const s of delivery.subscriptions()) {
        delivered += s.delivered;
        failed += s.failedAttempts;
      }
      return { ingest: appended(), delivered, failed };
    },
    { now: () => clock.now() },
  );
  await app.register(overviewPlugin, {
    sampler,
    delivery,
    connectors,
    store,
    instanceId: coordinator.instanceId,
    now: () => clock.now(),
  });

  let closingStep: string | null = null;
  const hub: Hub = {
    config,
    app,
    log,
    store,
    metrics,
    delivery,
    registry,
    routes,
    url: '',
    generatedAdminKey,
    coordinator,
    async listen() {
      // Alive in the store before the first request claims an Idempotency-Key.
      await coordinator.announce();
      const address = await app.listen({ host: config.server.host, port: config.server.port });
      hub.url = address;
      await delivery.startGauges();
      await coordinator.start();
      sampler.start();
      ready = true;
      return address;
    },
    async close() {
      ready = false;
      sampler.stop();
      // Each step is named while it runs, so a shutdown that hangs says where (see the CLI's deadline).
      const step = async (name: string, run: () => Promise<unknown> | unknown) => {
        closingStep = name;
        const started = Date.now();
        await run();
        const ms = Date.now() - started;
        if (ms > SLOW_CLOSE_STEP_MS) options.logger.warn({ step: name, ms }, 'shutdown step was slow');
      };
      // Sources and routes stop and hand their leases back, so another instance takes over at once;
      // the heartbeat stays until the requests in flight have finished (their claims are alive).
      await step('stopping routes and sources', () => coordinator.stopAllWork());
      await step('finishing HTTP requests', () => app.close());
      await step('leaving the cluster', () => coordinator.close());
      await step('closing delivery', () => delivery.close());
      await step('closing milestones', () => milestones.close());
      await step('recording refused credentials', () =>
        denials
          .close()
          .catch((error) => options.logger.error({ err: error }, 'could not record refused credentials')),
      );
      await step('closing reconciliation', () => reconciliation.close());
      await step('closing systems of record', () => parts.systems.close());
      holds.close();
      await step('closing the event log', () => log.close());
      await step('closing the state store', () => store.close());
      // Last: the spans of everything that just finished are flushed to the collector.
      closingStep = 'flushing traces';
      await tracing.shutdown();
      closingStep = null;
    },
    closing: () => closingStep,
  };
  return hub;
}
