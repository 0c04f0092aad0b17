import { type Static, Type as T } from '@sinclair/typebox';
import { AnalyticsSchema, ReconciliationSchema } from '../analytics/settings.js';
import { ObservabilitySchema } from '../observability/tracing-settings.js';
import { DURATION_PATTERN, SIZE_PATTERN } from '../util/duration.js';

/**
 * The JSON Schema of conveyor.yaml, written once in TypeBox. `x-hint` on a node is the sentence
 * a config error shows when that node fails, so messages say what would fix it.
 */
const Duration = (description: string) =>
  T.String({ pattern: DURATION_PATTERN, description, 'x-hint': 'a duration such as 500ms, 30s, 15m or 24h' });
const Size = (description: string) =>
  T.String({ pattern: SIZE_PATTERN, description, 'x-hint': 'a size such as 512kb, 1mb or 2gb' });
const Name = T.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  'x-hint': 'a name of letters, digits, ".", "_" or "-" (at most 64 characters)',
});
const PlantCode = T.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
  'x-hint': 'a plant code such as P1 (letters, digits, "_" or "-")',
});

const Strict = { additionalProperties: false } as const;

export const RetrySchema = T.Object(
  {
    maxAttempts: T.Integer({
      minimum: 1,
      maximum: 1000,
      description: 'Attempts before the DLQ.',
      default: 8,
    }),
    initialDelay: Duration('Delay before the first retry; doubles each time (full jitter).'),
    maxDelay: Duration('Upper bound of one backoff delay.'),
    maxAge: Duration('Give up (DLQ) once the event has waited this long.'),
  },
  { ...Strict, 'x-hint': 'an object with maxAttempts, initialDelay, maxDelay, maxAge' },
);

/** Several events per request to the sink; absent: one event per request. */
export const BatchSchema = T.Object(
  {
    maxEvents: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 10_000,
        description: 'Most events in one batch. @default 100',
        'x-hint': 'a whole number of events from 1 to 10000',
      }),
    ),
    maxBytes: T.Optional(
      Size('Most bytes of events in one batch (one event larger goes alone). @default 1mb'),
    ),
    maxWait: T.Optional(
      Duration('How long a batch that is not full waits for more events before it is sent. @default 10ms'),
    ),
  },
  { ...Strict, 'x-hint': 'an object with maxEvents, maxBytes, maxWait (each optional)' },
);

export const CircuitBreakerSchema = T.Object(
  {
    failureThreshold: T.Integer({ minimum: 1, maximum: 10_000 }),
    resetAfter: Duration('Time an open circuit waits before one probe.'),
  },
  Strict,
);

const TlsSchema = T.Object(
  {
    cert: T.String({ description: 'PEM certificate file.' }),
    key: T.String({ description: 'PEM private key file.' }),
    ca: T.Optional(
      T.String({ description: 'PEM client CA; when set, clients must present a certificate (mTLS).' }),
    ),
  },
  Strict,
);

export const ServerSchema = T.Object(
  {
    host: T.Optional(T.String({ minLength: 1, default: '127.0.0.1' })),
    port: T.Optional(T.Integer({ minimum: 0, maximum: 65_535, default: 8080 })),
    bodyLimit: T.Optional(Size('Largest accepted request body.')),
    tls: T.Optional(TlsSchema),
    insecure: T.Optional(T.Boolean({ description: 'Allow plain HTTP on a non-loopback host.' })),
    headersTimeout: T.Optional(
      Duration(
        'Time a client has to send a request line and all its headers; then the connection is closed.',
      ),
    ),
    requestTimeout: T.Optional(Duration('Time a client has to send a whole request, body included.')),
    keepAliveTimeout: T.Optional(Duration('Time an idle kept-alive connection stays open between requests.')),
    maxConnectionsPerAddress: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: 'Open connections one remote address may hold; more are closed at once.',
        'x-hint': 'a whole number of connections, at least 1',
      }),
    ),
  },
  Strict,
);

export const StoreSchema = T.Union(
  [
    T.Object({ kind: T.Literal('sqlite'), path: T.Optional(T.String({ minLength: 1 })) }, Strict),
    T.Object({ kind: T.Literal('postgres'), url: T.String({ minLength: 1 }) }, Strict),
  ],
  { 'x-hint': '{ kind: sqlite, path: FILE } or { kind: postgres, url: $DATABASE_URL }' },
);

export const LogSchema = T.Union(
  [
    T.Object(
      {
        kind: T.Literal('sqlite'),
        path: T.Optional(T.String({ minLength: 1 })),
        synchronous: T.Optional(
          T.Union([T.Literal('full'), T.Literal('normal')], {
            'x-hint': 'full (default: every acknowledged event survives a power loss) or normal',
          }),
        ),
        retention: T.Optional(
          T.Object(
            {
              maxAge: T.Optional(Duration('Delete events older than this.')),
              maxEvents: T.Optional(T.Integer({ minimum: 1000 })),
              checkEvery: T.Optional(Duration('How often retention runs.')),
            },
            Strict,
          ),
        ),
      },
      Strict,
    ),
    T.Object(
      {
        kind: T.Literal('jetstream'),
        servers: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
        replicas: T.Optional(T.Integer({ minimum: 1, maximum: 5 })),
        stream: T.Optional(
          T.String({
            pattern: '^[A-Za-z0-9_-]{1,64}$',
            'x-hint': 'the JetStream stream name (default CONVEYOR_EVENTS): letters, digits, _ or -',
          }),
        ),
      },
      Strict,
    ),
  ],
  { 'x-hint': '{ kind: sqlite } or { kind: jetstream, servers: [nats://...] }' },
);

export const ClientSchema = T.Object(
  {
    name: Name,
    scopes: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
    plants: T.Optional(T.Array(PlantCode)),
    rateLimit: T.Optional(
      T.Object(
        { perSecond: T.Number({ exclusiveMinimum: 0 }), burst: T.Optional(T.Integer({ minimum: 1 })) },
        Strict,
      ),
    ),
  },
  Strict,
);

const LaneSchema = T.Object(
  {
    concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 10_000 })),
    maxQueued: T.Optional(T.Integer({ minimum: 1 })),
    ingressPerSecond: T.Optional(T.Number({ exclusiveMinimum: 0 })),
  },
  Strict,
);

/** Connectors are validated by kind once their specs register; here only the common shape. */
export const ConnectorSchema = T.Object(
  { kind: T.String({ minLength: 1, 'x-hint': 'the connector kind, e.g. http, mqtt, opcua, files' }) },
  { additionalProperties: true },
);

export const RouteSchema = T.Object(
  {
    name: Name,
    types: T.Array(
      T.String({
        pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)*(\\.\\*)?$|^\\*$',
        'x-hint': 'an event type such as production.order.released, or a wildcard such as production.*',
      }),
      { minItems: 1 },
    ),
    filter: T.Optional(T.Union([T.String({ minLength: 1 }), T.Null()])),
    transform: T.Optional(T.Union([T.String({ minLength: 1 }), T.Null()])),
    sink: T.String({ minLength: 1 }),
    retry: T.Optional(T.Partial(RetrySchema)),
    timeout: T.Optional(Duration('Per-delivery timeout.')),
    lane: T.Optional(T.Union([T.Literal('critical'), T.Literal('bulk')], { 'x-hint': 'critical or bulk' })),
    batch: T.Optional(BatchSchema),
  },
  Strict,
);

const EventType = T.String({
  pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$',
  'x-hint': 'an event type of the catalog, such as production.order.completed',
});

/** A business milestone: an SLA from a start event to an end (docs/milestones.md). */
export const MilestoneSchema = T.Object(
  {
    name: Name,
    start: EventType,
    end: T.Union(
      [T.Object({ type: EventType }, Strict), T.Object({ delivered: T.String({ minLength: 1 }) }, Strict)],
      {
        'x-hint':
          '{ type: <event type> } (the first such event with the same correlation) or { delivered: <route name> }',
      },
    ),
    correlate: T.String({
      pattern: '^(subject|data(\\.[A-Za-z_][A-Za-z0-9_-]*)+)$',
      'x-hint': 'subject, or a data field path such as data.holdId',
    }),
    within: Duration('The SLA: how long after the start event the end must be seen.'),
    plants: T.Optional(T.Array(PlantCode, { minItems: 1 })),
  },
  { ...Strict, 'x-hint': 'an object with name, start, end, correlate, within and optionally plants' },
);

/** An alert: a milestone state change delivered to a sink connector through an implicit route. */
export const AlertSchema = T.Object(
  {
    when: T.Union([T.Literal('milestone.late'), T.Literal('milestone.met')], {
      'x-hint': 'milestone.late (raised once, cleared when met) or milestone.met',
    }),
    sink: T.String({ minLength: 1, 'x-hint': 'the name of a connector under connectors:' }),
  },
  { ...Strict, 'x-hint': 'an object with when and sink' },
);

export const ConfigSchema = T.Object(
  {
    server: T.Optional(ServerSchema),
    store: T.Optional(StoreSchema),
    log: T.Optional(LogSchema),
    auth: T.Optional(
      T.Object(
        {
          jwt: T.Optional(
            T.Object(
              {
                issuer: T.String({ minLength: 1 }),
                audience: T.String({ minLength: 1 }),
                jwksUrl: T.Optional(T.String({ minLength: 1 })),
                jwksFile: T.Optional(T.String({ minLength: 1 })),
                scopeClaim: T.Optional(T.String({ minLength: 1 })),
                clockTolerance: T.Optional(Duration('Allowed clock skew.')),
              },
              Strict,
            ),
          ),
        },
        Strict,
      ),
    ),
    clients: T.Optional(T.Array(ClientSchema)),
    lanes: T.Optional(T.Object({ critical: T.Optional(LaneSchema), bulk: T.Optional(LaneSchema) }, Strict)),
    referenceData: T.Optional(T.Record(T.String(), T.String())),
    connectors: T.Optional(
      T.Record(T.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), ConnectorSchema),
    ),
    commands: T.Optional(
      T.Record(
        T.String(),
        T.Object({ connector: T.String({ minLength: 1 }), path: T.String({ minLength: 1 }) }, Strict),
      ),
    ),
    routes: T.Optional(T.Array(RouteSchema)),
    milestones: T.Optional(T.Array(MilestoneSchema)),
    alerts: T.Optional(T.Array(AlertSchema)),
    reconciliation: T.Optional(ReconciliationSchema),
    analytics: T.Optional(AnalyticsSchema),
    observability: T.Optional(ObservabilitySchema),
  },
  Strict,
);

export type RawConfig = Static<typeof ConfigSchema>;
