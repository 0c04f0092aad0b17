/**
 * Config fragments shared by every connector, defined once: what a source's messages belong to
 * and how they map (plant, map), TLS, credentials, and reconnect back-off.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import jsonata from 'jsonata';
import { DURATION_PATTERN, parseDuration } from '../../util/duration.js';

/** Where connector compilers report config problems, by key path. */
export type Problems = Array<{ path: string; message: string }>;

/** A duration setting in ms, or `fallback` when absent; a bad one is a problem at `path`. */
export function compileDuration(
  value: string | undefined,
  fallback: number,
  path: string,
  problems: Problems,
): number {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value);
  } catch (error) {
    problems.push({ path, message: (error as Error).message });
    return fallback;
  }
}

/** A duration config field (`500ms`, `30s`, `5m`) with its description. */
export const Duration = (description: string) =>
  T.String({ pattern: DURATION_PATTERN, description, 'x-hint': 'a duration such as 500ms, 30s or 5m' });

/** Fields every source takes. */
export const SourceCommonFields = {
  kind: T.String({ minLength: 1 }),
  plant: T.Optional(
    T.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
      description: 'The plant its messages belong to (when the message does not say).',
    }),
  ),
  map: T.Optional(
    T.String({
      minLength: 1,
      description:
        'JSONata from the native message to canonical events: an object or array of {type, data, subject?, plant?, time?}.',
    }),
  ),
};

/** TLS towards the peer. */
export const TlsFields = T.Object(
  {
    ca: T.Optional(T.String({ description: 'PEM file of the CA that signed the peer.' })),
    cert: T.Optional(T.String({ description: 'PEM client certificate (mutual TLS).' })),
    key: T.Optional(T.String({ description: 'PEM private key of the client certificate.' })),
    rejectUnauthorized: T.Optional(T.Boolean({ description: 'Verify the peer certificate. @default true' })),
  },
  { additionalProperties: false },
);

/** Username and password (secrets as ${ENV} references). */
export const AuthFields = T.Object(
  { username: T.String({ minLength: 1 }), password: T.Optional(T.String()) },
  { additionalProperties: false },
);

/** When a sink's circuit opens (deliveries stop) and when it tries again. */
export const CircuitBreakerFields = T.Object(
  {
    failureThreshold: T.Optional(
      T.Integer({
        minimum: 1,
        description: 'Consecutive failed deliveries that open the circuit. @default 5',
      }),
    ),
    resetAfter: T.Optional(
      Duration('How long the circuit stays open before one trial delivery. @default 30s'),
    ),
  },
  { additionalProperties: false },
);

/** Fields every sink takes. */
export const SinkCommonFields = { circuitBreaker: T.Optional(CircuitBreakerFields) };

export interface CompiledCircuitBreaker {
  readonly failureThreshold: number;
  readonly resetAfterMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CompiledCircuitBreaker = { failureThreshold: 5, resetAfterMs: 30_000 };

/** Checks a `circuitBreaker` block (also for connectors whose schema is not checked first). */
export function compileCircuitBreaker(raw: unknown, at: string, problems: Problems): CompiledCircuitBreaker {
  if (raw === undefined) return DEFAULT_CIRCUIT_BREAKER;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path: at, message: 'must be a mapping with failureThreshold and/or resetAfter' });
    return DEFAULT_CIRCUIT_BREAKER;
  }
  const { failureThreshold = DEFAULT_CIRCUIT_BREAKER.failureThreshold, resetAfter } = raw as Record<
    string,
    unknown
  >;
  if (!Number.isInteger(failureThreshold) || (failureThreshold as number) < 1)
    problems.push({ path: `${at}.failureThreshold`, message: 'must be an integer >= 1' });
  const resetAfterMs = compileDuration(
    resetAfter === undefined ? undefined : String(resetAfter),
    DEFAULT_CIRCUIT_BREAKER.resetAfterMs,
    `${at}.resetAfter`,
    problems,
  );
  return { failureThreshold: Number(failureThreshold), resetAfterMs };
}

/** Reconnect back-off. */
export const ReconnectFields = T.Object(
  {
    initialDelay: T.Optional(Duration('First wait before reconnecting; doubles each time.')),
    maxDelay: T.Optional(Duration('Longest wait between reconnects.')),
  },
  { additionalProperties: false },
);

export interface CompiledSourceCommon {
  readonly plant: string | null;
  /** The compiled `map` expression, or null for the connector's built-in mapping. */
  readonly map: jsonata.Expression | null;
}

export function compileSourceCommon(
  raw: Record<string, unknown>,
  at: string,
  problems: Problems,
): CompiledSourceCommon {
  let map: jsonata.Expression | null = null;
  if (typeof raw.map === 'string') {
    try {
      map = jsonata(raw.map);
    } catch (error) {
      const e = error as { message: string; position?: number };
      problems.push({
        path: `${at}.map`,
        message: `invalid JSONata at position ${e.position ?? '?'}: ${e.message}`,
      });
    }
  }
  return { plant: typeof raw.plant === 'string' ? raw.plant : null, map };
}

export interface CompiledTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
}

/** Reads the TLS files at start, so a missing file is a config error rather than a runtime surprise. */
export function compileTls(
  raw: Static<typeof TlsFields> | undefined,
  at: string,
  problems: Problems,
  baseDir: string,
): CompiledTls | null {
  if (!raw) return null;
  const read = (field: 'ca' | 'cert' | 'key') => {
    const file = raw[field];
    if (file === undefined) return {};
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    try {
      return { [field]: readFileSync(path) };
    } catch (error) {
      problems.push({
        path: `${at}.${field}`,
        message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); point it at a PEM file`,
      });
      return {};
    }
  };
  if ((raw.cert === undefined) !== (raw.key === undefined))
    problems.push({ path: `${at}.cert`, message: 'cert and key go together (mutual TLS)' });
  return {
    ...read('ca'),
    ...read('cert'),
    ...read('key'),
    rejectUnauthorized: raw.rejectUnauthorized ?? true,
  };
}

export interface CompiledReconnect {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export function compileReconnect(
  raw: Static<typeof ReconnectFields> | undefined,
  at: string,
  problems: Problems,
): CompiledReconnect {
  const initialDelayMs = raw?.initialDelay ? parseDuration(raw.initialDelay) : 1_000;
  const maxDelayMs = raw?.maxDelay ? parseDuration(raw.maxDelay) : 30_000;
  if (maxDelayMs < initialDelayMs)
    problems.push({ path: `${at}.maxDelay`, message: 'must be >= initialDelay' });
  return { initialDelayMs, maxDelayMs };
}

/** The delay before reconnect attempt `attempt` (1-based): exponential with full jitter. */
export function reconnectDelay(
  policy: CompiledReconnect,
  attempt: number,
  random: () => number = Math.random,
): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(bound / 2 + (random() * bound) / 2));
}

/** An ISO timestamp for health statuses. */
export const nowIso = (now: () => number = Date.now) => new Date(now()).toISOString();
