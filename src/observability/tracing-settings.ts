import { type Static, Type as T } from '@sinclair/typebox';
import type { ConfigProblem } from '../config/config-error.js';

const Strict = { additionalProperties: false } as const;

/** `observability.tracing:` in conveyor.yaml: where the hub exports its spans (OTLP over HTTP). */
export const TracingSchema = T.Object(
  {
    otlpEndpoint: T.String({
      pattern: '^https?://',
      description: 'The OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces.',
      'x-hint': 'an http(s) URL of an OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces',
    }),
    serviceName: T.Optional(
      T.String({ minLength: 1, maxLength: 128, description: 'The `service.name` of the spans.' }),
    ),
    sampleRatio: T.Optional(
      T.Number({
        minimum: 0,
        maximum: 1,
        description: 'Share of the traces the hub starts that are recorded.',
        'x-hint': 'a number from 0 (none) to 1 (every trace)',
      }),
    ),
    headers: T.Optional(
      T.Record(T.String({ minLength: 1 }), T.String(), {
        description: 'Headers sent with every export (a collector token).',
        'x-hint': 'a mapping of header name to value, e.g. { authorization: Bearer <token> }',
      }),
    ),
  },
  { ...Strict, 'x-hint': 'an object with otlpEndpoint and optionally serviceName, sampleRatio, headers' },
);

/** `observability:` in conveyor.yaml. */
export const ObservabilitySchema = T.Object(
  { tracing: T.Optional(TracingSchema) },
  { ...Strict, 'x-hint': 'an object with tracing' },
);

export type RawObservability = Static<typeof ObservabilitySchema>;

/** Span export, compiled. */
export interface TracingSettings {
  readonly otlpEndpoint: string;
  /** @default conveyor */
  readonly serviceName: string;
  /** Applies to traces the hub starts; a trace that arrives sampled or not keeps its decision. @default 1 */
  readonly sampleRatio: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ObservabilitySettings {
  /** `null`: tracing is off (the default); trace context is still carried on events and deliveries. */
  readonly tracing: TracingSettings | null;
}

/** Compiles `observability:`; a URL the exporter could not use is a problem at `observability.tracing.otlpEndpoint`. */
export function compileObservability(
  raw: RawObservability | undefined,
  problems: ConfigProblem[],
): ObservabilitySettings {
  const tracing = raw?.tracing;
  if (tracing === undefined) return { tracing: null };
  try {
    new URL(tracing.otlpEndpoint);
  } catch {
    problems.push({
      path: 'observability.tracing.otlpEndpoint',
      message: `"${tracing.otlpEndpoint}" is not a valid URL`,
    });
  }
  return {
    tracing: {
      otlpEndpoint: tracing.otlpEndpoint,
      serviceName: tracing.serviceName ?? 'conveyor',
      sampleRatio: tracing.sampleRatio ?? 1,
      headers: { ...(tracing.headers ?? {}) },
    },
  };
}
