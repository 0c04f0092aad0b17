import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { makeEvent } from '../helpers/events.js';
import { auth, createTestHub } from '../helpers/hub.js';
import { TestReceiver } from '../helpers/receiver.js';

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const item of open.reverse()) await item.close().catch(() => undefined);
});

const DOC = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

/** Labels whose values grow with traffic: they belong in logs and traces, never on a metric. */
const UNBOUNDED =
  /^(id|.*_id|.*Id|subject|correlation|key|partitionkey|sequence|url|path|topic|origin|file)$/;

/** Histogram and summary series labels that prom-client adds itself. */
const SERIES_LABELS = new Set(['le', 'quantile']);

/** The documented metrics: name and the label names in the table's labels column. */
function documented(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of DOC.split('\n')) {
    if (!line.startsWith('| `conveyor_')) continue;
    const cells = line.split('|').map((c) => c.trim());
    const name = /`([a-z_]+)`/.exec(cells[1] ?? '')?.[1] as string;
    // Label names are the backticked words outside parentheses (the values are inside).
    const labels = [...(cells[4] ?? '').replace(/\([^)]*\)/g, '').matchAll(/`([A-Za-z_]+)`/g)].map(
      (m) => m[1] as string,
    );
    rows.set(name, labels);
  }
  return rows;
}

test('every metric the hub exports is in docs/metrics.md with its labels, and the page names no other', async () => {
  const rx = new TestReceiver();
  await rx.listen();
  open.push(rx);
  const dropDir = mkdtempSync(join(tmpdir(), 'conveyor-metrics-drop-'));
  // A route, a source, a command, a milestone and an alert: every part that registers metrics.
  const hub = await createTestHub({
    connectors: {
      rx: { kind: 'http', url: rx.url },
      drop: {
        kind: 'files',
        dir: dropDir,
        pattern: '*.csv',
        format: 'csv',
        type: 'telemetry.machine.counter',
        plant: 'P1',
        pollInterval: '1s',
      },
    },
    routes: [{ name: 'orders', types: ['production.*'], sink: 'rx' }],
    milestones: [
      {
        name: 'release-to-start',
        start: 'production.order.released',
        end: { type: 'production.operation.completed' },
        correlate: 'subject',
        within: '1h',
      },
    ],
    alerts: [{ when: 'milestone.late', sink: 'rx' }],
  });
  await hub.listen();
  open.push(hub);
  const event = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(makeEvent()),
  });
  assert.equal(event.statusCode, 202, event.body);
  const command = await hub.app.inject({
    method: 'POST',
    url: '/v1/material-consumptions',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: { orderId: 'PO-1', plant: 'P1', material: 'RM-10', quantity: { value: 5, uom: 'KG' } },
  });
  assert.equal(command.statusCode, 202, command.body);
  await rx.waitFor(() => rx.received.length >= 1, 10_000, 'a delivery');

  const scrape = await hub.app.inject({ method: 'GET', url: '/metrics', headers: auth() });
  assert.equal(scrape.statusCode, 200);
  // Requests count by route pattern, never by URL.
  assert.match(
    scrape.body,
    /^conveyor_http_requests_total\{route="\/v1\/events",method="POST",status="202"\} 1$/m,
  );
  const exported = new Set(
    [...scrape.body.matchAll(/^# TYPE (conveyor_[a-z0-9_]+) /gm)].map((m) => m[1] as string),
  );
  const docs = documented();
  for (const name of exported) assert.ok(docs.has(name), `${name} is exported but not in docs/metrics.md`);
  for (const name of docs.keys())
    assert.ok(exported.has(name), `${name} is in docs/metrics.md but not exported`);

  for (const name of exported) {
    const metric = hub.metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] };
    assert.deepEqual([...metric.labelNames].sort(), [...(docs.get(name) ?? [])].sort(), `labels of ${name}`);
    for (const label of metric.labelNames)
      assert.doesNotMatch(label, UNBOUNDED, `${name} has a label (${label}) whose values are unbounded`);
    if (name.endsWith('_total'))
      assert.ok(scrape.body.includes(`# TYPE ${name} counter`), `${name} is a counter`);
  }
  // The samples too: no label value looks like an id the hub generated.
  for (const [, labels] of scrape.body.matchAll(/^conveyor_[a-z0-9_]+\{([^}]*)\}/gm)) {
    for (const [, label] of (labels as string).matchAll(/([a-zA-Z_]+)="/g))
      assert.ok(SERIES_LABELS.has(label as string) || !UNBOUNDED.test(label as string), label);
    assert.doesNotMatch(labels as string, /[0-9a-f]{8}-[0-9a-f]{4}-/, 'a label value is an id');
  }
});

test('the process metrics are the conveyor_process_ family the page describes', async () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'conveyor_process_' });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(names.length > 10);
  for (const name of names) assert.ok(name.startsWith('conveyor_process_'), name);
  assert.match(DOC, /prefixed `conveyor_process_`/);
  for (const named of DOC.matchAll(/`(conveyor_process_[a-z0-9_]+)`/g))
    assert.ok(names.includes(named[1] as string), `${named[1]} is not a process metric`);
});
