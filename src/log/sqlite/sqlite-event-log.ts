import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { domainOfType, laneOfType } from '../../model/catalog.js';
import { asStoredEvent, type CloudEvent, partitionKeyOf, type StoredEvent } from '../../model/envelope.js';
import { DataFileError, describeCause, prepareWritableFile } from '../../util/data-files.js';
import { LogStorageFullError } from '../log-errors.js';
import type { AppendOutcome, Consumer, EventFilter, EventLog, LogStats, ReadOptions } from '../port.js';
import { type ReadPage, readUpToLimit, typeMatcher } from '../port.js';
import { RecentEvents } from './recent-events.js';
import { applyPragmas, BASE_DDL, DEFAULT_PARTITION_SIZE, listPartitions, subjectTable } from './schema.js';
import type { ReadyMessage, RowInput, WriteReply, WriteRequest, WriterOptions } from './writer-protocol.js';

export interface SqliteEventLogOptions {
  readonly path: string;
  /** `full`: every acknowledged append survives power loss. `normal`: faster, may lose the last commits on power loss. @default 'full' */
  readonly synchronous?: 'full' | 'normal';
  /** Largest number of events one group commit takes. @default 5000 */
  readonly maxBatch?: number;
  /**
   * Sequences per index partition (idempotency and subject indexes) when the log is created;
   * an existing log keeps the size it was created with. @default 131072
   */
  readonly partitionSize?: number;
  /** Sequences one range query of a read examines (bounds the work of one read step). @default 50000 */
  readonly scanWindow?: number;
  /** A cap on the file's size in pages; appends past it fail as on a full disk. @default none */
  readonly maxPages?: number;
  /** Files up to this size get a full quick check at open, larger ones a bounded one. @default 256 MiB */
  readonly startupCheckBytes?: number;
  /** While the disk is full, how often a small write probes whether there is room again. @default 2000 */
  readonly storageProbeMs?: number;
}

/** SQLite's codes for a file that is not (or no longer) a sound database. */
const DAMAGED_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** The start-up error for a log that could not be opened: the file, the cause, what to do. */
function openError(path: string, error: unknown): DataFileError {
  if (error instanceof DataFileError) return error;
  const { name, code } = (error ?? {}) as { name?: string; code?: string };
  if (name === 'LogDamaged' || (code !== undefined && DAMAGED_CODES.has(code))) {
    return new DataFileError(
      path,
      `the event log ${path} is damaged: ${describeCause(error)}. The hub will not start on it: restore ${path} (and its -wal file) from a backup; \`conveyor doctor\` lists every fault it finds. To give up its events instead, move the whole data directory (log and state store together) aside and start afresh.`,
      { cause: error },
    );
  }
  return new DataFileError(path, `cannot open the event log ${path}: ${describeCause(error)}`, {
    cause: error,
  });
}
interface PendingAppend {
  rows: RowInput[];
  resolve: (outcomes: AppendOutcome[]) => void;
  reject: (error: Error) => void;
}

interface PendingRetention {
  beforeSequence: number;
  resolve: (deleted: number) => void;
  reject: (error: Error) => void;
}

interface PendingIdentity {
  id: string;
  resolve: (identity: string) => void;
  reject: (error: Error) => void;
}

interface WriteBatch {
  id: number;
  appends: PendingAppend[];
  cursors: Map<string, PendingCursor>;
  retention: PendingRetention | null;
  identity: PendingIdentity | null;
  probe: boolean;
  /** Whether it carries bulk appends (at most one such batch is in flight). */
  bulk: boolean;
}

/**
 * Requests the writer may hold at once. Two keep it busy: while it commits one, the next is
 * already waiting in its queue, so no commit waits on a thread hop.
 */
const MAX_IN_FLIGHT = 2;

/** Sequences one range query examines: bounds the work of a read however sparse its matches. */
const DEFAULT_SCAN_WINDOW = 50_000;
/** Windows one read step examines per domain table before it hands back what it has. */
const SCAN_WINDOWS_PER_READ = 8;

/** The writer thread's young generation (MiB). */
const WRITER_YOUNG_GENERATION_MB = 6;

/** For this long after a critical append, a commit slot is kept free of bulk appends (ms). */
const URGENT_RECENT_MS = 1000;

/** Most bulk-lane events one commit takes (bounds how long a critical append can wait). */
const BULK_ROWS_PER_COMMIT = 200;

interface StoredRow {
  seq: number;
  type: string;
  plant: string | null;
  body: string;
}

interface PendingCursor {
  position: number;
  waiters: Array<{ resolve: () => void; reject: (error: Error) => void }>;
}

/** Serialises an event once; the stored body is exactly what the hub later delivers (plus `sequence`). */
function toRow(event: CloudEvent): RowInput {
  return [
    event.type,
    event.source,
    event.id,
    event.subject ?? null,
    event.plant ?? null,
    partitionKeyOf(event),
    domainOfType(event.type),
    JSON.stringify(event),
  ];
}

/**
 * The embedded event log. Appends are group-committed by a writer thread: while one
 * transaction is being made durable, new appends and cursor commits queue up and go into the
 * next one. Reads use a separate read-only connection on this thread (WAL lets both proceed).
 */
export class SqliteEventLog implements EventLog {
  readonly kind = 'sqlite';
  private readonly worker: Worker;
  private readonly reader: Database.Database;
  private readonly maxBatch: number;
  private readonly emitter = new EventEmitter();
  private tables = new Map<string, string>();
  /** Domain table of each code that subject index entries carry. */
  private tablesByCode = new Map<number, string>();
  private readonly partitionSize: number;
  private readonly scanWindow: number;
  /** Subject index partitions present at `schemaVersion`, ascending. */
  private subjectPartitions: number[] = [];
  private schemaVersion = -1;
  private headSequence: number;
  private nextRequestId = 1;
  /** Requests sent to the writer and not yet answered, oldest first (the writer answers in order). */
  private readonly inFlight: WriteBatch[] = [];
  /** Appends holding a critical-lane event: they go into the next commit before any bulk append. */
  private queuedUrgent: PendingAppend[] = [];
  private queuedAppends: PendingAppend[] = [];
  private queuedRows = 0;
  private queuedCursors = new Map<string, PendingCursor>();
  private queuedRetention: PendingRetention | null = null;
  private queuedIdentity: PendingIdentity | null = null;
  private queuedProbe = false;
  private identityValue: string | null;
  private full = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private readonly storageProbeMs: number;
  private flushScheduled = false;
  /** When the last critical append arrived (performance.now()). */
  private lastUrgentAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private failure: Error | null = null;
  private readonly openConsumers = new Set<SqliteConsumer>();
  /** The newest committed events, for readers at the head. */
  private readonly recent = new RecentEvents();

  private constructor(
    worker: Worker,
    reader: Database.Database,
    ready: ReadyMessage,
    options: SqliteEventLogOptions,
  ) {
    this.scanWindow = Math.max(1, options.scanWindow ?? DEFAULT_SCAN_WINDOW);
    this.worker = worker;
    this.reader = reader;
    this.headSequence = ready.head;
    this.partitionSize = ready.partitionSize;
    this.identityValue = ready.identity;
    this.maxBatch = options.maxBatch ?? 5000;
    this.storageProbeMs = options.storageProbeMs ?? 2000;
    this.emitter.setMaxListeners(0);
    this.refreshTables();
    worker.on('message', (reply: WriteReply) => this.onReply(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`event log writer exited with code ${code}`));
    });
  }

  /** Opens (creating if needed) the log at `path`; resolves once the writer has recovered the head. */
  static async open(options: SqliteEventLogOptions): Promise<SqliteEventLog> {
    prepareWritableFile(options.path, 'the event log');
    const worker = new Worker(new URL('./writer-worker.js', import.meta.url), {
      // The writer's garbage is one request's rows at a time: a small young generation is enough and
      // keeps this thread's heap from growing to the default's 48 MiB of resident memory.
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
      workerData: {
        path: options.path,
        synchronous: options.synchronous ?? 'full',
        partitionSize: options.partitionSize ?? DEFAULT_PARTITION_SIZE,
        ...(options.maxPages !== undefined ? { maxPages: options.maxPages } : {}),
        ...(options.startupCheckBytes !== undefined ? { startupCheckBytes: options.startupCheckBytes } : {}),
      } satisfies WriterOptions,
    });
    // Remove only our own listeners: Worker keeps internal ones that must stay.
    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new Error(`event log writer exited with code ${code} while opening`));
      const onError = (error: unknown) => {
        worker.off('exit', onExit);
        reject(openError(options.path, error));
      };
      worker.once('message', (message: ReadyMessage) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(message);
      });
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
    let reader: Database.Database | undefined;
    try {
      reader = new Database(options.path, { readonly: false });
      applyPragmas(reader, options.synchronous ?? 'full', false);
      reader.exec(BASE_DDL);
    } catch (error) {
      reader?.close();
      await worker.terminate();
      throw openError(options.path, error);
    }
    return new SqliteEventLog(worker, reader, ready, options);
  }

  head(): number {
    return this.headSequence;
  }

  append(events: readonly CloudEvent[]): Promise<AppendOutcome[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('event log is closed'));
    if (events.length === 0) return Promise.resolve([]);
    const rows = events.map(toRow);
    const urgent = events.some((e) => laneOfType(e.type) === 'critical');
    if (urgent) this.lastUrgentAt = performance.now();
    return new Promise((resolve, reject) => {
      (urgent ? this.queuedUrgent : this.queuedAppends).push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.scheduleFlush();
    });
  }

  /** Queues a durable cursor update; resolves when it is committed. */
  commitCursor(name: string, position: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const pending = this.queuedCursors.get(name) ?? { position, waiters: [] };
      pending.position = position;
      pending.waiters.push({ resolve, reject });
      this.queuedCursors.set(name, pending);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.inFlight.length >= MAX_IN_FLIGHT || this.flushScheduled) return;
    this.flushScheduled = true;
    // Let the requests already read from sockets in this turn join the same commit.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Whether a commit has anything to take; `bulk: false` leaves bulk appends out of the question. */
  private hasQueuedWork(bulk = true): boolean {
    return (
      this.queuedUrgent.length > 0 ||
      (bulk && this.queuedAppends.length > 0) ||
      this.queuedCursors.size > 0 ||
      this.queuedRetention !== null ||
      this.queuedIdentity !== null ||
      this.queuedProbe
    );
  }

  async identity(): Promise<string | null> {
    return this.identityValue;
  }

  claimIdentity(id: string): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.identityValue !== null) return Promise.resolve(this.identityValue);
    return new Promise((resolve, reject) => {
      this.queuedIdentity = { id, resolve, reject };
      this.scheduleFlush();
    });
  }

  storageFull(): boolean {
    return this.full;
  }

  onStorageChange(listener: (full: boolean) => void): void {
    this.emitter.on('storage', listener);
  }

  /** Marks the storage full or not; while full, a timer probes for room so recovery needs no traffic. */
  private setFull(full: boolean): void {
    if (full === this.full) return;
    this.full = full;
    if (full) this.scheduleProbe();
    else if (this.probeTimer) {
      clearTimeout(this.probeTimer);
      this.probeTimer = null;
    }
    this.emitter.emit('storage', full);
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      if (!this.full || this.closed || this.failure) return;
      this.queuedProbe = true;
      this.scheduleFlush();
    }, this.storageProbeMs);
    this.probeTimer.unref();
  }

  private flush(): void {
    if (this.inFlight.length >= MAX_IN_FLIGHT || !this.hasQueuedWork()) return;
    // While critical appends are arriving, one commit in flight may carry bulk appends and the
    // other slot is kept for critical ones: a critical append waits behind at most one bulk
    // commit, never two. Bulk traffic alone keeps both slots.
    const slotReserved =
      performance.now() - this.lastUrgentAt < URGENT_RECENT_MS && this.inFlight.some((b) => b.bulk);
    if (slotReserved && !this.hasQueuedWork(false)) return;
    const appends: PendingAppend[] = [];
    let rowCount = 0;
    // Critical appends first; bulk ones fill a bounded share so a commit never grows long
    // enough to hold critical appends waiting behind it.
    const take = (queue: PendingAppend[], limit: number) => {
      while (queue.length > 0 && (rowCount === 0 || rowCount + (queue[0]?.rows.length ?? 0) <= limit)) {
        const next = queue.shift() as PendingAppend;
        appends.push(next);
        rowCount += next.rows.length;
      }
    };
    take(this.queuedUrgent, this.maxBatch);
    const urgentRows = rowCount;
    if (!slotReserved) take(this.queuedAppends, Math.min(this.maxBatch, rowCount + BULK_ROWS_PER_COMMIT));
    const bulk = rowCount > urgentRows;
    this.queuedRows -= rowCount;
    const cursors = this.queuedCursors;
    this.queuedCursors = new Map();
    const retention = this.queuedRetention;
    this.queuedRetention = null;
    const identity = this.queuedIdentity;
    this.queuedIdentity = null;
    const probe = this.queuedProbe;
    this.queuedProbe = false;
    const batch: WriteBatch = {
      id: this.nextRequestId++,
      appends,
      cursors,
      retention,
      identity,
      probe,
      bulk,
    };
    this.inFlight.push(batch);
    const request: WriteRequest = {
      id: batch.id,
      rows: appends.length === 1 ? (appends[0] as PendingAppend).rows : appends.flatMap((a) => a.rows),
      cursors: [...cursors].map(([name, c]) => [name, c.position]),
      ...(retention ? { retention: { beforeSequence: retention.beforeSequence } } : {}),
      ...(identity ? { identity: identity.id } : {}),
      ...(probe ? { probe: true } : {}),
    };
    this.worker.postMessage(request);
  }

  private onReply(reply: WriteReply): void {
    const index = this.inFlight.findIndex((b) => b.id === reply.id);
    if (index === -1) return;
    const [batch] = this.inFlight.splice(index, 1) as [WriteBatch];
    if (reply.error !== undefined || !reply.sequences) {
      const error =
        reply.code === 'SQLITE_FULL'
          ? new LogStorageFullError(
              'the event log has no room: its disk (or its size cap) is full; nothing of this write was stored',
            )
          : new Error(`event log write failed: ${reply.error ?? 'no result'}`);
      for (const a of batch.appends) a.reject(error);
      for (const c of batch.cursors.values()) for (const w of c.waiters) w.reject(error);
      batch.retention?.reject(error);
      batch.identity?.reject(error);
      if (reply.code === 'SQLITE_FULL') this.setFull(true);
      // A probe that failed (for whatever reason) tries again while the log counts as full.
      if (batch.probe && this.full) this.scheduleProbe();
    } else {
      if (reply.identity !== undefined) this.identityValue = reply.identity;
      if (reply.identity) batch.identity?.resolve(reply.identity);
      else batch.identity?.reject(new Error('the event log did not record its identity'));
      // Anything written means there is room again (appends, cursors and probes all write).
      if (batch.appends.length > 0 || batch.cursors.size > 0 || batch.probe) this.setFull(false);
      if (reply.newDomains && reply.newDomains.length > 0) this.refreshTables();
      let offset = 0;
      for (const a of batch.appends) {
        const outcomes: AppendOutcome[] = new Array(a.rows.length);
        for (let i = 0; i < a.rows.length; i++) {
          const s = reply.sequences[offset + i] as number;
          if (s < 0) {
            outcomes[i] = { sequence: -s, duplicate: true };
            continue;
          }
          outcomes[i] = { sequence: s, duplicate: false };
          if (s > this.headSequence) this.headSequence = s;
          const row = a.rows[i] as RowInput;
          this.recent.add(s, row[0], row[4], row[7]);
        }
        offset += a.rows.length;
        a.resolve(outcomes);
      }
      for (const c of batch.cursors.values()) for (const w of c.waiters) w.resolve();
      if (batch.retention) {
        this.recent.dropBefore(batch.retention.beforeSequence);
        batch.retention.resolve(reply.deleted ?? 0);
      }
      if (batch.appends.length > 0) this.emitter.emit('appended', this.headSequence);
    }
    this.flush();
    if (this.inFlight.length === 0) this.emitter.emit('idle');
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.recent.clear();
    const batches = this.inFlight.splice(0);
    const appends = [...batches.flatMap((b) => b.appends), ...this.queuedUrgent, ...this.queuedAppends];
    const cursors = [...batches.flatMap((b) => [...b.cursors.values()]), ...this.queuedCursors.values()];
    const retentions = [...batches.map((b) => b.retention), this.queuedRetention];
    const identities = [...batches.map((b) => b.identity), this.queuedIdentity];
    this.queuedIdentity = null;
    this.queuedUrgent = [];
    this.queuedAppends = [];
    this.queuedCursors = new Map();
    this.queuedRetention = null;
    for (const a of appends) a.reject(error);
    for (const c of cursors) for (const w of c.waiters) w.reject(error);
    for (const r of retentions) r?.reject(error);
    for (const i of identities) i?.reject(error);
    this.emitter.emit('failed', error);
  }

  private refreshTables(): void {
    const rows = this.reader.prepare('SELECT name, tbl FROM domains').all() as Array<{
      name: string;
      tbl: string;
    }>;
    this.tables = new Map(rows.map((r) => [r.name, r.tbl]));
    const codes = this.reader.prepare('SELECT code, tbl FROM event_tables').all() as Array<{
      code: number;
      tbl: string;
    }>;
    this.tablesByCode = new Map(codes.map((r) => [r.code, r.tbl]));
  }

  /** Tables that can hold events of the given types (all tables when unfiltered). */
  private tablesFor(types: readonly string[] | undefined): string[] {
    if (types === undefined || types.length === 0 || types.includes('*'))
      return [...new Set(this.tables.values())];
    const out = new Set<string>();
    for (const type of types) {
      const table = this.tables.get(domainOfType(type));
      if (table) out.add(table);
    }
    // Domains beyond the table limit share a table; include it when the type is unknown here.
    if (types.some((t) => !this.tables.has(domainOfType(t)))) {
      for (const table of this.tables.values()) if (table === 'ev_other') out.add(table);
    }
    return [...out];
  }

  private readonly statements = new Map<string, Database.Statement>();

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.reader.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * One bounded read step, synchronous (consumers and `readPage` share it). Only sequences up to
   * the head as of the call (and below `before`) are read, so `through` never passes a row that a
   * commit under way might still add.
   */
  readPageSync(options: ReadOptions & { before?: number }): { events: StoredEvent[]; through: number } {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 10_000));
    const after = options.after ?? 0;
    const upTo = Math.min(this.headSequence, (options.before ?? Number.POSITIVE_INFINITY) - 1);
    if (after >= upTo) return { events: [], through: Math.max(after, 0) };
    if (options.subject === undefined && this.recent.covers(after, upTo)) {
      return this.recent.read(after, upTo, limit, {
        matches: typeMatcher(options.types),
        plant: options.plant,
        plants: options.plants ? new Set(options.plants) : null,
      });
    }
    const { rows, through } =
      options.subject === undefined
        ? this.readRange(options, after, upTo, limit)
        : this.readSubject(options, after, upTo, limit);
    const events = rows.map((row) => asStoredEvent(JSON.parse(row.body) as CloudEvent, row.seq, row.body));
    return { events, through };
  }

  /**
   * The SQL condition on `type` for one domain table: none where a wildcard (or no filter) covers
   * every domain the table holds, else the exact types and wildcard prefixes. Pushing the filter
   * into SQL keeps filtered-out rows from ever reaching this thread.
   */
  private typeCondition(
    table: string,
    types: readonly string[] | undefined,
  ): { sql: string; params: string[] } | null {
    if (types === undefined || types.length === 0 || types.includes('*')) return null;
    const prefixes = types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
    const exact = types.filter((t) => !t.endsWith('.*'));
    const domains = [...this.tables].filter(([, tbl]) => tbl === table).map(([domain]) => `${domain}.`);
    if (table !== 'ev_other' && domains.length > 0 && domains.every((d) => prefixes.includes(d))) return null;
    const parts: string[] = [];
    const params: string[] = [];
    if (exact.length > 0) {
      parts.push(`type IN (${exact.map(() => '?').join(',')})`);
      params.push(...exact);
    }
    for (const prefix of prefixes) {
      parts.push('substr(type, 1, ?) = ?');
      params.push(String(prefix.length), prefix);
    }
    return { sql: `(${parts.join(' OR ')})`, params };
  }

  /**
   * Every domain table that can match, each scanned by sequence in windows of `scanWindow`
   * sequences (bounding the work of one call however sparse the matches), then merged. A table
   * that stopped early (its share of the limit found, or its windows used up) bounds `through`:
   * past that point it has not been examined, so nothing past it may be handed out.
   */
  private readRange(
    options: ReadOptions,
    after: number,
    upTo: number,
    limit: number,
  ): { rows: StoredRow[]; through: number } {
    const matches = typeMatcher(options.types);
    const plants = options.plants ? new Set(options.plants) : null;
    const rows: StoredRow[] = [];
    let through = upTo;
    for (const table of this.tablesFor(options.types)) {
      const where: string[] = ['seq > ?', 'seq <= ?'];
      const params: unknown[] = [];
      if (options.plant !== undefined) {
        where.push('plant = ?');
        params.push(options.plant);
      }
      if (options.plants !== undefined) {
        where.push(`plant IN (${options.plants.map(() => '?').join(',') || 'NULL'})`);
        params.push(...options.plants);
      }
      const types = this.typeCondition(table, options.types);
      if (types) {
        where.push(types.sql);
        params.push(...types.params);
      }
      const sql = `SELECT seq, type, plant, body FROM ${table} WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`;
      let found = 0;
      let from = after;
      let windows = 0;
      while (from < upTo) {
        if (windows++ === SCAN_WINDOWS_PER_READ) break;
        const to = Math.min(upTo, from + this.scanWindow);
        const want = limit - found;
        const got = this.statement(sql).all(from, to, ...params, want) as StoredRow[];
        for (const row of got) {
          if (matches(row.type) && (plants === null || (row.plant !== null && plants.has(row.plant)))) {
            rows.push(row);
            found++;
          }
        }
        // A full answer may have stopped inside the window: the table is examined up to its last row.
        from = got.length === want ? (got[got.length - 1] as StoredRow).seq : to;
        if (found >= limit) break;
      }
      through = Math.min(through, from);
    }
    rows.sort((a, b) => a.seq - b.seq);
    const kept = rows.filter((row) => row.seq <= through);
    if (kept.length > limit) {
      kept.length = limit;
      through = (kept[limit - 1] as StoredRow).seq;
    }
    return { rows: kept, through };
  }

  /**
   * One subject's events: the subject index partitions from the one holding `after` upward
   * give the sequences in order, the domain tables the bodies. One read transaction, so
   * retention dropping a partition meanwhile cannot pull it away mid-read.
   */
  private readSubject(
    options: ReadOptions,
    after: number,
    upTo: number,
    limit: number,
  ): { rows: StoredRow[]; through: number } {
    const subject = options.subject as string;
    const matches = typeMatcher(options.types);
    const plants = options.plants ? new Set(options.plants) : null;
    const rows: StoredRow[] = [];
    this.reader.transaction(() => {
      this.refreshPartitions();
      const wanted = new Set(this.tablesFor(options.types));
      const first = Math.floor((after + 1) / this.partitionSize);
      for (const partition of this.subjectPartitions) {
        if (partition < first) continue;
        if (partition * this.partitionSize > upTo) break;
        const page = this.statement(
          `SELECT seq, code FROM ${subjectTable(partition)} WHERE subject = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
        );
        const pageSize = Math.max(limit, 256);
        for (let cursor = after; ; ) {
          const entries = page.all(subject, cursor, upTo, pageSize) as Array<{ seq: number; code: number }>;
          for (const { seq, code } of entries) {
            const table = this.tablesByCode.get(code);
            if (table === undefined || !wanted.has(table)) continue;
            const row = this.statement(`SELECT seq, type, plant, body FROM ${table} WHERE seq = ?`).get(
              seq,
            ) as StoredRow | undefined;
            // Absent when retention deleted the event and its partition is not yet dropped.
            if (row === undefined || !matches(row.type)) continue;
            if (options.plant !== undefined && row.plant !== options.plant) continue;
            if (plants !== null && (row.plant === null || !plants.has(row.plant))) continue;
            rows.push(row);
            if (rows.length === limit) return;
          }
          if (entries.length < pageSize) break;
          cursor = (entries[entries.length - 1] as { seq: number }).seq;
        }
      }
    })();
    // The subject's entries were examined up to the limit-th match, or all of them up to `upTo`.
    const through = rows.length === limit ? (rows[limit - 1] as StoredRow).seq : upTo;
    return { rows, through };
  }

  /** Re-lists the subject partitions (and domain tables) when the schema has changed. */
  private refreshPartitions(): void {
    const version = this.reader.pragma('schema_version', { simple: true }) as number;
    if (version === this.schemaVersion) return;
    this.refreshTables();
    const partitions = listPartitions(this.reader, 'subject');
    const present = new Set(partitions.map(subjectTable));
    // Statements on dropped partitions would fail if run; let them go.
    for (const sql of this.statements.keys()) {
      const table = /FROM (subject_p\d+) /.exec(sql)?.[1];
      if (table !== undefined && !present.has(table)) this.statements.delete(sql);
    }
    this.subjectPartitions = partitions;
    this.schemaVersion = version;
  }

  async read(options: ReadOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    return readUpToLimit((o) => this.readPage(o), options, this.headSequence);
  }

  async readPage(options: ReadOptions): Promise<ReadPage> {
    this.assertOpen();
    return this.readPageSync(options);
  }

  async sequenceAt(time: number): Promise<number> {
    this.assertOpen();
    let best = this.headSequence + 1;
    for (const table of new Set(this.tables.values())) {
      const found = this.firstSequenceAtOrAfter(table, time);
      if (found !== null && found < best) best = found;
    }
    return best;
  }

  /** Binary search by sequence: the writer keeps appended_at non-decreasing along the sequence. */
  private firstSequenceAtOrAfter(table: string, time: number): number | null {
    const bounds = this.statement(`SELECT min(seq) AS lo, max(seq) AS hi FROM ${table}`).get() as {
      lo: number | null;
      hi: number | null;
    };
    if (bounds.lo === null || bounds.hi === null) return null;
    const at = this.statement(
      `SELECT seq, appended_at AS t FROM ${table} WHERE seq >= ? ORDER BY seq LIMIT 1`,
    );
    let lo = bounds.lo;
    let hi = bounds.hi;
    const last = at.get(hi) as { seq: number; t: number };
    if (last.t < time) return null;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = at.get(mid) as { seq: number; t: number };
      if (row.t >= time) hi = mid;
      else lo = row.seq + 1;
    }
    return (at.get(lo) as { seq: number }).seq;
  }

  async consume(name: string, filter: EventFilter, options: { startAt?: number } = {}): Promise<Consumer> {
    this.assertOpen();
    const row = this.statement('SELECT position FROM cursors WHERE name = ?').get(name) as
      | { position: number }
      | undefined;
    let position = row?.position;
    if (position === undefined) {
      position = options.startAt ?? this.headSequence;
      await this.commitCursor(name, position);
    }
    const consumer = new SqliteConsumer(this, name, filter, position);
    this.openConsumers.add(consumer);
    return consumer;
  }

  async consumers(): Promise<Array<{ name: string; position: number }>> {
    return this.statement('SELECT name, position FROM cursors ORDER BY name').all() as Array<{
      name: string;
      position: number;
    }>;
  }

  async stats(): Promise<LogStats> {
    let events = 0;
    for (const table of new Set(this.tables.values())) {
      events += (this.statement(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    }
    const pages = this.reader.pragma('page_count', { simple: true }) as number;
    const pageSize = this.reader.pragma('page_size', { simple: true }) as number;
    return {
      head: this.headSequence,
      events,
      bytes: pages * pageSize,
      domains: [...this.tables.keys()].sort(),
    };
  }

  /** Deletes events below `beforeSequence` (bounded per call); returns how many went. */
  retain(beforeSequence: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queuedRetention) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.queuedRetention = { beforeSequence, resolve, reject };
      this.scheduleFlush();
    });
  }

  /** Waits for the next append (or `waitMs`), whichever first. */
  waitForAppend(after: number, waitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.headSequence > after || waitMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('appended', onAppend);
        this.emitter.off('failed', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onAppend = (head: number) => {
        if (head > after) done();
      };
      const timer = setTimeout(done, waitMs);
      this.emitter.on('appended', onAppend);
      this.emitter.on('failed', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event log is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inFlight.length > 0 || this.hasQueuedWork()) {
      if (this.failure) break;
      await new Promise((resolve) => this.emitter.once('idle', resolve));
    }
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    for (const consumer of this.openConsumers) consumer.close();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('close');
    await exited;
    this.reader.close();
  }

  forgetConsumer(consumer: SqliteConsumer): void {
    this.openConsumers.delete(consumer);
  }
}

class SqliteConsumer implements Consumer {
  private readAt: number;
  private committedPosition: number;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly log: SqliteEventLog,
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

  async fetch(max: number, waitMs: number, signal?: AbortSignal): Promise<StoredEvent[]> {
    const deadline = Date.now() + waitMs;
    while (!this.closed && !signal?.aborted) {
      const head = this.log.head();
      if (head > this.readAt) {
        const { events, through } = this.log.readPageSync({ ...this.filter, after: this.readAt, limit: max });
        // Only as far as the read examined: rows past `through` were not looked at yet.
        this.readAt = Math.max(this.readAt, through);
        if (events.length > 0) return events;
        // A run of rows this filter leaves out: let other work run before the next window.
        if (this.readAt < head) {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return [];
      await this.log.waitForAppend(this.readAt, remaining, signal ?? this.abort.signal);
    }
    return [];
  }

  async commit(sequence: number): Promise<void> {
    if (sequence <= this.committedPosition) return;
    await this.log.commitCursor(this.name, sequence);
    this.committedPosition = Math.max(this.committedPosition, sequence);
  }

  async seek(sequence: number): Promise<void> {
    await this.log.commitCursor(this.name, sequence);
    this.committedPosition = sequence;
    this.readAt = sequence;
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    this.log.forgetConsumer(this);
  }
}
