import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkHistory,
  type Delivery,
  formatReport,
  type History,
  type RouteHistory,
  type RouteModel,
  type SentEvent,
  violations,
} from './checker.js';

const qualityRoute: RouteModel = {
  name: 'quality',
  selects: (e) => e.type.startsWith('quality.'),
};

function sent(id: string, key: string, options: { type?: string; acked?: boolean } = {}): SentEvent {
  return {
    id,
    key,
    type: options.type ?? 'quality.hold.placed',
    plant: 'P1',
    digest: `digest-${id}`,
    acked: options.acked ?? true,
  };
}

function delivered(
  id: string,
  sequence: number,
  key: string,
  options: { digest?: string; epoch?: number; late?: boolean; at?: number; sender?: string } = {},
): Delivery {
  return {
    route: 'quality',
    id,
    sequence,
    key,
    digest: options.digest ?? `digest-${id}`,
    epoch: options.epoch ?? 0,
    late: options.late ?? false,
    at: options.at ?? sequence,
    sender: options.sender ?? 'hub',
  };
}

function history(events: SentEvent[], deliveries: Delivery[], route: Partial<RouteHistory> = {}): History {
  return {
    sent: new Map(events.map((e) => [e.id, e])),
    deliveries,
    routes: [
      {
        route: qualityRoute,
        deadLettered: new Set(),
        dlqOpen: new Set(),
        duplicateAllowance: 0,
        timeoutMs: 1_000,
        replays: [],
        ...route,
      },
    ],
  };
}

const only = (h: History) => {
  const [report] = checkHistory(h);
  assert.ok(report);
  return report;
};

test('a clean history has nothing to report', () => {
  const report = only(
    history([sent('a', 'k1'), sent('b', 'k1')], [delivered('a', 1, 'k1'), delivered('b', 2, 'k1')]),
  );
  assert.deepEqual(
    [report.acked, report.delivered, report.lost, report.duplicated, report.reordered, report.unexpected],
    [2, 2, 0, 0, 0, 0],
  );
  assert.deepEqual(violations([report]), []);
});

test('an acknowledged, selected event that never arrived is lost', () => {
  const report = only(history([sent('a', 'k1'), sent('b', 'k1')], [delivered('a', 1, 'k1')]));
  assert.equal(report.lost, 1);
  assert.match(report.samples.lost[0] ?? '', /^b /);
  assert.match(violations([report]).join('\n'), /quality: 1 lost/);
});

test('an event never acknowledged is not lost when missing, and not unexpected when delivered', () => {
  const report = only(
    history(
      [sent('a', 'k1', { acked: false }), sent('b', 'k1', { acked: false })],
      [delivered('a', 1, 'k1')],
    ),
  );
  assert.equal(report.lost, 0);
  assert.equal(report.unexpected, 0);
  assert.equal(report.indeterminateDelivered, 1);
});

test('an event the route does not select is neither expected nor allowed', () => {
  const other = sent('m', 'k1', { type: 'maintenance.downtime.started' });
  assert.equal(only(history([other], [])).lost, 0);
  const report = only(history([other], [delivered('m', 1, 'k1')]));
  assert.equal(report.unexpected, 1);
  assert.match(report.samples.unexpected[0] ?? '', /not selected/);
});

test('a delivery of an event nobody sent, or with other content, is unexpected', () => {
  const report = only(
    history(
      [sent('a', 'k1')],
      [delivered('ghost', 1, 'k1'), delivered('a', 2, 'k1', { digest: 'tampered' })],
    ),
  );
  assert.equal(report.unexpected, 2);
  assert.match(report.samples.unexpected.join(';'), /never sent.*content differs/);
});

test('a second delivery is a duplicate, allowed up to the bound', () => {
  const events = [sent('a', 'k1'), sent('b', 'k1')];
  const deliveries = [
    delivered('a', 1, 'k1'),
    delivered('b', 2, 'k1'),
    delivered('a', 1, 'k1', { epoch: 1 }),
  ];
  const within = only(history(events, deliveries, { duplicateAllowance: 1 }));
  assert.equal(within.duplicated, 1);
  assert.deepEqual(violations([within]), []);
  const beyond = only(history(events, deliveries, { duplicateAllowance: 0 }));
  assert.match(violations([beyond]).join('\n'), /1 duplicates, more than the bound of 0/);
});

test('a duplicate with no restart, replay, timeout or late answer before it is unexplained', () => {
  const events = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => sent(id, 'k1'));
  const again = only(
    history(events, [delivered('a', 1, 'k1', { at: 10 }), delivered('a', 1, 'k1', { at: 500 })], {
      duplicateAllowance: 10,
    }),
  );
  assert.equal(again.unexplainedDuplicates, 1);
  assert.match(
    violations([again]).join('\n'),
    /1 duplicates with no restart, replay, timeout or late answer/,
  );
  const explained = only(
    history(
      events,
      [
        delivered('a', 1, 'k1', { late: true }),
        delivered('a', 1, 'k1'),
        delivered('b', 2, 'k1'),
        delivered('b', 2, 'k1', { epoch: 1 }),
        delivered('c', 3, 'k1', { at: 0 }),
        delivered('c', 3, 'k1', { at: 1_000 }), // the hub may have timed out the first attempt
        delivered('d', 40, 'k1', { epoch: 1 }),
        delivered('d', 40, 'k1', { epoch: 1 }), // within a replay from 30
        delivered('e', 50, 'k1', { sender: 'hub-a' }),
        delivered('e', 50, 'k1', { sender: 'hub-b' }), // handed over to another hub process
        delivered('f', 60, 'k1', { epoch: 2 }),
        delivered('f', 60, 'k1', { epoch: 2 }), // during an election
      ],
      { duplicateAllowance: 10, replays: [{ epoch: 1, from: 30 }], turbulentEpochs: new Set([2]) },
    ),
  );
  assert.equal(explained.duplicated, 6);
  assert.equal(explained.unexplainedDuplicates, 0);
});

test('one event at two log positions is unexpected (stored twice)', () => {
  const report = only(
    history([sent('a', 'k1')], [delivered('a', 1, 'k1'), delivered('a', 7, 'k1', { epoch: 1 })], {
      duplicateAllowance: 1,
    }),
  );
  assert.equal(report.unexpected, 1);
});

test('first deliveries of a key out of log order are reordered; repeats and other keys are not', () => {
  const events = [sent('a', 'k1'), sent('b', 'k1'), sent('c', 'k2')];
  const report = only(
    history(events, [
      delivered('b', 2, 'k1'),
      delivered('c', 1, 'k2'), // another key may go first
      delivered('a', 1, 'k1'), // k1 went backwards
      delivered('b', 2, 'k1', { epoch: 1 }), // a repeat: set aside
    ]),
  );
  assert.equal(report.reordered, 1);
  assert.match(report.samples.reordered[0] ?? '', /^a \(key k1: sequence 1 after 2\)/);
  const inOrder = only(
    history(
      events,
      [delivered('a', 1, 'k1'), delivered('b', 2, 'k1'), delivered('a', 1, 'k1', { epoch: 1 })],
      { duplicateAllowance: 1 },
    ),
  );
  assert.equal(inOrder.reordered, 0);
});

test('a dead letter replayed after later events of its key is not a reorder, and an open one is not lost', () => {
  const events = [sent('a', 'k1'), sent('b', 'k1'), sent('c', 'k1')];
  const report = only(
    history(events, [delivered('b', 2, 'k1'), delivered('a', 1, 'k1')], {
      deadLettered: new Set(['a', 'c']),
      dlqOpen: new Set(['c']),
    }),
  );
  assert.deepEqual([report.reordered, report.lost, report.dlq, report.dlqOpen], [0, 0, 2, 1]);
});

test('a route is only answerable for the events acknowledged while it existed', () => {
  const added: RouteModel = { ...qualityRoute, responsibleFor: (e) => e.id !== 'before' };
  const report = only(
    history([sent('before', 'k1'), sent('after', 'k1')], [delivered('after', 5, 'k1')], { route: added }),
  );
  assert.equal(report.acked, 1);
  assert.equal(report.lost, 0);
});

test('the table names every figure', () => {
  const text = formatReport('scenario', [only(history([sent('a', 'k1')], []))]);
  assert.match(text, /route\s+acked\s+delivered\s+lost\s+duplicated\s+bound\s+reordered\s+unexpected\s+dlq/);
  assert.match(text, /quality\s+1\s+0\s+1\s+0\s+0\s+0\s+0\s+0/);
});
