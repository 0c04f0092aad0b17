import { randomBytes } from 'node:crypto';
import { connect, StorageType } from 'nats';

export interface JetStreamRoundTripOptions {
  /** How long messages are published after the warm-up. */
  readonly seconds: number;
  /** Messages published before timing starts. */
  readonly warmupMs: number;
  /** Messages per second, on a fixed schedule (open loop). */
  readonly rate: number;
  /** Copies of every message (the stream's `num_replicas`). */
  readonly replicas: number;
}

/** The same ~500 bytes an event takes; the first 8 hold the scheduled publish instant. */
const PAYLOAD_BYTES = 500;
/** How long the last messages may take to arrive before the measurement gives up on them. */
const DRAIN_MS = 2_000;

/**
 * JetStream's own publish → consume time at a fixed rate: messages go to a fresh file-storage
 * stream with `replicas` copies and come back through a pull consumer that the server holds open,
 * as a hub's route reads its events. Latency runs from each message's scheduled publish instant
 * (so a stall is not hidden by a late send) to its arrival. Returns sorted latencies in ms.
 */
export async function measureJetStreamRoundTrip(
  servers: string[],
  options: JetStreamRoundTripOptions,
): Promise<Float64Array> {
  const stream = `BENCH_ROUND_TRIP_${randomBytes(6).toString('hex')}`;
  const nc = await connect({ servers, timeout: 5_000 });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      storage: StorageType.File,
      num_replicas: options.replicas,
    });
    try {
      const js = nc.jetstream({ timeout: 10_000 });
      const consumer = await js.consumers.get(stream);
      const latencies: number[] = [];
      const warmupEnd = performance.now() + options.warmupMs;
      const end = warmupEnd + options.seconds * 1000;
      let published = 0;
      let received = 0;
      const messages = await consumer.consume({
        callback: (m) => {
          received++;
          const scheduled = new DataView(m.data.buffer, m.data.byteOffset, 8).getFloat64(0);
          if (scheduled >= warmupEnd) latencies.push(performance.now() - scheduled);
        },
      });
      const subject = `${stream}.bench`;
      let failure: unknown = null;
      await new Promise<void>((resolve) => {
        const interval = 1000 / options.rate;
        let next = performance.now();
        const ticker = setInterval(() => {
          const now = performance.now();
          for (; next <= now && next < end; next += interval) {
            const payload = new Uint8Array(PAYLOAD_BYTES).fill(0x78);
            new DataView(payload.buffer).setFloat64(0, next);
            published++;
            js.publish(subject, payload).catch((error: unknown) => {
              failure ??= error;
            });
          }
          if (now >= end) {
            clearInterval(ticker);
            resolve();
          }
        }, 1);
      });
      const drainEnd = performance.now() + DRAIN_MS;
      while (received < published && performance.now() < drainEnd)
        await new Promise((resolve) => setTimeout(resolve, 10));
      messages.stop();
      if (failure) throw failure;
      if (received < published)
        throw new Error(
          `JetStream round trip: ${published - received} of ${published} messages never arrived`,
        );
      return Float64Array.from(latencies).sort();
    } finally {
      await jsm.streams.delete(stream);
    }
  } finally {
    await nc.close();
  }
}
