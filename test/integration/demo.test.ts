import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startHubProcess } from '../helpers/hub-process.js';

test('the demo releases orders, delivers them to each MES and records completions, then stops cleanly', {
  timeout: 120_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-demo-'));
  const key = 'cvy_demo-test-admin-key-abcdefghijklmnopqrstu';
  const demo = await startHubProcess(
    ['demo', '--port', '0', '--data', dataDir, '--rate', '20', '--plants', '2'],
    {
      CONVEYOR_ADMIN_KEY: key,
    },
  );
  try {
    // Small, filtered queries: each costs the same however long the demo has run (the suite runs other
    // heavy tests beside this one).
    const first = async (query: string) => {
      const res = await request(`${demo.url}/v1/events?${query}&limit=1`, {
        headers: { authorization: `Bearer ${key}` },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      assert.equal(res.statusCode, 200);
      return ((await res.body.json()) as { items: Array<{ subject: string; plant: string }> }).items[0];
    };
    const deadline = Date.now() + 60_000;
    for (const plant of ['P1', 'P2']) {
      let completion: { subject: string; plant: string } | undefined;
      while (!completion && Date.now() < deadline) {
        completion = await first(`type=production.operation.completed&plant=${plant}`);
        if (!completion) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(completion, `no completion from ${plant}'s MES within a minute: ${demo.stderr()}`);
      assert.equal(completion.plant, plant);
      const order = await first(
        `type=production.order.released&subject=${encodeURIComponent(completion.subject)}`,
      );
      assert.equal(order?.plant, plant, 'the completion belongs to an order released for that plant');
    }
    // The other systems act through their commands: the WMS reserves (a sync command answered by the
    // simulated WMS), the MES reports consumption, and the supplier's ASNs arrive.
    for (const type of [
      'inventory.reservation.created',
      'production.material.consumed',
      'supplier.asn.received',
    ]) {
      let event: { subject: string; plant: string } | undefined;
      while (!event && Date.now() < deadline) {
        event = await first(`type=${type}`);
        if (!event) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(event, `no ${type} within a minute: ${demo.stderr()}`);
    }
    // The plant side comes in through connectors: the line's Sparkplug B over MQTT, the press's OPC UA
    // server, and the supplier's X12 files dropped into the inbox folder.
    const sources = ['line-1', 'plc-1', 'asn-inbox'];
    let seen: Array<{ name: string; health: { type: string }; events: number }> = [];
    const done = () => sources.every((name) => (seen.find((c) => c.name === name)?.events ?? 0) >= 1);
    while (!done() && Date.now() < deadline) {
      const res = await request(`${demo.url}/v1/connectors`, { headers: { authorization: `Bearer ${key}` } });
      seen = ((await res.body.json()) as { items: typeof seen }).items;
      if (!done()) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(done(), `every source delivered within a minute: ${JSON.stringify(seen)}`);
    for (const name of sources) assert.equal(seen.find((c) => c.name === name)?.health.type, 'up', name);
  } finally {
    const exit = await demo.stop('SIGINT', 20_000);
    assert.equal(exit.code, 0, `the demo did not stop cleanly: ${demo.stderr()}`);
  }
});
