/**
 * `kind: mqtt`: a source that subscribes to an MQTT 3.1.1 or 5 broker with a persistent session
 * and QoS 1, and reads plain JSON or Sparkplug B.
 */

import { type Static, Type as T } from '@sinclair/typebox';
import { parseSize, SIZE_PATTERN } from '../../util/duration.js';
import {
  AuthFields,
  type CompiledReconnect,
  type CompiledTls,
  compileDuration,
  compileReconnect,
  compileTls,
  Duration,
  type Problems,
  ReconnectFields,
  SourceCommonFields,
  TlsFields,
} from '../framework/common.js';
import type { ConnectorSpec } from '../framework/types.js';
import type { SparkplugMappingOptions } from './sparkplug/mapping.js';
import { SPARKPLUG_NAMESPACE } from './sparkplug/topic.js';

const Strict = { additionalProperties: false } as const;

/** One of a few values, as a JSON Schema enum: a wrong value gives one message, not one per choice. */
const OneOf = <const V extends readonly (string | number)[]>(values: V, description: string, hint: string) =>
  T.Unsafe<V[number]>({
    type: typeof values[0] === 'number' ? 'integer' : 'string',
    enum: [...values],
    description,
    'x-hint': hint,
  });

const MetricPatterns = (description: string) =>
  T.Array(T.String({ minLength: 1 }), {
    description,
    'x-hint': 'metric names, where * matches within one / level and ** across levels',
  });

/** Overrides of the default Sparkplug B metric → event mapping (SPEC §5). */
export const SparkplugRulesFields = T.Object(
  {
    stateMetrics: T.Optional(
      T.Array(T.String({ minLength: 1 }), {
        minItems: 1,
        description: 'String metrics (any case) that carry the machine state. @default [State]',
      }),
    ),
    include: T.Optional(MetricPatterns('Only metrics matching one of these become events.')),
    exclude: T.Optional(MetricPatterns('Metrics matching one of these never become events.')),
    controlMetrics: T.Optional(
      T.Boolean({
        description: 'Also map bdSeq, Node Control/* and Device Control/* metrics. @default false',
      }),
    ),
  },
  Strict,
);

export const MqttSourceSchema = T.Object(
  {
    ...SourceCommonFields,
    kind: T.Literal('mqtt'),
    url: T.String({
      pattern: '^mqtts?://',
      description: 'The broker: mqtt://host:1883, or mqtts://host:8883 for TLS.',
      'x-hint': 'an mqtt:// or mqtts:// URL such as mqtt://127.0.0.1:1883',
    }),
    topics: T.Array(T.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Topic filters to subscribe to (+ and # wildcards).',
      'x-hint': 'a list of topic filters such as ["spBv1.0/P1/#"]',
    }),
    format: T.Optional(
      OneOf(['json', 'sparkplug-b'], 'How payloads are read. @default json', 'json or sparkplug-b'),
    ),
    qos: T.Optional(
      OneOf(
        [0, 1],
        'Subscription QoS. 1: the broker keeps each message until the hub has stored it. @default 1',
        '0 or 1',
      ),
    ),
    clientId: T.Optional(
      T.String({
        minLength: 1,
        maxLength: 256,
        description:
          'MQTT client id; the broker keeps the persistent session under it, so it must stay the same. @default conveyor-<connector name>',
      }),
    ),
    protocolVersion: T.Optional(
      OneOf(
        [4, 5],
        'MQTT protocol level: 4 is MQTT 3.1.1, 5 is MQTT 5. @default 4',
        '4 (MQTT 3.1.1) or 5 (MQTT 5)',
      ),
    ),
    auth: T.Optional(AuthFields),
    tls: T.Optional(TlsFields),
    reconnect: T.Optional(ReconnectFields),
    keepalive: T.Optional(Duration('Keep-alive interval towards the broker. @default 30s')),
    sessionExpiry: T.Optional(
      Duration(
        'MQTT 5 only: how long the broker keeps the session while the hub is away. @default never expires',
      ),
    ),
    maxInFlight: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 65_535,
        description: 'Most messages handed to the hub and not yet acknowledged. @default 100',
      }),
    ),
    maxInFlightBytes: T.Optional(
      T.String({
        pattern: SIZE_PATTERN,
        description:
          'Most payload bytes handed to the hub and not yet acknowledged; one message larger than this still passes alone. @default 16mb',
        'x-hint': 'a size such as 512kb, 1mb or 2gb',
      }),
    ),
    rules: T.Optional(SparkplugRulesFields),
    hostId: T.Optional(
      T.String({
        pattern: '^[^/+#\\s]{1,64}$',
        description:
          'Sparkplug B: the hub acts as the primary host application with this id. It publishes a retained STATE (online, with an offline will), so that edge nodes configured for it publish only while the hub listens.',
        'x-hint': 'one MQTT topic level without /, + or #, such as conveyor',
      }),
    ),
    rebirthHoldOff: T.Optional(
      Duration(
        'Sparkplug B: after asking an edge node for a rebirth, wait this long before asking it again. @default 5s',
      ),
    ),
  },
  Strict,
);

export type RawMqttSourceConfig = Static<typeof MqttSourceSchema>;

/** Sparkplug B settings of a `format: sparkplug-b` source. */
export interface CompiledSparkplug {
  /** Rules of the built-in mapping (the configured plant included). */
  readonly mapping: SparkplugMappingOptions;
  readonly rebirthHoldOffMs: number;
  /** Primary host application id whose STATE the source publishes; null: it publishes none. */
  readonly hostId: string | null;
}

/** A compiled, frozen `kind: mqtt` source config. */
export interface MqttSourceConfig {
  /** The broker URL as configured. */
  readonly url: string;
  readonly topics: readonly string[];
  readonly format: 'json' | 'sparkplug-b';
  readonly qos: 0 | 1;
  /** null: `conveyor-<connector name>`. */
  readonly clientId: string | null;
  readonly protocolVersion: 4 | 5;
  readonly auth: { readonly username: string; readonly password?: string } | null;
  readonly tls: CompiledTls | null;
  readonly reconnect: CompiledReconnect;
  readonly keepaliveSeconds: number;
  /** MQTT 5 session expiry in seconds; null: never expires. */
  readonly sessionExpirySeconds: number | null;
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  readonly plant: string | null;
  /** True when a `map` is configured: the hub maps each payload, the built-in mapping is not used. */
  readonly mapped: boolean;
  /** Present for `format: sparkplug-b`. */
  readonly sparkplug: CompiledSparkplug | null;
}

/** With the default 100 messages, room for payloads of about 160 kB each. */
const DEFAULT_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

/** Largest MQTT 5 Session Expiry Interval: the session never expires. */
const NEVER_EXPIRES = 0xffff_ffff;

/** Checks a broker URL; `pathHint` says where what someone put in the path belongs instead. */
export function compileBrokerUrl(value: string, path: string, problems: Problems, pathHint: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push({ path, message: `"${value}" is not an mqtt:// or mqtts:// URL` });
    return;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:')
    problems.push({ path, message: `"${value}" is not an mqtt:// or mqtts:// URL` });
  else if (url.hostname === '') problems.push({ path, message: 'names no broker host' });
  else if (url.username || url.password)
    problems.push({ path, message: 'put credentials in auth, not in the URL' });
  else if (url.pathname !== '' && url.pathname !== '/')
    problems.push({ path, message: `an MQTT broker URL has no path; ${pathHint}` });
}

/** Why a topic filter is not valid MQTT, or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.includes('\u0000')) return 'must not contain the NUL character';
  if (Buffer.byteLength(filter) > 65_535) return 'is longer than 65535 bytes';
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1))
      return '# must be a whole level and the last one';
    if (level.includes('+') && level !== '+') return '+ must be a whole level';
  }
  return undefined;
}

function compileTopics(raw: RawMqttSourceConfig, at: string, problems: Problems): string[] {
  const sparkplug = raw.format === 'sparkplug-b';
  const seen = new Set<string>();
  raw.topics.forEach((filter, i) => {
    const path = `${at}.topics[${i}]`;
    const problem = topicFilterProblem(filter);
    if (problem) problems.push({ path, message: problem });
    else if (seen.has(filter)) problems.push({ path, message: `"${filter}" is listed twice` });
    else if (sparkplug && !['#', '+', SPARKPLUG_NAMESPACE].includes(filter.split('/')[0]!))
      problems.push({
        path,
        message: `a sparkplug-b source reads ${SPARKPLUG_NAMESPACE}/ topics, such as "${SPARKPLUG_NAMESPACE}/P1/#"`,
      });
    seen.add(filter);
  });
  return [...seen];
}

function compileSparkplug(
  raw: RawMqttSourceConfig,
  at: string,
  problems: Problems,
): CompiledSparkplug | null {
  if (raw.format !== 'sparkplug-b') {
    for (const key of ['rules', 'rebirthHoldOff', 'hostId'] as const) {
      if (raw[key] !== undefined)
        problems.push({ path: `${at}.${key}`, message: 'applies to format: sparkplug-b only' });
    }
    return null;
  }
  const rules = raw.rules ?? {};
  const mapping: SparkplugMappingOptions = {
    ...(raw.plant !== undefined ? { plant: raw.plant } : {}),
    ...(rules.stateMetrics ? { stateMetricNames: Object.freeze([...rules.stateMetrics]) } : {}),
    ...(rules.include ? { include: Object.freeze([...rules.include]) } : {}),
    ...(rules.exclude ? { exclude: Object.freeze([...rules.exclude]) } : {}),
    ...(rules.controlMetrics !== undefined ? { controlMetrics: rules.controlMetrics } : {}),
  };
  if (raw.map !== undefined && raw.rules !== undefined)
    problems.push({
      path: `${at}.rules`,
      message: 'the built-in mapping is not used when map is set; drop one',
    });
  const rebirthHoldOffMs = compileDuration(raw.rebirthHoldOff, 5_000, `${at}.rebirthHoldOff`, problems);
  return Object.freeze({ mapping: Object.freeze(mapping), rebirthHoldOffMs, hostId: raw.hostId ?? null });
}

/** Compiles a schema-valid `kind: mqtt` config; TLS files resolve against `baseDir`. */
function compile(
  input: Record<string, unknown>,
  at: string,
  problems: Problems,
  baseDir: string,
): MqttSourceConfig {
  const raw = input as RawMqttSourceConfig;
  compileBrokerUrl(raw.url, `${at}.url`, problems, 'list topics under topics');
  const format = raw.format ?? 'json';
  const mapped = typeof raw.map === 'string';
  if (format === 'json' && !mapped)
    problems.push({
      path: `${at}.map`,
      message: 'format: json needs map, a JSONata expression from each message to canonical events',
    });
  const topics = compileTopics(raw, at, problems);
  const tls = compileTls(raw.tls, `${at}.tls`, problems, baseDir);
  if (tls && raw.url.startsWith('mqtt:'))
    problems.push({ path: `${at}.tls`, message: 'applies to mqtts:// URLs only' });
  const protocolVersion = raw.protocolVersion ?? 4;
  const keepaliveMs = compileDuration(raw.keepalive, 30_000, `${at}.keepalive`, problems);
  if (keepaliveMs < 1_000 || keepaliveMs > 65_535_000)
    problems.push({ path: `${at}.keepalive`, message: 'must be from 1s to 65535s' });
  let sessionExpirySeconds: number | null = null;
  if (raw.sessionExpiry !== undefined) {
    if (protocolVersion !== 5)
      problems.push({
        path: `${at}.sessionExpiry`,
        message: 'needs protocolVersion: 5 (MQTT 3.1.1 sessions expire only by broker policy)',
      });
    const ms = compileDuration(raw.sessionExpiry, 0, `${at}.sessionExpiry`, problems);
    if (ms < 1_000) problems.push({ path: `${at}.sessionExpiry`, message: 'must be at least 1s' });
    sessionExpirySeconds = Math.min(NEVER_EXPIRES - 1, Math.round(ms / 1_000));
  }
  const maxInFlightBytes = raw.maxInFlightBytes
    ? parseSize(raw.maxInFlightBytes)
    : DEFAULT_MAX_IN_FLIGHT_BYTES;
  if (maxInFlightBytes < 1024)
    problems.push({ path: `${at}.maxInFlightBytes`, message: 'must be at least 1kb' });
  return Object.freeze({
    url: raw.url,
    topics: Object.freeze(topics),
    format,
    qos: raw.qos ?? 1,
    clientId: raw.clientId ?? null,
    protocolVersion,
    auth: raw.auth ? Object.freeze({ ...raw.auth }) : null,
    tls,
    reconnect: compileReconnect(raw.reconnect, `${at}.reconnect`, problems),
    keepaliveSeconds: Math.max(1, Math.round(keepaliveMs / 1_000)),
    sessionExpirySeconds,
    maxInFlight: raw.maxInFlight ?? 100,
    maxInFlightBytes,
    plant: raw.plant ?? null,
    mapped,
    sparkplug: compileSparkplug(raw, at, problems),
  });
}

export const mqttSourceSpec: ConnectorSpec<MqttSourceConfig> = {
  kind: 'mqtt',
  summary:
    'Subscribes to an MQTT 3.1.1/5 broker (persistent session, QoS 1) and reads JSON or Sparkplug B telemetry.',
  stability: 'beta',
  schema: MqttSourceSchema,
  compile,
};
