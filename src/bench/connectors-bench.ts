import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { benchSparkplugDecode } from '../connectors/mqtt/sparkplug/bench.js';
import type { PlcTag, SimulatedPlc } from '../sim/plc.js';
import { BENCH_KEY, type BenchResult, median, result, withHub } from './bench-util.js';
import type { ServerProcess } from './child-process.js';
import { startMosquitto } from './mosquitto-process.js';

export interface ConnectorBenchContext {
  readonly tmp: string;
  readonly runs: number;
  readonly quick: boolean;
  readonly progress: (line: string) => void;
  readonly results: BenchResult[];
}

/** Publishes not yet acknowledged by the broker, at most (the publisher's window). */
const PUBLISH_WINDOW = 100;
/** Untimed messages through each path before the timed runs. */
const WARMUP_MESSAGES = 2_000;
const TOPIC = 'conveyor-bench/P1/counters';
const JSON_MAP =
  '{"type": "telemetry.machine.counter", "data": {"plant": plant, "equipmentId": machine, "counter": counter, "value": value, "at": ts}}';
/** An OPC UA change must reach the log within this long of being made to count as kept. */
const OPCUA_LAG_MS = 2_000;
const OPCUA_TICKS = 10;
/** How long after the window late changes are still counted, for the note only. */
const OPCUA_LATE_MS = 3_000;
const RUN_ID = Date.now().toString(36);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(
  predicate: () => Promise<boolean>,
  timeoutMs: number,
  pollMs = 20,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

interface SourceStatus {
  name: string;
  health: { type: string; reason?: string };
  events: number;
  deadLettered: number;
  lastError: { error: string } | null;
}

/** The source's status from `GET /v1/connectors`: one cheap request, no paging through the log. */
async function sourceStatus(hub: ServerProcess, name: string): Promise<SourceStatus> {
  const response = await fetch(`${hub.url}/v1/connectors`, {
    headers: { authorization: `Bearer ${BENCH_KEY}` },
  });
  if (response.status !== 200) throw new Error(`GET /v1/connectors: HTTP ${response.status}`);
  const body = (await response.json()) as { items: SourceStatus[] };
  const status = body.items.find((item) => item.name === name);
  if (!status) throw new Error(`GET /v1/connectors lists no ${name}`);
  if (status.deadLettered > 0)
    throw new Error(`${name} dead-lettered ${status.deadLettered} messages: ${status.lastError?.error}`);
  return status;
}

async function waitUp(hub: ServerProcess, name: string, timeoutMs: number): Promise<void> {
  let last: SourceStatus | null = null;
  const up = await waitUntil(async () => {
    last = await sourceStatus(hub, name);
    return last.health.type === 'up';
  }, timeoutMs);
  if (!up) throw new Error(`${name} is not up after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

function jsonPayload(n: number): string {
  return `{"plant":"P1","machine":"PRESS-${n % 8}","counter":"good","value":${n},"ts":"2026-03-01T08:15:00.000Z","seq":"${RUN_ID}-${n}"}`;
}

/** QoS 1 publishes of `count` messages with at most PUBLISH_WINDOW awaiting the broker's PUBACK. */
function publishWindowed(client: MqttClient, first: number, count: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const fill = () => {
      while (sent < count && sent - acked < PUBLISH_WINDOW) {
        client.publish(TOPIC, jsonPayload(first + sent++), { qos: 1 }, (error) => {
          if (error) return reject(error);
          if (++acked === count) resolve();
          else fill();
        });
      }
    };
    fill();
  });
}

/**
 * Connector throughput, each beside a ceiling measured in the same run: MQTT JSON messages into
 * the log vs a plain subscriber on the same broker, the Sparkplug decode + map cost per metric,
 * and how many OPC UA monitored items at 1 s a hub keeps up with vs the changes the PLC made.
 */
export async function runConnectorBenchmarks(ctx: ConnectorBenchContext): Promise<void> {
  sparkplugGroup(ctx);
  await mqttGroup(ctx);
  await opcuaGroup(ctx);
}

function sparkplugGroup(ctx: ConnectorBenchContext): void {
  const { runs, quick, progress, results } = ctx;
  progress('connectors: Sparkplug B decode + session + map, 50 metrics a DDATA');
  const iterations = quick ? 4_000 : 10_000;
  // Lets the JIT settle before anything is timed.
  benchSparkplugDecode(2_000);
  const ns: number[] = [];
  for (let r = 0; r < runs; r++) ns.push(benchSparkplugDecode(iterations).nsPerMetric);
  const r = result(
    'connectors.sparkplug_decode_map_us_per_metric',
    median(ns) / 1000,
    'µs/metric',
    null,
    false,
  );
  // round() keeps 2 decimals, too coarse for a sub-microsecond cost.
  r.value = Math.round(median(ns)) / 1000;
  r.note = `${iterations} DDATA messages of 50 alias-only metrics a run, in this process; no ceiling: the Sparkplug bench (src/connectors/mqtt/sparkplug/bench.ts) does not time protobuf decode alone`;
  results.push(r);
}

async function mqttGroup(ctx: ConnectorBenchContext): Promise<void> {
  const { tmp, runs, quick, progress, results } = ctx;
  const count = quick ? 5_000 : 20_000;
  progress('connectors: mosquitto (Debian package) on 127.0.0.1');
  const broker = await startMosquitto();
  let serial = 0;
  let publisher: MqttClient | null = null;
  try {
    const client = await connectAsync(broker.url, { clientId: `conveyor-bench-pub-${RUN_ID}`, clean: true });
    publisher = client;
    progress(`connectors: ceiling: ${count} QoS 1 publishes to a plain subscriber`);
    const subscriber = await connectAsync(broker.url, {
      clientId: `conveyor-bench-sub-${RUN_ID}`,
      clean: true,
    });
    const raw: number[] = [];
    try {
      let received = 0;
      subscriber.on('message', () => {
        received++;
      });
      await subscriber.subscribeAsync(TOPIC, { qos: 1 });
      // Run -1 warms up (JIT, connections) and is not timed.
      for (let r = -1; r < runs; r++) {
        const n = r < 0 ? WARMUP_MESSAGES : count;
        received = 0;
        const started = performance.now();
        await publishWindowed(client, serial, n);
        serial += n;
        if (!(await waitUntil(async () => received >= n, 30_000, 5)))
          throw new Error(`plain subscriber got ${received} of ${n} messages`);
        if (r >= 0) raw.push(n / ((performance.now() - started) / 1000));
      }
    } finally {
      await subscriber.endAsync();
    }

    progress(`connectors: ${count} QoS 1 JSON messages through a hub's mqtt source into the log`);
    const config = [
      'connectors:',
      '  bench-mqtt:',
      '    kind: mqtt',
      `    url: "${broker.url}"`,
      `    topics: ["${TOPIC}"]`,
      '    format: json',
      '    qos: 1',
      '    plant: P1',
      `    map: '${JSON_MAP}'`,
    ].join('\n');
    await withHub(
      join(tmp, 'connectors-mqtt'),
      async (hub) => {
        await waitUp(hub, 'bench-mqtt', 20_000);
        const rates: number[] = [];
        for (let r = -1; r < runs; r++) {
          const n = r < 0 ? WARMUP_MESSAGES : count;
          const before = (await sourceStatus(hub, 'bench-mqtt')).events;
          const started = performance.now();
          await publishWindowed(client, serial, n);
          serial += n;
          let events = before;
          const done = await waitUntil(async () => {
            events = (await sourceStatus(hub, 'bench-mqtt')).events;
            return events - before >= n;
          }, 120_000);
          if (!done) throw new Error(`the hub logged ${events - before} of ${n} messages in 120 s`);
          if (r >= 0) rates.push(n / ((performance.now() - started) / 1000));
        }
        const figure = result('connectors.mqtt_json_to_log', median(rates), 'messages/s', {
          name: 'mqtt.raw_qos1_publish',
          value: median(raw),
        });
        figure.note = `${count} JSON messages, QoS 1, ${PUBLISH_WINDOW} publishes in flight, mosquitto max_inflight_messages 100 (= the source's maxInFlight); time from the first publish until GET /v1/connectors counts them all as events; ceiling: a plain mqtt.js subscriber in the benchmark process`;
        results.push(figure);
      },
      config,
    );
  } finally {
    await publisher?.endAsync().catch(() => undefined);
    await broker.stop();
  }
}

/** The PLC model's four tags, each monitored on every machine. */
const TAGS: readonly PlcTag[] = ['State', 'GoodCount', 'ScrapCount', 'DowntimeReason'];

/** Writes a new value to every tag of every machine: each monitored item changes once. */
function changeAll(plc: SimulatedPlc, tick: number): number {
  const at = new Date();
  for (const machine of plc.machines) {
    plc.set(machine, 'State', tick % 2 === 0 ? 'idle' : 'running', at);
    plc.set(machine, 'GoodCount', tick, at);
    plc.set(machine, 'ScrapCount', tick, at);
    plc.set(machine, 'DowntimeReason', tick % 2 === 0 ? 'Die change' : 'Hydraulic fault', at);
  }
  return plc.machines.length * TAGS.length;
}

function opcuaNodeYaml(plc: SimulatedPlc, machine: string, tag: PlcTag): string {
  const common = `nodeId: "${plc.nodeId(machine, tag)}", equipmentId: ${machine}, samplingInterval: 1s`;
  switch (tag) {
    case 'State':
      return `      - { ${common}, type: telemetry.machine.state }`;
    case 'DowntimeReason':
      // A reason present means the machine is down.
      return `      - { ${common}, type: telemetry.machine.state, states: { "Die change": down, "Hydraulic fault": down } }`;
    default:
      return `      - { ${common}, type: telemetry.machine.counter }`;
  }
}

async function opcuaGroup(ctx: ConnectorBenchContext): Promise<void> {
  const { tmp, quick, progress, results } = ctx;
  const machineCount = quick ? 125 : 1_250;
  const items = machineCount * TAGS.length;
  progress(`connectors: simulated PLC with ${machineCount} machines (${items} variables)`);
  const machines = Array.from({ length: machineCount }, (_, i) => `M${String(i + 1).padStart(4, '0')}`);
  // Loaded here, not with the CLI: the OPC UA stack takes a second to load, and a check it runs
  // while loading writes a warning to stdout (which carries --json) unless a started PLC routes it.
  const { SimulatedPlc } = await import('../sim/plc.js');
  const plc = new SimulatedPlc({ machines, pkiDir: join(tmp, 'plc-pki') });
  let tick = 0;
  try {
    await plc.start();
    changeAll(plc, tick);
    const config = [
      'connectors:',
      '  bench-opcua:',
      '    kind: opcua',
      `    endpoint: "${plc.endpointUrl}"`,
      '    plant: P1',
      '    publishingInterval: 1s',
      '    nodes:',
      ...machines.flatMap((m) => TAGS.map((tag) => opcuaNodeYaml(plc, m, tag))),
    ].join('\n');
    await withHub(
      join(tmp, 'connectors-opcua'),
      async (hub) => {
        progress(`connectors: hub monitoring ${items} OPC UA items at 1 s`);
        const events = async () => (await sourceStatus(hub, 'bench-opcua')).events;
        await waitUp(hub, 'bench-opcua', 60_000);
        // Each item's current value first, then two changes, so the window starts steady and quiet.
        if (!(await waitUntil(async () => (await events()) >= items, 30_000, 100)))
          throw new Error(`the hub logged ${await events()} of ${items} initial values in 30 s`);
        for (let w = 0; w < 2; w++) {
          changeAll(plc, ++tick);
          await sleep(1_000);
        }
        await waitUntil(async () => (await events()) >= items * 3, 5_000, 100);
        progress(`connectors: every item changing once a second for ${OPCUA_TICKS} s`);
        const before = await events();
        const started = performance.now();
        let changes = 0;
        let lastTick = started;
        for (let k = 0; k < OPCUA_TICKS; k++) {
          // Ticks on a fixed grid: a slow tick does not push the later ones back.
          await sleep(Math.max(0, started + k * 1_000 - performance.now()));
          lastTick = performance.now();
          changes += changeAll(plc, ++tick);
        }
        await sleep(Math.max(0, lastTick + OPCUA_LAG_MS - performance.now()));
        const appended = (await events()) - before;
        // Told apart in the note: changes that came late, and changes never logged (folded or dropped).
        await sleep(OPCUA_LATE_MS);
        const late = (await events()) - before - appended;
        const seconds = OPCUA_TICKS;
        const figure = result('connectors.opcua_items_at_1s', appended / seconds, 'events/s', {
          name: 'opcua.plc_changes_per_s',
          value: changes / seconds,
        });
        figure.note = `${items} monitored items (${machineCount} machines × 4 tags), samplingInterval and publishingInterval 1s, each item changing once a second for ${seconds} s; value = changes in the log within ${OPCUA_LAG_MS / 1000} s of the last change, per second = items kept without lag (of ${items}); ${late} more within a further ${OPCUA_LATE_MS / 1000} s, ${changes - appended - late} never logged${quick ? '; quick mode: 500 items, not 5,000' : ''}`;
        results.push(figure);
      },
      config,
    );
  } finally {
    await plc.close();
  }
}
