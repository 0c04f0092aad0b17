import { writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { CONVEYOR_CLI, type ServerProcess, startServerProcess } from '../bench/child-process.js';

/**
 * One `conveyor start` child process that can be killed and started again on the same port, data
 * folder and config file (as an operator's service manager would), so producers keep one URL.
 */
export class HubControl {
  private process: ServerProcess | null = null;
  /** Hard kills and graceful stops so far. */
  kills = 0;
  stops = 0;
  /** The hub's own words each time its shutdown deadline, not a clean stop, ended it. */
  readonly forcedExits: string[] = [];

  constructor(
    readonly options: {
      readonly configPath: string;
      readonly dataDir: string;
      readonly port: number;
      readonly adminKey: string;
      readonly env?: Record<string, string>;
    },
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** True while the child process is alive (a hub may also exit by itself, e.g. on a fatal error). */
  get running(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  writeConfig(config: Record<string, unknown>): void {
    writeFileSync(this.options.configPath, JSON.stringify(config, null, 2));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.process = await startServerProcess(
      CONVEYOR_CLI,
      [
        'start',
        '--config',
        this.options.configPath,
        '--data',
        this.options.dataDir,
        '--port',
        String(this.options.port),
        '--host',
        '127.0.0.1',
      ],
      { CONVEYOR_ADMIN_KEY: this.options.adminKey, CONVEYOR_LOG_LEVEL: 'error', ...this.options.env },
      60_000,
    );
  }

  /** kill -9: nothing is flushed, nothing is finished. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p) return;
    this.process = null;
    this.kills++;
    await p.stop('SIGKILL', 10_000);
  }

  /** SIGTERM, as a service manager stops it; a stop that hangs is killed and reported by rejecting. */
  async terminate(graceMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const p = this.process;
    if (!p) return { code: null, signal: null };
    this.process = null;
    this.stops++;
    return p.stop('SIGTERM', graceMs);
  }

  /**
   * SIGTERM, and when the hub has not exited within `graceMs` it is killed (by the stop itself):
   * returns what went wrong, or null when it stopped in time.
   */
  async terminateOrKill(graceMs = 30_000): Promise<string | null> {
    const started = performance.now();
    const running = this.process;
    try {
      await this.terminate(graceMs);
      const deadline = /stop did not finish within [^\n]*/.exec(running?.stderr() ?? '');
      // The hub's own shutdown deadline ended it: nothing is lost by that (a kill -9 is no worse),
      // but the step it names is a shutdown that hung, so the run says so.
      this.forcedExits.push(...(deadline ? [deadline[0]] : []));
      return null;
    } catch {
      return `SIGTERM: the hub did not exit within ${((performance.now() - started) / 1000).toFixed(0)} s (killed)`;
    }
  }

  stderr(): string {
    return this.process?.stderr() ?? '';
  }
}

const agent = new Agent({ connections: 4, keepAliveTimeout: 2_000 });

/** A JSON call to a hub's API with the admin key; the status comes back with the body. */
export async function api<T>(
  baseUrl: string,
  adminKey: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await request(`${baseUrl}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface DeadLetterEntry {
  readonly id: string;
  readonly route: string;
  readonly status: string;
  readonly event: { readonly id: string };
}

/** Every dead letter of a route (any status), following `next`. */
export async function deadLetters(
  baseUrl: string,
  adminKey: string,
  route: string,
): Promise<DeadLetterEntry[]> {
  const entries: DeadLetterEntry[] = [];
  let after: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    const query: string = `/v1/dlq?route=${encodeURIComponent(route)}&limit=1000${after ? `&after=${after}` : ''}`;
    const res = await api<{ items: DeadLetterEntry[]; next: string | null }>(baseUrl, adminKey, 'GET', query);
    if (res.status !== 200)
      throw new Error(`GET /v1/dlq answered ${res.status}: ${JSON.stringify(res.body)}`);
    entries.push(...res.body.items);
    after = res.body.next;
    if (after === null) break;
  }
  return entries;
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
