/** Helpers shared by the tests of this folder: drop folders, compiled configs, a recording hub. */
import { mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../observability/logger.js';
import type { ConnectorHealth, SourceContext, SourceMessage } from '../framework/types.js';
import { FileDropSource } from './source.js';
import { type FilesSourceConfig, filesSourceSpec } from './spec.js';

/** A fresh temporary folder. */
export function tempDir(prefix = 'conveyor-files-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A file under test/data/ (compiled tests run from dist/src/connectors/files/). */
export function dataPath(path: string): string {
  return new URL(`../../../../test/data/${path}`, import.meta.url).pathname;
}

/** Compiles a `kind: files` config as the hub would; throws with every problem. */
export function compile(raw: Record<string, unknown>, baseDir = tmpdir()): FilesSourceConfig {
  const problems: Array<{ path: string; message: string }> = [];
  const config = filesSourceSpec.compile({ kind: 'files', ...raw }, 'connectors.drop', problems, baseDir);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return config;
}

/** Writes a file the way a well-behaved producer does: under `.tmp`, then renamed. */
export function drop(dir: string, name: string, body: string | Uint8Array): void {
  writeFileSync(join(dir, `${name}.tmp`), body);
  renameSync(join(dir, `${name}.tmp`), join(dir, name));
}

export const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

/** How the recording hub answers a message. */
export type Answer = 'ack' | { nack: number } | 'leave';

/** A SourceContext that acks (or nacks) every message at once and records what it saw. */
export class HubStub implements SourceContext {
  readonly name = 'drop';
  readonly logger = createLogger('silent');
  readonly statuses: ConnectorHealth[] = [];
  readonly messages: SourceMessage[] = [];
  readonly batches: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Keep every message (off for very large files; counts are kept either way). */
  keep = true;
  delivered = 0;
  answer: (message: SourceMessage) => Answer = () => 'ack';
  private readonly controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort();
  }

  async deliver(messages: readonly SourceMessage[]): Promise<void> {
    this.inFlight += messages.length;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.batches.push(messages.length);
    this.delivered += messages.length;
    if (this.keep) this.messages.push(...messages);
    try {
      for (const message of messages) {
        const answer = this.answer(message);
        if (answer === 'ack') await message.ack();
        else if (answer !== 'leave') await message.nack(answer.nack);
      }
    } finally {
      this.inFlight -= messages.length;
    }
  }

  health(status: ConnectorHealth): void {
    this.statuses.push(status);
  }

  get lastStatus(): ConnectorHealth | undefined {
    return this.statuses.at(-1);
  }

  /** Every event the messages carried, in order. */
  events() {
    return this.messages.flatMap((m) => m.events ?? []);
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public time = Date.UTC(2024, 5, 1)) {}
  readonly now = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * A started source on a fresh drop folder, scanned only when the test says (the poll interval is an
 * hour), with a hand-moved clock.
 */
export async function startSource(
  raw: Record<string, unknown>,
  options: { dir?: string; stableFor?: string } = {},
): Promise<{
  dir: string;
  source: FileDropSource;
  hub: HubStub;
  clock: ManualClock;
  config: FilesSourceConfig;
}> {
  const dir = options.dir ?? tempDir();
  const config = compile({ dir, pollInterval: '1h', stableFor: options.stableFor ?? '0ms', ...raw });
  const clock = new ManualClock();
  const hub = new HubStub();
  const source = new FileDropSource(config, 'drop', { now: clock.now });
  await source.start(hub);
  await source.scanNow();
  return { dir, source, hub, clock, config };
}
