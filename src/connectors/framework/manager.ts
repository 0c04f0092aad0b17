import { Ajv, type ValidateFunction } from 'ajv';
import { Gauge } from 'prom-client';
import { ConfigError, type ConfigProblem } from '../../config/config-error.js';
import type { Config } from '../../config/index.js';
import { describeAjvError } from '../../config/load.js';
import type { LaneAdmission } from '../../ingress/lane-admission.js';
import type { EventLog } from '../../log/port.js';
import type { Logger } from '../../observability/logger.js';
import type { HubMetrics } from '../../observability/metrics.js';
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
}

/** Starts and stops the configured source connectors and reports their health. */
export class ConnectorManager {
  private readonly runtimes: SourceRuntime[];
  private readonly healthGauge: Gauge<'connector' | 'kind'>;

  constructor(sources: readonly CompiledSource[], deps: ConnectorManagerDeps) {
    this.healthGauge = new Gauge({
      name: 'conveyor_connector_health',
      help: 'Source connector health: 1 up, 0.5 degraded, 0 connecting or down.',
      labelNames: ['connector', 'kind'],
      registers: [deps.metrics.registry],
    });
    this.runtimes = sources.map(
      (s) =>
        new SourceRuntime(s.name, s.kind, s.factory(s.config, s.name), s.common, {
          log: deps.log,
          registry: deps.registry,
          admission: deps.admission,
          deadLetters: deps.store.sourceDeadLetters,
          logger: deps.logger.child({ connector: s.name }),
          bindings: {
            routing: (plant: unknown, material: unknown) =>
              deps.routings?.lookup(String(plant), String(material)) ?? null,
          },
          onHealth: (connector, health) =>
            this.healthGauge.set({ connector, kind: s.kind }, HEALTH_VALUE[health.type]),
        }),
    );
  }

  async start(): Promise<void> {
    for (const runtime of this.runtimes) await runtime.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.runtimes.map((r) => r.stop()));
  }

  statuses(): SourceStatus[] {
    return this.runtimes.map((r) => r.status());
  }
}
