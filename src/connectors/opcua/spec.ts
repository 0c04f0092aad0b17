/**
 * `kind: opcua`: subscribes to variables of an OPC UA server (a PLC or its gateway) and turns
 * every data change into an event. Each entry of `nodes[]` names a variable, the event type its
 * changes become and the equipment they belong to.
 */

import { isAbsolute, join, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import { MACHINE_STATES } from '../../model/schemas/telemetry.js';
import {
  AuthFields,
  type CompiledReconnect,
  compileDuration,
  compileReconnect,
  Duration,
  type Problems,
  ReconnectFields,
  SourceCommonFields,
} from '../framework/common.js';
import type { ConnectorSpec } from '../framework/types.js';

const Strict = { additionalProperties: false } as const;

/** Default bound for the stack to get the session back once the server is reachable again. */
export const DEFAULT_RESUME_TIMEOUT_MS = 15_000;
/** Shortest resume bound: reactivating a session and its subscription takes a few round trips. */
export const MIN_RESUME_TIMEOUT_MS = 1_000;

export const COUNTER_TYPE = 'telemetry.machine.counter';
export const STATE_TYPE = 'telemetry.machine.state';

/** The node id forms a config may name: numeric, string, GUID or opaque, in namespace `ns` (0 when absent). */
export const NODE_ID_PATTERN =
  '^(ns=[0-9]+;)?(i=[0-9]+|s=.+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/]+={0,2})$';

const MachineState = T.Union(
  MACHINE_STATES.map((s) => T.Literal(s)),
  { 'x-hint': MACHINE_STATES.join(', ') },
);

export const OpcuaNodeSchema = T.Object(
  {
    nodeId: T.String({
      pattern: NODE_ID_PATTERN,
      description: 'The variable to monitor, e.g. ns=1;s=Press7.State.',
      'x-hint': 'a node id such as ns=1;s=Press7.State or ns=2;i=1042',
    }),
    type: T.String({
      pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$',
      description: `The event type of its changes: ${STATE_TYPE} or ${COUNTER_TYPE} (any type when a map is set).`,
      'x-hint': `${STATE_TYPE} or ${COUNTER_TYPE}`,
    }),
    equipmentId: T.String({ minLength: 1, maxLength: 128, description: 'The machine the node belongs to.' }),
    counter: T.Optional(
      T.String({
        minLength: 1,
        maxLength: 256,
        description: `The counter name of ${COUNTER_TYPE} events. @default the node's browse name`,
      }),
    ),
    samplingInterval: T.Optional(
      Duration(
        'How often the server samples the value; 0ms reports every change where the server can. @default 1s',
      ),
    ),
    deadband: T.Optional(
      T.Number({
        minimum: 0,
        description: 'Absolute deadband: changes smaller than this are not reported (numeric values only).',
      }),
    ),
    queueSize: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 65_535,
        description:
          'Changes the server keeps between two publishes, so fast changes are not folded. @default 10',
      }),
    ),
    discardOldest: T.Optional(
      T.Boolean({
        description: 'When the queue is full, drop the oldest change (else the newest). @default true',
      }),
    ),
    states: T.Optional(
      T.Record(T.String({ minLength: 1 }), MachineState, {
        description: `For ${STATE_TYPE} nodes: raw values (numbers, strings, true/false) and the state each means.`,
      }),
    ),
  },
  Strict,
);

/** How to reach and trust a server: shared by the source and the `opcua-out` sink. */
export const OpcuaConnectionFields = {
  endpoint: T.String({
    pattern: '^opc\\.tcp://.+',
    description: 'The server endpoint, e.g. opc.tcp://plc-1:4840.',
    'x-hint': 'an opc.tcp:// URL',
  }),
  securityMode: T.Optional(
    T.Union([T.Literal('None'), T.Literal('Sign'), T.Literal('SignAndEncrypt')], {
      description: 'Message security. @default None',
      'x-hint': 'None, Sign or SignAndEncrypt',
    }),
  ),
  securityPolicy: T.Optional(
    T.Union([T.Literal('None'), T.Literal('Basic256Sha256')], {
      description: 'Security policy. @default None without message security, else Basic256Sha256',
      'x-hint': 'None or Basic256Sha256',
    }),
  ),
  auth: T.Optional(AuthFields),
  pki: T.Optional(
    T.Object(
      {
        dir: T.Optional(
          T.String({
            minLength: 1,
            description:
              'Folder of the client certificate and its trust lists, relative to the data directory. @default <data dir>/opcua-pki',
          }),
        ),
        acceptUnknownServerCertificate: T.Optional(
          T.Boolean({
            description:
              'Trust a server certificate not in the trusted folder on first sight. @default false',
          }),
        ),
      },
      Strict,
    ),
  ),
};

/** The shared back-off fields, and how long the stack may take to get the session back. */
export const OpcuaReconnectFields = T.Object(
  {
    ...ReconnectFields.properties,
    resumeTimeout: T.Optional(
      Duration(
        'How long the OPC UA stack may try to get the session and subscription back once the server is reachable again; past it the client is dropped and a new session and subscription are opened. @default 15s',
      ),
    ),
  },
  Strict,
);

export const OpcuaSchema = T.Object(
  {
    ...SourceCommonFields,
    kind: T.Literal('opcua'),
    ...OpcuaConnectionFields,
    nodes: T.Array(OpcuaNodeSchema, { minItems: 1, maxItems: 10_000 }),
    publishingInterval: T.Optional(
      Duration('How often the server sends the changes it collected. @default 1s'),
    ),
    keepAlive: T.Optional(
      Duration('Longest silence before the connection is checked; a failed check reconnects. @default 10s'),
    ),
    reconnect: T.Optional(OpcuaReconnectFields),
    stateDir: T.Optional(
      T.String({
        minLength: 1,
        description:
          'Folder of <name>.opcua.json, which keeps the changes not yet acknowledged across a stop, relative to the data directory. @default <data dir>/connectors',
      }),
    ),
  },
  Strict,
);

export type RawOpcuaConfig = Static<typeof OpcuaSchema>;
export type MachineStateName = (typeof MACHINE_STATES)[number];

export interface OpcuaNodeConfig {
  readonly nodeId: string;
  readonly type: string;
  /** Which built-in mapping its changes get; `mapped` when the connector's `map` does it. */
  readonly mapping: 'counter' | 'state' | 'mapped';
  readonly equipmentId: string;
  /** null: the node's browse name. */
  readonly counter: string | null;
  /** 0: every change (exception-based, where the server supports it). */
  readonly samplingIntervalMs: number;
  readonly deadband: number | null;
  readonly queueSize: number;
  readonly discardOldest: boolean;
  /** Lower-cased raw value → state; null when the node has none. */
  readonly states: ReadonlyMap<string, MachineStateName> | null;
}

export interface OpcuaReconnect extends CompiledReconnect {
  /** From the first reopened channel after a connection loss to a resumed session, at most. */
  readonly resumeTimeoutMs: number;
}

export interface OpcuaSourceConfig {
  readonly endpoint: string;
  readonly securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  readonly securityPolicy: 'None' | 'Basic256Sha256';
  readonly auth: { readonly username: string; readonly password: string } | null;
  readonly pkiDir: string;
  readonly acceptUnknownServerCertificate: boolean;
  readonly nodes: readonly OpcuaNodeConfig[];
  readonly publishingIntervalMs: number;
  readonly keepAliveMs: number;
  readonly reconnect: OpcuaReconnect;
  readonly plant: string | null;
  /** True when a `map` is configured: the hub maps each change, the connector builds no events. */
  readonly mapped: boolean;
  /** Where `<connector name>.opcua.json` keeps unacknowledged changes across a stop. */
  readonly stateDir: string;
}

function compileEndpoint(value: string, path: string, problems: Problems): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'opc.tcp:' || url.hostname === '')
      problems.push({ path, message: `"${value}" is not an opc.tcp://host:port URL` });
    else if (url.username || url.password)
      problems.push({ path, message: 'put credentials in auth, not in the URL' });
  } catch {
    problems.push({ path, message: `"${value}" is not an opc.tcp://host:port URL` });
  }
  return value;
}

function compileOpcuaReconnect(
  raw: Static<typeof OpcuaReconnectFields> | undefined,
  at: string,
  problems: Problems,
): OpcuaReconnect {
  const { resumeTimeout, ...backOff } = raw ?? {};
  const resumeTimeoutMs = compileDuration(
    resumeTimeout,
    DEFAULT_RESUME_TIMEOUT_MS,
    `${at}.resumeTimeout`,
    problems,
  );
  if (resumeTimeoutMs < MIN_RESUME_TIMEOUT_MS)
    problems.push({
      path: `${at}.resumeTimeout`,
      message: `must be at least ${MIN_RESUME_TIMEOUT_MS / 1000}s: resuming a session takes a few round trips`,
    });
  return { ...compileReconnect(backOff, at, problems), resumeTimeoutMs };
}

function compileNode(
  raw: Static<typeof OpcuaNodeSchema>,
  at: string,
  mapped: boolean,
  problems: Problems,
): OpcuaNodeConfig {
  const mapping = mapped ? 'mapped' : raw.type === COUNTER_TYPE ? 'counter' : 'state';
  if (!mapped && raw.type !== COUNTER_TYPE && raw.type !== STATE_TYPE)
    problems.push({
      path: `${at}.type`,
      message: `without a map, give ${STATE_TYPE} or ${COUNTER_TYPE}; other types need a map`,
    });
  if (raw.counter !== undefined && raw.type !== COUNTER_TYPE)
    problems.push({ path: `${at}.counter`, message: `applies to ${COUNTER_TYPE} nodes only` });
  if (raw.states !== undefined && raw.type !== STATE_TYPE)
    problems.push({ path: `${at}.states`, message: `applies to ${STATE_TYPE} nodes only` });
  if (raw.deadband !== undefined && !mapped && raw.type !== COUNTER_TYPE)
    problems.push({ path: `${at}.deadband`, message: 'applies to numeric values only; a state has none' });
  const samplingIntervalMs = compileDuration(raw.samplingInterval, 1_000, `${at}.samplingInterval`, problems);
  const states = raw.states
    ? new Map(Object.entries(raw.states).map(([k, v]) => [k.trim().toLowerCase(), v] as const))
    : null;
  return Object.freeze({
    nodeId: raw.nodeId,
    type: raw.type,
    mapping,
    equipmentId: raw.equipmentId,
    counter: raw.counter ?? null,
    samplingIntervalMs,
    deadband: raw.deadband ?? null,
    queueSize: raw.queueSize ?? 10,
    discardOldest: raw.discardOldest ?? true,
    states,
  });
}

/**
 * Compiles a schema-valid opcua config. `baseDir` is the hub's data directory: the client
 * certificate and its trust lists live in `<baseDir>/opcua-pki` unless `pki.dir` says otherwise,
 * the unacknowledged changes of a stopped source in `<baseDir>/connectors` unless `stateDir` does.
 */
function compile(input: Record<string, unknown>, at: string, problems: Problems, baseDir: string) {
  const raw = input as RawOpcuaConfig;
  const mapped = typeof raw.map === 'string';
  const endpoint = compileEndpoint(raw.endpoint, `${at}.endpoint`, problems);
  const securityMode = raw.securityMode ?? 'None';
  const securityPolicy = raw.securityPolicy ?? (securityMode === 'None' ? 'None' : 'Basic256Sha256');
  if (securityMode !== 'None' && securityPolicy === 'None')
    problems.push({ path: `${at}.securityPolicy`, message: `${securityMode} needs Basic256Sha256` });
  if (securityMode === 'None' && securityPolicy !== 'None')
    problems.push({
      path: `${at}.securityMode`,
      message: `${securityPolicy} needs Sign or SignAndEncrypt; with None nothing is protected`,
    });
  if (!mapped && raw.plant === undefined)
    problems.push({
      path: `${at}.plant`,
      message: 'give plant (OPC UA values do not carry one) or map (a JSONata mapping of each change)',
    });
  const seen = new Map<string, number>();
  const nodes = raw.nodes.map((node, i) => {
    const first = seen.get(node.nodeId);
    if (first !== undefined)
      problems.push({
        path: `${at}.nodes[${i}].nodeId`,
        message: `${node.nodeId} is already listed at nodes[${first}]; list each node once`,
      });
    else seen.set(node.nodeId, i);
    return compileNode(node, `${at}.nodes[${i}]`, mapped, problems);
  });
  const publishingIntervalMs = compileDuration(
    raw.publishingInterval,
    1_000,
    `${at}.publishingInterval`,
    problems,
  );
  if (publishingIntervalMs < 10)
    problems.push({ path: `${at}.publishingInterval`, message: 'must be at least 10ms' });
  const keepAliveMs = compileDuration(raw.keepAlive, 10_000, `${at}.keepAlive`, problems);
  if (keepAliveMs < publishingIntervalMs)
    problems.push({ path: `${at}.keepAlive`, message: 'must be at least the publishingInterval' });
  const under = (dir: string | undefined, fallback: string) =>
    dir ? (isAbsolute(dir) ? dir : resolve(baseDir, dir)) : join(baseDir, fallback);
  const config: OpcuaSourceConfig = {
    endpoint,
    securityMode,
    securityPolicy,
    auth: raw.auth ? { username: raw.auth.username, password: raw.auth.password ?? '' } : null,
    pkiDir: under(raw.pki?.dir, 'opcua-pki'),
    acceptUnknownServerCertificate: raw.pki?.acceptUnknownServerCertificate ?? false,
    nodes: Object.freeze(nodes),
    publishingIntervalMs,
    keepAliveMs,
    reconnect: Object.freeze(compileOpcuaReconnect(raw.reconnect, `${at}.reconnect`, problems)),
    plant: raw.plant ?? null,
    mapped,
    stateDir: under(raw.stateDir, 'connectors'),
  };
  return Object.freeze(config);
}

export const opcuaSourceSpec: ConnectorSpec<OpcuaSourceConfig> = {
  kind: 'opcua',
  summary:
    'Subscribes to OPC UA variables (PLC state and counters) and turns every data change into an event.',
  stability: 'beta',
  schema: OpcuaSchema,
  compile,
};
