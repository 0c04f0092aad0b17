import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Client } from 'undici';
import { type Clock, systemClock } from '../../delivery/clock.js';
import { parseJsonWithLimits } from '../../util/json-limits.js';
import { loadUndici } from '../../util/lazy-undici.js';
import { nowIso, reconnectDelay } from '../framework/common.js';
import type {
  ConnectorHealth,
  MappedEvent,
  SourceConnector,
  SourceContext,
  SourceFactory,
  SourceMessage,
} from '../framework/types.js';
import {
  alreadyDelivered,
  applyCursor,
  asCursorValue,
  breaksTies,
  type CursorKey,
  type CursorValue,
  compareKey,
  parseSavedKey,
} from './cursor.js';
import { nextFromLinkHeader, odataNextLink, PageWalk } from './paging.js';
import { select } from './selector.js';
import type { RestPollSourceConfig } from './spec.js';

/** Larger answers are refused: an endpoint that big should be paged (`paging`). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** Row ids already acked in this run, so a row the endpoint repeats is not offered again. */
const MIN_REMEMBERED_IDS = 10_000;
/** Floor of the wait after the hub nacked, so a nack of 0 ms cannot turn into a tight loop. */
const MIN_RETRY_MS = 100;

/** What the state file keeps: where the next poll starts. */
interface PollState {
  readonly cursor: CursorKey | null;
  readonly etag: string | null;
}

type PollOutcome =
  | { readonly kind: 'ok' }
  /** A full keyset page moved the cursor: poll again at once, the API has more. */
  | { readonly kind: 'more' }
  | { readonly kind: 'down'; readonly reason: string }
  | { readonly kind: 'degraded'; readonly reason: string }
  /** The hub did not take every message: poll again from the old cursor after `retryInMs`. */
  | { readonly kind: 'held'; readonly retryInMs: number }
  | { readonly kind: 'stopped' };

/** What one GET gave: an answer to read, a 304, or the outcome that ends the poll. */
type Fetched =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly text: string;
      readonly etag: string | null;
      readonly link: string | string[] | undefined;
    }
  | { readonly kind: 'not-modified' }
  | Extract<PollOutcome, { kind: 'down' | 'degraded' | 'stopped' }>;

/** One row as it will be offered, before the ack bookkeeping is attached. */
interface Row {
  readonly id: string;
  readonly origin: string;
  readonly payload: unknown;
  readonly raw: string;
  readonly events?: readonly MappedEvent[];
  readonly error?: string;
}

export interface RestPollSourceOptions {
  /** Interval and back-off waits; tests pass a ManualClock. The request timeout stays wall-clock. */
  readonly clock?: Clock;
  /** Jitter of the back-off (0..1). */
  readonly random?: () => number;
  /** @default `<config.stateDir>/<name>.json` */
  readonly stateFile?: string;
}

function describeError(error: unknown, where: string): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `${where}: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: host not found`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${where}: the connection was closed`;
    default:
      return `${where}: ${e.message ?? e.cause?.message ?? String(error)}`;
  }
}

/** Where an answer announces a next page the connector was not told to follow; null when none. */
function unreadPages(answer: unknown, linkHeader: string | string[] | undefined): string | null {
  if (nextFromLinkHeader(linkHeader) !== null) return 'a Link rel="next" header';
  if (odataNextLink(answer) === null) return null;
  const a = answer as Record<string, unknown>;
  if (typeof a['@odata.nextLink'] === 'string') return '@odata.nextLink';
  if (typeof a['odata.nextLink'] === 'string') return 'odata.nextLink';
  return typeof a.__next === 'string' ? '__next' : 'd.__next';
}

/**
 * Polls one HTTP endpoint and offers each new row to the hub as a message with id `<url>#<row id>`,
 * so a row seen twice is one event. The cursor (the largest (value, id) of the rows delivered) and
 * the ETag advance, in memory and in the state file, only once every message of every page of the
 * poll was acked: a crash or a nack polls again from the old cursor (at-least-once; the stable ids
 * dedupe). A poll that cannot get past rows it delivered already is reported as degraded.
 */
export class RestPollSource implements SourceConnector {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly stateFile: string;
  private readonly origin: string;
  /** The endpoint without its query (which may carry an API key), for health reasons and logs. */
  private readonly where: string;
  private readonly remembered = new Map<string, true>();
  private readonly rememberLimit: number;
  private state: PollState = { cursor: null, etag: null };
  private controller: AbortController | null = null;
  private client: Client | null = null;
  private loop: Promise<void> | null = null;
  private last: ConnectorHealth | null = null;
  /** The last poll was a full keyset page: this one continues it and sends no ETag. */
  private draining = false;

  constructor(
    private readonly config: RestPollSourceConfig,
    readonly name: string,
    options: RestPollSourceOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.stateFile = options.stateFile ?? join(config.stateDir, `${name}.json`);
    const url = new URL(config.url);
    this.origin = url.origin;
    this.where = `${url.origin}${url.pathname}`;
    this.rememberLimit = Math.max(MIN_REMEMBERED_IDS, 4 * config.pageLimit);
  }

  async start(context: SourceContext): Promise<void> {
    if (this.loop) throw new Error(`rest-poll source ${this.name} is already running`);
    const controller = new AbortController();
    this.controller = controller;
    const onHubStop = () => controller.abort();
    if (context.signal.aborted) controller.abort();
    else context.signal.addEventListener('abort', onHubStop, { once: true });
    this.last = null;
    this.report(context, { type: 'connecting', at: this.at() });
    this.state = await this.loadState(context);
    const tls = this.config.tls;
    const { Client: UndiciClient } = await loadUndici();
    this.client = new UndiciClient(this.origin, {
      maxResponseSize: MAX_ANSWER_BYTES,
      ...(tls
        ? {
            connect: {
              ca: tls.ca,
              cert: tls.cert,
              key: tls.key,
              rejectUnauthorized: tls.rejectUnauthorized,
            },
          }
        : {}),
    });
    this.loop = this.run(context, this.client, controller.signal).finally(() =>
      context.signal.removeEventListener('abort', onHubStop),
    );
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    const loop = this.loop;
    if (loop) await loop;
    this.loop = null;
    const client = this.client;
    this.client = null;
    await client?.destroy();
  }

  private at(): string {
    return nowIso(() => this.clock.now());
  }

  /** Reports a status once: repeated `down`s go out (their retryInMs grows), other repeats do not. */
  private report(context: SourceContext, status: ConnectorHealth): void {
    const last = this.last;
    const same =
      last !== null &&
      last.type === status.type &&
      status.type !== 'down' &&
      ('reason' in last ? last.reason : '') === ('reason' in status ? status.reason : '');
    this.last = status;
    if (!same) context.health(status);
  }

  private async run(context: SourceContext, client: Client, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let outcome: PollOutcome;
      try {
        outcome = await this.poll(context, client, signal);
      } catch (error) {
        context.logger.error({ connector: this.name, err: error }, 'rest-poll failed unexpectedly');
        outcome = { kind: 'down', reason: `${this.where}: ${(error as Error).message}` };
      }
      if (outcome.kind === 'stopped' || signal.aborted) break;
      this.draining = outcome.kind === 'more';
      let wait = this.config.intervalMs;
      if (outcome.kind === 'down') {
        failures++;
        wait = reconnectDelay(this.config.reconnect, failures, this.random);
        this.report(context, { type: 'down', at: this.at(), reason: outcome.reason, retryInMs: wait });
      } else {
        failures = 0;
        if (outcome.kind === 'degraded')
          this.report(context, { type: 'degraded', at: this.at(), reason: outcome.reason });
        else this.report(context, { type: 'up', at: this.at() });
        if (outcome.kind === 'held') wait = Math.max(outcome.retryInMs, MIN_RETRY_MS);
        else if (outcome.kind === 'more') wait = 0;
      }
      if (wait > 0) await this.clock.sleep(wait, signal);
    }
  }

  /**
   * One poll: from the saved cursor, page by page as `paging` says, each page's new rows handed
   * over batch by batch; once every page is acked, the cursor moves to the largest (value, id)
   * seen. Rows at or before the saved cursor were delivered already and are skipped.
   */
  private async poll(context: SourceContext, client: Client, signal: AbortSignal): Promise<PollOutcome> {
    const cursor = this.config.cursor;
    const start = new URL(this.config.url);
    if (cursor) applyCursor(start, cursor, this.state.cursor);
    const walk = new PageWalk(this.config.paging, start);
    const seen = new Set<string>();
    let last = this.state.cursor;
    let etag: string | null = null;
    let url = walk.first();
    let rowCount = 0;
    /** Without paging: how the answer says it has more pages, which this poll does not read. */
    let unread: string | null = null;
    for (let page = 1; ; page++) {
      // A drained keyset page changes the query: an ETag of the last one would wrongly say 304.
      const ifNoneMatch = page === 1 && this.config.etag && !this.draining ? this.state.etag : null;
      const fetched = await this.getPage(client, url, ifNoneMatch, signal);
      if (fetched.kind !== 'answer') return fetched.kind === 'not-modified' ? { kind: 'ok' } : fetched;
      if (page === 1) etag = fetched.etag;
      const failure = this.classify(fetched.status, fetched.text);
      if (failure) return failure;
      let answer: unknown;
      try {
        answer = parseJsonWithLimits(fetched.text, { maxDepth: 64, maxMembers: 1_000_000 });
      } catch (error) {
        return {
          kind: 'down',
          reason: `${this.where}: the answer is not JSON (${(error as Error).message})`,
        };
      }
      const rows = await this.selectRows(answer);
      if (typeof rows === 'string') return { kind: 'degraded', reason: `${this.where}: ${rows}` };
      rowCount = rows.length;

      let fresh = 0;
      const offered: Row[] = [];
      const where = page === 1 ? `GET ${this.where}` : `GET ${this.where} page ${page}`;
      for (const [index, value] of rows.entries()) {
        const { row, key } = await this.toRow(value, `${where} row ${index}`);
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        fresh++;
        if (key !== null && (last === null || compareKey(key, last) > 0)) last = key;
        if (alreadyDelivered(key, this.state.cursor) || this.remembered.has(row.id)) continue;
        offered.push(row);
      }
      for (let i = 0; i < offered.length; i += this.config.pageLimit) {
        // After a stop nothing more is handed over; what was not acked comes again next start.
        if (signal.aborted) return { kind: 'stopped' };
        const held = await this.deliver(context, offered.slice(i, i + this.config.pageLimit));
        if (held !== null) return { kind: 'held', retryInMs: held };
      }

      if (this.config.paging.kind === 'none') unread = unreadPages(answer, fetched.link);
      const step = walk.next({ url, rows: rowCount, fresh, link: await this.linkOf(answer, fetched.link) });
      if (step.kind === 'stalled') return { kind: 'degraded', reason: `${this.where}: ${step.reason}` };
      if (step.kind === 'end') break;
      if (step.url.origin !== this.origin)
        return {
          kind: 'degraded',
          reason: `${this.where}: the next link points to ${step.url.origin}, not ${this.origin}; set url to the host that pages`,
        };
      if (signal.aborted) return { kind: 'stopped' };
      url = step.url;
    }

    const paging = this.config.paging;
    if (paging.kind === 'keyset' && rowCount >= paging.limit) {
      const saved = this.state.cursor;
      if (last === null || (saved !== null && compareKey(last, saved) <= 0))
        return { kind: 'degraded', reason: this.stalledReason(paging.limit) };
      const outcome = await this.advance(context, { cursor: last, etag: null });
      return outcome.kind === 'ok' ? { kind: 'more' } : outcome;
    }
    const outcome = await this.advance(context, {
      cursor: cursor ? last : null,
      etag: this.config.etag ? etag : null,
    });
    if (outcome.kind !== 'ok' || unread === null) return outcome;
    return {
      kind: 'degraded',
      reason: `${this.where}: the answer has more pages (${unread}) that are not read; set paging (${unread === 'a Link rel="next" header' ? '{kind: link-header}' : `{kind: next-link, path: '${unread}'}`})`,
    };
  }

  /** Why a full keyset page with nothing new is a stall, and what configuration gets past it. */
  private stalledReason(limit: number): string {
    const cursor = this.config.cursor;
    const key = this.state.cursor;
    const field = cursor?.from.text ?? 'the cursor';
    const at =
      key === null ? 'no cursor yet' : `${field} = ${key.value}${key.id === null ? '' : `, id ${key.id}`}`;
    const fix =
      cursor && breaksTies(cursor)
        ? `the API seems to ignore ${cursor.idParam !== null ? `cursor.idParam (${cursor.idParam})` : '{id} in cursor.filter'}; check its name, or page with paging kind next-link, link-header, offset, page or odata`
        : 'set cursor.idParam (or {id} in cursor.filter) if the API can start after the last id, or page with paging kind next-link, link-header, offset, page or odata, or have the API answer more rows than share one value';
    return `${this.where}: a full page of ${limit} rows, all at or before the cursor (${at}) and delivered already, with no way past them: ${fix}`;
  }

  /** The next link of an answer, where the paging kind looks for one. */
  private async linkOf(answer: unknown, header: string | string[] | undefined): Promise<string | null> {
    const paging = this.config.paging;
    if (paging.kind === 'link-header') return nextFromLinkHeader(header);
    if (paging.kind === 'odata') return odataNextLink(answer);
    if (paging.kind !== 'next-link') return null;
    let link: unknown;
    try {
      link = await select(paging.path, answer);
    } catch {
      link = undefined;
    }
    return typeof link === 'string' && link !== '' ? link : null;
  }

  /** One GET, bounded by the timeout as a whole; errors come back as the poll's outcome. */
  private async getPage(
    client: Client,
    target: URL,
    ifNoneMatch: string | null,
    signal: AbortSignal,
  ): Promise<Fetched> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.config.headers };
    if (ifNoneMatch !== null) headers['if-none-match'] = ifNoneMatch;
    // undici's own timeouts are per phase; one timer bounds the whole exchange, body included.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.config.timeoutMs);
    const onStop = () => timeout.abort();
    signal.addEventListener('abort', onStop, { once: true });
    try {
      const response = await client.request({
        method: 'GET',
        path: `${target.pathname}${target.search}`,
        headers,
        signal: timeout.signal,
      });
      const header = response.headers.etag;
      const etag = typeof header === 'string' ? header : null;
      if (response.statusCode === 304) {
        await response.body.dump();
        return { kind: 'not-modified' };
      }
      const text = await response.body.text();
      return { kind: 'answer', status: response.statusCode, text, etag, link: response.headers.link };
    } catch (error) {
      if (signal.aborted) return { kind: 'stopped' };
      if (timeout.signal.aborted)
        return { kind: 'down', reason: `${this.where}: no answer within ${this.config.timeoutMs} ms` };
      if ((error as { code?: string }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE')
        return {
          kind: 'degraded',
          reason: `${this.where}: the answer is larger than ${MAX_ANSWER_BYTES} bytes; page it (paging)`,
        };
      return { kind: 'down', reason: describeError(error, this.where) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
    }
  }

  /** A status that is not a 2xx answer, as health: 5xx and 408/429 are down, other 4xx degraded. */
  private classify(status: number, text: string): PollOutcome | null {
    if (status >= 200 && status < 300) return null;
    const detail = text.trim().replace(/\s+/g, ' ').slice(0, 200);
    const reason = `${this.where} answered HTTP ${status}${detail ? `: ${detail}` : ''}`;
    if (status >= 500 || status === 408 || status === 429) return { kind: 'down', reason };
    if (status >= 400) {
      const hint = status === 401 || status === 403 ? 'check auth' : 'check url, headers and auth';
      return { kind: 'degraded', reason: `${reason} (${hint})` };
    }
    return { kind: 'degraded', reason: `${reason} (not followed; set url to the final address)` };
  }

  private async selectRows(answer: unknown): Promise<unknown[] | string> {
    const items = this.config.items;
    if (items === null) {
      if (Array.isArray(answer)) return answer;
      const a = (answer !== null && typeof answer === 'object' ? answer : {}) as Record<string, unknown>;
      const d = (a.d !== null && typeof a.d === 'object' ? a.d : {}) as Record<string, unknown>;
      // A generic `items`, then where OData puts rows: V4 `value`, V2 `d.results`.
      for (const nested of [a.items, a.value, d.results]) if (Array.isArray(nested)) return nested;
      return 'the answer is neither an array nor an object with an items, value or d.results array; set items';
    }
    let selected: unknown;
    try {
      selected = await select(items, answer);
    } catch (error) {
      return `items (${items.text}) failed: ${(error as Error).message}`;
    }
    if (selected === undefined || selected === null) return [];
    if (Array.isArray(selected)) return selected;
    // JSONata unwraps a one-item result; a single object is one row.
    if (typeof selected === 'object') return [selected];
    return `items (${items.text}) selected a ${typeof selected}, not rows`;
  }

  /** A row as a message: its id, its built-in event, or the error that sends it to the DLQ. */
  private async toRow(value: unknown, origin: string): Promise<{ row: Row; key: CursorKey | null }> {
    const raw = JSON.stringify(value) ?? 'null';
    const failed = (error: string, key: CursorKey | null = null) => ({
      // Hash-based, so the same bad row dead-letters once however often it is polled.
      row: {
        id: `${this.config.url}#sha256:${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`,
        origin,
        payload: value,
        raw,
        events: [],
        error,
      },
      key,
    });
    let cursorValue: CursorValue | null = null;
    const cursor = this.config.cursor;
    if (cursor) {
      try {
        cursorValue = asCursorValue(await select(cursor.from, value));
      } catch (error) {
        return failed(`cursor.from (${cursor.from.text}) failed on this row: ${(error as Error).message}`);
      }
    }
    const valueOnly = cursorValue === null ? null : { value: cursorValue, id: null };
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (!this.config.mapped && !isObject)
      return failed('a row must be an object to become an event', valueOnly);
    let rowId: CursorValue | null;
    let tieId: CursorValue | null;
    try {
      rowId = asCursorValue(await select(this.config.idField, value));
      tieId =
        !cursor || cursor.idField === this.config.idField
          ? rowId
          : asCursorValue(await select(cursor.idField, value));
    } catch (error) {
      return failed(`an id selector failed on this row: ${(error as Error).message}`, valueOnly);
    }
    if (rowId === null)
      return failed(`the row has no id at ${this.config.idField.text} (a string or number)`, valueOnly);
    const key = cursorValue === null ? null : { value: cursorValue, id: tieId };
    const id = `${this.config.url}#${rowId}`;
    if (this.config.mapped) return { row: { id, origin, payload: value, raw }, key };
    const data = value as Record<string, unknown>;
    const plant = typeof data.plant === 'string' ? data.plant : (this.config.plant ?? undefined);
    const event: MappedEvent = {
      type: this.config.type as string,
      data,
      ...(plant !== undefined ? { plant } : {}),
    };
    return { row: { id, origin, payload: value, raw, events: [event] }, key };
  }

  /**
   * Hands one batch to the hub and waits for it. Resolves null when every message was acked,
   * else the wait before polling again.
   */
  private async deliver(context: SourceContext, rows: readonly Row[]): Promise<number | null> {
    const outcomes: Array<'acked' | number | undefined> = rows.map(() => undefined);
    const messages: SourceMessage[] = rows.map((row, i) => ({
      ...row,
      ack: () => {
        outcomes[i] = 'acked';
        this.remember(row.id);
      },
      nack: (retryInMs: number) => {
        if (outcomes[i] !== 'acked') outcomes[i] = retryInMs;
      },
    }));
    try {
      await context.deliver(messages);
    } catch (error) {
      context.logger.error({ connector: this.name, err: error }, 'the hub failed to take a batch');
      return this.config.intervalMs;
    }
    if (outcomes.every((o) => o === 'acked')) return null;
    const waits = outcomes.filter((o): o is number => typeof o === 'number');
    return waits.length > 0 ? Math.max(...waits) : this.config.intervalMs;
  }

  private remember(id: string): void {
    this.remembered.delete(id);
    this.remembered.set(id, true);
    if (this.remembered.size > this.rememberLimit) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
  }

  /** Moves the cursor and ETag forward and saves them; a failed save leaves the old ones on disk. */
  private async advance(context: SourceContext, next: PollState): Promise<PollOutcome> {
    if (next.cursor === this.state.cursor && next.etag === this.state.etag) return { kind: 'ok' };
    this.state = next;
    try {
      await mkdir(dirname(this.stateFile), { recursive: true });
      const temporary = `${this.stateFile}.tmp`;
      // Synced before the rename, so a crash leaves the old cursor or the new one, never an empty file.
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(`${JSON.stringify({ url: this.config.url, ...next })}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.stateFile);
      return { kind: 'ok' };
    } catch (error) {
      context.logger.error({ connector: this.name, err: error }, 'cannot save the rest-poll cursor');
      return {
        kind: 'degraded',
        reason: `cannot save the cursor to ${this.stateFile} (${(error as NodeJS.ErrnoException).code ?? 'error'}); a restart polls from the last saved one`,
      };
    }
  }

  private async loadState(context: SourceContext): Promise<PollState> {
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        context.logger.warn({ connector: this.name, err: error }, 'cannot read the rest-poll cursor');
      return { cursor: null, etag: null };
    }
    try {
      const saved = JSON.parse(text) as { url?: unknown; cursor?: unknown; etag?: unknown };
      // A cursor of another endpoint means nothing here.
      if (saved.url !== this.config.url) return { cursor: null, etag: null };
      return {
        cursor: this.config.cursor ? parseSavedKey(saved.cursor) : null,
        etag: this.config.etag && typeof saved.etag === 'string' ? saved.etag : null,
      };
    } catch (error) {
      context.logger.warn(
        { connector: this.name, err: error, file: this.stateFile },
        'the rest-poll cursor file is not JSON; polling from the start',
      );
      return { cursor: null, etag: null };
    }
  }
}

/** The factory the connector registry calls: `registerSource('rest-poll', restPollSourceSpec, createRestPollSource)`. */
export const createRestPollSource: SourceFactory<RestPollSourceConfig> = (config, name) =>
  new RestPollSource(config, name);
