import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runtimeUnderTest } from '../../../test/helpers/source-runtime.js';
import type { CloudEvent } from '../../model/envelope.js';
import type { SourceConnector, SourceContext, SourceMessage } from './types.js';

const MAP =
  '{"type": "telemetry.machine.counter", "data": {"plant": "P1", "equipmentId": "PRESS-07", "counter": "strokes", "value": n, "at": "2026-03-01T08:15:00Z"}}';

/** A source that only hands over what a test gives it. */
class HandSource implements SourceConnector {
  context: SourceContext | null = null;
  async start(context: SourceContext): Promise<void> {
    this.context = context;
  }
  async stop(): Promise<void> {}
  deliver(messages: readonly SourceMessage[]): Promise<void> {
    return this.context!.deliver(messages);
  }
}

const counterValue = (event: CloudEvent) => (event.data as { value: unknown }).value;

interface Outcomes {
  readonly acked: string[];
  readonly nacked: string[];
}

let serial = 0;
function message(outcomes: Outcomes, payload: unknown, error?: string): SourceMessage {
  const id = `m-${++serial}`;
  return {
    id,
    origin: 'line-1/counters',
    payload,
    raw: JSON.stringify(payload),
    ...(error !== undefined ? { error } : {}),
    ack: () => {
      outcomes.acked.push(id);
    },
    nack: () => {
      outcomes.nacked.push(id);
    },
  };
}

async function setUp() {
  const source = new HandSource();
  const under = await runtimeUnderTest(source, { map: MAP });
  await under.runtime.start();
  const outcomes: Outcomes = { acked: [], nacked: [] };
  const good = (n: number) => message(outcomes, { n });
  return { ...under, source, outcomes, good };
}

/** Waits for a condition the test cannot await directly, with a bounded deadline. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

test('a batch is acked only once its append is durable', async () => {
  const { source, log, outcomes, good, close } = await setUp();
  try {
    let release: () => void = () => undefined;
    log.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batch = [good(1), good(2), good(3)];
    const delivered = source.deliver(batch);
    await until(() => log.appends.length === 1, 'the append');
    assert.equal(log.appends[0]!.length, 3, 'one append for the whole batch');
    // Give every pending callback a chance: still nothing acked while the append is held.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(outcomes.acked, []);
    release();
    await delivered;
    assert.deepEqual(
      outcomes.acked,
      batch.map((m) => m.id),
    );
    assert.deepEqual(outcomes.nacked, []);
  } finally {
    await close();
  }
});

test('overlapping batches reach the log in the order they were handed over', async () => {
  const { source, log, outcomes, good, close } = await setUp();
  try {
    let release: () => void = () => undefined;
    log.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first batch takes longer to map than the second; the log still gets it first.
    const first = Array.from({ length: 40 }, (_, i) => good(i));
    const second = [good(100)];
    const both = Promise.all([source.deliver(first), source.deliver(second)]);
    await until(() => log.appends.length === 2, 'both appends, while the first is not yet durable');
    assert.deepEqual(
      log.appends.map((a) => a.map(counterValue)),
      [first.map((_, i) => i), [100]],
    );
    release();
    await both;
    assert.equal(outcomes.acked.length, 41);
  } finally {
    await close();
  }
});

test('bad messages in a batch go to the source DLQ and the good ones are appended', async () => {
  const { source, log, deadLetters, outcomes, good, close } = await setUp();
  try {
    const undecodable = message(outcomes, null, 'not JSON: Unexpected end of JSON input');
    const invalid = message(outcomes, { n: 'many' });
    const batch = [good(1), undecodable, good(2), invalid, good(3)];
    await source.deliver(batch);
    assert.deepEqual(log.events.map(counterValue), [1, 2, 3]);
    assert.deepEqual(
      deadLetters.entries.map((e) => e.messageId),
      [undecodable.id, invalid.id],
    );
    assert.match(deadLetters.entries[0]!.error, /^not JSON/);
    assert.match(deadLetters.entries[1]!.error, /not valid canonical events/);
    assert.deepEqual(new Set(outcomes.acked), new Set(batch.map((m) => m.id)));
    assert.deepEqual(outcomes.nacked, []);
  } finally {
    await close();
  }
});

test('a message the source DLQ cannot take is offered again; the rest of its batch is appended', async () => {
  const { source, log, deadLetters, outcomes, good, close } = await setUp();
  try {
    const bad = message(outcomes, null, 'not JSON');
    deadLetters.failFor = bad.id;
    const batch = [good(1), bad, good(2)];
    await source.deliver(batch);
    assert.deepEqual(outcomes.nacked, [bad.id]);
    assert.deepEqual(outcomes.acked, [batch[0]!.id, batch[2]!.id]);
    assert.deepEqual(log.events.map(counterValue), [1, 2]);
  } finally {
    await close();
  }
});

test('a failed append nacks its own batch only; the next batch is appended and acked', async () => {
  const { source, log, outcomes, good, close } = await setUp();
  try {
    log.failNext = new Error('the log is closing');
    const first = [good(1), good(2)];
    const second = [good(3)];
    await Promise.all([source.deliver(first), source.deliver(second)]);
    assert.deepEqual(
      outcomes.nacked,
      first.map((m) => m.id),
    );
    assert.deepEqual(outcomes.acked, [second[0]!.id]);
  } finally {
    await close();
  }
});
