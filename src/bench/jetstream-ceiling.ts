import { randomBytes, randomUUID } from 'node:crypto';
import { connect, StorageType } from 'nats';
import { JetStreamPublisher } from '../log/jetstream/publisher.js';
import type { EventLog } from '../log/port.js';
import type { CloudEvent } from '../model/envelope.js';

/** Publishes sent and not yet acknowledged, at most (the publisher's window). */
const WINDOW = 256;
/** About the size of one canonical event as the hub stores it. */
const PAYLOAD = new TextEncoder().encode(`{"bench":"${'x'.repeat(486)}"}`);
/** Untimed publishes first: the stream's first writes and the client's warm-up are not the rate. */
const WARMUP_MESSAGES = 2_000;
/** Untimed appends per producer before the clock starts. */
const WARMUP_APPENDS = 2;

export interface JetStreamCeilingOptions {
  /** How long the timed publishing runs. */
  readonly seconds: number;
  /** Copies of every message (the stream's `num_replicas`). */
  readonly replicas: number;
  /** Name of the stream created for the measurement (and deleted after it). @default a random name */
  readonly stream?: string;
}

/**
 * What JetStream itself takes on these servers: ~500-byte messages published to a fresh
 * file-storage stream with `replicas` copies, with up to 256 PubAcks outstanding, counted by
 * acknowledgement. No message ids, no index, no HTTP: the raw ceiling of an append. Publishes
 * go out as the event log sends its own (`JetStreamPublisher`), so the ratio of the two is the
 * log's cost and not the client library's.
 */
export async function measureJetStreamCeiling(
  servers: readonly string[],
  options: JetStreamCeilingOptions,
): Promise<{ perSecond: number }> {
  const stream = options.stream ?? `BENCH_CEILING_${randomBytes(6).toString('hex')}`;
  const nc = await connect({ servers: [...servers], timeout: 5_000 });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      storage: StorageType.File,
      num_replicas: options.replicas,
    });
    try {
      const publisher = new JetStreamPublisher(nc, 10_000);
      const subject = `${stream}.bench`;
      const publish = () => publisher.publish(subject, PAYLOAD);
      let untimed = WARMUP_MESSAGES;
      const warmup = async () => {
        while (untimed-- > 0) await publish();
      };
      await Promise.all(Array.from({ length: WINDOW }, warmup));
      let acknowledged = 0;
      const started = performance.now();
      const end = started + options.seconds * 1000;
      // Each loop keeps one publish outstanding: WINDOW loops are a window of WINDOW PubAcks.
      const loop = async () => {
        while (performance.now() < end) {
          await publish();
          acknowledged++;
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, loop));
      return { perSecond: acknowledged / ((performance.now() - started) / 1000) };
    } finally {
      await jsm.streams.delete(stream);
    }
  } finally {
    await nc.close();
  }
}

export interface JetStreamAppendOptions {
  /** How long the timed appending runs. */
  readonly seconds: number;
  /** Events per append call. */
  readonly batch: number;
  /** Appends under way at once, each waiting for its previous one. */
  readonly producers: number;
}

let orders = 0;

/** A fresh canonical event of about 550 bytes of CloudEvents JSON (the ceiling's message size). */
function benchEvent(producer: number): CloudEvent {
  const orderId = `PO-${producer}-${++orders}`;
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: `/plants/P1/bench-${producer}`,
    type: 'production.operation.completed',
    time: new Date().toISOString(),
    subject: orderId,
    plant: 'P1',
    datacontenttype: 'application/json',
    data: {
      orderId,
      plant: 'P1',
      operation: '0010',
      workCenter: 'WC-1',
      quantityGood: { value: 10, uom: 'EA' },
      completedAt: '2026-03-01T08:15:00Z',
      note: 'x'.repeat(140),
    },
  };
}

/**
 * Events a log appends per second: `producers` loops, each appending `batch` fresh events and
 * waiting for the outcome before the next batch, as producers behind the API do. Counts events
 * of appends that resolved; appends started before the time is up are waited for and counted.
 */
export async function measureJetStreamAppends(
  log: EventLog,
  options: JetStreamAppendOptions,
): Promise<{ perSecond: number }> {
  const batchOf = (producer: number) => Array.from({ length: options.batch }, () => benchEvent(producer));
  const producers = Array.from({ length: options.producers }, (_, i) => i);
  await Promise.all(
    producers.map(async (p) => {
      for (let i = 0; i < WARMUP_APPENDS; i++) await log.append(batchOf(p));
    }),
  );
  let appended = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  await Promise.all(
    producers.map(async (p) => {
      while (performance.now() < end) {
        const outcomes = await log.append(batchOf(p));
        appended += outcomes.length;
      }
    }),
  );
  return { perSecond: appended / ((performance.now() - started) / 1000) };
}
