import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { createFilesSource, type FileDropSource } from '../../src/connectors/files/source.js';
import { filesSourceSpec } from '../../src/connectors/files/spec.js';
import {
  type ConnectorUnderTest,
  connectorContract,
  RecordingContext,
} from '../contracts/connector-contract.js';

/** The peer of a drop folder is the folder: it exists while the peer is up, and files appear in it. */
class DropFolder {
  private files = 0;
  private rows = 0;

  constructor(readonly dir: string) {}

  start(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  /** Gone, as an unmounted share or a deleted folder looks. */
  stop(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One CSV of `count` distinct rows, written under .tmp and renamed as producers are told to. */
  produce(count: number): void {
    if (count === 0) return;
    const lines = ['equipmentId,counter,value,at'];
    for (let i = 0; i < count; i++) {
      this.rows++;
      lines.push(`PRESS-${this.rows},strokes,${this.rows},2024-06-01T06:00:00Z`);
    }
    const name = `counters-${String(++this.files).padStart(6, '0')}.csv`;
    writeFileSync(join(this.dir, `${name}.tmp`), `${lines.join('\n')}\n`);
    renameSync(join(this.dir, `${name}.tmp`), join(this.dir, name));
  }
}

function compiled(dir: string) {
  const raw = {
    kind: 'files',
    dir,
    pattern: '*.csv',
    format: 'csv',
    type: 'telemetry.machine.counter',
    plant: 'P1',
    pollInterval: '20ms',
    stableFor: '0ms',
  };
  assert.ok(Value.Check(filesSourceSpec.schema, raw), 'the test config is schema-valid');
  const problems: Array<{ path: string; message: string }> = [];
  const config = filesSourceSpec.compile(raw, 'connectors.drop', problems, tmpdir());
  assert.deepEqual(problems, []);
  return config;
}

/**
 * Resolves once every running source has either finished two scans since the call (so one scan
 * started after it) or has a batch with the hub (it reads nothing more until the hub answers).
 */
async function settle(sources: readonly FileDropSource[]): Promise<void> {
  const watched = sources.filter((s) => s.running).map((source) => ({ source, from: source.scans }));
  const deadline = Date.now() + 10_000;
  const settled = () =>
    watched.every(({ source, from }) => !source.running || source.waitingOnHub || source.scans >= from + 2);
  while (!settled()) {
    if (Date.now() > deadline) throw new Error('the files source did not finish a scan within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

connectorContract('files (csv)', async (): Promise<ConnectorUnderTest> => {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-files-contract-'));
  const folder = new DropFolder(join(root, 'drop'));
  const config = compiled(folder.dir);
  const sources: FileDropSource[] = [];
  return {
    startPeer: async () => folder.start(),
    stopPeer: async () => folder.stop(),
    produce: async (count) => folder.produce(count),
    settle: () => settle(sources),
    createSource: () => {
      const source = createFilesSource(config, 'drop') as FileDropSource;
      sources.push(source);
      return source;
    },
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
});

describe('files connector: drop folder end to end', () => {
  it('a file is moved to processed only after the hub acked every row, and rows carry the built-in events', async () => {
    const root = mkdtempSync(join(tmpdir(), 'conveyor-files-e2e-'));
    const folder = new DropFolder(join(root, 'drop'));
    folder.start();
    const ctx = new RecordingContext();
    let release: () => void = () => undefined;
    ctx.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source = createFilesSource(compiled(folder.dir), 'drop');
    await source.start(ctx);
    try {
      folder.produce(3);
      await ctx.until(() => ctx.delivered.length === 3, 'three rows delivered');
      assert.deepEqual(
        listNames(folder.dir),
        ['counters-000001.csv'],
        'still in the drop folder while unacked',
      );
      release();
      await ctx.until(() => listNames(join(folder.dir, 'processed')).length === 1, 'the file moved');
      assert.deepEqual(ctx.delivered[0]!.events, [
        {
          type: 'telemetry.machine.counter',
          plant: 'P1',
          data: {
            equipmentId: 'PRESS-1',
            counter: 'strokes',
            value: 1,
            at: '2024-06-01T06:00:00Z',
            plant: 'P1',
          },
        },
      ]);
    } finally {
      release();
      await source.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** The CSV files in a folder (not its processed/failed folders). */
function listNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.csv'));
  } catch {
    return [];
  }
}
