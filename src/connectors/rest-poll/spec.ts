/**
 * `kind: rest-poll`: polls an ERP-style HTTP endpoint on an interval and turns new rows into
 * events. What counts as new is a cursor (the (updatedAt, id) of the last row delivered, sent back
 * as `?since=`, an id parameter or a filter), an ETag (`If-None-Match`, where a 304 means nothing
 * new), or both. An API that answers in pages is walked page by page as `paging` says.
 */

import { isAbsolute, join, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
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
import { breaksTies, type CursorConfig } from './cursor.js';
import type { Paging } from './paging.js';
import { compileSelector, type Selector } from './selector.js';

export { compileSelector, type Selector, select } from './selector.js';

const Expression = (description: string) =>
  T.String({ minLength: 1, description, 'x-hint': 'a field name, a dotted path or a JSONata expression' });

const Strict = { additionalProperties: false } as const;

const Param = (description: string) => T.String({ minLength: 1, description });
const PageSize = (description: string) => T.Integer({ minimum: 1, maximum: 100_000, description });

const PAGING_KINDS = ['next-link', 'link-header', 'offset', 'page', 'odata', 'keyset'] as const;
type PagingKind = (typeof PAGING_KINDS)[number];

/** The keys each paging kind takes (besides `kind`); compile names any other as a problem. */
const PAGING_KEYS: Readonly<Record<PagingKind, readonly string[]>> = {
  'next-link': ['path', 'maxPages'],
  'link-header': ['maxPages'],
  offset: ['offsetParam', 'limitParam', 'limit', 'maxPages'],
  page: ['pageParam', 'sizeParam', 'size', 'firstPage', 'maxPages'],
  odata: ['top', 'maxPages'],
  keyset: ['limitParam', 'limit'],
};
const PAGING_REQUIRED: Readonly<Record<PagingKind, string | null>> = {
  'next-link': 'path',
  'link-header': null,
  offset: 'limit',
  page: 'size',
  odata: 'top',
  keyset: 'limit',
};

/**
 * How the API pages. One object whose `kind` says which keys apply (compile checks them), so a
 * problem is one line naming the key, not one per kind as a schema union would give.
 */
export const PagingSchema = T.Object(
  {
    // An enum, so a wrong kind is one problem, not one per kind.
    kind: T.Unsafe<PagingKind>({
      type: 'string',
      enum: [...PAGING_KINDS],
      description:
        'next-link: a URL in the answer; link-header: an RFC 8288 Link rel="next"; offset: offset/limit; page: page number/size; odata: $skip/$top (next links within a page followed); keyset: the cursor is the way forward, a full page is followed at once.',
      'x-hint': PAGING_KINDS.join(', '),
    }),
    path: T.Optional(
      Expression(
        'next-link: where the answer carries the next URL, e.g. @odata.nextLink (OData V4) or d.__next (OData V2).',
      ),
    ),
    offsetParam: T.Optional(Param('offset: query parameter of the first row to answer. @default offset')),
    limitParam: T.Optional(
      Param(
        'offset, keyset: query parameter of the page size (keyset: none when the API caps answers itself). @default limit for offset',
      ),
    ),
    limit: T.Optional(PageSize('offset, keyset: rows per page (keyset: the most the API answers).')),
    pageParam: T.Optional(Param('page: query parameter of the page number. @default page')),
    sizeParam: T.Optional(Param('page: query parameter of the page size. @default size')),
    size: T.Optional(PageSize('page: rows per page; a shorter page is the last.')),
    firstPage: T.Optional(
      T.Integer({ minimum: 0, description: 'page: number of the first page. @default 1' }),
    ),
    top: T.Optional(PageSize('odata: rows per page ($top); a shorter page is the last.')),
    maxPages: T.Optional(
      T.Integer({
        minimum: 1,
        description: 'Most pages read in one poll; more is reported as degraded (not keyset). @default 1000',
      }),
    ),
  },
  { ...Strict, description: 'How the API pages its answers. @default one answer per poll' },
);

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
        'Selects the array of rows in the answer. @default the answer when it is an array, else its `items`, `value` (OData V4) or `d.results` (OData V2)',
      ),
    ),
    cursor: T.Optional(
      T.Object(
        {
          from: Expression(
            "A row's cursor value, e.g. updatedAt; the one of the last row delivered is sent back.",
          ),
          param: T.Optional(
            Param(
              'Query parameter carrying the cursor value (or the filter). @default since, $filter with filter',
            ),
          ),
          idField: T.Optional(
            Expression("A row's tie-breaking id among rows of one cursor value. @default the idField"),
          ),
          idParam: T.Optional(
            Param(
              'Query parameter carrying the id of the last row delivered, e.g. sinceId, where the API takes one.',
            ),
          ),
          filter: T.Optional(
            T.String({
              minLength: 1,
              description:
                'A filter sent in param instead of the bare value; {value} and {id} stand for the last row delivered.',
              'x-hint': "a filter such as LastChangeDateTime gt datetimeoffset'{value}'",
            }),
          ),
          inclusive: T.Optional(
            T.Boolean({
              description:
                'The API answers rows at the cursor value too (>=), not only after it (>). @default true',
            }),
          ),
        },
        Strict,
      ),
    ),
    paging: T.Optional(PagingSchema),
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

export interface RestPollSourceConfig {
  readonly url: string;
  readonly intervalMs: number;
  /** null: the answer when it is an array, else its `items`. */
  readonly items: Selector | null;
  /** Compiled `cursor`: `from` and `idField` select a row's (value, id). */
  readonly cursor: (CursorConfig & { readonly from: Selector; readonly idField: Selector }) | null;
  readonly paging: Paging;
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

type RawCursor = NonNullable<RawRestPollConfig['cursor']>;

function compileCursor(
  raw: RawCursor,
  idField: Selector,
  at: string,
  problems: Problems,
): RestPollSourceConfig['cursor'] {
  const from = compileSelector(raw.from, `${at}.from`, problems);
  const id = raw.idField === undefined ? idField : compileSelector(raw.idField, `${at}.idField`, problems);
  const filter = raw.filter ?? null;
  if (filter !== null && !filter.includes('{value}'))
    problems.push({ path: `${at}.filter`, message: 'must contain {value}, where the cursor value goes' });
  if (filter !== null && raw.idParam !== undefined)
    problems.push({ path: `${at}.idParam`, message: 'with a filter, put {id} in the filter instead' });
  if (!from || !id) return null;
  return Object.freeze({
    from,
    idField: id,
    param: raw.param ?? (filter !== null ? '$filter' : 'since'),
    idParam: raw.idParam ?? null,
    filter,
    inclusive: raw.inclusive ?? true,
  });
}

type RawPaging = NonNullable<RawRestPollConfig['paging']>;

function compilePaging(raw: RawPaging | undefined, at: string, problems: Problems): Paging {
  if (raw === undefined) return { kind: 'none' };
  const kind = raw.kind;
  const known = PAGING_KEYS[kind];
  let complete = true;
  for (const key of Object.keys(raw))
    if (key !== 'kind' && !known.includes(key)) {
      complete = false;
      problems.push({
        path: `${at}.${key}`,
        message: `not a key of paging kind ${kind}; its keys: ${known.join(', ')}`,
      });
    }
  const required = PAGING_REQUIRED[kind];
  if (required !== null && (raw as Record<string, unknown>)[required] === undefined) {
    complete = false;
    problems.push({ path: `${at}.${required}`, message: `is required for paging kind ${kind}` });
  }
  if (!complete) return { kind: 'none' };
  const maxPages = raw.maxPages ?? 1000;
  switch (kind) {
    case 'next-link': {
      const text = raw.path as string;
      // An OData key such as @odata.nextLink is one key, dots and all, not a dotted path.
      const path: Selector | null = text.startsWith('@')
        ? { kind: 'path', text, path: [text] }
        : compileSelector(text, `${at}.path`, problems);
      return path ? { kind, path, maxPages } : { kind: 'none' };
    }
    case 'link-header':
      return { kind, maxPages };
    case 'offset':
      return {
        kind,
        offsetParam: raw.offsetParam ?? 'offset',
        limitParam: raw.limitParam ?? 'limit',
        limit: raw.limit as number,
        maxPages,
      };
    case 'page':
      return {
        kind,
        pageParam: raw.pageParam ?? 'page',
        sizeParam: raw.sizeParam ?? 'size',
        size: raw.size as number,
        firstPage: raw.firstPage ?? 1,
        maxPages,
      };
    case 'odata':
      return { kind, top: raw.top as number, maxPages };
    case 'keyset':
      return { kind, limitParam: raw.limitParam ?? null, limit: raw.limit as number };
  }
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
  const compiledId = idField ?? DEFAULT_ID;
  const cursor = raw.cursor ? compileCursor(raw.cursor, compiledId, `${at}.cursor`, problems) : null;
  const paging = compilePaging(raw.paging, `${at}.paging`, problems);
  if (paging.kind === 'keyset') {
    if (!cursor)
      problems.push({ path: `${at}.paging`, message: 'keyset paging needs a cursor; set cursor.from' });
    else if (!cursor.inclusive && !breaksTies(cursor))
      problems.push({
        path: `${at}.cursor.inclusive`,
        message:
          "with keyset paging, an exclusive cursor skips the rows of a full page's last value that did not fit; set cursor.idParam (or {id} in cursor.filter), or inclusive: true if the API answers rows at the cursor value",
      });
  }
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
    cursor,
    paging,
    etag: raw.etag ?? true,
    idField: compiledId,
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
