/**
 * The event log on NATS JetStream, for several hub instances sharing one log.
 *
 * Layout. ONE stream (`CONVEYOR_EVENTS` unless named otherwise) holds every event, in file
 * storage with `replicas` copies; its stream sequence is the log's sequence. An event is stored as
 * its CloudEvents JSON on the subject `<stream>.<plant>.<subject>.<type parts...>` (tokens
 * encoded by `encodeToken`), so reads and consumers filter on the server by plant, business
 * subject, exact type or domain (`<domain>.>`), and check the attributes themselves as well.
 * The state bucket `<stream>_STATE` goes with it (consumer positions, the domains seen, the id
 * index's mark and where the index lives). The id index (idempotency key -> sequence, `IdClaims`)
 * is a table of the PostgreSQL state store when the hub has one, else the KV bucket `<stream>_IDS`.
 *
 * Append. Each event is published with its idempotency key as the JetStream message id; the
 * publishes of a call (and of concurrent calls) go out at once, pipelined on one connection, so
 * the events of one call are stored in order. As each acknowledgement arrives (from a majority of
 * the stream's replicas), the key is claimed in the id index (`IdIndex`: entries are only created,
 * so the first copy claimed is the event for good, whichever instance claims it; the claims of
 * one turn of the event loop go together). The call resolves once
 * every event is acknowledged and claimed. A re-send inside the stream's duplicate window is
 * answered by JetStream itself (the acknowledgement names the first sequence). Past the window
 * JetStream stores a second copy: its claim finds the original, the copy is deleted again, and
 * the answer is the original's sequence, marked duplicate. Keys this process settled lately are
 * answered without a round trip. Publishes that get no answer (a leader election) are retried
 * with the same message id; an event retried that way can land after later events of the call.
 * (Looking the key up before publishing cost a round trip more and held each publish back by one.)
 *
 * Reads and consumers go through ephemeral pull consumers and stream-leader look-ups
 * (`FilterCursor`): what they return is complete up to what the stream held when they ran.
 * What they receive past the id index's mark (every copy up to it is settled) is screened before
 * it is handed out: a copy whose key the index holds for another sequence is a late duplicate
 * (about to be deleted, or left by a writer that died) and is skipped; a copy nobody has claimed
 * yet is claimed by the reader, just as its appender would, the first claim winning. So a copy
 * that was handed out is the event for good and is never deleted.
 *
 * A durable consumer's position lives in the state bucket (`consumer.<name>`), so fetch, commit
 * and seek are exact and survive restarts of the hub and of NATS nodes alike.
 *
 * `head()` is the highest sequence this instance has seen (its own appends, reads, stream
 * info); with several instances appending it trails the stream until the next read.
 */
import {
  connect,
  DiscardPolicy,
  headers,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from 'nats';
import { domainOfType } from '../../model/catalog.js';
import { asStoredEvent, type CloudEvent, type StoredEvent } from '../../model/envelope.js';
import { abortableDelay } from '../../util/abortable-delay.js';
import { LogUnavailableError } from '../log-errors.js';
import type {
  AppendOutcome,
  Consumer,
  EventFilter,
  EventLog,
  LogStats,
  ReadOptions,
  ReadPage,
} from '../port.js';
import { leaderNext, MergedScan, type StreamAccess } from './cursor.js';
import { ClaimBatcher, type IdClaims, KvIdClaims } from './id-claims.js';
import { IdIndex, type StoredCopy } from './id-index.js';
import { JetStreamPublisher } from './publisher.js';
import type { PulledMessage } from './pull.js';
import {
  assertStreamName,
  encodeToken,
  eventMatcher,
  eventSubject,
  filterSubjects,
  idempotencyKey,
} from './subjects.js';

export interface JetStreamEventLogOptions {
  /** NATS URLs of the cluster (one is enough; the client learns the others). */
  readonly servers: readonly string[];
  /** Copies of every event (and of the KV buckets); at most the cluster size. @default 1 */
  readonly replicas?: number;
  /** The stream; also the first subject token and the prefix of the KV bucket names. @default 'CONVEYOR_EVENTS' */
  readonly stream?: string;
  /** JetStream's own duplicate detection window, set when the stream is created. @default 120000 */
  readonly duplicateWindowMs?: number;
  /**
   * Opens the id index outside JetStream (the PostgreSQL state store), for the log named by the
   * argument. Without it, or for a log whose index began in the KV bucket, the index is the bucket.
   */
  readonly openIdClaims?: (log: string) => Promise<IdClaims>;
}

export const DEFAULT_STREAM = 'CONVEYOR_EVENTS';
const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/**
 * How long an append keeps retrying while the stream or the id index has no leader (an election
 * after a node dies takes a few seconds); past it the append fails and the producer re-sends.
 */
const PUBLISH_DEADLINE_MS = 15_000;
/**
 * How long a publish or an index look-up waits for its answer before it is sent again (the same
 * message id, so a publish that did land is recognised).
 */
const ANSWER_MS = 2_000;
/** How long opening keeps trying while JetStream is not ready yet (a cluster still starting). */
const OPEN_DEADLINE_MS = 30_000;
/** A fetch with less time left than this returns instead of waiting on the server. */
const MIN_WAIT_MS = 5;

const CONSUMER_PREFIX = 'consumer.';
const DOMAIN_PREFIX = 'domain.';
/**
 * The log's identity (see src/integrity/log-binding.ts), with the creation time of the stream it
 * was recorded for: a stream deleted and made again under the same name is another log.
 */
const IDENTITY_KEY = 'identity';
/** Key, in the state bucket, of where the id index lives (`kv` or `postgres`), fixed on first open. */
const ID_INDEX_KEY = 'ids.backend';
/** Claims sent to the index in one call at most. */
const CLAIM_BATCH = 1_000;

const decoder = new TextDecoder();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Errors a retry can cure: no answer in time, no responders, JetStream (or a leader) not ready. */
function isTransient(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { code?: number } };
  return (
    e.code === 'TIMEOUT' ||
    e.code === '503' ||
    e.code === 'DISCONNECT' ||
    e.api_error?.code === 503 ||
    e.api_error?.code === 408
  );
}

/** A failure the producer can cure by sending again later becomes the log's "unavailable" error. */
function unavailable(error: unknown, doing: string): unknown {
  if (error instanceof LogUnavailableError) return error;
  const code = (error as { code?: string }).code;
  if (!isTransient(error) && code !== 'CONNECTION_CLOSED') return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new LogUnavailableError(`${doing}: NATS JetStream did not answer (${reason})`, { cause: error });
}

function isStreamNotFound(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string };
  return e.api_error?.err_code === 10059 || e.message === 'stream not found';
}

function isAlreadyThere(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string };
  return e.api_error?.err_code === 10071 || /wrong last sequence/.test(e.message ?? '');
}

async function untilReady<T>(what: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + OPEN_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await what();
    } catch (error) {
      if (!isTransient(error) || Date.now() >= deadline) throw error;
      await delay(Math.min(100 * attempt, 1_000));
    }
  }
}

/** The stored event back from a delivered message, if it passes the filter's exact test. */
function decodeEvent(msg: PulledMessage, matches: (event: CloudEvent) => boolean): StoredEvent | null {
  const body = decoder.decode(msg.data);
  const event = JSON.parse(body) as CloudEvent;
  return matches(event) ? asStoredEvent(event, msg.seq, body) : null;
}

/** An event's place and key, for the id index's screen of what a read received. */
function storedCopy(event: StoredEvent): StoredCopy {
  const { source, id } = event;
  const key = typeof source === 'string' && typeof id === 'string' ? idempotencyKey(source, id) : '';
  return { sequence: event.sequence, key };
}

export class JetStreamEventLog implements EventLog {
  readonly kind = 'jetstream';
  readonly stream: string;
  private headSequence = 0;
  private closed = false;
  /** Set when `close` starts: no new appends while the ones under way finish. */
  private closing = false;
  private failure: Error | null = null;
  /** When the stream was created (from its info); an identity recorded for another stream is void. */
  private streamCreated = '';
  /** Keys being published now, so a concurrent append of the same event waits for it. */
  private readonly publishing = new Map<string, Promise<number>>();
  private readonly appends = new Set<Promise<unknown>>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly domains = new Set<string>();
  private readonly openConsumers = new Set<JetStreamConsumer>();
  private readonly index: IdIndex;
  private readonly access: StreamAccess;
  private readonly publisher: JetStreamPublisher;
  private indexTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    stream: string,
    private readonly claims: IdClaims,
    private readonly state: KV,
    private readonly indexEveryMs: number,
  ) {
    this.stream = stream;
    this.access = {
      nc,
      jsm,
      stream,
      knownHead: () => this.headSequence,
      observe: (sequence) => this.observe(sequence),
      track: (work) => this.track(work),
    };
    this.publisher = new JetStreamPublisher(nc, ANSWER_MS);
    this.index = new IdIndex(new ClaimBatcher(claims, CLAIM_BATCH, claims.concurrency), state, this.access);
    void nc.closed().then((error) => {
      if (!this.closed)
        this.failure = new LogUnavailableError('the connection to NATS closed', {
          cause: error ?? undefined,
        });
    });
  }

  /**
   * Connects, creates the stream and its buckets when they are missing, and indexes the ids of any
   * events a previous process stored without indexing them.
   */
  static async open(options: JetStreamEventLogOptions): Promise<JetStreamEventLog> {
    const stream = options.stream ?? DEFAULT_STREAM;
    assertStreamName(stream);
    const replicas = options.replicas ?? 1;
    const nc = await connect({
      servers: [...options.servers],
      name: `conveyor-event-log ${stream}`,
      // A node restart or a network blip must not end the log; requests time out meanwhile.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Requests (reads of the buckets, stream look-ups) capture no stack for a timeout that
      // seldom comes: two Error objects each otherwise.
      noAsyncTraces: true,
    });
    try {
      const jsm = await nc.jetstreamManager();
      // The buckets' reads and writes: short, since they are retried.
      const js = nc.jetstream({ timeout: ANSWER_MS });
      const bucket = (name: string) =>
        untilReady(() =>
          js.views.kv(name, { replicas, history: 1, storage: StorageType.File, allow_direct: false }),
        );
      // Side by side: creating a replicated stream waits for its group to elect a leader.
      const [info, ids, state] = await Promise.all([
        untilReady(() =>
          ensureStream(jsm, stream, replicas, options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
        ),
        bucket(idsBucket(stream)),
        bucket(`${stream}_STATE`),
      ]);
      const windowMs = Math.round(info.config.duplicate_window / 1e6) || DEFAULT_DUPLICATE_WINDOW_MS;
      // Well inside the window: an id must be indexed before JetStream forgets it.
      const indexEveryMs = Math.min(15_000, Math.max(250, Math.floor(windowMs / 4)));
      const claims = await openClaims(
        options,
        info,
        state,
        () => new KvIdClaims(ids, idsBucket(stream), new JetStreamPublisher(nc, ANSWER_MS)),
      );
      const log = new JetStreamEventLog(nc, jsm, stream, claims, state, indexEveryMs);
      log.streamCreated = info.created;
      log.observe(info.state.last_seq);
      for (const domain of await log.listDomains()) log.domains.add(domain);
      await log.index.advance(info.state.last_seq, true);
      log.scheduleIndexing();
      return log;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  private observe(sequence: number): void {
    if (sequence > this.headSequence) this.headSequence = sequence;
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined);
    this.background.add(settled);
    void settled.finally(() => this.background.delete(settled));
  }

  /** Every open log checks the ids of what others stored, so a writer that died is covered. */
  private scheduleIndexing(): void {
    this.indexTimer = setTimeout(async () => {
      try {
        const info = await this.jsm.streams.info(this.stream);
        this.observe(info.state.last_seq);
        await this.index.advance(info.state.last_seq, true);
      } catch {
        // The next round tries again; a re-send is still caught by the duplicate window.
      }
      if (!this.closed) this.scheduleIndexing();
    }, this.indexEveryMs);
    this.indexTimer.unref();
  }

  head(): number {
    return this.headSequence;
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('event log is closed');
  }

  append(events: readonly CloudEvent[]): Promise<AppendOutcome[]> {
    let outcomes: Array<Promise<AppendOutcome>>;
    try {
      this.assertUsable();
      if (this.closing) throw new Error('event log is closing');
      // Every publish of the call is sent now, in order, before any later call's.
      outcomes = this.issue(events);
    } catch (error) {
      return Promise.reject(error);
    }
    const work = Promise.all(outcomes).catch((error: unknown) => {
      throw unavailable(error, 'appending to the event log');
    });
    this.appends.add(work);
    void work.catch(() => undefined).finally(() => this.appends.delete(work));
    return work;
  }

  /**
   * Publishes, synchronously and in order, every event not known to be stored; returns each
   * event's outcome to come. A key seen earlier in the call, or being published by another call,
   * waits for that publish.
   */
  private issue(events: readonly CloudEvent[]): Array<Promise<AppendOutcome>> {
    return events.map((event) => {
      const key = idempotencyKey(event.source, event.id);
      const known = this.index.known(key);
      if (known !== undefined) return Promise.resolve({ sequence: known, duplicate: true });
      const inFlight = this.publishing.get(key);
      if (inFlight) return inFlight.then((sequence) => ({ sequence, duplicate: true }));
      const outcome = this.publish(event, key);
      const sequence = outcome.then((o) => o.sequence);
      this.publishing.set(key, sequence);
      void sequence
        .catch(() => undefined)
        .finally(() => {
          if (this.publishing.get(key) === sequence) this.publishing.delete(key);
        });
      return outcome;
    });
  }

  /**
   * Publishes one event, then settles its key in the id index: the copy just stored is the event,
   * or (past the duplicate window) a late duplicate of an older one, which is removed again.
   */
  private async publish(event: CloudEvent, key: string): Promise<AppendOutcome> {
    const subject = eventSubject(this.stream, event);
    const body = JSON.stringify(event);
    const domain = domainOfType(event.type);
    const registering = this.domains.has(domain) ? null : this.registerDomain(domain);
    const deadline = Date.now() + PUBLISH_DEADLINE_MS;
    let attempts = 0;
    const ack = await this.retrying(deadline, () => {
      attempts++;
      const meta = headers();
      meta.set('Nats-Msg-Id', key);
      meta.set('Nats-Expected-Stream', this.stream);
      return this.publisher.publish(subject, body, meta);
    });
    this.observe(ack.seq);
    const owner = await this.retrying(deadline, () => this.index.settle(key, ack.seq));
    await registering;
    if (owner !== ack.seq) {
      // Readers already pass over it; should the removal fail, the next indexing pass removes it.
      await this.retrying(deadline, () => this.index.removeCopy(ack.seq)).catch(() => undefined);
      return { sequence: owner, duplicate: true };
    }
    // After a retry, "duplicate" may be the first attempt having been stored after all.
    return { sequence: ack.seq, duplicate: ack.duplicate && attempts === 1 };
  }

  /** Runs `what` until it succeeds, retrying what a retry can cure (a leader election) until `deadline`. */
  private async retrying<T>(deadline: number, what: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await what();
      } catch (error) {
        if (!isTransient(error) || Date.now() >= deadline || this.failure) throw error;
        await delay(Math.min(50 * 2 ** attempt, 1_000));
      }
    }
  }

  /** Lists a domain for `stats()`; a failure only means the next append of that domain tries again. */
  private async registerDomain(domain: string): Promise<void> {
    this.domains.add(domain);
    try {
      await this.state.create(`${DOMAIN_PREFIX}${encodeToken(domain)}`, domain);
    } catch (error) {
      if (!isAlreadyThere(error)) this.domains.delete(domain);
    }
  }

  private async listDomains(): Promise<string[]> {
    const keys = await collect(await this.state.keys(`${DOMAIN_PREFIX}>`));
    const entries = await Promise.all(keys.map((k) => this.state.get(k)));
    return entries
      .filter((e) => e?.operation === 'PUT')
      .map((e) => (e as { string(): string }).string())
      .sort();
  }

  /** A merged scan over the filter's subjects from `after`, or null when the filter matches nothing. */
  openScan(filter: EventFilter, after: number): MergedScan<StoredEvent> | null {
    const filters = filterSubjects(this.stream, filter);
    if (filters === null) return null;
    const matches = eventMatcher(filter);
    return new MergedScan(this.access, filters, after, (msg) => decodeEvent(msg, matches), {
      screen: (events) => this.index.screen(events.map(storedCopy)),
    });
  }

  /** A page filled to `limit` or to everything there is: the merged scan pulls until then. */
  async read(options: ReadOptions): Promise<StoredEvent[]> {
    return (await this.readPage(options)).events;
  }

  async readPage(options: ReadOptions): Promise<ReadPage> {
    this.assertUsable();
    const limit = Math.max(1, Math.min(options.limit ?? 100, 10_000));
    const after = options.after ?? 0;
    const scan = this.openScan(options, after);
    if (scan === null) return { events: [], through: Math.max(after, this.headSequence) };
    try {
      await scan.fill(limit);
      const events = scan.take(limit);
      const last = events[events.length - 1];
      // Every cursor has received (and screened) everything up to `scan.through`; a full page ends at its last event.
      const through = last && events.length === limit ? last.sequence : Math.max(after, scan.through);
      this.observe(through);
      return { events, through };
    } catch (error) {
      throw unavailable(error, 'reading the event log');
    } finally {
      scan.close();
    }
  }

  /**
   * Binary search over the stream's own timestamps (set by the leader when it stores a message),
   * with look-ups the stream leader answers; a deleted sequence reads as the next one stored.
   */
  async sequenceAt(time: number): Promise<number> {
    this.assertUsable();
    const info = await this.jsm.streams.info(this.stream);
    this.observe(info.state.last_seq);
    const { first_seq: first, last_seq: last, messages } = info.state;
    if (messages === 0) return this.headSequence + 1;
    const everything = `${this.stream}.>`;
    const newest = await leaderNext(this.jsm, this.stream, last, everything);
    if (newest === null || newest.time < time) return this.headSequence + 1;
    // A deleted sequence reads as the next message stored; `newest` bounds the search.
    const at = async (seq: number) => (await leaderNext(this.jsm, this.stream, seq, everything)) ?? newest;
    let lo = first;
    let hi = newest.seq;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await at(mid)).time >= time) hi = mid;
      else lo = mid + 1;
    }
    return (await at(lo)).seq;
  }

  async consume(name: string, filter: EventFilter, options: { startAt?: number } = {}): Promise<Consumer> {
    this.assertUsable();
    const key = consumerKey(name);
    let position = positionIn(await this.state.get(key));
    if (position === null) {
      let start = options.startAt;
      if (start === undefined) {
        const info = await this.jsm.streams.info(this.stream);
        this.observe(info.state.last_seq);
        start = this.headSequence;
      }
      try {
        await this.state.create(key, JSON.stringify({ name, position: start }));
        position = start;
      } catch (error) {
        if (!isAlreadyThere(error)) throw error;
        position = positionIn(await this.state.get(key)) ?? start; // created meanwhile by another instance
      }
    }
    const consumer = new JetStreamConsumer(this, name, filter, position);
    this.openConsumers.add(consumer);
    return consumer;
  }

  /** Durably records a consumer's position. */
  async storePosition(name: string, position: number): Promise<void> {
    this.assertUsable();
    await this.state.put(consumerKey(name), JSON.stringify({ name, position }));
  }

  async identity(): Promise<string | null> {
    this.assertUsable();
    const entry = await this.state.get(IDENTITY_KEY);
    if (entry?.operation !== 'PUT') return null;
    const value = entry.json<{ identity?: unknown; streamCreated?: unknown }>();
    return typeof value.identity === 'string' && value.streamCreated === this.streamCreated
      ? value.identity
      : null;
  }

  async claimIdentity(id: string): Promise<string> {
    this.assertUsable();
    const value = JSON.stringify({ identity: id, streamCreated: this.streamCreated });
    const entry = await this.state.get(IDENTITY_KEY);
    if (entry?.operation === 'PUT') {
      // Recorded for a stream since deleted: this stream claims afresh, guarded by that revision.
      const current = await this.identity();
      if (current !== null) return current;
      await this.state.update(IDENTITY_KEY, value, entry.revision).catch(() => undefined);
    } else {
      // A create fails when another hub claimed first; its identity is then the one read back.
      await this.state.create(IDENTITY_KEY, value).catch(() => undefined);
    }
    const claimed = await this.identity();
    if (claimed === null) throw new Error(`could not record the identity of JetStream stream ${this.stream}`);
    return claimed;
  }

  /** JetStream reports a full store as a publish error; it is not told apart here yet. */
  storageFull(): boolean {
    return false;
  }

  onStorageChange(_listener: (full: boolean) => void): void {}

  async consumers(): Promise<Array<{ name: string; position: number }>> {
    this.assertUsable();
    const keys = await collect(await this.state.keys(`${CONSUMER_PREFIX}>`));
    const entries = await Promise.all(keys.map((k) => this.state.get(k)));
    const out: Array<{ name: string; position: number }> = [];
    for (const entry of entries) {
      if (entry?.operation !== 'PUT') continue;
      const value = entry.json<{ name?: unknown; position?: unknown }>();
      if (typeof value.name === 'string' && typeof value.position === 'number')
        out.push({ name: value.name, position: value.position });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async stats(): Promise<LogStats> {
    this.assertUsable();
    const info = await this.jsm.streams.info(this.stream);
    this.observe(info.state.last_seq);
    return {
      head: this.headSequence,
      events: info.state.messages,
      bytes: info.state.bytes,
      domains: await this.listDomains(),
    };
  }

  forgetConsumer(consumer: JetStreamConsumer): void {
    this.openConsumers.delete(consumer);
  }

  /** Waits for the appends under way, closes consumers, records the id index's progress, drains. */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    await Promise.all([...this.appends].map((a) => a.catch(() => undefined)));
    this.closed = true;
    if (this.indexTimer !== null) clearTimeout(this.indexTimer);
    for (const consumer of this.openConsumers) consumer.close();
    if (!this.failure) {
      await this.index.close();
      await Promise.all([...this.background]);
      await this.claims.close().catch(() => undefined);
      await this.nc.drain().catch(() => undefined);
    } else {
      await this.nc.close().catch(() => undefined);
      await this.claims.close().catch(() => undefined);
    }
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  stream: string,
  replicas: number,
  duplicateWindowMs: number,
): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
  }
  try {
    return await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      storage: StorageType.File,
      num_replicas: replicas,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(duplicateWindowMs),
      // Reads must see what was acknowledged: direct gets may be answered by a lagging replica.
      allow_direct: false,
    });
  } catch (error) {
    // Created by another instance in the meantime.
    if (/already in use/.test((error as Error).message)) return jsm.streams.info(stream);
    throw error;
  }
}

/**
 * The id index of this log: where its first open put it (recorded in the state bucket, so every
 * instance uses the same one), PostgreSQL when that open could, the KV bucket otherwise. A log
 * that already held events before the record existed was indexed in the bucket and stays there.
 */
async function openClaims(
  options: JetStreamEventLogOptions,
  info: StreamInfo,
  state: KV,
  kv: () => IdClaims,
): Promise<IdClaims> {
  const wanted = options.openIdClaims !== undefined && info.state.last_seq === 0 ? 'postgres' : 'kv';
  let entry = await state.get(ID_INDEX_KEY);
  if (entry?.operation !== 'PUT') {
    await state.create(ID_INDEX_KEY, wanted).catch((error: unknown) => {
      if (!isAlreadyThere(error)) throw error;
    });
    entry = await state.get(ID_INDEX_KEY);
  }
  const backend = entry?.operation === 'PUT' ? entry.string() : wanted;
  if (backend === 'kv') return kv();
  if (backend !== 'postgres')
    throw new Error(`unknown id index "${backend}" recorded for stream ${info.config.name}`);
  if (options.openIdClaims === undefined)
    throw new Error(
      `the id index of stream ${info.config.name} is in the PostgreSQL state store: configure store: { kind: postgres } on every hub of this log`,
    );
  return options.openIdClaims(`${info.config.name}@${info.created}`);
}

function idsBucket(stream: string): string {
  return `${stream}_IDS`;
}

function consumerKey(name: string): string {
  return `${CONSUMER_PREFIX}${encodeToken(name)}`;
}

function positionIn(entry: { operation: string; json<T>(): T } | null): number | null {
  if (entry?.operation !== 'PUT') return null;
  const position = entry.json<{ position?: unknown }>().position;
  return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : null;
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

/**
 * A durable consumer: its committed position is a KV entry; reading goes through a merged scan
 * of ephemeral consumers from the read position, which waits on the server when there is nothing.
 */
class JetStreamConsumer implements Consumer {
  private readAt: number;
  private committedPosition: number;
  private scan: MergedScan<StoredEvent> | null = null;
  private closed = false;
  /** Cuts the fetch under way (close, seek). */
  private fetchAbort = new AbortController();
  private fetching: Promise<unknown> = Promise.resolve();
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: JetStreamEventLog,
    readonly name: string,
    private readonly filter: EventFilter,
    position: number,
  ) {
    this.readAt = position;
    this.committedPosition = position;
  }

  committed(): number {
    return this.committedPosition;
  }

  readPosition(): number {
    return this.readAt;
  }

  fetch(max: number, waitMs: number, signal?: AbortSignal): Promise<StoredEvent[]> {
    const run = this.fetching.then(() => this.fetchNow(Math.max(1, max), waitMs, signal));
    this.fetching = run.catch(() => undefined);
    return run;
  }

  private async fetchNow(max: number, waitMs: number, signal?: AbortSignal): Promise<StoredEvent[]> {
    const deadline = Date.now() + waitMs;
    const stop = signal ? AbortSignal.any([signal, this.fetchAbort.signal]) : this.fetchAbort.signal;
    while (!this.closed && !stop.aborted) {
      this.scan ??= this.log.openScan(this.filter, this.readAt);
      const scan = this.scan;
      if (scan === null) {
        // Nothing can ever match (a plant outside the plants): wait out the fetch.
        await abortableDelay(deadline - Date.now(), stop);
        return [];
      }
      await scan.fill(max, stop, true);
      if (stop.aborted) break;
      const events = this.take(scan, max);
      if (events.length > 0) return events;
      const remaining = deadline - Date.now();
      if (remaining < MIN_WAIT_MS) return [];
      if (await scan.waitForMore(remaining, stop)) {
        // What the wait delivered goes out at once, without first pulling for more and asking the
        // leader whether anything lies beyond: the rest of a burst comes with the next fetch.
        await scan.screenReceived();
        if (stop.aborted) break;
        const arrived = this.take(scan, max);
        if (arrived.length > 0) return arrived;
      }
    }
    return [];
  }

  /** Takes what the scan has ready and moves the read position past it. */
  private take(scan: MergedScan<StoredEvent>, max: number): StoredEvent[] {
    const events = scan.take(max);
    const last = events[events.length - 1];
    this.readAt = last && events.length === max ? last.sequence : Math.max(this.readAt, scan.through);
    return events;
  }

  commit(sequence: number): Promise<void> {
    const run = this.writes.then(async () => {
      if (sequence <= this.committedPosition) return;
      await this.log.storePosition(this.name, sequence);
      this.committedPosition = sequence;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  seek(sequence: number): Promise<void> {
    const run = this.writes.then(async () => {
      await this.log.storePosition(this.name, sequence);
      this.committedPosition = sequence;
      // Stop any fetch, then start reading again from the new position.
      this.fetchAbort.abort();
      await this.fetching;
      this.fetchAbort = new AbortController();
      this.scan?.close();
      this.scan = null;
      this.readAt = sequence;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fetchAbort.abort();
    this.scan?.close();
    this.scan = null;
    this.log.forgetConsumer(this);
  }
}
