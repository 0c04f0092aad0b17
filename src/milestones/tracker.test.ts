import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LogCapture } from '../../test/helpers/hub.js';
import { ManualClock } from '../delivery/clock.js';
import type { EventLog } from '../log/port.js';
import { SqliteEventLog } from '../log/sqlite/sqlite-event-log.js';
import type { CloudEvent, StoredEvent } from '../model/envelope.js';
import { createLogger } from '../observability/logger.js';
import { HubMetrics } from '../observability/metrics.js';
import type { MilestoneRepository, StateStore } from '../store/port.js';
import { SqliteStateStore } from '../store/sqlite/sqlite-state-store.js';
import type { MilestoneDefinition } from './definitions.js';
import { milestoneId } from './definitions.js';
import { MilestoneTracker } from './tracker.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const POSTED: MilestoneDefinition = {
  name: 'order-posted-to-erp',
  start: 'production.order.completed',
  end: { delivered: 'erp-postings' },
  correlate: 'subject',
  withinMs: 15 * 60_000,
  plants: null,
};

const DISPOSITIONED: MilestoneDefinition = {
  name: 'hold-dispositioned',
  start: 'quality.hold.placed',
  end: { type: 'quality.disposition.decided' },
  correlate: 'data.holdId',
  withinMs: 4 * 3_600_000,
  plants: ['P1'],
};

interface Harness {
  readonly log: EventLog;
  readonly store: StateStore;
  readonly clock: ManualClock;
  readonly logs: LogCapture;
  readonly metrics: HubMetrics;
  tracker(definitions: readonly MilestoneDefinition[]): MilestoneTracker;
  append(event: { type: string; id?: string } & Record<string, unknown>): Promise<StoredEvent>;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-milestones-'));
  dirs.push(dir);
  const log = await SqliteEventLog.open({ path: join(dir, 'events.db') });
  const store = SqliteStateStore.open(join(dir, 'state.db'));
  const clock = new ManualClock();
  const logs = new LogCapture();
  const metrics = new HubMetrics({ defaultMetrics: false });
  const trackers: MilestoneTracker[] = [];
  let n = 0;
  return {
    log,
    store,
    clock,
    logs,
    metrics,
    tracker(definitions) {
      const tracker = new MilestoneTracker({
        definitions,
        log,
        store: store.milestones,
        logger: createLogger('info', logs),
        clock,
        metrics,
        // Long enough that moving the clock by hours wakes the timer a bounded number of times.
        checkEveryMs: 60_000,
      });
      trackers.push(tracker);
      return tracker;
    },
    async append(fields) {
      const event: CloudEvent = {
        specversion: '1.0',
        id: fields.id ?? `evt-${++n}`,
        source: '/plants/P1/test',
        time: new Date(clock.now()).toISOString(),
        ...fields,
      };
      const [outcome] = await log.append([event]);
      return { ...event, sequence: outcome?.sequence ?? 0 };
    },
    async close() {
      for (const tracker of trackers) await tracker.close();
      await log.close();
      await store.close();
    },
  };
}

/** Polls `check` until it holds, failing after a bounded wait. */
async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const completed = (orderId: string, plant = 'P1') => ({
  type: 'production.order.completed',
  subject: orderId,
  plant,
  data: { orderId, plant, quantityGood: { value: 1, uom: 'EA' }, quantityScrap: { value: 0, uom: 'EA' } },
});
const placed = (holdId: string, plant = 'P1') => ({
  type: 'quality.hold.placed',
  subject: `hold ${holdId}`,
  plant,
  data: { holdId, plant, material: 'M', lots: ['L1'], reason: 'burr' },
});
const decided = (holdId: string, plant = 'P1') => ({
  type: 'quality.disposition.decided',
  subject: `hold ${holdId}`,
  plant,
  data: { holdId, plant, disposition: 'rework' },
});

async function alerts(log: EventLog, type: string): Promise<StoredEvent[]> {
  return log.read({ types: [type], limit: 1000 });
}

test('a milestone opens on its start event and is met by its end event', async () => {
  const h = await harness();
  try {
    const tracker = h.tracker([DISPOSITIONED]);
    await tracker.start();
    const start = await h.append(placed('QH-1'));
    const id = milestoneId('hold-dispositioned', 'QH-1');
    await eventually(async () => (await h.store.milestones.get(id)) !== undefined, 'the milestone to open');
    const opened = await h.store.milestones.get(id);
    assert.equal(opened?.status, 'open');
    assert.equal(opened?.correlation, 'QH-1', 'correlated by data.holdId, not by subject');
    assert.equal(opened?.plant, 'P1');
    assert.equal(opened?.dueAt, h.clock.now() + 4 * 3_600_000);
    assert.deepEqual(opened?.startEvent, {
      id: start.id,
      type: 'quality.hold.placed',
      sequence: start.sequence,
      time: start.time,
    });

    await h.clock.advance(60_000);
    const end = await h.append(decided('QH-1'));
    await eventually(
      async () => (await h.store.milestones.get(id))?.status === 'met',
      'the milestone to be met',
    );
    const met = await h.store.milestones.get(id);
    assert.equal(met?.metAt, h.clock.now());
    assert.equal(met?.endEvent?.id, end.id);
    await h.clock.advance(5 * 3_600_000);
    await tracker.check();
    assert.equal((await h.store.milestones.get(id))?.status, 'met', 'a met milestone never turns late');
    assert.deepEqual(await alerts(h.log, 'conveyor.milestone.late'), []);
  } finally {
    await h.close();
  }
});

test('a late milestone raises one alert, and a clearing one once it is met', async () => {
  const h = await harness();
  try {
    const tracker = h.tracker([POSTED]);
    await tracker.start();
    const start = await h.append(completed('PO-1'));
    const id = milestoneId('order-posted-to-erp', 'PO-1');
    await eventually(async () => (await h.store.milestones.get(id)) !== undefined, 'the milestone to open');

    await h.clock.advance(14 * 60_000);
    await tracker.check();
    assert.equal((await h.store.milestones.get(id))?.status, 'open', 'not late before it is due');

    // The timer loop finds it late; further ticks raise nothing more.
    await h.clock.advance(2 * 60_000);
    await eventually(
      async () => (await alerts(h.log, 'conveyor.milestone.late')).length === 1,
      'a late alert',
    );
    for (let i = 0; i < 5; i++) await h.clock.advance(1_000);
    await tracker.check();
    const late = await alerts(h.log, 'conveyor.milestone.late');
    assert.equal(late.length, 1, 'raised once');
    const alert = late[0] as StoredEvent;
    assert.equal(alert.id, `${id}-late`);
    assert.equal(alert.subject, 'PO-1');
    assert.equal(alert.plant, 'P1');
    const data = alert.data as Record<string, unknown>;
    assert.equal(data.milestoneId, id);
    assert.equal(data.name, 'order-posted-to-erp');
    assert.equal(data.status, 'late');
    assert.deepEqual(data.start, {
      id: start.id,
      type: start.type,
      sequence: start.sequence,
      time: start.time,
    });
    assert.match(
      await h.metrics.registry.getSingleMetricAsString('conveyor_milestones_late_total'),
      /^conveyor_milestones_late_total\{name="order-posted-to-erp"\} 1$/m,
    );

    // The posting finally goes through (on whichever instance runs the route).
    tracker.onDelivered('mes-orders', start);
    tracker.onDelivered('erp-postings', start);
    await eventually(
      async () => (await h.store.milestones.get(id))?.status === 'met',
      'the milestone to be met',
    );
    const met = await h.store.milestones.get(id);
    assert.ok(met?.lateAt !== null, 'it keeps when it was late');
    await h.clock.advance(60_000);
    await eventually(
      async () => (await alerts(h.log, 'conveyor.milestone.cleared')).length === 1,
      'a cleared alert',
    );
    await h.clock.advance(3_000);
    await tracker.check();
    assert.equal((await alerts(h.log, 'conveyor.milestone.cleared')).length, 1, 'cleared once');
    assert.equal((await alerts(h.log, 'conveyor.milestone.late')).length, 1);
    const clearing = (await alerts(h.log, 'conveyor.milestone.cleared'))[0] as StoredEvent;
    assert.deepEqual((clearing.data as { end: unknown }).end, {
      id: start.id,
      type: start.type,
      sequence: start.sequence,
      time: start.time,
    });
  } finally {
    await h.close();
  }
});

test('only start events of the listed plants open a milestone; events without the correlation are ignored', async () => {
  const h = await harness();
  try {
    const tracker = h.tracker([DISPOSITIONED]);
    await tracker.start();
    await h.append(placed('QH-2', 'P2'));
    await h.append({ ...placed('x'), data: { plant: 'P1', material: 'M' } });
    await h.append(placed('QH-3', 'P1'));
    await eventually(
      async () => (await h.store.milestones.list({}, 0, 10)).length > 0,
      'the P1 milestone to open',
    );
    const all = await h.store.milestones.list({}, 0, 10);
    assert.deepEqual(
      all.map((m) => [m.correlation, m.plant]),
      [['QH-3', 'P1']],
    );
  } finally {
    await h.close();
  }
});

test('an end that arrives before its start meets the milestone as soon as it starts', async () => {
  const h = await harness();
  try {
    const tracker = h.tracker([DISPOSITIONED]);
    await tracker.start();
    await h.append(decided('QH-4'));
    await h.append(placed('QH-4'));
    const id = milestoneId('hold-dispositioned', 'QH-4');
    await eventually(
      async () => (await h.store.milestones.get(id))?.status === 'met',
      'the milestone to be met',
    );
    await h.clock.advance(5 * 3_600_000);
    await tracker.check();
    assert.equal((await h.store.milestones.get(id))?.status, 'met');
    assert.deepEqual(await alerts(h.log, 'conveyor.milestone.late'), []);

    // A delivery older than the start does not end a delivery milestone.
    const posted = h.tracker([POSTED]);
    const earlier = await h.append(completed('PO-9'));
    posted.onDelivered('erp-postings', { ...earlier, sequence: earlier.sequence });
    await posted.close();
    await posted.apply({ ...(await h.append({ ...completed('PO-9'), id: 'evt-again' })) });
    assert.equal((await h.store.milestones.get(milestoneId('order-posted-to-erp', 'PO-9')))?.status, 'open');
  } finally {
    await h.close();
  }
});

test('after a restart the tracker resumes where it was and raises no alert twice', async () => {
  const h = await harness();
  try {
    const first = h.tracker([POSTED]);
    await first.start();
    const start = await h.append(completed('PO-5'));
    const id = milestoneId('order-posted-to-erp', 'PO-5');
    await eventually(async () => (await h.store.milestones.get(id)) !== undefined, 'the milestone to open');
    await h.clock.advance(16 * 60_000);
    await eventually(
      async () => (await alerts(h.log, 'conveyor.milestone.late')).length === 1,
      'a late alert',
    );
    await first.stop();

    // Events appended while no instance tracks are picked up by the next one.
    await h.append(completed('PO-6'));
    const second = h.tracker([POSTED]);
    await second.start();
    const next = milestoneId('order-posted-to-erp', 'PO-6');
    await eventually(async () => (await h.store.milestones.get(next)) !== undefined, 'the next milestone');
    await second.check();
    await h.clock.advance(2_000);
    await second.check();
    assert.equal(
      (await alerts(h.log, 'conveyor.milestone.late')).length,
      1,
      'the late alert is not raised again',
    );
    second.onDelivered('erp-postings', start);
    await eventually(
      async () => (await h.store.milestones.get(id))?.status === 'met',
      'the milestone to be met',
    );
    // Two instances raising the same clearing at once: the log stores it once.
    await Promise.all([second.check(), first.check()]);
    assert.equal((await alerts(h.log, 'conveyor.milestone.cleared')).length, 1);
  } finally {
    await h.close();
  }
});

test('built-in milestones that are skipped say so once', async () => {
  const h = await harness();
  try {
    new MilestoneTracker({
      definitions: [],
      skipped: [{ name: 'order-posted-to-erp', route: 'erp-postings' }],
      log: h.log,
      store: h.store.milestones,
      logger: createLogger('info', h.logs),
    });
    const lines = h.logs.lines.filter((l) => l.includes('order-posted-to-erp'));
    assert.equal(lines.length, 1);
    assert.match(lines[0] as string, /no route named \\"erp-postings\\"/);
  } finally {
    await h.close();
  }
});

/** Counts the calls that write milestones (each is one store transaction, one commit). */
function countingWrites(repository: MilestoneRepository): {
  repository: MilestoneRepository;
  writes: () => number;
} {
  let writes = 0;
  const proxy = new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (property === 'open' || property === 'end' || property === 'applyAll') writes++;
        return method.apply(target, args);
      };
    },
  });
  return { repository: proxy, writes: () => writes };
}

test('a batch of log events and a burst of delivery ends are each written in one store transaction', async () => {
  const h = await harness();
  const counted = countingWrites(h.store.milestones);
  const tracker = new MilestoneTracker({
    definitions: [DISPOSITIONED, POSTED],
    log: h.log,
    store: counted.repository,
    logger: createLogger('info', h.logs),
    clock: h.clock,
    checkEveryMs: 60_000,
  });
  try {
    const holds = Array.from({ length: 150 }, (_, i) => `QH-${i}`);
    const orders = Array.from({ length: 100 }, (_, i) => `PO-${i}`);
    // Everything is in the log before the tracker starts reading, so it arrives in one fetch.
    const event = (fields: Record<string, unknown>, n: number): CloudEvent =>
      ({
        specversion: '1.0',
        id: `batch-${n}`,
        source: '/plants/P1/test',
        time: new Date(h.clock.now()).toISOString(),
        ...fields,
      }) as CloudEvent;
    let n = 0;
    const started = await h.log.append([
      ...holds.map((id) => event(placed(id), n++)),
      ...holds.map((id) => event(decided(id), n++)),
      ...orders.map((id) => event(completed(id), n++)),
    ]);
    // The consumer starts at the head unless it exists: create it at the start of the log.
    await (await h.log.consume('milestones', { types: ['*'] }, { startAt: 0 })).close();
    await tracker.start();
    const count = async (name: string, status: string) =>
      (await h.store.milestones.counts())
        .filter((c) => c.name === name && c.status === status)
        .reduce((sum, c) => sum + c.count, 0);
    await eventually(
      async () =>
        (await count('hold-dispositioned', 'met')) === holds.length &&
        (await count('order-posted-to-erp', 'open')) === orders.length,
      'every hold milestone met and every order milestone open',
    );
    const afterLog = counted.writes();
    assert.ok(afterLog <= 2, `${holds.length * 2 + orders.length} log events took ${afterLog} store writes`);

    // A burst of deliveries (one turn of the event loop) ends the order milestones together.
    const completedEvents = started.slice(holds.length * 2).map((outcome, i) => ({
      ...event(completed(orders[i] as string), holds.length * 2 + i),
      sequence: outcome.sequence + 1_000,
    }));
    for (const delivered of completedEvents) tracker.onDelivered('erp-postings', delivered);
    await tracker.close();
    assert.equal(await count('order-posted-to-erp', 'met'), orders.length, 'close waits for the queued ends');
    const forDeliveries = counted.writes() - afterLog;
    assert.ok(forDeliveries <= 2, `${orders.length} delivery ends took ${forDeliveries} store writes`);
  } finally {
    await tracker.close();
    await h.close();
  }
});

test('events arriving one commit at a time are written in groups, not one store write per commit', async () => {
  const h = await harness();
  const counted = countingWrites(h.store.milestones);
  const tracker = new MilestoneTracker({
    definitions: [DISPOSITIONED],
    log: h.log,
    store: counted.repository,
    logger: createLogger('info', h.logs),
    clock: h.clock,
    checkEveryMs: 60_000,
    writeEveryMs: 200,
  });
  try {
    await tracker.start();
    const holds = Array.from({ length: 60 }, (_, i) => `QH-${i}`);
    // Each append is its own log commit, and wakes the consumer.
    for (const id of holds) await h.append(placed(id));
    await eventually(
      async () => (await h.store.milestones.counts()).reduce((sum, c) => sum + c.count, 0) === holds.length,
      'every milestone open',
    );
    assert.ok(
      counted.writes() <= holds.length / 3,
      `${holds.length} commits took ${counted.writes()} store writes`,
    );
  } finally {
    await tracker.close();
    await h.close();
  }
});
