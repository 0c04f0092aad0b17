import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  ConnectorHealth,
  SourceConnector,
  SourceContext,
  SourceMessage,
} from '../../src/connectors/framework/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogCapture } from '../helpers/hub.js';

/** A connector with its real peer (broker, server, folder), as the contract drives it. */
export interface ConnectorUnderTest {
  /** Starts (or restarts) the real peer. */
  startPeer(): Promise<void>;
  /** Stops the peer as a crash or network loss would look to the connector. */
  stopPeer(): Promise<void>;
  /** Makes the peer produce `count` native messages, each with a distinct identity. */
  produce(count: number): Promise<void>;
  /**
   * Resolves once a running source has had every chance to read what was produced so far: a
   * broker round trip, a poll interval, a folder scan. The contract uses it before asserting
   * that something did NOT happen.
   */
  settle(): Promise<void>;
  /** A new source connected to the peer, as the hub would create it from its config. */
  createSource(): SourceConnector;
  /** Releases everything the subject holds. */
  close(): Promise<void>;
}

/** A SourceContext that records what it is given; the test decides when deliveries complete. */
export class RecordingContext implements SourceContext {
  readonly name: string;
  readonly logger = createLogger('error', new LogCapture());
  readonly statuses: ConnectorHealth[] = [];
  readonly delivered: SourceMessage[] = [];
  readonly acked = new Map<string, number>();
  readonly nacked: string[] = [];
  /** The size of each batch handed over, in order. */
  readonly batches: number[] = [];
  /** Deliveries not yet finished (held while `hold` is set). */
  inFlight = 0;
  maxInFlightMessages = 0;
  hold: Promise<void> | null = null;
  private readonly controller = new AbortController();
  private readonly waiters: Array<() => void> = [];

  constructor(name = 'under-test') {
    this.name = name;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort();
  }

  async deliver(messages: readonly SourceMessage[]): Promise<void> {
    this.batches.push(messages.length);
    this.inFlight += messages.length;
    this.maxInFlightMessages = Math.max(this.maxInFlightMessages, this.inFlight);
    this.delivered.push(...messages);
    this.wake();
    try {
      if (this.hold) await this.hold;
      // The hub went away before the events were durable: nothing may be acknowledged.
      if (this.signal.aborted) {
        for (const message of messages) {
          await message.nack(1000);
          this.nacked.push(message.id);
        }
        return;
      }
      for (const message of messages) {
        await message.ack();
        this.acked.set(message.id, (this.acked.get(message.id) ?? 0) + 1);
      }
    } finally {
      this.inFlight -= messages.length;
      this.wake();
    }
  }

  health(status: ConnectorHealth): void {
    this.statuses.push(status);
    this.wake();
  }

  /** Distinct message identities delivered so far. */
  distinct(): Set<string> {
    return new Set(this.delivered.map((m) => m.id));
  }

  /** Resolves when `predicate` holds, re-checked on every delivery and status; fails after `timeoutMs`. */
  async until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

const lastStatus = (ctx: RecordingContext) => ctx.statuses.at(-1)?.type;

/**
 * The behaviours every source connector must show against its real peer: it connects and
 * reports health; every message is delivered and acknowledged once; nothing is acknowledged
 * before the hub says so, and what was not acknowledged comes again after a restart; it
 * reconnects by itself after its peer goes away; a slow hub slows it down instead of piling
 * messages up; it stops cleanly with a delivery in flight.
 */
export function connectorContract(name: string, create: () => Promise<ConnectorUnderTest>): void {
  describe(`connector contract: ${name}`, () => {
    let subject: ConnectorUnderTest;
    before(async () => {
      subject = await create();
      await subject.startPeer();
    });
    after(() => subject.close());

    test('starts, reports up, delivers every message and acks each once after delivery', async () => {
      const ctx = new RecordingContext();
      const source = subject.createSource();
      await source.start(ctx);
      try {
        assert.equal(ctx.statuses[0]?.type, 'connecting');
        await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
        await subject.produce(20);
        await ctx.until(() => ctx.acked.size >= 20, '20 acked messages');
        assert.equal(ctx.distinct().size, 20);
        assert.ok(
          [...ctx.acked.values()].every((n) => n === 1),
          'each message acked once',
        );
      } finally {
        await source.stop();
      }
    });

    test('a message not acknowledged before a stop is offered again by the next start', async () => {
      const first = new RecordingContext();
      let release: () => void = () => undefined;
      first.hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const source = subject.createSource();
      let held: string[] = [];
      try {
        await source.start(first);
        await first.until(() => lastStatus(first) === 'up', 'status up');
        await subject.produce(5);
        await first.until(() => first.delivered.length >= 1, 'a delivery');
        await subject.settle();
        held = first.delivered.map((m) => m.id);
        assert.equal(first.acked.size, 0, 'nothing acked while the hub has not said so');
      } finally {
        // The hub goes away with the delivery unfinished (it nacks): stop must not wait for it forever.
        first.abort();
        const stopping = source.stop();
        release();
        await stopping;
      }
      assert.equal(first.acked.size, 0, 'nothing acked by a hub that went away');

      const second = new RecordingContext();
      const again = subject.createSource();
      await again.start(second);
      try {
        await second.until(
          () => held.every((id) => second.distinct().has(id)),
          'the unacknowledged messages again',
        );
        await second.until(() => second.acked.size >= 5, 'all 5 messages acked after the restart');
      } finally {
        await again.stop();
      }
    });

    test('reconnects by itself after its peer goes away and comes back', async () => {
      const ctx = new RecordingContext();
      const source = subject.createSource();
      await source.start(ctx);
      try {
        await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
        await subject.stopPeer();
        await ctx.until(() => lastStatus(ctx) === 'down' || lastStatus(ctx) === 'degraded', 'status down');
        await subject.startPeer();
        await ctx.until(() => lastStatus(ctx) === 'up', 'status up again');
        const before = ctx.distinct().size;
        await subject.produce(5);
        await ctx.until(() => ctx.distinct().size >= before + 5, '5 messages after the reconnect');
      } finally {
        await source.stop();
      }
    });

    test('a hub that does not finish deliveries holds the source back (bounded in-flight messages)', async () => {
      const ctx = new RecordingContext();
      let release: () => void = () => undefined;
      ctx.hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const source = subject.createSource();
      await source.start(ctx);
      try {
        await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
        await subject.produce(300);
        await ctx.until(() => ctx.delivered.length >= 1, 'a delivery');
        // Let a source that ignores back-pressure read on: it would pile up messages now.
        await subject.settle();
        await subject.settle();
        assert.ok(
          ctx.maxInFlightMessages <= 1000,
          `at most 1000 messages in flight, saw ${ctx.maxInFlightMessages}`,
        );
        release();
        ctx.hold = null;
        await ctx.until(() => ctx.acked.size >= 300, 'all 300 acked after the hub catches up', 60_000);
      } finally {
        release();
        await source.stop();
      }
    });

    test('stops cleanly: stop resolves, and nothing is delivered after it', async () => {
      const ctx = new RecordingContext();
      const source = subject.createSource();
      await source.start(ctx);
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      ctx.abort();
      await source.stop();
      const count = ctx.delivered.length;
      await subject.produce(3);
      // Give a wrongly still-running source every chance to deliver.
      await subject.settle();
      assert.equal(ctx.delivered.length, count);
      await source.stop(); // a second stop is harmless
    });
  });
}
