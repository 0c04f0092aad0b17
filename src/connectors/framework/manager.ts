import { Ajv, type ValidateFunction } from 'ajv';
import { Gauge } from 'prom-client';
import type { Work } from '../../cluster/work-coordinator.js';
import { ConfigError, type ConfigProblem } from '../../config/config-error.js';
import type { Config } from '../../config/index.js';
import { describeAjvError } from '../../config/load.js';
import type { LaneAdmission } from '../../ingress/lane-admission.js';
import type { EventLog } from '../../log/port.js';
import type { Logger } from '../../observability/logger.js';
import type { HubMetrics } from '../../observability/metrics.js';
import type { HubTracing } from '../../observability/tracing.js';
import type { RoutingTable } from '../../reference/routings.js';
import type { SchemaRegistry } from '../../registry/registry.js';
import type { StateStore } from '../../store/port.js';
import { type CompiledSourceCommon, compileSourceCommon } from './common.js';
import { connectorKind, connectorKinds } from './registry.js';
import { SourceRuntime, type SourceStatus } from './source-runtime.js';
import type { ConnectorHealth, SourceFactory } from './types.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new Map<string, ValidateFunction>();

interface CompiledSource {
  readonly name: string;
  readonly kind: string;
  readonly config: unknown;
  readonly common: CompiledSourceCommon;
  readonly factory: SourceFactory<unknown>;
}

const HEALTH_VALUE: Record<ConnectorHealth['type'], number> = {
  up: 1,
  degraded: 0.5,
  connecting: 0,
  down: 0,
  standby: -1,
};

/** Checks a connector's raw config against its kind's JSON Schema; problems by key path. True when valid. */
export function validateConnectorConfig(
  kind: string,
  schema: import('@sinclair/typebox').TSchema,
  raw: unknown,
  at: string,
  problems: ConfigProblem[],
): boolean {
  let validate = validators.get(kind);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(kind, validate);
  }
  if (validate(raw)) return true;
  for (const error of validate.errors ?? []) {
    const problem = describeAjvError(error);
    problems.push({ path: problem.path ? `${at}.${problem.path}` : at, message: problem.message });
  }
  return false;
}

/**
 * Checks every connector of the config against its kind's spec (schema, then the kind's own
 * compile), naming problems by key path. Kinds that only receive deliveries (http) are left to
 * the delivery engine.
 */
export function compileSources(config: Config): CompiledSource[] {
  const problems: ConfigProblem[] = [];
  const sources: CompiledSource[] = [];
  for (const [name, raw] of Object.entries(config.connectors)) {
    const at = `connectors.${name}`;
    const registered = connectorKind(raw.kind);
    if (!registered) {
      problems.push({
        path: `${at}.kind`,
        message: `no connector kind "${raw.kind}" in this build; known: ${connectorKinds()
          .map((k) => k.kind)
          .join(', ')}`,
      });
      continue;
    }
    if (!registered.source) continue;
    if (!validateConnectorConfig(raw.kind, registered.schema, raw, at, problems)) continue;
    const before = problems.length;
    const record = raw as Record<string, unknown>;
    const common = compileSourceCommon(record, at, problems);
    const compiled = registered.source.spec.compile(record, at, problems, config.dataDir);
    if (problems.length === before)
      sources.push({ name, kind: raw.kind, config: compiled, common, factory: registered.source.factory });
  }
  if (problems.length > 0) throw new ConfigError('the configuration', problems);
  return sources;
}

export interface ConnectorManagerDeps {
  readonly log: EventLog;
  readonly registry: SchemaRegistry;
  readonly admission: LaneAdmission;
  readonly store: StateStore;
  readonly metrics: HubMetrics;
  readonly logger: Logger;
  /** Reference data a `map` may look up: `$routing(plant, material)` → `{routing, bom}` or null. */
  readonly routings?: RoutingTable;
  /** Spans of source messages. @default off */
  readonly tracing?: HubTracing;
}

/** Starts and stops the configured source connectors and reports their health. */
export class ConnectorManager {
  private readonly sources: readonly CompiledSource[];
  private readonly deps: ConnectorManagerDeps;
  /** The sources this instance runs now. */
  private readonly running = new Map<string, SourceRuntime>();
  private readonly healthGauge: Gauge<'connector' | 'kind'>;
  private readonly standbySince = new Date().toISOString();

  constructor(sources: readonly CompiledSource[], deps: ConnectorManagerDeps) {
    this.sources = sources;
    this.deps = deps;
    this.healthGauge = new Gauge({
      name: 'conveyor_connector_health',
      help: 'Source connector health: 1 up, 0.5 degraded, 0 connecting or down, -1 run by another hub instance.',
      labelNames: ['connector', 'kind'],
      registers: [deps.metrics.registry],
    });
    for (const s of sources) this.healthGauge.set({ connector: s.name, kind: s.kind }, HEALTH_VALUE.standby);
  }

  /** One work item per source (`source:<name>`): a source runs on one hub instance at a time. */
  works(): Work[] {
    return this.sources.map((s) => ({
      name: `source:${s.name}`,
      start: () => this.startSource(s),
      stop: () => this.stopSource(s),
    }));
  }

  /** Starts every source here (a hub without work coordination). */
  async start(): Promise<void> {
    for (const s of this.sources) await this.startSource(s);
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => this.stopSource(s)));
  }

  statuses(): SourceStatus[] {
    return this.sources.map((s) => this.running.get(s.name)?.status() ?? this.standbyStatus(s));
  }

  /** A connector keeps its session state, so each start gets a fresh one from the factory. */
  private async startSource(s: CompiledSource): Promise<void> {
    if (this.running.has(s.name)) return;
    const { deps } = this;
    const runtime = new SourceRuntime(s.name, s.kind, s.factory(s.config, s.name), s.common, {
      log: deps.log,
      registry: deps.registry,
      admission: deps.admission,
      deadLetters: deps.store.sourceDeadLetters,
      logger: deps.logger.child({ connector: s.name }),
      bindings: {
        routing: (plant: unknown, material: unknown) =>
          deps.routings?.lookup(String(plant), String(material)) ?? null,
      },
      ...(deps.tracing ? { tracing: deps.tracing } : {}),
      onHealth: (connector, health) =>
        this.healthGauge.set({ connector, kind: s.kind }, HEALTH_VALUE[health.type]),
    });
    this.running.set(s.name, runtime);
    try {
      await runtime.start();
    } catch (error) {
      this.running.delete(s.name);
      await runtime.stop().catch(() => undefined);
      throw error;
    }
  }

  private async stopSource(s: CompiledSource): Promise<void> {
    const runtime = this.running.get(s.name);
    if (!runtime) return;
    this.running.delete(s.name);
    await runtime.stop();
    this.healthGauge.set({ connector: s.name, kind: s.kind }, HEALTH_VALUE.standby);
  }

  private standbyStatus(s: CompiledSource): SourceStatus {
    return {
      name: s.name,
      kind: s.kind,
      role: 'source',
      plant: s.common.plant,
      health: { type: 'standby', at: this.standbySince, reason: 'another hub instance runs it' },
      messages: 0,
      events: 0,
      deadLettered: 0,
      lastError: null,
    };
  }
}
