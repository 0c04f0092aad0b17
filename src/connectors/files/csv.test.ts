import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readHeader, rowDataBuilder } from './csv-rows.js';
import { drop, listDir, startSource } from './test-helpers.js';

describe('csv rows', () => {
  it('refuses header rows whose names cannot be data fields', () => {
    assert.throws(() => readHeader(['a', '']), /column 2/);
    assert.throws(() => readHeader(['a', 'a']), /twice/);
    assert.throws(() => readHeader(['a', 'a.b']), /nests under "a"/);
    assert.throws(() => readHeader(['a..b']), /empty part/);
    assert.deepEqual(readHeader([' plant ', 'quantity.value']).paths, [['plant'], ['quantity', 'value']]);
  });

  it('converts where the canonical schema asks for numbers and booleans, and keeps codes as text', () => {
    const build = rowDataBuilder('maintenance.downtime.started', null);
    const header = readHeader(['plant', 'equipmentId', 'reasonCode', 'planned', 'startedAt', 'shift']);
    assert.deepEqual(build(header, ['1000', '0042', '17', 'true', '2024-06-01T06:00:00Z', '3']), {
      plant: '1000',
      equipmentId: '0042',
      reasonCode: '17',
      planned: true,
      startedAt: '2024-06-01T06:00:00Z',
      // Not in the schema: converted because it looks like a number.
      shift: 3,
    });
  });

  it('nests dotted names and leaves empty cells out', () => {
    const build = rowDataBuilder('production.material.consumed', 'P9');
    const header = readHeader(['orderId', 'material', 'quantity.value', 'quantity.uom', 'lot', 'consumedAt']);
    assert.deepEqual(build(header, ['4711', '000123', '12.5', 'KG', '', '2024-06-01T06:00:00Z']), {
      orderId: '4711',
      material: '000123',
      quantity: { value: 12.5, uom: 'KG' },
      consumedAt: '2024-06-01T06:00:00Z',
      plant: 'P9',
    });
  });

  it('without a schema converts plain numbers only', () => {
    const build = rowDataBuilder('custom.thing.happened', null);
    const header = readHeader(['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(build(header, ['-1.5', '007', '1e3', '12345678901234567890', 'x1', 'NaN']), {
      a: -1.5,
      b: '007',
      c: 1000,
      d: '12345678901234567890',
      e: 'x1',
      f: 'NaN',
    });
  });
});

describe('files source: csv', () => {
  const counter = { pattern: '*.csv', format: 'csv', type: 'telemetry.machine.counter', plant: 'P1' };

  it('one message per row: header names as fields, stable ids, built-in events with numbers', async () => {
    const { dir, source, hub } = await startSource(counter);
    try {
      drop(
        dir,
        'counters.csv',
        '\uFEFFequipmentId,counter,value,at,note\r\n' +
          'PRESS-1,strokes,182340,2024-06-01T06:00:00Z,"said ""hi"", twice"\r\n' +
          'PRESS-2,temp,-3.25,2024-06-01T06:00:01Z,"two\nlines"\r\n' +
          '\r\n' +
          'PRESS-3,strokes,7,2024-06-01T06:00:02Z,\r\n',
      );
      await source.scanNow();
      assert.equal(hub.messages.length, 3);
      const [first, second, third] = hub.messages;
      assert.match(first!.id, /^counters\.csv:\d+:\d+#1$/);
      assert.equal(second!.id.replace(/#2$/, '#1'), first!.id);
      assert.deepEqual(first!.payload, {
        equipmentId: 'PRESS-1',
        counter: 'strokes',
        value: '182340',
        at: '2024-06-01T06:00:00Z',
        note: 'said "hi", twice',
      });
      assert.equal((second!.payload as Record<string, string>).note, 'two\nlines');
      assert.equal(first!.raw, 'PRESS-1,strokes,182340,2024-06-01T06:00:00Z,"said ""hi"", twice"');
      assert.match(first!.origin, /counters\.csv:2$/);
      assert.match(third!.origin, /counters\.csv:6$/);
      assert.deepEqual(first!.events, [
        {
          type: 'telemetry.machine.counter',
          plant: 'P1',
          data: {
            equipmentId: 'PRESS-1',
            counter: 'strokes',
            value: 182340,
            at: '2024-06-01T06:00:00Z',
            note: 'said "hi", twice',
            plant: 'P1',
          },
        },
      ]);
      assert.equal((second!.events![0]!.data as { value: number }).value, -3.25);
      assert.deepEqual(listDir(dir), ['processed']);
      assert.deepEqual(listDir(join(dir, 'processed')), ['counters.csv']);
      assert.equal(hub.lastStatus?.type, 'up');
    } finally {
      await source.stop();
    }
  });

  it('takes the plant from the row before the connector, and honours delimiter and encoding', async () => {
    const { dir, source, hub } = await startSource({
      ...counter,
      csv: { delimiter: ';', encoding: 'latin1' },
    });
    try {
      drop(
        dir,
        'a.csv',
        Buffer.from(
          'plant;equipmentId;counter;value;at\nP7;PRESSE-Ä;Hübe;1;2024-06-01T06:00:00Z\n',
          'latin1',
        ),
      );
      await source.scanNow();
      const [event] = hub.events();
      assert.equal(event?.plant, 'P7');
      assert.deepEqual(event?.data, {
        plant: 'P7',
        equipmentId: 'PRESSE-Ä',
        counter: 'Hübe',
        value: 1,
        at: '2024-06-01T06:00:00Z',
      });
    } finally {
      await source.stop();
    }
  });

  it('with a map, rows are payloads only: values stay strings, no built-in events', async () => {
    const { dir, source, hub } = await startSource({
      ...counter,
      type: undefined,
      map: '{"type": "x.y", "data": $}',
    });
    try {
      drop(dir, 'a.csv', 'equipmentId,value\nP-1,12\n');
      await source.scanNow();
      assert.equal(hub.messages.length, 1);
      assert.deepEqual(hub.messages[0]!.payload, { equipmentId: 'P-1', value: '12' });
      assert.equal(hub.messages[0]!.events, undefined);
    } finally {
      await source.stop();
    }
  });

  it('a row with the wrong number of fields is a message with an error; the file still goes to processed', async () => {
    const { dir, source, hub } = await startSource(counter);
    try {
      drop(dir, 'a.csv', 'equipmentId,counter,value,at\nP-1,c,1,2024-06-01T06:00:00Z\nP-2,c\n');
      await source.scanNow();
      assert.equal(hub.messages.length, 2);
      assert.equal(hub.messages[0]!.error, undefined);
      assert.match(hub.messages[1]!.error ?? '', /line 3 has 2 fields; the header row names 4/);
      assert.deepEqual(hub.messages[1]!.events, []);
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
    } finally {
      await source.stop();
    }
  });

  it('a header-only file is processed with no messages; an unclosed quote fails the file at its line', async () => {
    const { dir, source, hub } = await startSource(counter);
    try {
      drop(dir, 'a.csv', 'equipmentId,counter\n');
      drop(dir, 'b.csv', 'equipmentId,counter\nP-1,c\nP-2,"open\n');
      drop(dir, 'c.csv', 'equipmentId,equipmentId\nP-1,c\n');
      await source.scanNow();
      assert.deepEqual(listDir(join(dir, 'processed')), ['a.csv']);
      assert.deepEqual(listDir(join(dir, 'failed')), [
        'b.csv',
        'b.csv.error.json',
        'c.csv',
        'c.csv.error.json',
      ]);
      // b.csv: the good row first, then one message for the file.
      assert.deepEqual(
        hub.messages.map((m) => [m.id.replace(/:\d+:\d+/, ''), m.error !== undefined]),
        [
          ['b.csv#1', false],
          ['b.csv#file', true],
          ['c.csv#file', true],
        ],
      );
      assert.equal(hub.lastStatus?.type, 'degraded');
    } finally {
      await source.stop();
    }
  });

  it('streams a 200,000-row file: the hub never holds more than one batch', async () => {
    const { dir, source, hub } = await startSource({ ...counter, batchSize: 500 });
    hub.keep = false;
    try {
      const tmp = join(dir, 'big.csv.tmp');
      const out = createWriteStream(tmp);
      out.write('equipmentId,counter,value,at\n');
      for (let i = 0; i < 200_000; i++) {
        if (!out.write(`PRESS-${i % 50},strokes,${i},2024-06-01T06:00:00Z\n`)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      renameSync(tmp, join(dir, 'big.csv'));
      await source.scanNow();
      assert.equal(hub.delivered, 200_000);
      assert.equal(hub.batches.length, 400);
      assert.ok(hub.batches.every((n) => n === 500));
      assert.ok(hub.maxInFlight <= 500, `at most one batch in flight, saw ${hub.maxInFlight}`);
      assert.deepEqual(listDir(join(dir, 'processed')), ['big.csv']);
    } finally {
      await source.stop();
    }
  });

  it('a 200 MB file is streamed in bounded memory; its broken rows are reported by line, the rest delivered', async () => {
    const { dir, source, hub } = await startSource({ ...counter, batchSize: 500 });
    hub.keep = false;
    const broken = new Set([10, 50_000, 107_000]);
    const note = 'x'.repeat(1_900);
    const rows = 108_000;
    const errors: string[] = [];
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    let seen = 0;
    hub.answer = (message) => {
      if (message.error !== undefined) errors.push(message.error);
      if (++seen % 1_000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      return 'ack';
    };
    try {
      const tmp = join(dir, 'huge.csv.tmp');
      const out = createWriteStream(tmp);
      out.write('equipmentId,counter,value,at,note\n');
      for (let row = 1; row <= rows; row++) {
        // A broken row lacks its last two fields; the file's line of row N is N + 1.
        const line = broken.has(row)
          ? `PRESS-${row % 50},strokes,${row}\n`
          : `PRESS-${row % 50},strokes,${row},2024-06-01T06:00:00Z,${note}\n`;
        if (!out.write(line)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      const bytes = statSync(tmp).size;
      assert.ok(bytes > 200 * 1024 * 1024, `the file has ${bytes} bytes`);
      renameSync(tmp, join(dir, 'huge.csv'));
      await source.scanNow();
      assert.equal(hub.delivered, rows);
      assert.deepEqual(
        errors.map((e) => /line (\d+) has 3 fields; the header row names 5/.exec(e)?.[1]),
        [...broken].map((row) => String(row + 1)),
      );
      assert.deepEqual(listDir(join(dir, 'processed')), ['huge.csv']);
      // Reading it whole would need more than the file's size; streaming needs a few batches.
      const grewMb = (rssPeak - rssBefore) / 2 ** 20;
      assert.ok(grewMb < 120, `resident memory grew by ${grewMb.toFixed(0)} MB while reading a 200 MB file`);
    } finally {
      await source.stop();
    }
  });
});
