/**
 * A SourceRuntime over stand-ins for what it appends to: a log whose appends can be held (to see
 * that nothing is acknowledged before the events are durable) or refused, and a source DLQ in
 * memory. The catalog is the real one, so mapping and validation are what the hub runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompiledSourceCommon, compileSourceCommon } from '../../src/connectors/framework/common.js';
import { SourceRuntime } from '../../src/connectors/framework/source-runtime.js';
import type { SourceConnector } from '../../src/connectors/framework/types.js';
import type { LaneAdmission } from '../../src/ingress/lane-admission.js';
import type { AppendOutcome, EventLog } from '../../src/log/port.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { createLogger } from '../../src/observability/logger.js';
import { SchemaRegistry } from '../../src/registry/registry.js';
import type { SourceDeadLetter, SourceDeadLetterRepository } from '../../src/store/port.js';
import { SqliteStateStore } from '../../src/store/sqlite/sqlite-state-store.js';
import { LogCapture } from './hub.js';

/** The append side of a log: every call recorded; durable when `hold` (if set) resolves. */
export class HeldLog {
  /** The events of each append call, in call order. */
  readonly appends: CloudEvent[][] = [];
  /** Appends wait for it: while it is pending nothing they carry is durable. */
  hold: Promise<void> | null = null;
  /** The next append fails with this (the log closing, a full disk). */
  failNext: Error | null = null;
  private sequence = 0;
  private readonly stored = new Map<string, number>();

  get events(): CloudEvent[] {
    return this.appends.flat();
  }

  async append(events: readonly CloudEvent[]): Promise<AppendOutcome[]> {
    this.appends.push([...events]);
    const failure = this.failNext;
    this.failNext = null;
    if (this.hold) await this.hold;
    if (failure) throw failure;
    return events.map((event) => {
      const first = this.stored.get(event.id);
      if (first !== undefined) return { sequence: first, duplicate: true };
      this.stored.set(event.id, ++this.sequence);
      return { sequence: this.sequence, duplicate: false };
    });
  }
}

/** A source DLQ in memory; `failFor` makes adding that message id fail. */
export class MemoryDeadLetters implements SourceDeadLetterRepository {
  readonly entries: Array<Omit<SourceDeadLetter, 'position'>> = [];
  failFor: string | null = null;

  async add(entry: Omit<SourceDeadLetter, 'position'>): Promise<void> {
    if (entry.messageId === this.failFor) throw new Error('the dead-letter store is unavailable');
    this.entries.push(entry);
  }

  async list(): Promise<SourceDeadLetter[]> {
    return this.entries.map((entry, i) => ({ ...entry, position: i + 1 }));
  }
}

export interface RuntimeUnderTest {
  readonly runtime: SourceRuntime;
  readonly log: HeldLog;
  readonly deadLetters: MemoryDeadLetters;
  close(): Promise<void>;
}

/** A runtime for `source` with a `map` expression (or the source's built-in mapping) and plant P1. */
export async function runtimeUnderTest(
  source: SourceConnector,
  options: { readonly map?: string; readonly name?: string } = {},
): Promise<RuntimeUnderTest> {
  const store = SqliteStateStore.open(join(mkdtempSync(join(tmpdir(), 'conveyor-runtime-')), 'state.db'));
  const registry = await SchemaRegistry.open(store.schemas);
  const problems: Array<{ path: string; message: string }> = [];
  const common: CompiledSourceCommon = compileSourceCommon(
    { plant: 'P1', ...(options.map ? { map: options.map } : {}) },
    'connectors.under-test',
    problems,
  );
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  const log = new HeldLog();
  const deadLetters = new MemoryDeadLetters();
  const runtime = new SourceRuntime(options.name ?? 'line-1', 'test', source, common, {
    log: log as unknown as EventLog,
    registry,
    // No lane limits in these tests.
    admission: { admit: () => undefined } as unknown as LaneAdmission,
    deadLetters,
    logger: createLogger('error', new LogCapture()),
  });
  return {
    runtime,
    log,
    deadLetters,
    close: async () => {
      await runtime.stop();
      await store.close();
    },
  };
}
