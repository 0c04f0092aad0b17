import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { BenchReceiver, monotonicMs } from './bench-receiver.js';
import {
  BENCH_KEY,
  type BenchResult,
  median,
  result,
  STEADY_STATE_WARMUP_MS,
  withHub,
} from './bench-util.js';
import type { ServerProcess } from './child-process.js';
import { measureJetStreamCeiling } from './jetstream-ceiling.js';
import { measureJetStreamRoundTrip } from './jetstream-round-trip.js';
import { type LoadResult, percentile, runLoad } from './load.js';
import { cpuMeter, cpuSeconds, machineCpuSeconds, ownCpuSeconds } from './process-cpu.js';

export interface ClusterBenchContext {
  readonly tmp: string;
  readonly runs: number;
  readonly quick: boolean;
  readonly progress: (line: string) => void;
  readonly results: BenchResult[];
}

/** Events per second the end-to-end latency is taken at (an open loop: latency, not saturation). */
const E2E_RATE = 500;
const BATCH = 100;
const BATCH_CONNECTIONS = 16;
const SINGLE_CONNECTIONS = 50;
const POSTGRES_ROOT = '/usr/lib/postgresql';
const RUN_ID = Date.now().toString(36);

const HEADERS_SINGLE = {
  'content-type': 'application/cloudevents+json',
  authorization: `Bearer ${BENCH_KEY}`,
};
const HEADERS_BATCH = {
  'content-type': 'application/cloudevents-batch+json',
  authorization: `Bearer ${BENCH_KEY}`,
};

// Every event gets a fresh id: load runs restart their counter, and the hub answers a repeated id
// as a duplicate without appending it, which would flatter the figures.
let serial = 0;

/** A realistic canonical event (~450 bytes). */
function eventJson(): string {
  const n = ++serial;
  const order = `PO-${n % 5000}`;
  return `{"specversion":"1.0","id":"${RUN_ID}-c-${n}","source":"/plants/P1/mes","type":"production.operation.completed","time":"2026-03-01T08:15:00Z","subject":"${order}","plant":"P1","datacontenttype":"application/json","data":{"orderId":"${order}","plant":"P1","operation":"0010","workCenter":"P1-WC-PRESS","quantityGood":{"value":${n % 500},"uom":"EA"},"completedAt":"2026-03-01T08:15:00Z","shift":"A","operator":"op-${n % 40}"}}`;
}

function batchJson(): string {
  return `[${Array.from({ length: BATCH }, eventJson).join(',')}]`;
}

/**
 * An event of the type only the latency route takes (the ingest loads use another type, so that
 * route never delivers them), stamped with the send instant on the machine's monotonic clock.
 */
function timedEventJson(): string {
  const n = ++serial;
  return `{"specversion":"1.0","id":"${RUN_ID}-t-${n}","source":"/plants/P1/mes","type":"telemetry.machine.counter","time":"2026-03-01T08:15:00Z","subject":"PRESS-${n % 8}","plant":"P1","data":{"plant":"P1","equipmentId":"PRESS-${n % 8}","counter":"good","value":${n},"at":"2026-03-01T08:15:00Z","sentAt":${monotonicMs()}}}`;
}

function assertAll202(load: LoadResult, what: string): void {
  const bad = Object.keys(load.statuses).filter((status) => status !== '202');
  if (bad.length > 0) throw new Error(`${what}: unexpected statuses ${JSON.stringify(load.statuses)}`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Fails with the command that installs what is missing, rather than skipping the group. */
function requireServerBinaries(natsServerBinary: string): void {
  if (!existsSync(natsServerBinary)) {
    throw new Error(
      `the cluster benchmarks need nats-server (no ${natsServerBinary}); run: sudo apt-get install -y nats-server`,
    );
  }
  const postgres =
    existsSync(POSTGRES_ROOT) &&
    readdirSync(POSTGRES_ROOT).some((major) => existsSync(join(POSTGRES_ROOT, major, 'bin', 'postgres')));
  if (!postgres) {
    throw new Error(
      `the cluster benchmarks need PostgreSQL (no ${POSTGRES_ROOT}/*/bin/postgres); run: sudo apt-get install -y postgresql`,
    );
  }
}

/**
 * The real NATS and PostgreSQL servers the integration tests start (temp folders, 127.0.0.1,
 * free ports, stopped by PID). The benchmark runs from a checkout, where the root tsc compiles
 * them to dist/test/helpers beside dist/src; they are loaded only when this group runs, so the
 * other groups do not depend on them.
 */
async function loadServerLaunchers() {
  try {
    const nats = await import('../../test/helpers/nats-cluster.js');
    const postgres = await import('../../test/helpers/postgres.js');
    return { NatsCluster: nats.NatsCluster, natsServerBinary: nats.NATS_SERVER_BINARY, postgres };
  } catch (error) {
    throw new Error(
      `the cluster benchmarks start NATS and PostgreSQL with the launchers compiled from test/helpers; run them from a checkout built with \`npm run build\` (${(error as Error).message})`,
    );
  }
}

type Launchers = Awaited<ReturnType<typeof loadServerLaunchers>>;
type NatsCluster = Awaited<ReturnType<Launchers['NatsCluster']['start']>>;

/** Percent of one core per process, as a note; what the machine used beyond them is other processes. */
function cpuNote(shares: Record<string, number>, cores: number): string {
  const { machine = 0, ...processes } = shares;
  const parts = Object.entries(processes).map(([name, share]) => `${name} ${Math.round(share)}`);
  const named = Object.values(processes).reduce((sum, share) => sum + share, 0);
  return `CPU in % of one core: ${parts.join(', ')}, other processes ${Math.max(0, Math.round(machine - named))}; whole machine ${Math.round(machine)} of ${cores * 100}`;
}

/**
 * Conveyor on its scale-out backends: hubs (each its own process) on a JetStream log and a
 * PostgreSQL store. Ingest stands beside raw JetStream publishing on the same cluster, the
 * end-to-end latency beside JetStream's own publish → consume time, and two hub instances beside
 * one. The full run uses a 3-node cluster with R3 streams; `--quick` one node with R1.
 */
export async function runClusterBenchmarks(ctx: ClusterBenchContext): Promise<void> {
  const { tmp, runs, quick, progress, results } = ctx;
  const seconds = quick ? 2 : 4;
  const warmupMs = quick ? 500 : 1000;
  const launchers = await loadServerLaunchers();
  requireServerBinaries(launchers.natsServerBinary);
  const cores = cpus().length;

  const rawPublish = async (cluster: NatsCluster, replicas: number) =>
    (await measureJetStreamCeiling([...cluster.urls], { seconds, replicas })).perSecond;
  /** Records the raw publish rate of one cluster; the R3 figure stands beside the R1 one. */
  const rawPublishFigure = (nodes: number, replicas: number, runRates: number[], r1: number | null) => {
    const rate = median(runRates);
    const what =
      nodes === 1
        ? '1 node, file storage'
        : `${nodes} nodes on this machine, file storage, ${replicas} replicas (ratio: what replication costs)`;
    results.push({
      ...result(
        `cluster.jetstream.raw_publish.r${replicas}`,
        rate,
        'msgs/s',
        r1 === null ? null : { name: 'cluster.jetstream.raw_publish.r1', value: r1 },
      ),
      note: `${what}; ~500-byte messages, 256 PubAcks outstanding; runs: ${runRates.map(Math.round).join(', ')}`,
    });
    return rate;
  };

  progress('cluster: starting PostgreSQL');
  const postgres = await launchers.postgres.PostgresServer.start();
  try {
    progress('cluster: starting a 1-node NATS');
    const single = await launchers.NatsCluster.start({ nodes: 1 });
    let r1 = 0;
    try {
      if (quick) await hubFigures(single, 1, null);
      else {
        progress('cluster: raw JetStream publish, R1');
        const r1Runs: number[] = [];
        for (let r = 0; r < runs; r++) r1Runs.push(await rawPublish(single, 1));
        r1 = rawPublishFigure(1, 1, r1Runs, null);
      }
    } finally {
      await single.stop();
    }
    if (quick) return;

    progress('cluster: starting a 3-node NATS cluster');
    const three = await launchers.NatsCluster.start({ nodes: 3 });
    try {
      await hubFigures(three, 3, r1);
    } finally {
      await three.stop();
    }
  } finally {
    await postgres.close();
  }

  /**
   * Every figure with hubs in it, on one cluster, beside that cluster's raw publish rate; that rate
   * is measured run by run between the hub's ingest runs, so both see the same background load.
   */
  async function hubFigures(cluster: NatsCluster, replicas: number, r1: number | null): Promise<void> {
    const ceiling = { name: `cluster.jetstream.raw_publish.r${replicas}`, value: 0 };
    const where = `${cluster.size === 1 ? '1 NATS node, R1' : `${cluster.size} NATS nodes, R${replicas}`}, PostgreSQL store`;
    const database = await postgres.createDatabase('bench_cluster');
    const receiver = new BenchReceiver();
    const receiverUrl = await receiver.listen();
    // Both instances share the stream and the database; the route runs on one at a time. It stays
    // on telemetry's own (bulk) lane, so its backlog, which an instance that does not run it counts
    // up to the stream's head, never holds back the ingest's events on the critical lane.
    const config = [
      `log: { kind: jetstream, servers: [${cluster.urls.map((u) => `"${u}"`).join(', ')}], replicas: ${replicas}, stream: BENCH_${RUN_ID} }`,
      `store: { kind: postgres, url: "${database}" }`,
      'connectors:',
      `  e2e: { kind: http, url: "${receiverUrl}/e2e", connections: 32 }`,
      'routes:',
      '  - { name: e2e, types: [telemetry.machine.counter], sink: e2e }',
    ].join('\n');
    const closedLoop = (hub: ServerProcess, batch: boolean, connections: number) => {
      const { hostname, port } = new URL(hub.url);
      return runLoad({
        host: hostname,
        port: Number(port),
        path: '/v1/events',
        headers: batch ? HEADERS_BATCH : HEADERS_SINGLE,
        connections,
        durationMs: seconds * 1000,
        warmupMs,
        body: batch ? batchJson : eventJson,
      });
    };
    const eventsPerSecond = (load: LoadResult, batch: boolean, what: string) => {
      assertAll202(load, what);
      return (load.requests * (batch ? BATCH : 1)) / load.seconds;
    };
    try {
      await withHub(
        join(tmp, 'cluster-hub-a'),
        async (hubA) => {
          await latencyFigures(hubA);
          progress(`cluster: raw JetStream publish and ingest through one hub, in turn (${where})`);
          const rawRuns: number[] = [];
          const batchRuns: number[] = [];
          const singleRuns: number[] = [];
          for (let r = 0; r < runs; r++) {
            rawRuns.push(await rawPublish(cluster, replicas));
            batchRuns.push(eventsPerSecond(await closedLoop(hubA, true, BATCH_CONNECTIONS), true, 'batch'));
            singleRuns.push(
              eventsPerSecond(await closedLoop(hubA, false, SINGLE_CONNECTIONS), false, 'single'),
            );
          }
          ceiling.value = rawPublishFigure(cluster.size, replicas, rawRuns, r1);
          results.push(
            {
              ...result('cluster.ingest.batch100', median(batchRuns), 'events/s', ceiling),
              note: `${where}; batches of ${BATCH}, ${BATCH_CONNECTIONS} connections; runs: ${batchRuns.map(Math.round).join(', ')}`,
            },
            {
              ...result('cluster.ingest.single', median(singleRuns), 'events/s', ceiling),
              note: `${where}; single events, ${SINGLE_CONNECTIONS} connections; runs: ${singleRuns.map(Math.round).join(', ')}`,
            },
          );
          // After a load a hub takes seconds to shut down, so both instances stop at once: hub A
          // is sent SIGTERM as hub B is, and its own withHub then finds it already gone.
          let stoppingA: Promise<unknown> = Promise.resolve();
          await withHub(
            join(tmp, 'cluster-hub-b'),
            async (hubB) => {
              await twoHubFigures(hubA, hubB);
              progress('cluster: stopping the hubs, NATS and PostgreSQL');
              stoppingA = hubA.stop('SIGTERM');
            },
            config,
          );
          await stoppingA;
        },
        config,
      );
    } finally {
      await receiver.close();
    }

    /** Accept → receipt at the route's sink at a fixed rate, beside JetStream's own round trip. */
    async function latencyFigures(hub: ServerProcess): Promise<void> {
      progress(
        `cluster: end-to-end latency at ${E2E_RATE} events/s, in turn with JetStream's own publish -> consume`,
      );
      // The route must be running (its lease taken, its consumer open) before anything is timed.
      const primed = await fetch(`${hub.url}/v1/events`, {
        method: 'POST',
        headers: HEADERS_SINGLE,
        body: timedEventJson(),
      });
      if (primed.status !== 202) throw new Error(`cluster e2e: priming event got HTTP ${primed.status}`);
      if (!(await waitUntil(async () => (await receiver.total()) > 0, 30_000)))
        throw new Error('cluster e2e: the route delivered nothing within 30 s');
      const { hostname, port } = new URL(hub.url);
      const timedLoad = (timing: { durationMs: number; warmupMs: number }) =>
        runLoad({
          host: hostname,
          port: Number(port),
          path: '/v1/events',
          headers: HEADERS_SINGLE,
          connections: 16,
          rate: E2E_RATE,
          body: timedEventJson,
          ...timing,
        });
      // Timed in service, as the single-node latency figures are: not while the hub compiles.
      const warm = await timedLoad({ durationMs: STEADY_STATE_WARMUP_MS, warmupMs: 0 });
      assertAll202(warm, 'cluster e2e warm-up');
      const rawP50: number[] = [];
      const rawP99: number[] = [];
      const p50: number[] = [];
      const p99: number[] = [];
      // The request's own time to its 202 (the append), so a note tells ingest from delivery.
      const acceptP50: number[] = [];
      const acceptP99: number[] = [];
      for (let r = 0; r < runs; r++) {
        const raw = await measureJetStreamRoundTrip([...cluster.urls], {
          seconds,
          warmupMs,
          rate: E2E_RATE,
          replicas,
        });
        rawP50.push(percentile(raw, 50));
        rawP99.push(percentile(raw, 99));
        await receiver.reset();
        const recordFrom = setTimeout(() => void receiver.record(true), warmupMs);
        const load = await timedLoad({ durationMs: seconds * 1000, warmupMs });
        clearTimeout(recordFrom);
        assertAll202(load, 'cluster e2e');
        acceptP50.push(percentile(load.latencies, 50));
        acceptP99.push(percentile(load.latencies, 99));
        const accepted = load.statuses[202] ?? 0;
        await waitUntil(async () => ((await receiver.counts())['/e2e'] ?? 0) >= accepted, 5_000);
        await receiver.record(false);
        const lat = await receiver.latencies('/e2e');
        p50.push(percentile(lat, 50));
        p99.push(percentile(lat, 99));
      }
      const ms = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ');
      const note = `${where}; ${E2E_RATE} events/s, 16 connections; ceiling: ~500-byte messages published at the same rate to a stream on the same cluster and read back by a pull consumer; runs p50: ${ms(p50)}, p99: ${ms(p99)} ms; the POST's own 202 p50: ${ms(acceptP50)}, p99: ${ms(acceptP99)} ms`;
      results.push(
        {
          ...result(
            'cluster.e2e.p50_at_500',
            median(p50),
            'ms',
            { name: 'cluster.jetstream.round_trip.p50_at_500', value: median(rawP50) },
            false,
          ),
          note,
        },
        {
          ...result(
            'cluster.e2e.p99_at_500',
            median(p99),
            'ms',
            { name: 'cluster.jetstream.round_trip.p99_at_500', value: median(rawP99) },
            false,
          ),
          note,
        },
      );
    }

    /**
     * The same closed loop (batches of 100, 16 connections) against one instance, then split over
     * two (8 connections each), run by run in turn so that both see the same background noise.
     */
    async function twoHubFigures(hubA: ServerProcess, hubB: ServerProcess): Promise<void> {
      progress(`cluster: one hub vs two hubs (${where})`);
      const pids = (): Record<string, () => number> => {
        const sources: Record<string, () => number> = {
          'hub-a': () => cpuSeconds(hubA.child.pid as number),
          'hub-b': () => cpuSeconds(hubB.child.pid as number),
        };
        for (let i = 0; i < cluster.size; i++) {
          const pid = cluster.pid(i);
          if (pid !== undefined) sources[`nats-${i + 1}`] = () => cpuSeconds(pid);
        }
        const pg = postgres.pid;
        if (pg !== undefined) sources.postgres = () => cpuSeconds(pg);
        sources['load generator'] = ownCpuSeconds;
        sources.machine = machineCpuSeconds;
        return sources;
      };
      const oneCpu = cpuMeter(pids());
      const twoCpu = cpuMeter(pids());
      const oneRuns: number[] = [];
      const twoRuns: number[] = [];
      // The CPU is read over the timed part of each run, after its warm-up.
      const timed = async <T>(meter: ReturnType<typeof cpuMeter>, run: Promise<T>): Promise<T> => {
        await sleep(warmupMs);
        meter.start();
        const value = await run;
        meter.stop();
        return value;
      };
      for (let r = 0; r < runs; r++) {
        const one = await timed(oneCpu, closedLoop(hubA, true, BATCH_CONNECTIONS));
        oneRuns.push(eventsPerSecond(one, true, 'one hub'));
        const half = BATCH_CONNECTIONS / 2;
        const [a, b] = await timed(
          twoCpu,
          Promise.all([closedLoop(hubA, true, half), closedLoop(hubB, true, half)]),
        );
        twoRuns.push(eventsPerSecond(a, true, 'two hubs, a') + eventsPerSecond(b, true, 'two hubs, b'));
      }
      const one = median(oneRuns);
      results.push(
        {
          ...result('cluster.one_hub.ingest', one, 'events/s', ceiling),
          note: `${where}; batches of ${BATCH}, ${BATCH_CONNECTIONS} connections to one instance while a second idles; runs: ${oneRuns.map(Math.round).join(', ')}. ${cpuNote(oneCpu.shares(), cores)}`,
        },
        {
          ...result('cluster.two_hubs.ingest', median(twoRuns), 'events/s', {
            name: 'cluster.one_hub.ingest',
            value: one,
          }),
          note: `${where}; the same load split over two instances, ${BATCH_CONNECTIONS / 2} connections each; runs: ${twoRuns.map(Math.round).join(', ')}. ${cpuNote(twoCpu.shares(), cores)}`,
        },
      );
    }
  }
}
