/**
 * `kind: mqtt-out`: a sink that publishes each delivered event (or its transform's result) to an
 * MQTT 3.1.1 or 5 broker, on a topic built from the event.
 */

import { type Static, Type as T } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../util/duration.js';
import {
  AuthFields,
  type CompiledTls,
  compileTls,
  type Problems,
  SinkCommonFields,
  TlsFields,
} from '../framework/common.js';
import type { ConnectorSpec } from '../framework/types.js';
import { compileBrokerUrl } from './spec.js';

/** One of a few values, as a JSON Schema enum: a wrong value gives one message, not one per choice. */
const OneOf = <const V extends readonly (string | number)[]>(values: V, description: string, hint: string) =>
  T.Unsafe<V[number]>({
    type: typeof values[0] === 'number' ? 'integer' : 'string',
    enum: [...values],
    description,
    'x-hint': hint,
  });

/** The event attributes a topic template may name. */
export const TOPIC_PLACEHOLDERS = ['type', 'plant', 'subject'] as const;

export const MqttOutSinkSchema = T.Object(
  {
    kind: T.Literal('mqtt-out'),
    ...SinkCommonFields,
    url: T.String({
      pattern: '^mqtts?://',
      description: 'The broker: mqtt://host:1883, or mqtts://host:8883 for TLS.',
      'x-hint': 'an mqtt:// or mqtts:// URL such as mqtt://127.0.0.1:1883',
    }),
    topic: T.String({
      minLength: 1,
      description:
        'Topic to publish on; {type}, {plant} and {subject} are replaced from the event (+, # and / in them become _).',
      'x-hint': 'a topic template such as conveyor/{plant}/{type}',
    }),
    qos: T.Optional(
      OneOf(
        [0, 1],
        'Publish QoS. 1: delivered once the broker acknowledges it; 0: once written. @default 1',
        '0 or 1',
      ),
    ),
    retain: T.Optional(T.Boolean({ description: 'Publish retained messages. @default false' })),
    clientId: T.Optional(
      T.String({
        minLength: 1,
        maxLength: 256,
        description: 'MQTT client id. @default conveyor-out-<connector name>',
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
    timeout: T.Optional(
      T.String({
        pattern: DURATION_PATTERN,
        description: 'Per-delivery timeout of routes to it (a route may set its own). @default 5s',
        'x-hint': 'a duration such as 500ms, 30s or 5m',
      }),
    ),
  },
  { additionalProperties: false },
);

type RawMqttOutConfig = Static<typeof MqttOutSinkSchema>;

/** A compiled, frozen `kind: mqtt-out` config. */
export interface MqttOutConfig {
  readonly url: string;
  /** The topic template as configured. */
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** null: `conveyor-out-<connector name>`. */
  readonly clientId: string | null;
  readonly protocolVersion: 4 | 5;
  readonly auth: { readonly username: string; readonly password?: string } | null;
  readonly tls: CompiledTls | null;
}

/** Why a topic template cannot name a publish topic, or undefined when it can. */
export function topicTemplateProblem(template: string): string | undefined {
  if (template.includes('\u0000')) return 'must not contain the NUL character';
  // Wildcards are for subscriptions; a broker refuses a PUBLISH that carries one.
  if (/[+#]/.test(template)) return 'a publish topic has no + or # wildcards';
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(TOPIC_PLACEHOLDERS as readonly string[]).includes(name ?? ''))
      return `{${name}} is not a placeholder; use ${TOPIC_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
  }
  if (Buffer.byteLength(template) > 65_535) return 'is longer than 65535 bytes';
  return undefined;
}

function compile(
  input: Record<string, unknown>,
  at: string,
  problems: Problems,
  baseDir: string,
): MqttOutConfig {
  const raw = input as RawMqttOutConfig;
  compileBrokerUrl(raw.url, `${at}.url`, problems, 'the topic goes under topic');
  const topicProblem = topicTemplateProblem(raw.topic);
  if (topicProblem) problems.push({ path: `${at}.topic`, message: topicProblem });
  const tls = compileTls(raw.tls, `${at}.tls`, problems, baseDir);
  if (tls && raw.url.startsWith('mqtt:'))
    problems.push({ path: `${at}.tls`, message: 'applies to mqtts:// URLs only' });
  return Object.freeze({
    url: raw.url,
    topic: raw.topic,
    qos: raw.qos ?? 1,
    retain: raw.retain ?? false,
    clientId: raw.clientId ?? null,
    protocolVersion: raw.protocolVersion ?? 4,
    auth: raw.auth ? Object.freeze({ ...raw.auth }) : null,
    tls,
  });
}

export const mqttOutSinkSpec: ConnectorSpec<MqttOutConfig> = {
  kind: 'mqtt-out',
  summary: 'Publishes deliveries to an MQTT 3.1.1/5 broker (QoS 0 or 1) on topics built from each event.',
  stability: 'beta',
  batches: true,
  schema: MqttOutSinkSchema,
  compile,
};
