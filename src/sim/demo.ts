import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clientRecordFor, generateApiKey } from '../auth/api-keys.js';
import { type ConfigOverrides, loadConfigFromObject } from '../config/index.js';
import type { RouteStatus } from '../delivery/route-worker.js';
import { createHub, type Hub } from '../hub.js';
import type { Logger } from '../observability/logger.js';
import { SimulatedCrm } from './crm.js';
import { DEMO_MILESTONES, ERP_POSTING_TYPES } from './demo-milestones.js';
import { demoRoutings, SimulatedErp } from './erp.js';
import { HubClient } from './hub-client.js';
import { EmbeddedBroker, SimulatedLine } from './line.js';
import { SCARCE_COMPONENT } from './master-data.js';
import { SimulatedMes } from './mes.js';
import { SimulatedPlc } from './plc.js';
import { SimulatedQms } from './qms.js';
import { SimulatedSupplier } from './supplier.js';
import { SupplierFileDrop } from './supplier-drop.js';
import { SimulatedWarehouse, SimulatedWms } from './wms.js';

export interface DemoOptions extends ConfigOverrides {
  readonly plants: number;
  /** Production orders released per second across all plants. */
  readonly rate: number;
  readonly logger: Logger;
  readonly adminKey?: string;
  /** Called every few seconds with a one-line status. */
  readonly onStatus?: (line: string) => void;
  /**
   * Runs the landscape against a cluster: `instances` hubs sharing a NATS JetStream log and a
   * PostgreSQL store, the simulated systems spreading their requests over them as a load balancer
   * would. Without it: one hub with the embedded SQLite log and store.
   */
  readonly cluster?: DemoCluster;
}

export interface DemoCluster {
  readonly instances: number;
  /** NATS servers of the JetStream cluster. */
  readonly natsServers: readonly string[];
  /** Stream replicas (3 on a 3-node cluster). @default 1 */
  readonly replicas?: number;
  readonly postgresUrl: string;
}

export interface Demo {
  /** The first hub instance. */
  readonly hub: Hub;
  /** Every hub instance (one without a cluster). */
  readonly hubs: readonly Hub[];
  readonly url: string;
  readonly urls: readonly string[];
  readonly adminKey: string;
  readonly erp: SimulatedErp;
  readonly mes: ReadonlyMap<string, SimulatedMes>;
  readonly wms: SimulatedWms;
  readonly warehouse: SimulatedWarehouse;
  readonly qms: SimulatedQms;
  readonly supplier: SimulatedSupplier;
  stop(): Promise<void>;
}

/** The supplier the demo onboards; its id is also its EDI sender id (at most 15 characters). */
const SUPPLIER_ID = 'V-20417';

/** Least privilege: each simulated system gets only the scopes (and plants) its job needs. */
function grants(
  plants: readonly string[],
): Array<{ name: string; scopes: string[]; plants: string[] | null }> {
  return [
    { name: 'erp', scopes: ['commands:production-order-release'], plants: null },
    ...plants.map((plant) => ({
      name: `mes-${plant.toLowerCase()}`,
      scopes: ['events:publish:production', 'commands:material-consumption'],
      plants: [plant],
    })),
    {
      name: 'wms',
      scopes: ['commands:inventory-reservation', 'commands:shipment-confirmation'],
      plants: null,
    },
    { name: 'qms', scopes: ['commands:quality-hold', 'commands:quality-disposition'], plants: null },
    { name: 'supplier-portal', scopes: ['commands:supplier-onboarding'], plants: null },
  ];
}

/**
 * The reference landscape in small: the hub; an ERP releasing orders through the release command;
 * one MES per plant receiving its plant's orders, reporting operations and material consumption;
 * a WMS that is the system of record for reservations and shipments (and fails now and then); a
 * warehouse reserving components and confirming shipments; a QMS placing holds that block
 * shipments; and a supplier, onboarded through the API, sending ASNs as JSON, X12 and EDIFACT.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const plants = Array.from({ length: options.plants }, (_, i) => `P${i + 1}`);
  const dataDir = resolve(options.dataDir ?? 'data/demo');
  // The hubs' URLs and the keys are known only once the hubs are up; the systems start before them.
  const late = { urls: [] as string[], next: 0, keys: new Map<string, string>() };
  // Round robin over the instances, as a load balancer in front of a cluster does.
  const hubUrl = () => late.urls[late.next++ % late.urls.length] ?? '';
  const clients: HubClient[] = [];
  const clientOf = (name: string) => {
    const client = new HubClient(hubUrl, () => late.keys.get(name) ?? '');
    clients.push(client);
    return client;
  };

  const mes = new Map<string, SimulatedMes>();
  for (const plant of plants) {
    // Plant 1's MES refuses unknown materials and fails now and then; plant 2's also has a
    // 10-second outage every minute, so its circuit opens and its backlog catches up after.
    const system = new SimulatedMes(clientOf(`mes-${plant.toLowerCase()}`), 300, {
      randomFailureRate: 0.03,
      unknownMaterials: ['FG-9999'],
      ...(plant === 'P2' ? { outage: { periodMs: 60_000, downMs: 10_000 } } : {}),
    });
    await system.listen();
    mes.set(plant, system);
  }
  // The WMS is down for 10 s every 90 s: reservations and confirmations answer 503 meanwhile.
  const wms = new SimulatedWms({
    latencyMs: 20,
    insufficientStock: [SCARCE_COMPONENT],
    outage: { periodMs: 90_000, downMs: 10_000 },
  });
  await wms.listen();
  const warehouse = new SimulatedWarehouse(clientOf('wms'), { plants });
  await warehouse.listen();
  // Plant 1's press is a real OPC UA server the hub subscribes to: state, good and scrap counters.
  const plc = new SimulatedPlc({ machines: ['Press7'], pkiDir: join(dataDir, 'pki', 'plc') });
  await plc.start();
  plc.setState('Press7', 'running');
  plc.startCycle({ intervalMs: 1_000, stateEvery: 20 });
  // Plant 1's packaging line speaks Sparkplug B over MQTT, through a broker embedded in the demo.
  const broker = new EmbeddedBroker();
  await broker.listen();
  const line = new SimulatedLine(broker.url, { groupId: 'P1', edgeNodeId: 'LINE-1', intervalMs: 2_000 });

  mkdirSync(dataDir, { recursive: true });
  const routings = join(dataDir, 'routings.csv');
  writeFileSync(routings, demoRoutings(plants));
  const asnInbox = join(dataDir, 'inbox', 'asn');

  // The ERP books postings (and is sometimes slow or closed); the CRM receives milestone alerts.
  const erp = new SimulatedErp(clientOf('erp'), plants, options.rate);
  await erp.listenPostings({ outage: { periodMs: 90_000, downMs: 30_000 }, slowRate: 0.05, slowMs: 3_000 });
  const crm = new SimulatedCrm();
  await crm.listen();

  const retry = { maxAttempts: 8, initialDelay: '200ms', maxDelay: '5s', maxAge: '1h' };
  const cluster = options.cluster;
  const instances = cluster?.instances ?? 1;
  const basePort = options.port ?? 8080;
  const configFor = (instance: number) =>
    loadConfigFromObject(
      {
        server: { host: options.host ?? '127.0.0.1', port: basePort === 0 ? 0 : basePort + instance },
        ...(cluster
          ? {
              log: { kind: 'jetstream', servers: [...cluster.natsServers], replicas: cluster.replicas ?? 1 },
              store: { kind: 'postgres', url: cluster.postgresUrl },
            }
          : {}),
        referenceData: { routings },
        connectors: {
          ...Object.fromEntries(
            plants.map((p) => [`mes-${p.toLowerCase()}`, { kind: 'http', url: mes.get(p)?.url }]),
          ),
          wms: {
            kind: 'http',
            baseUrl: wms.url,
            timeout: '2s',
            circuitBreaker: { failureThreshold: 5, resetAfter: '10s' },
          },
          'wms-orders': { kind: 'http', url: `${warehouse.url}/events` },
          'line-1': {
            kind: 'mqtt',
            url: broker.url,
            topics: ['spBv1.0/P1/#'],
            format: 'sparkplug-b',
            plant: 'P1',
            hostId: 'conveyor',
          },
          'plc-1': {
            kind: 'opcua',
            endpoint: plc.endpointUrl,
            plant: 'P1',
            nodes: [
              {
                nodeId: plc.nodeId('Press7', 'State'),
                type: 'telemetry.machine.state',
                equipmentId: 'PRESS-07',
              },
              {
                nodeId: plc.nodeId('Press7', 'GoodCount'),
                type: 'telemetry.machine.counter',
                equipmentId: 'PRESS-07',
                counter: 'good',
              },
              {
                nodeId: plc.nodeId('Press7', 'ScrapCount'),
                type: 'telemetry.machine.counter',
                equipmentId: 'PRESS-07',
                counter: 'scrap',
              },
            ],
          },
          // The supplier's X12 856 files, dropped into a folder as legacy transfers do.
          'asn-inbox': { kind: 'files', dir: asnInbox, pattern: '*.edi', format: 'x12', pollInterval: '1s' },
          erp: {
            kind: 'http',
            url: erp.postingsUrl,
            timeout: '2s',
            circuitBreaker: { failureThreshold: 5, resetAfter: '10s' },
          },
          crm: { kind: 'http', url: crm.url },
        },
        // Ideal rates for OEE performance: the press makes at most 72 parts/min, the line 360/min.
        analytics: { idealRates: { 'PRESS-07': 72, 'LINE-1': 360 } },
        commands: {
          'inventory-reservation': { connector: 'wms', path: '/reservations' },
          'shipment-confirmation': { connector: 'wms', path: '/shipments/{shipmentId}/confirm' },
        },
        routes: [
          ...plants.map((p) => ({
            name: `mes-${p.toLowerCase()}-orders`,
            types: ['production.order.released'],
            filter: `plant = '${p}'`,
            sink: `mes-${p.toLowerCase()}`,
            retry,
            timeout: '2s',
          })),
          {
            name: 'wms-order-reservations',
            types: ['production.order.released'],
            sink: 'wms-orders',
            retry,
            timeout: '2s',
          },
          { name: 'erp-postings', types: ERP_POSTING_TYPES, sink: 'erp', retry, timeout: '2s' },
        ],
        milestones: DEMO_MILESTONES,
        alerts: [{ when: 'milestone.late', sink: 'crm' }],
      },
      { dataDir },
    );
  const adminKey = options.adminKey ?? generateApiKey();
  const hubs: Hub[] = [];
  for (let instance = 0; instance < instances; instance++) {
    hubs.push(
      await createHub(configFor(instance), {
        logger: options.logger,
        adminKey,
        ...(cluster ? { instanceId: `demo-hub-${instance + 1}` } : {}),
      }),
    );
  }
  const hub = hubs[0] as Hub;
  for (const grant of grants(plants)) {
    const key = generateApiKey();
    late.keys.set(grant.name, key);
    await hub.store.clients.upsert(clientRecordFor(grant.name, key, grant.scopes, grant.plants, Date.now()));
  }
  for (const instance of hubs) late.urls.push(await instance.listen());
  const url = late.urls[0] as string;

  // The supplier portal onboards the supplier through the API and hands it its own credential.
  const portal = clientOf('supplier-portal');
  const onboarded = await portal.command(
    'POST',
    '/v1/suppliers',
    { supplierId: SUPPLIER_ID, name: 'Rheinland Polymer GmbH', plants },
    { idempotencyKey: `onboard-${SUPPLIER_ID}` },
  );
  await portal.close();
  const credential = (onboarded.body as { credential?: { key?: string | null } } | undefined)?.credential;
  if (typeof credential?.key === 'string') late.keys.set('supplier', credential.key);
  else if (onboarded.status !== 409) {
    options.logger.warn({ status: onboarded.status }, 'the demo supplier could not be onboarded');
  }
  if (!late.keys.has('supplier')) {
    // Already onboarded by an earlier run on this data directory: give it a fresh key.
    const key = generateApiKey();
    await hub.store.clients.upsert(
      clientRecordFor(`supplier-${SUPPLIER_ID}`, key, ['commands:supplier-asn'], plants, Date.now(), {
        supplierId: SUPPLIER_ID,
      }),
    );
    late.keys.set('supplier', key);
  }

  const qms = new SimulatedQms(clientOf('qms'), { plants });
  const supplier = new SimulatedSupplier(clientOf('supplier'), { supplierId: SUPPLIER_ID, plants });
  const fileDrop = new SupplierFileDrop(supplier, asnInbox, { supplierId: SUPPLIER_ID, intervalMs: 10_000 });
  await line.start();
  erp.start();
  fileDrop.start();
  warehouse.start();
  qms.start();
  supplier.start();

  const status = setInterval(() => {
    const completions = [...mes.values()].reduce((n, m) => n + m.completionsReported, 0);
    const received = [...mes.values()].reduce((n, m) => n + m.received, 0);
    const subs = routeStatuses(hubs);
    const dead = subs.reduce((n, s) => n + s.deadLettered, 0);
    const retries = subs.reduce((n, s) => n + s.failedAttempts, 0);
    const circuits = subs.map((s) => `${s.sink}:${s.circuit}`).join(' ');
    options.onStatus?.(
      `orders released ${erp.released} · delivered to MES ${received} · operations completed ${completions} · ` +
        `reservations ${warehouse.reservationsMade} · shipments ${warehouse.shipmentsConfirmed} (held ${warehouse.blockedByHold}) · ` +
        `holds ${qms.holdsPlaced} · ASNs ${supplier.accepted} + ${fileDrop.dropped} files · failed attempts ${retries} · dead letters ${dead} · circuits ${circuits} · ${crm.statusLine()}`,
    );
  }, 5_000);
  status.unref();

  return {
    hub,
    hubs,
    url,
    urls: late.urls,
    adminKey,
    erp,
    mes,
    wms,
    warehouse,
    qms,
    supplier,
    async stop() {
      clearInterval(status);
      // The clients stop first, so nothing is still retrying against a hub that is going away.
      erp.stop();
      fileDrop.stop();
      await Promise.all([erp.close(), warehouse.close(), qms.close(), supplier.close()]);
      for (const instance of hubs) await instance.close();
      await crm.close();
      await wms.close();
      await plc.close();
      await line.stop();
      await broker.close();
      for (const m of mes.values()) await m.close();
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

/** Each route as the instance delivering it reports it (another instance shows it on standby). */
export function routeStatuses(hubs: readonly Hub[]): RouteStatus[] {
  const byRoute = new Map<string, RouteStatus>();
  for (const instance of hubs) {
    for (const status of instance.delivery.subscriptions()) {
      const known = byRoute.get(status.name);
      if (!known || (known.state === 'standby' && status.state !== 'standby'))
        byRoute.set(status.name, status);
    }
  }
  return [...byRoute.values()];
}
