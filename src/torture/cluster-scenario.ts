import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../util/free-port.js';
import { api, HubControl } from './hub-control.js';
import { hubConfig, STANDING_ROUTES } from './routes.js';
import { Scenario, type ScenarioResult } from './scenario.js';
import { TORTURE_KEY } from './scenarios.js';

/** The NATS cluster the scenario runs on, and how to crash one of its nodes (its owner starts and stops it). */
export interface NatsNodes {
  readonly urls: readonly string[];
  readonly replicas: number;
  /** The node (index) leading the given stream now. */
  leaderOf(stream: string): Promise<number>;
  kill(node: number): Promise<void>;
  restart(node: number): Promise<void>;
}

export interface ClusterOptions {
  readonly nats: NatsNodes;
  /** A fresh PostgreSQL database for the hubs' shared state. */
  readonly postgresUrl: string;
  readonly eventsBetweenFaults?: number;
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

/**
 * Two hubs on one JetStream stream and one PostgreSQL store, producers spread over both: the hub
 * delivering the broad route is killed with SIGKILL (the other takes its work over) and started
 * again; then the NATS node leading the stream is killed and started again.
 */
export async function runClusterScenario(options: ClusterOptions): Promise<ScenarioResult> {
  const between = options.eventsBetweenFaults ?? 1_000;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-torture-cluster-'));
  const stream = `TORTURE_${seed}_${Date.now().toString(36)}`.toUpperCase();
  const hubs: HubControl[] = [];
  for (const i of [0, 1])
    hubs.push(
      new HubControl({
        configPath: join(dir, 'conveyor.json'),
        dataDir: join(dir, `hub-${i}`),
        port: await freePort(),
        adminKey: TORTURE_KEY,
      }),
    );
  const running = () => hubs.filter((h) => h.running).map((h) => h.url);
  const scenario = new Scenario({
    name: 'cluster (JetStream R3 + PostgreSQL, two hubs): hub killed, NATS node killed',
    routes: STANDING_ROUTES,
    urls: running,
    adminKey: TORTURE_KEY,
    seed,
    ratePerSecond: 300,
    progress: options.progress,
  });
  scenario.receiver.senders = () => hubs.flatMap((h) => (h.pid === undefined ? [] : [h.pid]));
  await scenario.receiver.listen();
  try {
    hubs[0]!.writeConfig(
      hubConfig(scenario.currentRoutes(), scenario.receiver.url, {
        log: { kind: 'jetstream', servers: options.nats.urls, replicas: options.nats.replicas, stream },
        store: { kind: 'postgres', url: options.postgresUrl },
      }),
    );
    for (const hub of hubs) await hub.start();
    scenario.producers.start();

    await scenario.acknowledged(between);
    const victim = await ownerOf(hubs, 'route:p1-production');
    const pid = victim.pid;
    await victim.kill();
    scenario.restarted(`kill -9 of the hub delivering p1-production (pid ${pid}); the other takes over`);
    await scenario.acknowledged(between);
    await victim.start();
    scenario.note('killed hub started again');

    await scenario.acknowledged(between);
    const leader = await options.nats.leaderOf(stream);
    await options.nats.kill(leader);
    // Consumers may be re-read more than once while the stream elects a leader and the node rejoins.
    scenario.restarted(`kill -9 of NATS node ${leader + 1}, the stream's leader`, undefined, true);
    await scenario.acknowledged(between, 120_000);
    await options.nats.restart(leader);
    scenario.mayRepeat(`NATS node ${leader + 1} started again`, undefined, true);
    await scenario.acknowledged(between / 2);
    scenario.calm('ingest steady again');

    await scenario.acknowledged(between / 2);
    return await scenario.finish(120_000);
  } finally {
    await scenario.producers.stop(0).catch(() => undefined);
    for (const hub of hubs) await hub.terminate().catch(() => hub.kill());
    await scenario.receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The hub that runs `work` now (by the pid in its instance id), else the first running one. */
async function ownerOf(hubs: readonly HubControl[], work: string): Promise<HubControl> {
  const live = hubs.filter((h) => h.running);
  const first = live[0];
  if (!first) throw new Error('no hub is running');
  const res = await api<{ work?: Array<{ name: string; instance: string }> }>(
    first.url,
    TORTURE_KEY,
    'GET',
    '/v1/cluster',
  );
  const instance = res.body.work?.find((w) => w.name === work)?.instance;
  const pid = instance ? Number(instance.split(':').at(-2)) : Number.NaN;
  return live.find((h) => h.pid === pid) ?? first;
}
