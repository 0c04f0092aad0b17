import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Milliseconds on the system's monotonic clock, comparable across processes on one machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Events in a CloudEvents JSON batch: each structured event has one `specversion`. */
export function eventsInBatch(body: string): number {
  let count = 0;
  for (let at = body.indexOf('"specversion"'); at !== -1; at = body.indexOf('"specversion"', at + 13))
    count++;
  return count;
}

/**
 * A fast HTTP sink for benchmarks: answers 204 at once and records, per path, how many
 * deliveries arrived (the events of a batch each count) and their latency from the `sentAt` stamp (monotonic clock) in the event.
 */
export class ReceiverServer {
  readonly counts = new Map<string, number>();
  /** Latencies (ms) per path. */
  latencies = new Map<string, number[]>();
  recordLatency = false;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        // A CloudEvents batch counts as its events: deliveries are counted, not requests.
        const batched = req.headers['content-type'] === 'application/cloudevents-batch+json';
        const events = batched ? eventsInBatch(Buffer.concat(chunks).toString('utf8')) : 1;
        this.counts.set(path, (this.counts.get(path) ?? 0) + events);
        if (this.recordLatency) {
          const at = /"sentAt":([0-9.]+)/.exec(Buffer.concat(chunks).toString('utf8'));
          if (at) {
            const list = this.latencies.get(path) ?? [];
            list.push(monotonicMs() - Number(at[1]));
            this.latencies.set(path, list);
          }
        }
        res.writeHead(204).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

type Command =
  | { op: 'counts' }
  | { op: 'reset' }
  | { op: 'record'; on: boolean }
  | { op: 'latencies'; path: string };

// Run as a child process: serve, and answer the parent's commands over IPC.
if (process.env.CONVEYOR_BENCH_RECEIVER === '1' && process.send) {
  const server = new ReceiverServer();
  const url = await server.listen();
  process.send({ url });
  process.on('message', ({ id, command }: { id: number; command: Command }) => {
    const reply = (body: object) => process.send?.({ id, ...body });
    if (command.op === 'counts') reply({ counts: Object.fromEntries(server.counts) });
    else if (command.op === 'reset') {
      server.counts.clear();
      server.latencies = new Map();
      reply({ ok: true });
    } else if (command.op === 'record') {
      server.recordLatency = command.on;
      reply({ ok: true });
    } else if (command.op === 'latencies') reply({ latencies: server.latencies.get(command.path) ?? [] });
  });
  process.on('disconnect', () => process.exit(0));
}

const RECEIVER_READY_MS = 20_000;

/** The benchmark's receiver, in its own process so that it does not slow the load generator. */
export class BenchReceiver {
  url = '';
  private child: ChildProcess | null = null;
  private latest: Record<string, number> = {};

  async listen(): Promise<string> {
    this.child = fork(new URL(import.meta.url).pathname, [], {
      env: { ...process.env, CONVEYOR_BENCH_RECEIVER: '1' },
      stdio: 'inherit',
    });
    const child = this.child;
    // A receiver that dies or hangs while starting fails the benchmark now, not never.
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`the bench receiver exited (${signal ?? code}) before it listened`)),
      );
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the bench receiver did not listen within ${RECEIVER_READY_MS} ms`));
      }, RECEIVER_READY_MS);
    });
    failed.catch(() => undefined);
    const [message] = (await Promise.race([once(child, 'message'), failed]).finally(() =>
      clearTimeout(timer),
    )) as [{ url: string }];
    this.url = message.url;
    this.child.on('message', (m: { id: number }) => {
      const resolve = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      resolve?.(m);
    });
    return this.url;
  }

  private nextId = 1;
  private readonly waiting = new Map<number, (body: unknown) => void>();

  /** One request over IPC; replies carry the request id, so concurrent asks never cross. */
  private ask<T>(command: Command): Promise<T> {
    const child = this.child as ChildProcess;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (body: unknown) => void);
      child.send({ id, command });
    });
  }

  async counts(): Promise<Record<string, number>> {
    this.latest = (await this.ask<{ counts: Record<string, number> }>({ op: 'counts' })).counts;
    return this.latest;
  }

  async total(): Promise<number> {
    return Object.values(await this.counts()).reduce((a, b) => a + b, 0);
  }

  async reset(): Promise<void> {
    await this.ask({ op: 'reset' });
  }

  async record(on: boolean): Promise<void> {
    await this.ask({ op: 'record', on });
  }

  /** Sorted delivery latencies (ms) seen on one path. */
  async latencies(path: string): Promise<Float64Array> {
    const { latencies } = await this.ask<{ latencies: number[] }>({ op: 'latencies', path });
    return Float64Array.from(latencies).sort();
  }

  async close(): Promise<void> {
    if (!this.child) return;
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
  }
}
