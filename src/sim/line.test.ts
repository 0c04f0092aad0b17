import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { decodePayload, encodePayload } from '../connectors/mqtt/sparkplug/codec.js';
import { EmbeddedBroker, SimulatedLine } from './line.js';

test('the line announces itself, reports by alias with a counting seq, and is reborn on request', async () => {
  const broker = new EmbeddedBroker();
  const url = await broker.listen();
  const seen: Array<{ topic: string; seq?: number; names: string[]; aliases: number[] }> = [];
  const observer = await mqtt.connectAsync(url, { clientId: 'observer' });
  const waiters: Array<() => void> = [];
  observer.on('message', (topic, payload) => {
    const decoded = decodePayload(payload);
    seen.push({
      topic,
      ...(decoded.seq !== undefined ? { seq: decoded.seq } : {}),
      names: decoded.metrics.flatMap((m) => (m.name ? [m.name] : [])),
      aliases: decoded.metrics.flatMap((m) => (m.alias !== undefined ? [Number(m.alias)] : [])),
    });
    for (const wake of waiters.splice(0)) wake();
  });
  const until = async (predicate: () => boolean) => {
    for (const deadline = Date.now() + 10_000; !predicate(); ) {
      assert.ok(Date.now() < deadline, `timed out: ${JSON.stringify(seen)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  await observer.subscribeAsync('spBv1.0/#', { qos: 1 });
  const line = new SimulatedLine(url, { groupId: 'P1', edgeNodeId: 'LINE-1', intervalMs: 50 });
  try {
    await line.start();
    await until(() => seen.filter((m) => m.topic.endsWith('/NDATA/LINE-1')).length >= 2);
    const [birth] = seen;
    assert.equal(birth?.topic, 'spBv1.0/P1/NBIRTH/LINE-1');
    assert.equal(birth?.seq, 0);
    assert.deepEqual(birth?.names, ['bdSeq', 'Node Control/Rebirth', 'State', 'GoodCount', 'ScrapCount']);
    const data = seen.filter((m) => m.topic.endsWith('/NDATA/LINE-1'));
    assert.deepEqual(
      data.slice(0, 2).map((m) => m.seq),
      [1, 2],
    );
    assert.ok(data[0]?.aliases.includes(2), 'counters travel by alias');
    const rebirth = encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: 'Node Control/Rebirth', datatype: 'Boolean', value: true }],
    });
    await observer.publishAsync('spBv1.0/P1/NCMD/LINE-1', Buffer.from(rebirth), { qos: 1 });
    await until(() => seen.filter((m) => m.topic.endsWith('/NBIRTH/LINE-1')).length >= 2);
  } finally {
    await line.stop();
    await observer.endAsync(true);
    await broker.close();
  }
});
