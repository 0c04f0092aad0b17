import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import jsonata from 'jsonata';
import type { AttemptOutcome } from '../../src/delivery/outcome.js';
import type { DeliverySink } from '../../src/delivery/sink.js';
import type { StoredEvent } from '../../src/model/envelope.js';
import { makeEvent } from '../helpers/events.js';

/** A delivery sink with its real peer (server, folder, broker), as the contract drives it. */
export interface SinkUnderTest {
  /** Whether the sink applies the route's transform (some compute their own values instead). */
  /** The sink under test; the same instance on every call. */
  sink(): DeliverySink;
  /** Ids of the events the peer has got so far, in arrival order. */
  received(): Promise<string[]>;
  /** Makes the peer unreachable, as a crash or network loss would look to the sink. */
  stopPeer(): Promise<void>;
  /** Brings the peer back where the sink expects it. */
  startPeer(): Promise<void>;
  /** Releases the sink and the peer. */
  close(): Promise<void>;
}

const TIMEOUT_MS = 1_000;
/** What an outcome may take beyond the timeout it was given (scheduling, connect refusal). */
const MARGIN_MS = 500;
const DEADLINE_MS = 15_000;

let sequence = 0;
const storedEvent = (): StoredEvent => ({ ...makeEvent(), sequence: ++sequence });

/** One attempt; a throw is a contract breach, reported as such rather than as a test crash. */
async function attempt(
  sink: DeliverySink,
  event: StoredEvent,
  transform: jsonata.Expression | null = null,
  timeoutMs = TIMEOUT_MS,
): Promise<AttemptOutcome> {
  try {
    return await sink.send(event, transform, timeoutMs);
  } catch (error) {
    assert.fail(`send threw instead of answering an outcome: ${(error as Error).message}`);
  }
}

/** Polls the peer until it has at least `count` ids (delivery may precede arrival), bounded. */
async function receivedAtLeast(subject: SinkUnderTest, count: number): Promise<string[]> {
  const deadline = Date.now() + DEADLINE_MS;
  let ids = await subject.received();
  while (ids.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    ids = await subject.received();
  }
  return ids;
}

/** Fails instead of hanging when `work` does not settle in time. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The behaviours every delivery sink must show against its real peer: each event answered
 * delivered arrives, in order; an unreachable peer answers retry within the timeout and the
 * same event goes through once it is back; a failing transform is rejected without reaching
 * the peer; close is idempotent.
 */
export function sinkContract(
  name: string,
  create: () => Promise<SinkUnderTest>,
  options: {
    usesTransform: boolean;
    /** For the first send, which opens the connection (an OPC UA session takes a while on a busy machine). */
    connectTimeoutMs?: number;
  } = { usesTransform: true },
): void {
  describe(`sink contract: ${name}`, () => {
    let subject: SinkUnderTest;
    let closing: Promise<void> | null = null;
    // Each test gets a fresh subject and closes it once, whatever the test did with it.
    const release = () => {
      closing ??= subject.close();
      return closing;
    };
    beforeEach(async () => {
      closing = null;
      subject = await create();
    });
    afterEach(() => release());

    test('20 events sent one after another are each delivered, and arrive exactly once in order', async () => {
      const events = Array.from({ length: 20 }, storedEvent);
      for (const [i, event] of events.entries()) {
        const timeout = i === 0 ? (options.connectTimeoutMs ?? TIMEOUT_MS) : TIMEOUT_MS;
        const outcome = await attempt(subject.sink(), event, null, timeout);
        assert.equal(outcome.kind, 'delivered', JSON.stringify(outcome));
      }
      assert.deepEqual(
        await receivedAtLeast(subject, events.length),
        events.map((e) => e.id),
      );
    });

    test('with the peer stopped a send answers retry within its timeout; once back, the same event is delivered', async () => {
      const sink = subject.sink();
      // A sink that has already reached its peer: the realistic moment for the peer to go away.
      const first = storedEvent();
      assert.equal((await attempt(sink, first, null, options.connectTimeoutMs)).kind, 'delivered');
      await receivedAtLeast(subject, 1);
      await subject.stopPeer();

      const event = storedEvent();
      const started = performance.now();
      const outcome = await attempt(sink, event);
      const elapsed = performance.now() - started;
      assert.equal(outcome.kind, 'retry', JSON.stringify(outcome));
      assert.ok(elapsed <= TIMEOUT_MS + MARGIN_MS, `answered after ${Math.round(elapsed)} ms`);

      await subject.startPeer();
      // The route would retry with back-off; the sink may need a moment to reconnect.
      const deadline = Date.now() + DEADLINE_MS;
      let again = await attempt(sink, event);
      while (again.kind === 'retry' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        again = await attempt(sink, event);
      }
      assert.equal(again.kind, 'delivered', JSON.stringify(again));
      const ids = await receivedAtLeast(subject, 2);
      // At least once: the peer may have taken the attempt that timed out just before it went away
      // (a broker persists what it received on shutdown without its acknowledgement reaching the
      // sink), so that one event may arrive twice; nothing else may, and the order holds.
      assert.deepEqual(
        ids.filter((id, i) => id !== event.id || ids.indexOf(id) === i),
        [first.id, event.id],
      );
      assert.ok(ids.length <= 3, `received ${ids.join(', ')}`);
    });

    // A sink that computes its own values (opcua-out) takes no transform: the case does not apply.
    if (options.usesTransform)
      test('a transform that throws answers rejected and nothing reaches the peer', async () => {
        const failing = jsonata('$error("no value for this event")');
        const bad = storedEvent();
        const outcome = await attempt(subject.sink(), bad, failing);
        assert.equal(outcome.kind, 'rejected', JSON.stringify(outcome));
        // A delivered marker after it shows the peer was reachable and got only that.
        const marker = storedEvent();
        assert.equal((await attempt(subject.sink(), marker)).kind, 'delivered');
        assert.deepEqual(await receivedAtLeast(subject, 1), [marker.id]);
      });

    test('close resolves, and a second close is harmless', async () => {
      const sink = subject.sink();
      assert.equal((await attempt(sink, storedEvent())).kind, 'delivered');
      await within(sink.close(), DEADLINE_MS, 'close');
      await within(sink.close(), DEADLINE_MS, 'a second close');
    });
  });
}
