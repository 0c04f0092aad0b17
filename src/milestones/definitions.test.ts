import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfigFromObject } from '../config/index.js';
import { correlationOf, DEFAULT_MILESTONES, milestoneId } from './definitions.js';

const CONNECTORS = {
  erp: { kind: 'http', url: 'http://127.0.0.1:9/postings' },
  crm: { kind: 'http', url: 'http://127.0.0.1:9/alerts', timeout: '3s' },
};
const ROUTES = [{ name: 'erp-postings', types: ['production.*', 'supplier.asn.received'], sink: 'erp' }];

function problemsOf(raw: Record<string, unknown>): Array<{ path: string; message: string }> {
  try {
    loadConfigFromObject(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('the configuration was accepted');
}

test('milestones and alerts compile: durations in ms, alerts as implicit routes to their sink', () => {
  const config = loadConfigFromObject({
    connectors: CONNECTORS,
    routes: ROUTES,
    milestones: [
      {
        name: 'order-posted-to-erp',
        start: 'production.order.completed',
        end: { delivered: 'erp-postings' },
        correlate: 'subject',
        within: '15m',
      },
      {
        name: 'hold-dispositioned',
        start: 'quality.hold.placed',
        end: { type: 'quality.disposition.decided' },
        correlate: 'data.holdId',
        within: '4h',
        plants: ['P1'],
      },
    ],
    alerts: [
      { when: 'milestone.late', sink: 'crm' },
      { when: 'milestone.met', sink: 'crm' },
    ],
  });
  assert.deepEqual(config.milestones.skipped, []);
  assert.deepEqual(config.milestones.definitions, [
    {
      name: 'order-posted-to-erp',
      start: 'production.order.completed',
      end: { delivered: 'erp-postings' },
      correlate: 'subject',
      withinMs: 900_000,
      plants: null,
    },
    {
      name: 'hold-dispositioned',
      start: 'quality.hold.placed',
      end: { type: 'quality.disposition.decided' },
      correlate: 'data.holdId',
      withinMs: 14_400_000,
      plants: ['P1'],
    },
  ]);
  assert.deepEqual(
    config.routes.map((r) => [r.name, r.types, r.sink, r.timeoutMs, r.lane]),
    [
      ['erp-postings', ['production.*', 'supplier.asn.received'], 'erp', 5_000, 'critical'],
      ['alert-1-crm', ['conveyor.milestone.late', 'conveyor.milestone.cleared'], 'crm', 3_000, 'critical'],
      ['alert-2-crm', ['conveyor.milestone.met'], 'crm', 3_000, 'critical'],
    ],
  );
  assert.equal(config.routes[1]?.retry.maxAttempts, 8, 'alerts are retried like any route');
});

test('without a milestones key the built-in ones apply; those needing erp-postings wait for that route', () => {
  const bare = loadConfigFromObject({});
  assert.deepEqual(
    bare.milestones.definitions.map((d) => d.name),
    ['order-started-in-mes', 'hold-dispositioned', 'shipment-invoice-ready'],
  );
  assert.deepEqual(bare.milestones.skipped, [
    { name: 'order-posted-to-erp', route: 'erp-postings' },
    { name: 'asn-posted-to-erp', route: 'erp-postings' },
  ]);
  const withRoute = loadConfigFromObject({ connectors: CONNECTORS, routes: ROUTES });
  assert.deepEqual(
    withRoute.milestones.definitions.map((d) => d.name),
    DEFAULT_MILESTONES.map((d) => d.name),
  );
  assert.deepEqual(
    loadConfigFromObject({ milestones: [] }).milestones.definitions,
    [],
    'an empty list: none',
  );
});

test('every problem is named by key path with what would fix it', () => {
  const problems = problemsOf({
    connectors: CONNECTORS,
    routes: ROUTES,
    milestones: [
      {
        name: 'a',
        start: 'production.order.finished',
        end: { delivered: 'erp-posting' },
        correlate: 'subject',
        within: '15m',
      },
      {
        name: 'a',
        start: 'quality.hold.placed',
        end: { type: 'quality.hold.gone' },
        correlate: 'subject',
        within: '0s',
      },
    ],
    alerts: [{ when: 'milestone.late', sink: 'crn' }],
  });
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
  assert.match(
    byPath['milestones[0].start'] ?? '',
    /"production.order.finished" is not an event type of the catalog/,
  );
  assert.match(
    byPath['milestones[0].end.delivered'] ?? '',
    /no route named "erp-posting".*known: erp-postings/,
  );
  assert.match(byPath['milestones[1].name'] ?? '', /duplicate milestone name "a"/);
  assert.match(byPath['milestones[1].end.type'] ?? '', /not an event type of the catalog/);
  assert.match(byPath['milestones[1].within'] ?? '', /longer than 0/);
  assert.match(byPath['alerts[0].sink'] ?? '', /no connector named "crn".*known: erp, crm/);
});

test('shape problems say what is expected', () => {
  const problems = problemsOf({
    milestones: [
      {
        name: 'b',
        start: 'quality.hold.placed',
        end: { when: 'x' },
        correlate: 'holdId',
        within: 'soon',
        extra: 1,
      },
      { name: 'c', end: { type: 'quality.disposition.decided' }, correlate: 'subject', within: '1h' },
    ],
    alerts: [{ when: 'milestone.missed', sink: 'crm' }],
  });
  const byPath = new Map(problems.map((p) => [p.path, p.message]));
  assert.match(
    byPath.get('milestones[0].end') ?? '',
    /\{ type: <event type> \}.*\{ delivered: <route name> \}/,
  );
  assert.match(
    byPath.get('milestones[0].correlate') ?? '',
    /subject, or a data field path such as data.holdId/,
  );
  assert.match(byPath.get('milestones[0].within') ?? '', /a duration such as/);
  assert.match(byPath.get('milestones[0].extra') ?? '', /unknown key/);
  assert.equal(byPath.get('milestones[1].start'), 'is required');
  assert.match(byPath.get('alerts[0].when') ?? '', /milestone.late .* or milestone.met/);
});

test('an alert route may not take the name of a configured route', () => {
  const problems = problemsOf({
    connectors: CONNECTORS,
    routes: [{ name: 'alert-1-crm', types: ['production.*'], sink: 'erp' }],
    alerts: [{ when: 'milestone.late', sink: 'crm' }],
  });
  assert.deepEqual(
    problems.map((p) => p.path),
    ['alerts[0]'],
  );
});

test('correlation comes from the subject or a data path; ids are stable', () => {
  const event = {
    specversion: '1.0' as const,
    id: 'e',
    source: 's',
    type: 't',
    subject: 'PO-1',
    data: { holdId: 'QH-1', nested: { n: 7 }, empty: '' },
  };
  assert.equal(correlationOf(event, 'subject'), 'PO-1');
  assert.equal(correlationOf(event, 'data.holdId'), 'QH-1');
  assert.equal(correlationOf(event, 'data.nested.n'), '7');
  assert.equal(correlationOf(event, 'data.empty'), null);
  assert.equal(correlationOf(event, 'data.missing.deeper'), null);
  assert.equal(milestoneId('a', 'b'), milestoneId('a', 'b'));
  assert.notEqual(milestoneId('a', 'bc'), milestoneId('ab', 'c'));
});
