/**
 * Real Debian nats-server nodes with JetStream for tests: a 3-node cluster by default (or a single
 * node), on 127.0.0.1 with free client and cluster ports, each node with its own store folder under
 * one temp folder. Nodes are stopped by their PID; `kill(i)` and `restart(i)` (same ports, same
 * store) let tests take a node down and bring it back. `npm test` installs the Debian package;
 * without it a test fails naming the command to run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { awaitOutput } from '../../src/bench/child-process.js';
import { freePort } from '../../src/util/free-port.js';
import { NATS_SERVER, NATS_SERVER_BINARY, requireDebianPackage } from './debian-package.js';

/** Where Debian's package puts the server. */
export { NATS_SERVER_BINARY };

const NODE_READY_TIMEOUT_MS = 15_000;
const JETSTREAM_READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 5_000;
const POLL_MS = 100;

/** Throws, naming the command that installs it, when the package is missing. */
export function ensureNatsServer(): void {
  requireDebianPackage(NATS_SERVER);
}

const running = new Set<ChildProcess>();
// A test process that dies must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

interface NodeSpec {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly configFile: string;
}

export interface NatsClusterOptions {
  /** Number of nodes; 1 runs a single server without clustering. @default 3 */
  readonly nodes?: number;
}

/** Polls `check` until it returns true or the deadline passes; the last error goes into the message. */
async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`${what} within ${timeoutMs} ms${cause}`);
}

/** Whether JetStream answers through `url` and can place a stream with `replicas` replicas. */
async function jetStreamAnswers(url: string, replicas: number): Promise<boolean> {
  let nc: NatsConnection | null = null;
  try {
    nc = await connect({ servers: url, reconnect: false, timeout: 2_000 });
    const jsm = await nc.jetstreamManager({ timeout: 2_000 });
    await jsm.getAccountInfo();
    // The meta leader answers before every peer has reported in; a replicated stream needs them all.
    const probe = `READY_PROBE_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    await jsm.streams.add({ name: probe, subjects: [`${probe}.>`], num_replicas: replicas });
    await jsm.streams.delete(probe);
    return true;
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/** A nats-server cluster (or single node) with JetStream, in a temp folder. */
export class NatsCluster {
  /** Client URLs, one per node, in node order. */
  readonly urls: readonly string[];
  readonly size: number;
  private readonly dir: string;
  private readonly nodes: readonly NodeSpec[];
  private readonly children: Array<ChildProcess | null>;

  private constructor(dir: string, nodes: NodeSpec[]) {
    this.dir = dir;
    this.nodes = nodes;
    this.size = nodes.length;
    this.urls = nodes.map((n) => `nats://127.0.0.1:${n.port}`);
    this.children = nodes.map(() => null);
  }

  /** Checks for nats-server, writes the node configs, starts every node, waits for JetStream. */
  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    ensureNatsServer();
    const count = options.nodes ?? 3;
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`nodes must be a positive integer (got ${count})`);
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-nats-'));
    const nodes: NodeSpec[] = [];
    for (let i = 0; i < count; i++) {
      nodes.push({
        name: `n${i + 1}`,
        port: await freePort(),
        clusterPort: await freePort(),
        configFile: join(dir, `n${i + 1}.conf`),
      });
    }
    for (const node of nodes) {
      const store = join(dir, node.name, 'jetstream');
      mkdirSync(store, { recursive: true });
      const lines = [
        `server_name: ${JSON.stringify(node.name)}`,
        `listen: "127.0.0.1:${node.port}"`,
        'jetstream {',
        `  store_dir: ${JSON.stringify(store)}`,
        '  max_memory_store: 268435456',
        '  max_file_store: 4294967296',
        '}',
      ];
      if (count > 1) {
        const routes = nodes
          .filter((n) => n !== node)
          .map((n) => `"nats-route://127.0.0.1:${n.clusterPort}"`);
        lines.push(
          'cluster {',
          '  name: "conveyor-test"',
          `  listen: "127.0.0.1:${node.clusterPort}"`,
          `  routes: [${routes.join(', ')}]`,
          '}',
        );
      }
      writeFileSync(node.configFile, `${lines.join('\n')}\n`);
    }
    const cluster = new NatsCluster(dir, nodes);
    try {
      await Promise.all(nodes.map((_, i) => cluster.startNode(i)));
      await waitUntil('JetStream did not become ready', JETSTREAM_READY_TIMEOUT_MS, () =>
        jetStreamAnswers(cluster.urls[0] as string, count),
      );
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The PID of node `i`, if it runs. */
  pid(i: number): number | undefined {
    return this.children[i]?.pid;
  }

  private node(i: number): NodeSpec {
    const node = this.nodes[i];
    if (!node) throw new Error(`no node ${i} (the cluster has ${this.size})`);
    return node;
  }

  /** Spawns node `i` and resolves once it accepts client connections. */
  private async startNode(i: number): Promise<void> {
    const node = this.node(i);
    if (this.children[i]) return;
    const child = spawn(NATS_SERVER_BINARY, ['-c', node.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children[i] = child;
    running.add(child);
    await awaitOutput(child, {
      name: `nats-server ${node.name}`,
      stream: 'stderr',
      // Printed once the client listener is open.
      match: /Server is ready/,
      timeoutMs: NODE_READY_TIMEOUT_MS,
    }).catch((error: unknown) => {
      running.delete(child);
      this.children[i] = null;
      throw error;
    });
    // Keep draining its log so the pipe never fills up and blocks the server.
    child.stderr!.resume();
    child.once('exit', () => {
      running.delete(child);
      if (this.children[i] === child) this.children[i] = null;
    });
  }

  /** SIGKILLs node `i` (a crash: nothing is flushed) and resolves once it has exited. */
  async kill(i: number): Promise<void> {
    this.node(i);
    const child = this.children[i];
    if (!child) return;
    this.children[i] = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        resolve();
      });
      child.kill('SIGKILL');
    });
  }

  /**
   * Starts node `i` again (after `kill`) on the same ports with the same store, and waits until
   * JetStream answers through it.
   */
  async restart(i: number): Promise<void> {
    await this.kill(i);
    await this.startNode(i);
    const url = this.urls[i] as string;
    await waitUntil(
      `JetStream did not answer through ${this.node(i).name} again`,
      JETSTREAM_READY_TIMEOUT_MS,
      () => jetStreamAnswers(url, 1),
    );
  }

  /** Stops every node by its PID (SIGTERM, SIGKILL if it hangs) and removes the temp folder. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (child, i) => {
        if (!child) return;
        this.children[i] = null;
        if (child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
          child.once('exit', () => {
            clearTimeout(timer);
            running.delete(child);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment variable naming an already-running cluster (comma-separated client URLs). */
export const SHARED_NATS_ENV = 'CONVEYOR_TEST_NATS';

export interface SharedNatsCluster {
  readonly urls: readonly string[];
  /** How many replicas a stream on it can have (at most 3). */
  readonly replicas: number;
  /** Stops the cluster when this process started it; leaves a shared one running. */
  stop(): Promise<void>;
}

/**
 * The cluster named by `CONVEYOR_TEST_NATS` when it is set (one cluster for a whole test run),
 * otherwise a fresh 3-node cluster for this process.
 */
export async function sharedNatsCluster(): Promise<SharedNatsCluster> {
  const shared = process.env[SHARED_NATS_ENV]?.trim();
  if (shared) {
    const urls = shared
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u.length > 0);
    return { urls, replicas: Math.min(3, urls.length), stop: async () => undefined };
  }
  const cluster = await NatsCluster.start({ nodes: 3 });
  return { urls: cluster.urls, replicas: cluster.size, stop: () => cluster.stop() };
}
