import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileDropSource } from './source.js';
import { compile, drop, HubStub, listDir, startSource, tempDir } from './test-helpers.js';

const counter = { pattern: '*.csv', format: 'csv', type: 'telemetry.machine.counter', plant: 'P1' };
const HEADER = 'equipmentId,counter,value,at\n';
const row = (i: number) => `M-${i},strokes,${i},2024-06-01T06:00:00Z\n`;
const rows = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => row(from + i)).join('');

describe('files source: when a file is read', () => {
  it('a file still growing is not read until its size and mtime have held for stableFor', async () => {
    const { dir, source, hub, clock } = await startSource(counter, { stableFor: '500ms' });
    try {
      const path = join(dir, 'a.csv');
      writeFileSync(path, HEADER + row(1));
      await source.scanNow();
      clock.advance(400);
      appendFileSync(path, row(2));
      await source.scanNow();
      clock.advance(400);
      await source.scanNow();
      assert.equal(hub.messages.length, 0, 'changed 400ms ago: not stable yet');
      clock.advance(100);
      await source.scanNow();
      assert.equal(hub.messages.length, 2, 'read whole once stable');
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
    } finally {
      await source.stop();
    }
  });

  it('*.tmp and dot files are ignored until renamed; files that do not match stay put', async () => {
    const { dir, source, hub } = await startSource(counter);
    try {
      writeFileSync(join(dir, 'a.csv.tmp'), HEADER + row(1));
      writeFileSync(join(dir, '.b.csv'), HEADER + row(2));
      writeFileSync(join(dir, 'c.txt'), HEADER + row(3));
      mkdirSync(join(dir, 'sub.csv'));
      await source.scanNow();
      assert.equal(hub.messages.length, 0);
      renameSync(join(dir, 'a.csv.tmp'), join(dir, 'a.csv'));
      renameSync(join(dir, '.b.csv'), join(dir, 'b.csv'));
      await source.scanNow();
      assert.deepEqual(
        hub.messages.map((m) => (m.payload as { equipmentId: string }).equipmentId),
        ['M-1', 'M-2'],
      );
      assert.deepEqual(listDir(dir), ['c.txt', 'processed', 'sub.csv']);
    } finally {
      await source.stop();
    }
  });

  it('files are taken in name order, each once; a name dropped again is archived beside the first', async () => {
    const { dir, source, hub } = await startSource(counter);
    try {
      drop(dir, 'b.csv', HEADER + row(2));
      drop(dir, 'a.csv', HEADER + row(1));
      await source.scanNow();
      await source.scanNow();
      drop(dir, 'a.csv', HEADER + row(3) + row(4));
      await source.scanNow();
      assert.deepEqual(
        hub.messages.map((m) => (m.payload as { equipmentId: string }).equipmentId),
        ['M-1', 'M-2', 'M-3', 'M-4'],
      );
      assert.equal(new Set(hub.messages.map((m) => m.id)).size, 4);
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.1.csv', 'a.csv', 'b.csv']);
    } finally {
      await source.stop();
    }
  });

  it('polls by itself at pollInterval', async () => {
    const dir = tempDir();
    const hub = new HubStub();
    const source = new FileDropSource(compile({ dir, pollInterval: '20ms', stableFor: '0ms', ...counter }));
    await source.start(hub);
    try {
      drop(dir, 'a.csv', HEADER + row(1));
      const deadline = Date.now() + 10_000;
      while (listDir(join(dir, 'processed')).length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
      assert.equal(hub.messages.length, 1);
    } finally {
      await source.stop();
    }
  });
});

describe('files source: acknowledgements and restarts', () => {
  it('a nacked batch is offered again after retryInMs from the first message not acked, same ids', async () => {
    const { dir, source, hub, clock } = await startSource({ ...counter, batchSize: 2 });
    try {
      let refuse = true;
      hub.answer = (m) => (refuse && m.id.endsWith('#4') ? { nack: 1000 } : 'ack');
      drop(dir, 'a.csv', HEADER + rows(1, 6));
      await source.scanNow();
      const ids = hub.messages.map((m) => m.id.replace(/^.*#/, ''));
      assert.deepEqual(ids, ['1', '2', '3', '4']);
      assert.deepEqual(listDir(dir), ['a.csv'], 'not moved while a message is not acked');
      await source.scanNow();
      assert.equal(hub.messages.length, 4, 'not before retryInMs');
      refuse = false;
      clock.advance(1000);
      await source.scanNow();
      assert.deepEqual(
        hub.messages.map((m) => m.id.replace(/^.*#/, '')),
        ['1', '2', '3', '4', '4', '5'],
      );
      assert.equal(hub.messages[3]!.id, hub.messages[4]!.id);
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
    } finally {
      await source.stop();
    }
  });

  it('a file delivered but not acked before a stop is read again by the next source, with the same ids', async () => {
    const dir = tempDir();
    const config = compile({ dir, pollInterval: '1h', stableFor: '0ms', ...counter });
    drop(dir, 'a.csv', HEADER + rows(1, 4));
    const first = new HubStub();
    first.answer = () => 'leave';
    const killed = new FileDropSource(config, 'drop', { stopGraceMs: 50 });
    await killed.start(first);
    await killed.scanNow();
    first.abort();
    await killed.stop();
    assert.equal(first.messages.length, 3);
    assert.deepEqual(listDir(dir), ['a.csv']);

    const second = new HubStub();
    const again = new FileDropSource(config);
    await again.start(second);
    try {
      await again.scanNow();
      assert.deepEqual(
        second.messages.map((m) => m.id),
        first.messages.map((m) => m.id),
      );
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
    } finally {
      await again.stop();
    }
  });

  it('stop waits for the delivery in flight, then reads nothing more', async () => {
    const { dir, source, hub } = await startSource({ ...counter, batchSize: 1 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inDelivery = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const deliver = hub.deliver.bind(hub);
    hub.deliver = async (messages) => {
      entered();
      await held;
      return deliver(messages);
    };
    drop(dir, 'a.csv', HEADER + rows(1, 4));
    const scanning = source.scanNow();
    await inDelivery;
    const stopping = source.stop();
    release();
    await stopping;
    await scanning;
    assert.equal(hub.messages.length, 1, 'the batch in flight finished; no further batch was read');
    assert.deepEqual(listDir(dir), ['a.csv']);
    await source.stop();
  });
});

describe('files source: health', () => {
  it('connecting, then up; down with the reason while the folder is missing; up again when it is back', async () => {
    const dir = join(tempDir(), 'drop');
    mkdirSync(dir);
    const { source, hub } = await startSource(counter, { dir });
    try {
      assert.deepEqual(
        hub.statuses.map((s) => s.type),
        ['connecting', 'up'],
      );
      rmSync(dir, { recursive: true });
      await source.scanNow();
      const down = hub.lastStatus;
      assert.equal(down?.type, 'down');
      assert.match(down?.type === 'down' ? down.reason : '', /does not exist/);
      assert.equal(down?.type === 'down' ? down.retryInMs : 0, 3_600_000);
      await source.scanNow();
      assert.equal(hub.statuses.length, 3, 'a status is reported when it changes, not on every scan');
      mkdirSync(dir);
      drop(dir, 'a.csv', HEADER + row(1));
      await source.scanNow();
      assert.equal(hub.lastStatus?.type, 'up');
      assert.equal(hub.messages.length, 1);
    } finally {
      await source.stop();
    }
  });

  it('degraded while a finished file cannot be moved; moved later without being read again', async () => {
    const dir = tempDir();
    const blocked = join(dir, 'processed');
    writeFileSync(blocked, 'a file where the folder should be');
    const { source, hub } = await startSource({ ...counter, pattern: '*.csv' }, { dir });
    try {
      drop(dir, 'a.csv', HEADER + row(1));
      await source.scanNow();
      assert.equal(hub.lastStatus?.type, 'degraded');
      assert.match(hub.lastStatus?.type === 'degraded' ? hub.lastStatus.reason : '', /cannot be moved/);
      rmSync(blocked);
      await source.scanNow();
      assert.equal(hub.messages.length, 1);
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
      assert.equal(hub.lastStatus?.type, 'up');
    } finally {
      await source.stop();
    }
  });
});
