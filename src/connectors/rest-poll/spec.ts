/**
 * `kind: rest-poll`: polls an ERP-style HTTP endpoint on an interval and turns new rows into
 * events. What counts as new is a cursor (the largest `updatedAt` seen, sent back as `?since=`),
 * an ETag (`If-None-Match`, where a 304 means nothing new), or both.
 */

import { isAbsolute, join, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import jsonata from 'jsonata';
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

const Expression = (description: string) =>
  T.String({ minLength: 1, description, 'x-hint': 'a field name, a dotted path or a JSONata expression' });

const Strict = { additionalProperties: false } as const;

export const RestPollSchema = T.Object(
  {
    ...SourceCommonFields,
    kind: T.Literal('rest-poll'),
    url: T.String({
      minLength: 1,
      description: 'The endpoint to GET, http or https.',
      'x-hint': 'an http(s) URL',
    }),
    interval: T.Optional(Duration('Time between polls. @default 10s')),
    items: T.Optional(
      Expression(
        'Selects the array of rows in the answer. @default the answer when it is an array, else its `items`',
      ),
    ),
    cursor: T.Optional(
      T.Object(
        {
          param: T.Optional(
            T.String({ minLength: 1, description: 'Query parameter carrying the cursor. @default since' }),
          ),
          from: Expression("A row's cursor value, e.g. updatedAt; the largest one seen is sent back."),
        },
        Strict,
      ),
    ),
    etag: T.Optional(
      T.Boolean({
        description: 'Send If-None-Match with the last ETag; a 304 means nothing new. @default true',
      }),
    ),
    idField: T.Optional(Expression("A row's stable id. @default id")),
    headers: T.Optional(T.Record(T.String(), T.String(), { description: 'Extra request headers.' })),
    auth: T.Optional(
      T.Union(
        [
          AuthFields,
          T.Object(
            {
              token: T.String({
                minLength: 1,
                description: 'Bearer token; keep it in an environment variable reference.',
              }),
            },
            Strict,
          ),
        ],
        { 'x-hint': '{username, password} for basic auth or {token} for a bearer token' },
      ),
    ),
    tls: T.Optional(TlsFields),
    timeout: T.Optional(Duration('Longest wait for one answer. @default 10s')),
    reconnect: T.Optional(ReconnectFields),
    type: T.Optional(
      T.String({
        pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$',
        description: 'The canonical event type each row becomes when there is no map.',
        'x-hint': 'an event type such as production.order.released',
      }),
    ),
    pageLimit: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 10_000,
        description: 'Most rows handed to the hub in one batch. @default 500',
      }),
    ),
    stateDir: T.Optional(
      T.String({
        minLength: 1,
        description:
          'Folder of the cursor file <name>.json, relative to the data directory. @default <data dir>/connectors',
      }),
    ),
  },
  Strict,
);

export type RawRestPollConfig = Static<typeof RestPollSchema>;

/**
 * A row field or a dotted path read directly (no async JSONata per row), or a JSONata expression
 * for anything else.
 */
export type Selector =
  | { readonly kind: 'path'; readonly text: string; readonly path: readonly string[] }
  | { readonly kind: 'jsonata'; readonly text: string; readonly expression: jsonata.Expression };

export interface RestPollSourceConfig {
  readonly url: string;
  readonly intervalMs: number;
  /** null: the answer when it is an array, else its `items`. */
  readonly items: Selector | null;
  readonly cursor: { readonly param: string; readonly from: Selector } | null;
  readonly etag: boolean;
  readonly idField: Selector;
  /** Lower-cased names; `authorization` included when `auth` is set. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly reconnect: CompiledReconnect;
  readonly tls: CompiledTls | null;
  /** Event type of the built-in mapping; null when a `map` does the mapping. */
  readonly type: string | null;
  readonly plant: string | null;
  /** True when a `map` is configured: the hub maps each row, the connector builds no events. */
  readonly mapped: boolean;
  readonly pageLimit: number;
  /** Where `<connector name>.json` keeps the cursor across restarts. */
  readonly stateDir: string;
}

const DEFAULT_ID: Selector = { kind: 'path', text: 'id', path: ['id'] };

const DOTTED_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function compileSelector(text: string, path: string, problems: Problems): Selector | null {
  if (DOTTED_PATH.test(text)) return { kind: 'path', text, path: text.split('.') };
  try {
    return { kind: 'jsonata', text, expression: jsonata(text) };
  } catch (error) {
    const e = error as { message: string; position?: number };
    problems.push({ path, message: `invalid JSONata at position ${e.position ?? '?'}: ${e.message}` });
    return null;
  }
}

/** Evaluates a selector against a value; a path that does not exist gives undefined. */
export async function select(selector: Selector, value: unknown): Promise<unknown> {
  if (selector.kind === 'jsonata') return selector.expression.evaluate(value);
  let current = value;
  for (const key of selector.path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'if-none-match']);

function compileUrl(value: string, path: string, problems: Problems): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push({ path, message: `"${value}" is not an http(s) URL` });
    } else if (url.username || url.password) {
      problems.push({ path, message: 'put credentials in auth, not in the URL' });
    }
  } catch {
    problems.push({ path, message: `"${value}" is not an http(s) URL` });
  }
  return value;
}

function compileHeaders(raw: RawRestPollConfig, at: string, problems: Problems): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name))
      problems.push({ path: `${at}.headers.${name}`, message: 'not a header name' });
    else if (HOP_BY_HOP.has(lower))
      problems.push({ path: `${at}.headers.${name}`, message: 'set by the connector itself; remove it' });
    else if (/[\r\n\0]/.test(value))
      problems.push({ path: `${at}.headers.${name}`, message: 'must not contain line breaks' });
    else headers[lower] = value;
  }
  if (raw.auth) {
    if (headers.authorization !== undefined)
      problems.push({ path: `${at}.headers.authorization`, message: 'set auth or this header, not both' });
    headers.authorization =
      'token' in raw.auth
        ? `Bearer ${raw.auth.token}`
        : `Basic ${Buffer.from(`${raw.auth.username}:${raw.auth.password ?? ''}`).toString('base64')}`;
  }
  return headers;
}

/**
 * Compiles a schema-valid rest-poll config. `baseDir` is the hub's data directory (what the
 * connector manager passes): the cursor file goes to `<baseDir>/connectors/<name>.json` unless
 * `stateDir` says otherwise, and relative `stateDir` and TLS paths resolve against it.
 */
function compile(
  input: Record<string, unknown>,
  at: string,
  problems: Problems,
  baseDir: string,
): RestPollSourceConfig {
  const raw = input as RawRestPollConfig;
  const url = compileUrl(raw.url, `${at}.url`, problems);
  const intervalMs = compileDuration(raw.interval, 10_000, `${at}.interval`, problems);
  if (intervalMs < 100) problems.push({ path: `${at}.interval`, message: 'must be at least 100ms' });
  const timeoutMs = compileDuration(raw.timeout, 10_000, `${at}.timeout`, problems);
  if (timeoutMs < 1) problems.push({ path: `${at}.timeout`, message: 'must be more than 0ms' });
  const items = raw.items === undefined ? null : compileSelector(raw.items, `${at}.items`, problems);
  const idField = compileSelector(raw.idField ?? 'id', `${at}.idField`, problems);
  const from = raw.cursor ? compileSelector(raw.cursor.from, `${at}.cursor.from`, problems) : null;
  const mapped = typeof raw.map === 'string';
  if (!mapped && raw.type === undefined)
    problems.push({
      path: `${at}.type`,
      message: 'give type (the event type each row becomes) or map (a JSONata mapping of each row)',
    });
  const tls = compileTls(raw.tls, `${at}.tls`, problems, baseDir);
  if (tls && raw.url.startsWith('http:'))
    problems.push({ path: `${at}.tls`, message: 'applies to https URLs only' });
  const stateDir = raw.stateDir
    ? isAbsolute(raw.stateDir)
      ? raw.stateDir
      : resolve(baseDir, raw.stateDir)
    : join(baseDir, 'connectors');
  const config: RestPollSourceConfig = {
    url,
    intervalMs,
    items,
    cursor: raw.cursor && from ? { param: raw.cursor.param ?? 'since', from } : null,
    etag: raw.etag ?? true,
    idField: idField ?? DEFAULT_ID,
    headers: Object.freeze(compileHeaders(raw, at, problems)),
    timeoutMs,
    reconnect: compileReconnect(raw.reconnect, `${at}.reconnect`, problems),
    tls,
    type: mapped ? null : (raw.type ?? null),
    plant: raw.plant ?? null,
    mapped,
    pageLimit: raw.pageLimit ?? 500,
    stateDir,
  };
  return Object.freeze(config);
}

export const restPollSourceSpec: ConnectorSpec<RestPollSourceConfig> = {
  kind: 'rest-poll',
  summary: 'Polls an HTTP endpoint (ERP, MES REST API) on an interval and turns new rows into events.',
  stability: 'beta',
  schema: RestPollSchema,
  compile,
};
