import { createServer } from 'node:net';
import { join } from 'node:path';
import type { CloudEvent } from '../model/envelope.js';
import { BenchReceiver } from './bench-receiver.js';
import { type BenchResult, median, result, round, withHub } from './bench-util.js';
import { startServerProcess } from './child-process.js';
import { prefillLog } from './log-prefill.js';
import { sampleRss } from './process-memory.js';

export interface MemoryBenchContext {
  readonly tmp: string;
  readonly runs: number;
  readonly quick: boolean;
  readonly progress: (line: string) => void;
  readonly results: BenchResult[];
  /** One event of the backlog, unique per n, of type production.operation.completed. */
  readonly makeEvent: (n: number) => CloudEvent;
}

const BACKLOG = 1_000_000;

/** A port nothing listens on: connections to it are refused at once, as to a receiver that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function backlogRoute(url: string): string {
  return [
    'connectors:',
    `  backlog: { kind: http, url: "${url}" }`,
    'routes:',
    '  - { name: backlog, types: [production.operation.completed], sink: backlog }',
  ].join('\n');
}

/**
 * The hub's resident memory: idle with the default config (beside a bare fastify process), and
 * with a 1,000,000-event backlog that a route has not delivered, first while its receiver is down
 * and then while it works through it.
 */
export async function runMemoryBenchmarks(ctx: MemoryBenchContext): Promise<void> {
  const { tmp, runs, quick, progress, results } = ctx;
  const settleMs = quick ? 3_000 : 10_000;
  const sampleMs = quick ? 2_000 : 5_000;

  progress('ceiling: RSS of a bare fastify process (the no-op route)');
  const noopRss: number[] = [];
  for (let r = 0; r < runs; r++) {
    const noop = await startServerProcess(new URL('./noop-server.js', import.meta.url).pathname, []);
    try {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      noopRss.push((await sampleRss(noop.child.pid as number, sampleMs)).last);
    } finally {
      await noop.stop();
    }
  }

  progress('memory: RSS of an idle hub with the default config');
  const idle: number[] = [];
  for (let r = 0; r < runs; r++) {
    await withHub(join(tmp, `idle-${r}`), async (hub) => {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      idle.push((await sampleRss(hub.child.pid as number, sampleMs)).last);
    });
  }
  const idleRss = median(idle);
  const idleResult = result(
    'rss.idle',
    idleRss,
    'MiB',
    { name: 'rss.node_fastify_noop', value: median(noopRss) },
    false,
  );
  idleResult.note = `after ${settleMs / 1000} s settling; runs ${idle.map((v) => round(v, 1)).join(', ')} MiB`;
  results.push(idleResult);

  progress(`memory: prefill ${BACKLOG.toLocaleString('en')} events for the backlog`);
  const dir = join(tmp, 'backlog');
  const prefillStarted = performance.now();
  prefillLog(dir, BACKLOG, ctx.makeEvent, undefined, ['route:backlog']);
  const prefillSeconds = (performance.now() - prefillStarted) / 1000;

  progress("memory: RSS with the backlog while the route's receiver is down");
  const down = await withHub(
    dir,
    async (hub) => {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      return sampleRss(hub.child.pid as number, sampleMs);
    },
    backlogRoute(`http://127.0.0.1:${await closedPort()}/backlog`),
  );

  progress('memory: RSS while the route works through the backlog');
  const receiver = new BenchReceiver();
  const base = await receiver.listen();
  let delivering: { peak: number; last: number };
  let delivered = 0;
  try {
    delivering = await withHub(
      dir,
      async (hub) => {
        const pid = hub.child.pid as number;
        const sample = await sampleRss(pid, settleMs + sampleMs);
        delivered = await receiver.total();
        if (delivered === 0) throw new Error('the route delivered nothing of the backlog');
        return sample;
      },
      backlogRoute(`${base}/backlog`),
    );
  } finally {
    await receiver.close();
  }
  const backlog = result(
    'rss.backlog_1m',
    Math.max(down.peak, delivering.peak),
    'MiB',
    { name: 'rss.idle', value: idleRss },
    false,
  );
  backlog.note =
    `highest RSS of the two phases: receiver down ${round(down.peak, 1)} MiB peak (${round(down.last, 1)} last, after ${settleMs / 1000} s), ` +
    `delivering ${round(delivering.peak, 1)} MiB peak (${round(delivering.last, 1)} last, ${delivered} events delivered in ${(settleMs + sampleMs) / 1000} s); ` +
    `log prefilled directly in ${round(prefillSeconds, 1)} s`;
  results.push(backlog);
}
