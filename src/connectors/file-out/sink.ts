import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Type as T } from '@sinclair/typebox';
import type jsonata from 'jsonata';
import type { Clock } from '../../delivery/clock.js';
import type { AttemptOutcome } from '../../delivery/outcome.js';
import type { DeliverySink } from '../../delivery/sink.js';
import { type StoredEvent, storedEventJson } from '../../model/envelope.js';
import { SinkCommonFields } from '../framework/common.js';
import type { ConnectorSpec } from '../framework/types.js';

export interface FileOutConfig {
  readonly dir: string;
  readonly format: 'jsonl' | 'csv';
  readonly prefix: string;
  /** CSV columns, in order; required for csv. */
  readonly columns: readonly string[];
}

export const fileOutSinkSpec: ConnectorSpec<FileOutConfig> = {
  kind: 'file-out',
  summary: 'Writes deliveries to daily files (JSON lines or CSV) for consumers that only read files.',
  stability: 'beta',
  batches: true,
  schema: T.Object(
    {
      kind: T.Literal('file-out'),
      ...SinkCommonFields,
      dir: T.String({
        minLength: 1,
        description: 'Folder of the files (relative paths: the data directory).',
      }),
      format: T.Optional(
        T.Union([T.Literal('jsonl'), T.Literal('csv')], {
          description: 'JSON lines (the event, or the transform result) or CSV. @default jsonl',
        }),
      ),
      prefix: T.Optional(
        T.String({
          pattern: '^[A-Za-z0-9._-]{1,64}$',
          description: 'File name prefix. @default the connector name',
        }),
      ),
      columns: T.Optional(
        T.Array(T.String({ minLength: 1 }), {
          minItems: 1,
          description: 'csv: the columns, read from the transform result (or the event) by name.',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  compile(raw, at, problems, baseDir) {
    const dir = String(raw.dir);
    const format = (raw.format as 'jsonl' | 'csv' | undefined) ?? 'jsonl';
    const columns = (raw.columns as string[] | undefined) ?? [];
    if (format === 'csv' && columns.length === 0)
      problems.push({
        path: `${at}.columns`,
        message: 'csv needs the columns to write, e.g. [orderId, plant, quantity]',
      });
    return {
      dir: isAbsolute(dir) ? dir : resolve(baseDir, dir),
      format,
      prefix: typeof raw.prefix === 'string' ? raw.prefix : at.slice(at.lastIndexOf('.') + 1),
      columns,
    };
  },
};

function csvCell(value: unknown): string {
  const text =
    value === undefined || value === null
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A delivery sink that appends each event (or its transform's result) as one line to
 * `<dir>/<prefix>-<YYYY-MM-DD>.<jsonl|csv>` and syncs it to disk before reporting it delivered,
 * so a delivered event survives a crash. Lines carry the event id, so a consumer can drop the
 * duplicates at-least-once delivery may bring. Writes are serialised: lines never interleave.
 */
export class FileOutSink implements DeliverySink {
  readonly endpoint: string;
  private file: { day: string; path: string; handle: FileHandle } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: FileOutConfig,
    private readonly clock: Clock,
  ) {
    this.endpoint = join(config.dir, `${config.prefix}-*.${config.format}`);
  }

  send(event: StoredEvent, transform: jsonata.Expression | null): Promise<AttemptOutcome> {
    return this.sendBatch([event], transform);
  }

  /** The batch's lines in one append and one sync: all of them are on disk, or the batch is retried. */
  sendBatch(events: readonly StoredEvent[], transform: jsonata.Expression | null): Promise<AttemptOutcome> {
    const run = this.queue.then(() => this.write(events, transform));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async lineOf(event: StoredEvent, transform: jsonata.Expression | null): Promise<string> {
    if (this.config.format === 'jsonl')
      return transform
        ? JSON.stringify({ id: event.id, ...((await transform.evaluate(event)) ?? {}) })
        : storedEventJson(event);
    const row = (transform ? await transform.evaluate(event) : event) as Record<string, unknown> | null;
    return this.config.columns.map((c) => csvCell(row?.[c])).join(',');
  }

  private async write(
    events: readonly StoredEvent[],
    transform: jsonata.Expression | null,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    let text = '';
    try {
      for (const event of events) text += `${await this.lineOf(event, transform)}\n`;
    } catch (error) {
      return { kind: 'rejected', status: 0, error: `transform failed: ${(error as Error).message}`, ms: 0 };
    }
    try {
      const handle = await this.handleFor(new Date(this.clock.now()).toISOString().slice(0, 10));
      await handle.write(text);
      await handle.datasync();
      return { kind: 'delivered', status: 200, ms: performance.now() - started };
    } catch (error) {
      // A full disk or a missing folder may pass: retried with back-off, then dead-lettered.
      return {
        kind: 'retry',
        error: (error as Error).message,
        ms: performance.now() - started,
        retryAfterMs: null,
      };
    }
  }

  private async handleFor(day: string): Promise<FileHandle> {
    // The open file must still be the one at its path: appending to a file that was moved away or
    // deleted (its folder removed, rotated by an operator) would report lines delivered that no one sees.
    if (this.file?.day === day && (await this.stillInPlace(this.file))) return this.file.handle;
    await this.file?.handle.close();
    this.file = null;
    await mkdir(this.config.dir, { recursive: true });
    const path = join(this.config.dir, `${this.config.prefix}-${day}.${this.config.format}`);
    const fresh = await stat(path).then(
      (s) => s.size === 0,
      () => true,
    );
    const handle = await open(path, 'a');
    if (fresh && this.config.format === 'csv')
      await handle.write(`${this.config.columns.map(csvCell).join(',')}\n`);
    this.file = { day, path, handle };
    return handle;
  }

  private async stillInPlace(file: { path: string; handle: FileHandle }): Promise<boolean> {
    try {
      const [atPath, open] = await Promise.all([stat(file.path), file.handle.stat()]);
      return atPath.ino === open.ino && atPath.dev === open.dev;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    await this.file?.handle.close();
    this.file = null;
  }
}

export const createFileOutSink = (config: FileOutConfig, _name: string, clock: Clock) =>
  new FileOutSink(config, clock);
