import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SqliteEventLog } from '../log/sqlite/sqlite-event-log.js';
import type { CloudEvent } from '../model/envelope.js';
import { CONVEYOR_CLI, type ServerProcess, startServerProcess } from './child-process.js';
import { type LoadResult, percentile, runLoad } from './load.js';
import { measureSqliteCeiling } from './sqlite-ceiling.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  ceiling: { name: string; value: number } | null;
  ratio: number | null;
  note?: string;
}

export interface BenchReport {
  machine: Record<string, unknown>;
  results: BenchResult[];
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly progress: (line: string) => void;
}

const BENCH_KEY = `cvy_bench-${'x'.repeat(40)}`;
const HEADERS_SINGLE = {
  'content-type': 'application/cloudevents+json',
  authorization: `Bearer ${BENCH_KEY}`,
};
const HEADERS_BATCH = {
  'content-type': 'application/cloudevents-batch+json',
  authorization: `Bearer ${BENCH_KEY}`,
};
const RUN_ID = Date.now().toString(36);

/** A realistic canonical event (~450 bytes), unique per n. */
function eventJson(n: number): string {
  const order = `PO-${n % 5000}`;
  return `{"specversion":"1.0","id":"${RUN_ID}-${n}","source":"/plants/P1/mes","type":"production.operation.completed","time":"2026-03-01T08:15:00Z","subject":"${order}","plant":"P1","datacontenttype":"application/json","data":{"orderId":"${order}","plant":"P1","operation":"0010","workCenter":"P1-WC-PRESS","quantityGood":{"value":${n % 500},"uom":"EA"},"completedAt":"2026-03-01T08:15:00Z","shift":"A","operator":"op-${n % 40}"}}`;
}

function eventObject(n: number): CloudEvent {
  return JSON.parse(eventJson(n)) as CloudEvent;
}

function batchJson(size: number) {
  return (n: number) => {
    const parts = new Array<string>(size);
    for (let i = 0; i < size; i++) parts[i] = eventJson(n * size + i);
    return `[${parts.join(',')}]`;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function result(
  name: string,
  value: number,
  unit: string,
  ceiling: { name: string; value: number } | null,
  higherIsBetter = true,
): BenchResult {
  const ratio =
    ceiling === null || ceiling.value === 0
      ? null
      : higherIsBetter
        ? value / ceiling.value
        : ceiling.value / value;
  return {
    name,
    value: round(value),
    unit,
    ceiling: ceiling ? { name: ceiling.name, value: round(ceiling.value) } : null,
    ratio: ratio === null ? null : round(ratio, 3),
  };
}

function assertAll202(load: LoadResult, what: string): void {
  const bad = Object.entries(load.statuses).filter(([status]) => status !== '202');
  if (bad.length > 0) throw new Error(`${what}: unexpected statuses ${JSON.stringify(load.statuses)}`);
}

async function withHub<T>(
  dataDir: string,
  fn: (hub: ServerProcess, host: string, port: number) => Promise<T>,
): Promise<T> {
  const hub = await startServerProcess(CONVEYOR_CLI, ['start', '--data', dataDir, '--port', '0'], {
    CONVEYOR_ADMIN_KEY: BENCH_KEY,
    CONVEYOR_LOG_LEVEL: 'error',
  });
  try {
    const { hostname, port } = new URL(hub.url);
    return await fn(hub, hostname, Number(port));
  } finally {
    await hub.stop('SIGTERM');
  }
}

/** Runs the benchmark suite; every figure sits beside a ceiling measured in the same run. */
export async function runBenchmarks(options: BenchOptions): Promise<BenchReport> {
  const { quick, progress } = options;
  const runs = quick ? 1 : 3;
  const seconds = quick ? 2 : 5;
  const warmupMs = quick ? 500 : 1000;
  const prefillLarge = quick ? 100_000 : 1_000_000;
  const tmp = mkdtempSync(join(tmpdir(), 'conveyor-bench-'));
  const results: BenchResult[] = [];
  const closedLoop = async (host: string, port: number, batch: number, connections: number) => {
    const load = await runLoad({
      host,
      port,
      path: '/v1/events',
      headers: batch === 1 ? HEADERS_SINGLE : HEADERS_BATCH,
      connections,
      durationMs: seconds * 1000,
      warmupMs,
      body: batch === 1 ? eventJson : batchJson(batch),
    });
    assertAll202(load, `closed loop batch ${batch}`);
    return (load.requests * batch) / load.seconds;
  };
  const openLoopP99 = async (host: string, port: number, rate: number) => {
    const load = await runLoad({
      host,
      port,
      path: '/v1/events',
      headers: HEADERS_SINGLE,
      connections: 50,
      durationMs: seconds * 1000,
      warmupMs,
      rate,
      body: eventJson,
    });
    assertAll202(load, `open loop ${rate}/s`);
    return percentile(load.latencies, 99);
  };

  try {
    progress('ceiling: no-op fastify route (single events, 50 connections)');
    const noop = await startServerProcess(new URL('./noop-server.js', import.meta.url).pathname, []);
    let noopSingle: number;
    let noopP99: number;
    try {
      const { hostname, port } = new URL(noop.url);
      const single: number[] = [];
      const p99: number[] = [];
      for (let r = 0; r < runs; r++) single.push(await closedLoop(hostname, Number(port), 1, 50));
      progress('ceiling: no-op route p99 at 5,000 requests/s');
      for (let r = 0; r < runs; r++) p99.push(await openLoopP99(hostname, Number(port), 5000));
      noopSingle = median(single);
      noopP99 = median(p99);
    } finally {
      await noop.stop();
    }

    progress('ceiling: raw SQLite inserts, same schema, 100 per transaction');
    const rawSqlite = median(
      Array.from({ length: runs }, () => measureSqliteCeiling(eventObject, 100, quick ? 50_000 : 200_000)),
    );

    progress('ingest: single structured events, 50 connections');
    await withHub(join(tmp, 'single'), async (_hub, host, port) => {
      const single: number[] = [];
      for (let r = 0; r < runs; r++) single.push(await closedLoop(host, port, 1, 50));
      results.push(
        result('ingest.single', median(single), 'events/s', { name: 'http.noop_route', value: noopSingle }),
      );
      progress('ingest: p99 latency at 5,000 events/s');
      const p99: number[] = [];
      for (let r = 0; r < runs; r++) p99.push(await openLoopP99(host, port, 5000));
      results.push(
        result(
          'ingest.p99_at_5k',
          median(p99),
          'ms',
          { name: 'http.noop_route.p99_at_5k', value: noopP99 },
          false,
        ),
      );
    });

    progress('ingest: batches of 100, 16 connections (log holds ~10^4 events)');
    const prefilled = async (dir: string, count: number) => {
      const log = await SqliteEventLog.open({ path: join(dir, 'events.db') });
      for (let n = 0; n < count; n += 5000) {
        const size = Math.min(5000, count - n);
        await log.append(Array.from({ length: size }, (_, i) => eventObject(10_000_000 + n + i)));
        if ((n / 5000) % 40 === 0)
          progress(`  prefill ${n.toLocaleString('en')} / ${count.toLocaleString('en')}`);
      }
      await log.close();
    };
    const smallDir = join(tmp, 'batch-1e4');
    await prefilled(smallDir, 10_000);
    let batchSmall = 0;
    await withHub(smallDir, async (_hub, host, port) => {
      const batch: number[] = [];
      for (let r = 0; r < runs; r++) batch.push(await closedLoop(host, port, 100, 16));
      batchSmall = median(batch);
      results.push(
        result('ingest.batch100', batchSmall, 'events/s', {
          name: 'sqlite.raw_insert_batch100',
          value: rawSqlite,
        }),
      );
    });

    progress(`ingest: batches of 100 with ${prefillLarge.toLocaleString('en')} events already in the log`);
    const largeDir = join(tmp, 'batch-large');
    await prefilled(largeDir, prefillLarge);
    await withHub(largeDir, async (_hub, host, port) => {
      const batch: number[] = [];
      for (let r = 0; r < runs; r++) batch.push(await closedLoop(host, port, 100, 16));
      const large = result('ingest.batch100_at_1e6', median(batch), 'events/s', {
        name: 'ingest.batch100_at_1e4',
        value: batchSmall,
      });
      if (quick) large.note = `quick mode: log prefilled with ${prefillLarge} events, not 10^6`;
      results.push(large);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  return {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(totalmem() / 1024 ** 3, 1),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      mode: quick ? 'quick' : 'full',
      runsPerFigure: runs,
      secondsPerRun: seconds,
    },
    results,
  };
}
