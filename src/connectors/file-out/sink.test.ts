import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import jsonata from 'jsonata';
import { makeEvent } from '../../../test/helpers/events.js';
import { auth, createTestHub } from '../../../test/helpers/hub.js';
import { systemClock } from '../../delivery/clock.js';
import type { StoredEvent } from '../../model/envelope.js';
import { FileOutSink } from './sink.js';

test('routes deliver to daily files: JSON lines of the event, and CSV columns of a transform, synced before delivered', async () => {
  const out = mkdtempSync(join(tmpdir(), 'conveyor-file-out-'));
  const hub = await createTestHub({
    connectors: {
      archive: { kind: 'file-out', dir: join(out, 'archive') },
      legacy: {
        kind: 'file-out',
        dir: join(out, 'legacy'),
        format: 'csv',
        prefix: 'ops',
        columns: ['id', 'order', 'good'],
      },
    },
    routes: [
      { name: 'to-archive', types: ['production.*'], sink: 'archive' },
      {
        name: 'to-legacy',
        types: ['production.operation.completed'],
        sink: 'legacy',
        transform: '{"id": id, "order": data.orderId, "good": data.quantityGood.value}',
      },
    ],
  });
  await hub.listen();
  try {
    const events = [makeEvent({ subject: 'PO-F1' }), makeEvent({ subject: 'PO-F2, "quoted"' })];
    const res = await hub.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth(), 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events),
    });
    assert.equal(res.statusCode, 202);
    const delivered = () => hub.delivery.subscriptions().every((s) => s.delivered >= 2);
    for (const deadline = Date.now() + 20_000; !delivered() && Date.now() < deadline; )
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(delivered(), JSON.stringify(hub.delivery.subscriptions()));

    const [archiveFile] = readdirSync(join(out, 'archive'));
    assert.match(archiveFile ?? '', /^archive-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const lines = readFileSync(join(out, 'archive', archiveFile as string), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).id),
      events.map((e) => e.id),
    );
    assert.ok(
      lines.every((l) => typeof JSON.parse(l).sequence === 'number'),
      'the stored event, with its sequence',
    );

    const [legacyFile] = readdirSync(join(out, 'legacy'));
    assert.match(legacyFile ?? '', /^ops-.*\.csv$/);
    const csv = readFileSync(join(out, 'legacy', legacyFile as string), 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'id,order,good');
    assert.equal(csv[1], `${events[0]?.id},PO-F1,10`);
    assert.equal(csv[2], `${events[1]?.id},"PO-F2, ""quoted""",10`);
  } finally {
    await hub.close();
  }
});

test('a file-out connector without csv columns, or a source kind as a route sink, is refused at start', async () => {
  await assert.rejects(
    createTestHub({
      connectors: { legacy: { kind: 'file-out', dir: 'x', format: 'csv' } },
      routes: [{ name: 'r', types: ['production.*'], sink: 'legacy' }],
    }),
    /connectors\.legacy\.columns: csv needs the columns/,
  );
  await assert.rejects(
    createTestHub({
      connectors: {
        poll: { kind: 'rest-poll', url: 'http://127.0.0.1:1/x', type: 'production.order.released' },
      },
      routes: [{ name: 'r', types: ['production.*'], sink: 'poll' }],
    }),
    /routes\[0\]\.sink: connector "poll" is kind rest-poll, which cannot receive deliveries; sink kinds: file-out, http/,
  );
});

test('a batch is appended in one write, in order, and a transform failing on one event refuses the batch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-file-out-batch-'));
  const sink = new FileOutSink({ dir, format: 'jsonl', prefix: 'out', columns: [] }, systemClock);
  try {
    const events = Array.from({ length: 5 }, (_, i) => ({
      ...makeEvent({ subject: `PO-B${i}` }),
      sequence: i + 1,
    })) as StoredEvent[];
    const outcome = await sink.sendBatch(events, null);
    assert.equal(outcome.kind, 'delivered');
    const [file] = readdirSync(dir);
    const lines = readFileSync(join(dir, file as string), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).sequence),
      [1, 2, 3, 4, 5],
    );
    const failing = jsonata('$error("no")');
    assert.equal((await sink.sendBatch(events, failing)).kind, 'rejected');
    assert.equal(
      readFileSync(join(dir, file as string), 'utf8')
        .trim()
        .split('\n').length,
      5,
      'nothing written',
    );
  } finally {
    await sink.close();
  }
});
