import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CloudEvent } from '../model/envelope.js';
import { runTortureBenchmarks } from '../torture/bench.js';
import { BenchReceiver, monotonicMs } from './bench-receiver.js';
import {
  BENCH_KEY,
  type BenchFailure,
  type BenchResult,
  groupGuard,
  median,
  result,
  round,
  STEADY_STATE_WARMUP_MS,
  withHub,
} from './bench-util.js';
import { startServerProcess } from './child-process.js';
import { runClusterBenchmarks } from './cluster-bench.js';
import { runCommandBenchmarks } from './commands-bench.js';
import { runConnectorBenchmarks } from './connectors-bench.js';
import { type LoadResult, percentile, runLoad } from './load.js';
import { prefillLog } from './log-prefill.js';
import { runMemoryBenchmarks } from './memory-bench.js';
import { measureSqliteCeiling } from './sqlite-ceiling.js';

export type { BenchFailure, BenchResult } from './bench-util.js';

export interface BenchReport {
  machine: Record<string, unknown>;
  results: BenchResult[];
  /** Groups that failed; the others' figures are still reported. */
  failures: BenchFailure[];
}

export interface BenchOptions {
  readonly quick: boolean;
  /**
   * Run only these groups (ingest, e2e, fanout, isolation, replay, memory, commands, connectors, cluster); all
   * when empty. `torture` (a fault run checked for lost, repeated and reordered deliveries) runs only
   * when named.
   */
  readonly only?: readonly string[];
  readonly progress: (line: string) => void;
}

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

function assertAll202(load: LoadResult, what: string): void {
  const bad = Object.entries(load.statuses).filter(([status]) => status !== '202');
  if (bad.length > 0) throw new Error(`${what}: unexpected statuses ${JSON.stringify(load.statuses)}`);
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
  const failures: BenchFailure[] = [];
  const guarded = groupGuard(failures, progress);
  let noopSingle = 0;
  let noopP99 = 0;
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

    const want = (group: string) =>
      !options.only || options.only.length === 0 || options.only.includes(group);
    if (want('ingest')) await guarded('ingest', ingestGroup);
    await runDeliveryBenchmarks({
      tmp,
      runs,
      seconds,
      warmupMs,
      quick,
      progress,
      results,
      noopSingle,
      want,
      guarded,
    });
    if (want('memory'))
      await guarded('memory', () =>
        runMemoryBenchmarks({ tmp, runs, quick, progress, results, makeEvent: eventObject }),
      );
    if (want('commands'))
      await guarded('commands', () =>
        runCommandBenchmarks({ tmp, runs, seconds, warmupMs, progress, results }),
      );
    if (want('connectors'))
      await guarded('connectors', () => runConnectorBenchmarks({ tmp, runs, quick, progress, results }));
    if (want('cluster'))
      await guarded('cluster', () => runClusterBenchmarks({ tmp, runs, quick, progress, results }));
    if (options.only?.includes('torture'))
      await guarded('torture', () => runTortureBenchmarks({ quick, progress, results }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return report();

  async function ingestGroup(): Promise<void> {
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
    const prefilled = (dir: string, count: number) => {
      const started = performance.now();
      prefillLog(
        dir,
        count,
        (n) => eventObject(10_000_000 + n),
        (done) => {
          if (done % 1_000_000 === 0)
            progress(`  prefill ${done.toLocaleString('en')} / ${count.toLocaleString('en')}`);
        },
      );
      return (performance.now() - started) / 1000;
    };
    const smallDir = join(tmp, 'batch-1e4');
    prefilled(smallDir, 10_000);
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

    // The full run also measures 10^7 (its prefill writes ~7 GB); quick mode stops at a smaller 10^6 stand-in.
    const large: Array<{ name: string; count: number }> = [
      { name: 'ingest.batch100_at_1e6', count: prefillLarge },
      ...(quick ? [] : [{ name: 'ingest.batch100_at_1e7', count: 10_000_000 }]),
    ];
    for (const { name, count } of large) {
      progress(`ingest: batches of 100 with ${count.toLocaleString('en')} events already in the log`);
      const largeDir = join(tmp, `batch-${count}`);
      const prefillSeconds = prefilled(largeDir, count);
      await withHub(largeDir, async (_hub, host, port) => {
        const batch: number[] = [];
        for (let r = 0; r < runs; r++) batch.push(await closedLoop(host, port, 100, 16));
        const figure = result(name, median(batch), 'events/s', {
          name: 'ingest.batch100_at_1e4',
          value: batchSmall,
        });
        figure.note = `${quick ? `quick mode: log prefilled with ${count} events, not 10^6; ` : ''}prefill (written directly, unsynced) took ${round(prefillSeconds, 1)} s`;
        results.push(figure);
      });
      // Gigabytes: give the disk back before the next figure.
      rmSync(largeDir, { recursive: true, force: true });
    }
  }

  function report(): BenchReport {
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
      failures,
    };
  }
}

interface DeliveryBenchContext {
  readonly tmp: string;
  readonly runs: number;
  readonly seconds: number;
  readonly warmupMs: number;
  readonly quick: boolean;
  readonly progress: (line: string) => void;
  readonly results: BenchResult[];
  /** The no-op route's requests/s: every delivery is one HTTP request, so this bounds delivery rates. */
  readonly noopSingle: number;
  readonly want: (group: string) => boolean;
  readonly guarded: (group: string, run: () => Promise<void>) => Promise<void>;
}

/** An event whose data carries the send instant, so the receiver (same process) can time delivery. */
let timedSerial = 0;

function timedEventJson(type: string, n: number): string {
  const order = `PO-${n % 5000}`;
  // Valid data for the type (the hub validates it), stamped with the send instant.
  const data =
    type === 'telemetry.machine.counter'
      ? `{"plant":"P1","equipmentId":"PRESS-${n % 8}","counter":"good","value":${n},"at":"2026-03-01T08:15:00Z","sentAt":${monotonicMs()}}`
      : `{"orderId":"${order}","plant":"P1","operation":"0010","workCenter":"P1-WC","quantityGood":{"value":1,"uom":"EA"},"completedAt":"2026-03-01T08:15:00Z","sentAt":${monotonicMs()}}`;
  // A fresh id on every call: load runs restart n at 0, and the hub would drop a repeated id.
  return `{"specversion":"1.0","id":"${RUN_ID}-t-${++timedSerial}","source":"/plants/P1/mes","type":"${type}","time":"2026-03-01T08:15:00Z","subject":"${type === 'telemetry.machine.counter' ? `PRESS-${n % 8}` : order}","plant":"P1","data":${data}}`;
}

function routesYaml(
  receiver: string,
  routes: Array<{ name: string; types: string; lane?: string; batch?: string }>,
  extra = '',
): string {
  return [
    'connectors:',
    ...routes.map((r) => `  ${r.name}: { kind: http, url: "${receiver}/${r.name}", connections: 32 }`),
    'routes:',
    ...routes.map(
      (r) =>
        `  - { name: ${r.name}, types: [${r.types}], sink: ${r.name}${r.lane ? `, lane: ${r.lane}` : ''}${r.batch ? `, batch: ${r.batch}` : ''} }`,
    ),
    extra,
  ].join('\n');
}

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Batched delivery as the fan-out and replay figures configure it on their routes. */
const BATCHED_DELIVERY = '{ maxEvents: 100, maxWait: 10ms }';
/** 10 routes at 5,000 events/s. */
const FANOUT_OFFERED = { name: 'fanout.offered', value: 50_000 };
/** What batched replay is held to. */
const REPLAY_TARGET = { name: 'replay.target', value: 50_000 };

/** End-to-end latency, fan-out, lane isolation and replay, each beside its ceiling. */
async function runDeliveryBenchmarks(ctx: DeliveryBenchContext): Promise<void> {
  const { tmp, runs, seconds, warmupMs, progress, results } = ctx;
  const receiver = new BenchReceiver();
  const base = await receiver.listen();
  const headers = HEADERS_SINGLE;
  /** Single events at `rate`, timed after `warmupMs` for the run's seconds (or `durationMs`). */
  const openLoop = (
    host: string,
    port: number,
    rate: number,
    body: (n: number) => string,
    timing: { durationMs: number; warmupMs: number } = { durationMs: seconds * 1000, warmupMs },
  ) => runLoad({ host, port, path: '/v1/events', headers, connections: 32, rate, body, ...timing });
  const warmUp = (host: string, port: number, rate: number, body: (n: number) => string) =>
    openLoop(host, port, rate, body, { durationMs: STEADY_STATE_WARMUP_MS, warmupMs: 0 });
  /** Batches of 100 telemetry events, `rate` batches a second, for `durationMs`. */
  const bulkLoad = (host: string, port: number, rate: number, durationMs: number) =>
    runLoad({
      host,
      port,
      path: '/v1/events',
      headers: HEADERS_BATCH,
      connections: 8,
      durationMs,
      rate,
      body: (n) =>
        `[${Array.from({ length: 100 }, (_, i) => timedEventJson('telemetry.machine.counter', n * 100 + i)).join(',')}]`,
    });
  /** Waits (up to 30 s) until the isolation figure's bulk route has nothing left to deliver. */
  const bulkDrained = (host: string, port: number) =>
    waitUntil(async () => {
      const response = await fetch(`http://${host}:${port}/v1/subscriptions`, {
        headers: { authorization: `Bearer ${BENCH_KEY}` },
      });
      const page = (await response.json()) as {
        items: Array<{ name: string; lag: { events: number }; inFlight: number }>;
      };
      const route = page.items.find((item) => item.name === 'bulk');
      return route !== undefined && route.lag.events === 0 && route.inFlight === 0;
    }, 30_000);
  const timedLatencies = async (path: string, run: () => Promise<unknown>) => {
    await receiver.reset();
    const start = setTimeout(() => void receiver.record(true), warmupMs);
    await run();
    clearTimeout(start);
    await waitUntil(async () => false, 300); // deliveries of the last requests
    await receiver.record(false);
    return receiver.latencies(path);
  };
  try {
    if (ctx.want('e2e')) await ctx.guarded('e2e', e2eGroup);
    if (ctx.want('fanout')) await ctx.guarded('fanout', fanoutGroup);
    if (ctx.want('isolation')) await ctx.guarded('isolation', isolationGroup);
    if (ctx.want('replay')) await ctx.guarded('replay', replayGroup);
  } finally {
    await receiver.close();
  }

  async function e2eGroup(): Promise<void> {
    progress('delivery: end-to-end latency at 2,000 events/s (accept -> receiver)');
    const noop = await startServerProcess(new URL('./noop-server.js', import.meta.url).pathname, []);
    let noopP50 = 0;
    let noopP99At2k = 0;
    try {
      const { hostname, port } = new URL(noop.url);
      const load = await openLoop(hostname, Number(port), 2000, eventJson);
      noopP50 = percentile(load.latencies, 50);
      noopP99At2k = percentile(load.latencies, 99);
    } finally {
      await noop.stop();
    }
    await withHub(
      join(tmp, 'e2e'),
      async (_hub, host, port) => {
        await warmUp(host, port, 2000, (n) => timedEventJson('production.operation.completed', n));
        const p50: number[] = [];
        const p99: number[] = [];
        for (let r = 0; r < runs; r++) {
          const lat = await timedLatencies('/e2e', () =>
            openLoop(host, port, 2000, (n) => timedEventJson('production.operation.completed', n)),
          );
          p50.push(percentile(lat, 50));
          p99.push(percentile(lat, 99));
        }
        results.push(
          result(
            'e2e.p50_at_2k',
            median(p50),
            'ms',
            { name: 'http.noop_route.p50_at_2k', value: noopP50 },
            false,
          ),
        );
        results.push(
          result(
            'e2e.p99_at_2k',
            median(p99),
            'ms',
            { name: 'http.noop_route.p99_at_2k', value: noopP99At2k },
            false,
          ),
        );
      },
      routesYaml(base, [{ name: 'e2e', types: 'production.operation.completed' }]),
    );
  }

  async function fanoutGroup(): Promise<void> {
    progress('delivery: fan-out of one type to 10 routes at 5,000 events/s');
    // One request per delivery: the no-op route's request rate bounds it.
    await fanout('fanout.10_routes_at_5k', 'fanout', { name: 'http.noop_route', value: ctx.noopSingle });
    progress('delivery: the same fan-out with batched delivery (up to 100 events a request)');
    // Batched, requests no longer bound it: keeping up with what is offered does.
    await fanout('fanout.10_routes_at_5k_batched', 'fanout-batched', FANOUT_OFFERED, BATCHED_DELIVERY);
  }

  /** One type to 10 routes at 5,000 events/s offered: deliveries/s until every one has arrived. */
  async function fanout(
    name: string,
    dir: string,
    ceiling: { name: string; value: number },
    batch?: string,
  ): Promise<void> {
    const fanRoutes = Array.from({ length: 10 }, (_, i) => ({
      name: `fan${i}`,
      types: 'production.operation.completed',
      ...(batch ? { batch } : {}),
    }));
    await withHub(
      join(tmp, dir),
      async (_hub, host, port) => {
        await receiver.reset();
        const body = (n: number) =>
          `[${Array.from({ length: 50 }, (_, i) => timedEventJson('production.operation.completed', n * 50 + i)).join(',')}]`;
        const started = performance.now();
        const load = await runLoad({
          host,
          port,
          path: '/v1/events',
          headers: HEADERS_BATCH,
          connections: 8,
          durationMs: seconds * 1000,
          rate: 100,
          body,
        });
        const offered = Object.values(load.statuses).reduce((a, b) => a + b, 0) * 50 * 10;
        const caughtUp = await waitUntil(async () => (await receiver.total()) >= offered, seconds * 4000);
        const elapsed = (performance.now() - started) / 1000;
        const delivered = await receiver.total();
        const r = result(name, delivered / elapsed, 'deliveries/s', ceiling);
        r.note = caughtUp
          ? `all ${offered} deliveries done ${(elapsed - seconds).toFixed(1)} s after ingest stopped`
          : `lag grew: ${offered - delivered} of ${offered} deliveries still pending ${seconds * 4} s after ingest stopped`;
        results.push(r);
      },
      routesYaml(base, fanRoutes),
    );
  }

  async function isolationGroup(): Promise<void> {
    progress('delivery: critical p99 unloaded, then under a bulk telemetry flood');
    await withHub(
      join(tmp, 'isolation'),
      async (_hub, host, port) => {
        const critical = () =>
          openLoop(host, port, 200, (n) => timedEventJson('production.operation.completed', n));
        const unloaded: number[] = [];
        const flooded: number[] = [];
        let throttled = 0;
        let bulkAccepted = 0;
        // Both paths warm: critical events, and bulk batches at a rate the lane admits.
        await Promise.all([
          warmUp(host, port, 200, (n) => timedEventJson('production.operation.completed', n)),
          bulkLoad(host, port, 20, STEADY_STATE_WARMUP_MS),
        ]);
        await bulkDrained(host, port);
        await receiver.reset();
        for (let r = 0; r < runs; r++) {
          unloaded.push(percentile(await timedLatencies('/crit', critical), 99));
          // Twice what the bulk lane admits (10,000 events/s offered against 5,000 admitted).
          const flood = bulkLoad(host, port, 100, seconds * 1000 + warmupMs);
          const lat = await timedLatencies('/crit', critical);
          const floodResult = await flood;
          throttled += floodResult.statuses[429] ?? 0;
          bulkAccepted += (floodResult.statuses[202] ?? 0) * 100;
          flooded.push(percentile(lat, 99));
          // The next run's unloaded figure starts once the flood's backlog is delivered.
          await bulkDrained(host, port);
        }
        results.push(result('isolation.critical_p99_unloaded', median(unloaded), 'ms', null));
        const f = result(
          'isolation.critical_p99_flooded',
          median(flooded),
          'ms',
          { name: 'isolation.critical_p99_unloaded', value: median(unloaded) },
          false,
        );
        f.note = `bulk flood of 10,000 telemetry events/s offered: ${bulkAccepted} accepted, ${throttled} requests of 100 answered 429 (lanes.bulk.ingressPerSecond 5000)`;
        results.push(f);
      },
      routesYaml(
        base,
        [
          { name: 'crit', types: 'production.operation.completed' },
          { name: 'bulk', types: 'telemetry.machine.counter', lane: 'bulk' },
        ],
        'lanes: { bulk: { concurrency: 4, ingressPerSecond: 5000 } }',
      ),
    );
  }

  async function replayGroup(): Promise<void> {
    progress('delivery: replay throughput to a fast receiver');
    await replay('replay', 'replay', { name: 'http.noop_route', value: ctx.noopSingle });
    progress('delivery: the same replay with batched delivery (up to 100 events a request)');
    // Batched, the request rate no longer bounds it: 50,000 events/s is what it is held to.
    await replay('replay.batched', 'replay-batched', REPLAY_TARGET, BATCHED_DELIVERY);
  }

  /** Events re-delivered per second after `POST /v1/subscriptions/replay/replay` from sequence 1. */
  async function replay(
    name: string,
    dir: string,
    ceiling: { name: string; value: number },
    batch?: string,
  ): Promise<void> {
    const replayDir = join(tmp, dir);
    const count = ctx.quick ? 20_000 : 60_000;
    await withHub(
      replayDir,
      async (hub, host, port) => {
        await receiver.reset();
        const rates: number[] = [];
        // Fill the log through the API, wait until the route has delivered it once.
        for (let n = 0; n < count / 500; n++) {
          const body = `[${Array.from({ length: 500 }, (_, i) => timedEventJson('production.operation.completed', n * 500 + i)).join(',')}]`;
          const response = await fetch(`${hub.url}/v1/events`, {
            method: 'POST',
            headers: HEADERS_BATCH,
            body,
          });
          if (response.status !== 202) throw new Error(`replay prefill: HTTP ${response.status}`);
        }
        await waitUntil(async () => (await receiver.total()) >= count, 120_000);
        for (let r = 0; r < runs; r++) {
          await receiver.reset();
          const started = performance.now();
          const response = await fetch(`http://${host}:${port}/v1/subscriptions/replay/replay`, {
            method: 'POST',
            headers: { ...HEADERS_SINGLE, 'content-type': 'application/json' },
            body: JSON.stringify({ from: 1 }),
          });
          if (response.status !== 202) throw new Error(`replay: HTTP ${response.status}`);
          await waitUntil(async () => (await receiver.total()) >= count, 120_000);
          rates.push(count / ((performance.now() - started) / 1000));
        }
        const figure = result(name, median(rates), 'events/s', ceiling);
        figure.note = `${count.toLocaleString('en')} events from sequence 1; runs: ${rates.map(Math.round).join(', ')}`;
        results.push(figure);
      },
      routesYaml(base, [
        {
          name: 'replay',
          types: 'production.operation.completed',
          ...(batch ? { batch } : {}),
        },
      ]),
    );
  }
}
