import { connect, type Socket } from 'node:net';

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly durationMs: number;
  /** Builds the n-th request body (bodies must differ where the server de-duplicates). */
  readonly body: (n: number) => string;
  /** Requests per second across all connections (open loop); closed loop when absent. */
  readonly rate?: number;
  /** Requests not timed at the start (connection set-up, JIT warm-up). @default 0 */
  readonly warmupMs?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly statuses: Record<number, number>;
  /** Latencies in ms of timed requests, sorted. */
  readonly latencies: Float64Array;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * A small HTTP/1.1 load generator over raw keep-alive sockets, cheap enough to leave most of a
 * core to the server under test. Open-loop mode measures latency from each request's scheduled
 * time, so a stalled server is not hidden by the generator waiting for it (coordinated omission).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const head = Object.entries({
    host: `${options.host}:${options.port}`,
    connection: 'keep-alive',
    ...options.headers,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const warmupEnd = performance.now() + (options.warmupMs ?? 0);
  const end = warmupEnd + options.durationMs;
  const statuses: Record<number, number> = {};
  const latencies: number[] = [];
  let counter = 0;
  let timedRequests = 0;

  const interval = options.rate ? 1000 / options.rate : 0;
  let nextSlot = performance.now();
  const backlog: number[] = []; // scheduled times waiting for a free connection (open loop)
  const idle: Array<(scheduled: number) => void> = [];

  const runConnection = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = connect({ host: options.host, port: options.port, noDelay: true });
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let scheduledAt = 0;
      const send = (scheduled: number) => {
        const now = performance.now();
        if (now >= end) {
          socket.end();
          return;
        }
        const body = options.body(counter++);
        sentAt = now;
        scheduledAt = scheduled;
        socket.write(
          `POST ${options.path} HTTP/1.1\r\n${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      };
      const next = () => {
        if (!options.rate) return send(performance.now());
        const waiting = backlog.shift();
        if (waiting !== undefined) send(waiting);
        else idle.push(send);
      };
      socket.on('connect', next);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const headerEnd = buffer.indexOf('\r\n\r\n');
          if (headerEnd === -1) return;
          const header = buffer.subarray(0, headerEnd).toString('latin1');
          const length = Number(/content-length:\s*(\d+)/i.exec(header)?.[1] ?? 0);
          if (buffer.length < headerEnd + 4 + length) return;
          const status = Number(header.slice(9, 12));
          buffer = buffer.subarray(headerEnd + 4 + length);
          const done = performance.now();
          statuses[status] = (statuses[status] ?? 0) + 1;
          if ((options.rate ? scheduledAt : sentAt) >= warmupEnd) {
            latencies.push(done - (options.rate ? scheduledAt : sentAt));
            timedRequests++;
          }
          if (done >= end) {
            socket.end();
            return;
          }
          next();
        }
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });

  let ticker: NodeJS.Timeout | null = null;
  if (options.rate) {
    // Release every slot whose time has come; a free connection takes it, else it waits in the backlog.
    ticker = setInterval(() => {
      const now = performance.now();
      while (nextSlot <= now && nextSlot < end) {
        const connection = idle.shift();
        if (connection) connection(nextSlot);
        else backlog.push(nextSlot);
        nextSlot += interval;
      }
      if (now >= end) for (const c of idle.splice(0)) c(now);
    }, 1);
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: options.connections }, runConnection));
  if (ticker) clearInterval(ticker);
  const seconds = (performance.now() - Math.max(started, warmupEnd)) / 1000;
  return { requests: timedRequests, seconds, statuses, latencies: Float64Array.from(latencies).sort() };
}
