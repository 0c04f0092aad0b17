import { clientRecordFor, generateApiKey } from '../auth/api-keys.js';
import { type ConfigOverrides, loadConfigFromObject } from '../config/index.js';
import { createHub, type Hub } from '../hub.js';
import type { Logger } from '../observability/logger.js';
import { SimulatedErp, UNKNOWN_MATERIAL } from './erp.js';
import { HubClient } from './hub-client.js';
import { SimulatedMes } from './mes.js';

export interface DemoOptions extends ConfigOverrides {
  readonly plants: number;
  /** Production orders released per second across all plants. */
  readonly rate: number;
  readonly logger: Logger;
  readonly adminKey?: string;
  /** Called every few seconds with a one-line status. */
  readonly onStatus?: (line: string) => void;
}

export interface Demo {
  readonly hub: Hub;
  readonly url: string;
  readonly adminKey: string;
  readonly erp: SimulatedErp;
  readonly mes: ReadonlyMap<string, SimulatedMes>;
  stop(): Promise<void>;
}

/**
 * The reference landscape in small: the hub, an ERP releasing orders through the events API,
 * and one MES per plant receiving its plant's orders and reporting operations back.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const plants = Array.from({ length: options.plants }, (_, i) => `P${i + 1}`);
  // The hub's URL is needed by the simulated systems before the hub's config can name theirs.
  const mesClients = new Map<string, HubClient>();
  const mes = new Map<string, SimulatedMes>();
  const lateBound: { url: string; keys: Map<string, string> } = { url: '', keys: new Map() };
  for (const plant of plants) {
    const client = new LateBoundClient(
      () => lateBound.url,
      () => lateBound.keys.get(`mes-${plant.toLowerCase()}`) ?? '',
    );
    mesClients.set(plant, client);
    // Plant 1's MES refuses unknown materials and fails now and then; plant 2's also has a
    // 10-second outage every minute, so its circuit opens and its backlog catches up after.
    const system = new SimulatedMes(client, 300, {
      randomFailureRate: 0.03,
      unknownMaterials: [UNKNOWN_MATERIAL],
      ...(plant === 'P2' ? { outage: { periodMs: 60_000, downMs: 10_000 } } : {}),
    });
    await system.listen();
    mes.set(plant, system);
  }

  const config = loadConfigFromObject(
    {
      server: { host: options.host ?? '127.0.0.1', port: options.port ?? 8080 },
      connectors: Object.fromEntries(
        plants.map((p) => [`mes-${p.toLowerCase()}`, { kind: 'http', url: mes.get(p)?.url }]),
      ),
      routes: plants.map((p) => ({
        name: `mes-${p.toLowerCase()}-orders`,
        types: ['production.order.released'],
        filter: `plant = '${p}'`,
        sink: `mes-${p.toLowerCase()}`,
        retry: { maxAttempts: 8, initialDelay: '200ms', maxDelay: '5s', maxAge: '1h' },
        timeout: '2s',
      })),
    },
    { dataDir: options.dataDir ?? 'data/demo' },
  );
  const adminKey = options.adminKey ?? generateApiKey();
  const hub = await createHub(config, { logger: options.logger, adminKey });
  // Each simulated system gets its own least-privilege key.
  const erpKey = generateApiKey();
  await hub.store.clients.upsert(
    clientRecordFor('erp', erpKey, ['events:publish:production'], null, Date.now()),
  );
  for (const plant of plants) {
    const key = generateApiKey();
    lateBound.keys.set(`mes-${plant.toLowerCase()}`, key);
    await hub.store.clients.upsert(
      clientRecordFor(`mes-${plant.toLowerCase()}`, key, ['events:publish:production'], [plant], Date.now()),
    );
  }
  const url = await hub.listen();
  lateBound.url = url;
  const erpClient = new HubClient(url, erpKey);
  const erp = new SimulatedErp(erpClient, plants, options.rate);
  erp.start();

  const status = setInterval(() => {
    const completions = [...mes.values()].reduce((n, m) => n + m.completionsReported, 0);
    const received = [...mes.values()].reduce((n, m) => n + m.received, 0);
    const subs = hub.delivery.subscriptions();
    const dead = subs.reduce((n, s) => n + s.deadLettered, 0);
    const retries = subs.reduce((n, s) => n + s.failedAttempts, 0);
    const circuits = subs.map((s) => `${s.sink}:${s.circuit}`).join(' ');
    options.onStatus?.(
      `orders released ${erp.released} · delivered to MES ${received} · operations completed ${completions} · failed attempts ${retries} · dead letters ${dead} · circuits ${circuits}`,
    );
  }, 5_000);
  status.unref();

  return {
    hub,
    url,
    adminKey,
    erp,
    mes,
    async stop() {
      clearInterval(status);
      erp.stop();
      await hub.close();
      await erpClient.close();
      for (const m of mes.values()) await m.close();
      for (const c of mesClients.values()) await c.close();
    },
  };
}

/** A HubClient whose URL and key are known only once the hub is up. */
class LateBoundClient extends HubClient {
  private inner: HubClient | null = null;

  constructor(
    private readonly url: () => string,
    private readonly key: () => string,
  ) {
    super('', '');
  }

  override async publish(events: object[]): Promise<number> {
    if (!this.inner) this.inner = new HubClient(this.url(), this.key());
    return this.inner.publish(events);
  }

  override async close(): Promise<void> {
    await this.inner?.close();
    await super.close();
  }
}
