/**
 * Hub processes of a cluster for fault tests: each a real `conveyor start` child on the same
 * JetStream stream and PostgreSQL database, with a route to a test receiver.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { makeEvent } from './events.js';
import { ADMIN_KEY } from './hub.js';
import { type HubProcess, startHubProcess } from './hub-process.js';

export interface ClusterSetup {
  readonly natsServers: readonly string[];
  readonly replicas: number;
  readonly postgresUrl: string;
  readonly receiverUrl: string;
}

/** Writes a config for hubs sharing one fresh stream; returns its path. */
export function writeClusterConfig(setup: ClusterSetup): string {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-cluster-'));
  const path = join(dir, 'conveyor.json');
  writeFileSync(
    path,
    JSON.stringify({
      log: {
        kind: 'jetstream',
        servers: setup.natsServers,
        replicas: setup.replicas,
        stream: `T_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      },
      store: { kind: 'postgres', url: setup.postgresUrl },
      connectors: { receiver: { kind: 'http', url: setup.receiverUrl } },
      routes: [
        {
          name: 'to-receiver',
          types: ['production.*'],
          sink: 'receiver',
          retry: { initialDelay: '50ms', maxDelay: '500ms' },
          timeout: '2s',
        },
      ],
    }),
  );
  return path;
}

export function startClusterHub(configPath: string): Promise<HubProcess> {
  const data = mkdtempSync(join(tmpdir(), 'conveyor-cluster-hub-'));
  return startHubProcess(['start', '--config', configPath, '--data', data, '--port', '0'], {
    CONVEYOR_ADMIN_KEY: ADMIN_KEY,
  });
}

const dispatcher = new Agent({ connections: 8, keepAliveTimeout: 2_000 });

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

/** Which instance runs `work` according to the hub at `url`, or null when nobody holds it. */
export async function ownerOf(url: string, work: string): Promise<string | null> {
  const { body } = await getJson<{ work: Array<{ name: string; instance: string }> }>(`${url}/v1/cluster`);
  return body.work.find((w) => w.name === work)?.instance ?? null;
}

/** The pid inside an instance id (`host:pid:random`). */
export const pidOf = (instanceId: string) => Number(instanceId.split(':').at(-2));

/**
 * Posts batches of events to the hubs in turn (as a load balancer would) until stopped; an event
 * counts as acknowledged only with a 202. Subjects cycle over `keys`; `data.n` numbers each key's events.
 */
export function ingestUntilStopped(
  urls: () => readonly string[],
  keys: number,
  options: { batch?: number; ratePerSecond: number },
) {
  const batch = options.batch ?? 20;
  const workers = 4;
  // Paced below what the route can deliver, so the backlog at the end drains in bounded time.
  const pauseMs = (1_000 * batch * workers) / options.ratePerSecond;
  const acked: Array<{ id: string; key: string; n: number }> = [];
  const counters = new Map<string, number>();
  let running = true;
  let refused = 0;
  const loop = async (worker: number) => {
    for (let round = 0; running; round++) {
      const started = Date.now();
      const targets = urls();
      const url = targets[(round + worker) % targets.length] as string;
      const events = Array.from({ length: batch }, (_, i) => {
        const key = `order-${(round * batch + i + worker) % keys}`;
        const n = (counters.get(key) ?? 0) + 1;
        counters.set(key, n);
        return { event: makeEvent({ id: randomUUID(), subject: key }), key, n };
      });
      try {
        const res = await request(`${url}/v1/events`, {
          method: 'POST',
          dispatcher,
          headers: {
            authorization: `Bearer ${ADMIN_KEY}`,
            'content-type': 'application/cloudevents-batch+json',
          },
          body: JSON.stringify(events.map((e) => e.event)),
        });
        await res.body.dump();
        if (res.statusCode === 202)
          for (const e of events) acked.push({ id: e.event.id, key: e.key, n: e.n });
        else refused++;
      } catch {
        refused++;
      }
      const rest = pauseMs - (Date.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return {
    acked,
    refused: () => refused,
    async stop() {
      running = false;
      await done;
    },
  };
}
