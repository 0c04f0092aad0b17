import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BENCH_KEY, type BenchResult, median, result, withHub } from './bench-util.js';
import { startServerProcess } from './child-process.js';
import { type LoadResult, percentile, runLoad } from './load.js';

export interface CommandBenchContext {
  readonly tmp: string;
  readonly runs: number;
  readonly seconds: number;
  readonly warmupMs: number;
  readonly progress: (line: string) => void;
  readonly results: BenchResult[];
}

/** Commands per second the latency figures are taken at (an open loop: latency, not saturation). */
const RATE = 500;

const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };

const RELEASE_BODY =
  '{"plant":"P1","material":"FG-1000","quantity":{"value":100,"uom":"EA"},"dueDate":"2026-12-01T00:00:00Z"}';
const RESERVATION_BODY =
  '{"plant":"P1","material":"RM-STEEL","quantity":{"value":5,"uom":"KG"},"orderId":"PO-1"}';

/** A system of record that answers every reservation after 1 ms, in this process. */
async function oneMillisecondWms(): Promise<{ url: string; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(`{"reservationId":"R-${++n}"}`);
      }, 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function assertStatus(load: LoadResult, status: string, what: string): void {
  const bad = Object.keys(load.statuses).filter((s) => s !== status);
  if (bad.length > 0) throw new Error(`${what}: unexpected statuses ${JSON.stringify(load.statuses)}`);
}

/**
 * Command latency: an async command (release, enriched from the routings file, durable before 202)
 * and a sync one (a reservation the WMS answers in 1 ms, then published), each at 500/s, next to
 * a no-op fastify route taking the same bodies at the same rate.
 */
export async function runCommandBenchmarks(ctx: CommandBenchContext): Promise<void> {
  const { tmp, runs, seconds, warmupMs, progress, results } = ctx;
  const openLoop = (host: string, port: number, path: string, body: string) =>
    runLoad({
      host,
      port,
      path,
      headers: HEADERS,
      connections: 16,
      durationMs: seconds * 1000,
      warmupMs,
      rate: RATE,
      body: () => body,
    });

  progress(`commands: no-op route p50/p99 at ${RATE} requests/s (ceiling)`);
  const noop = await startServerProcess(new URL('./noop-server.js', import.meta.url).pathname, []);
  const ceiling = { p50: 0, p99: 0 };
  try {
    const { hostname, port } = new URL(noop.url);
    const p50: number[] = [];
    const p99: number[] = [];
    for (let r = 0; r < runs; r++) {
      const load = await openLoop(hostname, Number(port), '/v1/events', RELEASE_BODY);
      assertStatus(load, '202', 'no-op route');
      p50.push(percentile(load.latencies, 50));
      p99.push(percentile(load.latencies, 99));
    }
    ceiling.p50 = median(p50);
    ceiling.p99 = median(p99);
  } finally {
    await noop.stop();
  }

  const wms = await oneMillisecondWms();
  const dir = join(tmp, 'commands');
  mkdirSync(dir, { recursive: true });
  const routings = join(dir, 'routings.csv');
  writeFileSync(
    routings,
    'plant,material,operation,workCenter,component,componentQuantity,uom\nP1,FG-1000,0010,P1-PRESS,RM-STEEL,2.5,KG\nP1,FG-1000,0020,P1-ASSY,CP-BOLT,8,EA\n',
  );
  const config = [
    `referenceData: { routings: "${routings}" }`,
    'connectors:',
    `  wms: { kind: http, baseUrl: "${wms.url}", timeout: 2s, connections: 32 }`,
    'commands:',
    '  inventory-reservation: { connector: wms, path: /reservations }',
  ].join('\n');
  try {
    await withHub(
      dir,
      async (_hub, host, port) => {
        const measure = async (name: string, path: string, body: string, status: string) => {
          progress(`commands: ${name} at ${RATE}/s`);
          const p50: number[] = [];
          const p99: number[] = [];
          for (let r = 0; r < runs; r++) {
            const load = await openLoop(host, port, path, body);
            assertStatus(load, status, name);
            p50.push(percentile(load.latencies, 50));
            p99.push(percentile(load.latencies, 99));
          }
          const note = `${RATE} commands/s; ceiling: a no-op fastify route at the same rate`;
          results.push(
            {
              ...result(
                `command.${name}.p50`,
                median(p50),
                'ms',
                { name: 'http.noop_route.p50_at_500', value: ceiling.p50 },
                false,
              ),
              note,
            },
            {
              ...result(
                `command.${name}.p99`,
                median(p99),
                'ms',
                { name: 'http.noop_route.p99_at_500', value: ceiling.p99 },
                false,
              ),
              note,
            },
          );
        };
        await measure('async_release', '/v1/production-orders/PO-BENCH/release', RELEASE_BODY, '202');
        await measure('sync_reservation_1ms', '/v1/inventory/reservations', RESERVATION_BODY, '201');
      },
      config,
    );
  } finally {
    await wms.close();
  }
}
