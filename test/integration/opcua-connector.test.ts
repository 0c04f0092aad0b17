import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SourceMessage } from '../../src/connectors/framework/types.js';
import { OpcuaSource } from '../../src/connectors/opcua/source.js';
import { COUNTER_TYPE, type OpcuaSourceConfig, STATE_TYPE } from '../../src/connectors/opcua/spec.js';
import { SimulatedPlc } from '../../src/sim/plc.js';
import {
  type ConnectorUnderTest,
  connectorContract,
  RecordingContext,
} from '../contracts/connector-contract.js';
import { compileOpcuaSource } from '../helpers/opcua-source-config.js';

/**
 * One simulated PLC serves every test of this file (an OPC UA server takes a second or two to
 * start). Its variables start without a value, as a gateway's do right after boot: a counter
 * without a value is no event, so the contract's first test sees exactly the changes it produced.
 */
const RING = ['Press1', 'Press2', 'Press3', 'Press4', 'Press5'];
const PRESS = 'Press7';
/** The long network outage: half the session timeout the source asks for. */
const OUTAGE_MS = 30_000;
const plc = new SimulatedPlc({ machines: [...RING, PRESS], uninitialized: true });
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'conveyor-opcua-'));
  await plc.start();
});

after(async () => {
  await plc.close();
  await rm(dataDir, { recursive: true, force: true });
});

function compile(raw: Record<string, unknown>): OpcuaSourceConfig {
  return compileOpcuaSource({ endpoint: plc.endpointUrl, connector: 'plc-1', stateDir: dataDir }, raw);
}

const counterNode = (machine: string, extra: Record<string, unknown> = {}) => ({
  nodeId: plc.nodeId(machine, 'GoodCount'),
  type: COUNTER_TYPE,
  equipmentId: machine.toUpperCase(),
  samplingInterval: '50ms',
  queueSize: 100,
  ...extra,
});

const lastStatus = (ctx: RecordingContext) => ctx.statuses.at(-1)?.type;
const payloadOf = (m: SourceMessage) => m.payload as { nodeId: string; value: unknown };
const valuesOf = (ctx: RecordingContext, nodeId: string) =>
  ctx.delivered.filter((m) => payloadOf(m).nodeId === nodeId).map((m) => payloadOf(m).value);

/** Increments GoodCount of each machine once and waits until every monitored item sampled it. */
async function bump(machines: readonly string[]): Promise<number[]> {
  const values = machines.map((m) => plc.addGood(m));
  await Promise.all(machines.map((m) => plc.sampled(m, 'GoodCount')));
  return values;
}

/**
 * produce(n) makes n changes of GoodCount, round-robin over five presses: five changes are
 * sampled at once, yet each change of a node is waited for until sampled before the next, so
 * none is folded into another. A server offers only each node's current value to a new
 * subscription; the changes the hub did not acknowledge before a stop come again from the
 * source's state file.
 */
connectorContract('opcua', async (): Promise<ConnectorUnderTest> => {
  let config: OpcuaSourceConfig | null = null;
  let next = 0;
  return {
    startPeer: () => plc.start(),
    stopPeer: () => plc.stop(),
    produce: async (count) => {
      for (let done = 0; done < count; ) {
        const round = Math.min(RING.length, count - done);
        const machines = Array.from({ length: round }, (_, i) => RING[(next + i) % RING.length] as string);
        next += round;
        done += round;
        await bump(machines);
      }
    },
    settle: () => plc.settled(),
    createSource: () => {
      config ??= compile({ nodes: RING.map((m) => counterNode(m)) });
      return new OpcuaSource(config, 'plc-1');
    },
    // The PLC is shared with the tests below and closed after them.
    close: async () => undefined,
  };
});

describe('opcua source against a simulated PLC', () => {
  test('what the hub did not acknowledge before a stop comes again at the next start, then the file goes', async () => {
    const config = compile({ nodes: [counterNode(PRESS)] });
    const nodeId = plc.nodeId(PRESS, 'GoodCount');
    const stateFile = join(config.stateDir, 'plc-kept.opcua.json');
    const first = new RecordingContext();
    let release: () => void = () => undefined;
    first.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source = new OpcuaSource(config, 'plc-kept');
    await source.start(first);
    await first.until(() => lastStatus(first) === 'up', 'status up');
    const produced = [...(await bump([PRESS])), ...(await bump([PRESS])), ...(await bump([PRESS]))];
    await first.until(() => first.delivered.length >= 1, 'a delivery');
    await plc.settled();
    first.abort();
    const stopping = source.stop();
    release();
    await stopping;
    assert.equal(first.acked.size, 0);
    assert.ok(existsSync(stateFile), 'the unacknowledged changes are kept');

    const second = new RecordingContext();
    const again = new OpcuaSource(config, 'plc-kept');
    await again.start(second);
    try {
      await second.until(() => second.acked.size >= 3, 'the kept changes acked');
      // The kept changes first, in order; the server then offers the current value, under its id.
      assert.deepEqual(valuesOf(second, nodeId).slice(0, 3), produced);
      for (const id of first.delivered.map((m) => m.id)) assert.ok(second.distinct().has(id));
      await second.until(() => valuesOf(second, nodeId).length >= 4, 'the current value');
      assert.equal(second.distinct().size, 3, 'the current value is the last kept change');
      await waitFor(() => !existsSync(stateFile), 'the state file removed once all is acknowledged');
    } finally {
      await again.stop();
    }
    assert.ok(!existsSync(stateFile), 'nothing kept when everything was acknowledged');
  });

  test('a server restart: it reconnects with one session, one item per node and no duplicate changes', async () => {
    const goodId = plc.nodeId(PRESS, 'GoodCount');
    const stateId = plc.nodeId(PRESS, 'State');
    plc.setState(PRESS, 'running');
    const config = compile({
      nodes: [
        counterNode(PRESS),
        { nodeId: stateId, type: STATE_TYPE, equipmentId: 'PRESS-07', samplingInterval: '50ms' },
      ],
    });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'plc-1');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      const before = await bump([PRESS]);
      await ctx.until(() => valuesOf(ctx, goodId).includes(before[0]), 'the change before the restart');
      assert.equal(plc.sessionCount, 1);
      assert.equal(plc.monitoredItems(goodId).length, 1);

      await plc.restart();
      await ctx.until(() => lastStatus(ctx) === 'down', 'status down');
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up after the restart');
      // The stack re-created the subscription on a new session of the new server: nothing else.
      assert.equal(plc.sessionCount, 1, 'one session on the server');
      assert.equal(plc.subscriptionCount, 1, 'one subscription on the server');
      assert.equal(plc.monitoredItems(goodId).length, 1, 'one monitored item for GoodCount');
      assert.equal(plc.monitoredItems(stateId).length, 1, 'one monitored item for State');

      const start = ctx.delivered.length;
      const produced: number[] = [];
      for (let i = 0; i < 5; i++) produced.push(...(await bump([PRESS])));
      await ctx.until(() => produced.every((v) => valuesOf(ctx, goodId).includes(v)), 'the changes');
      // Every notification the server sent has been acknowledged: a duplicate would be here by now.
      await plc.settled();
      const after = ctx.delivered.slice(start).filter((m) => payloadOf(m).nodeId === goodId);
      for (const value of produced)
        assert.equal(
          after.filter((m) => payloadOf(m).value === value).length,
          1,
          `change ${value} delivered once`,
        );
      // The value re-sent by the re-created item after the restart carries the id it had before.
      const beforeIds = ctx.delivered.filter((m) => payloadOf(m).value === before[0]).map((m) => m.id);
      assert.equal(new Set(beforeIds).size, 1, 'a change seen twice keeps its id');
      assert.equal(plc.sessionCount, 1);
    } finally {
      await source.stop();
    }
    await waitFor(() => plc.sessionCount === 0, 'the session closed by stop');
    assert.equal(plc.subscriptionCount, 0);
  });

  test('network outages: the session is reactivated, not replaced, and nothing is duplicated', async () => {
    const goodId = plc.nodeId(PRESS, 'GoodCount');
    const config = compile({ nodes: [counterNode(PRESS)] });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'plc-1');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      const opened = plc.sessionsOpened;
      for (let outages = 0; outages < 2; outages++) {
        const outage = plc.dropNetwork(1_000);
        await ctx.until(() => lastStatus(ctx) === 'down', 'status down');
        const down = ctx.statuses.at(-1);
        assert.ok(
          down?.type === 'down' && down.reason.includes(plc.endpointUrl),
          'the reason names the endpoint',
        );
        await outage;
        await ctx.until(() => lastStatus(ctx) === 'up', 'status up after the outage');
        assert.equal(plc.sessionsOpened, opened, 'no new session was opened');
        assert.equal(plc.sessionCount, 1);
        assert.equal(plc.subscriptionCount, 1);
        assert.equal(plc.monitoredItems(goodId).length, 1);
        const start = ctx.delivered.length;
        const produced = [...(await bump([PRESS])), ...(await bump([PRESS])), ...(await bump([PRESS]))];
        await ctx.until(
          () => produced.every((v) => valuesOf(ctx, goodId).includes(v)),
          'the changes after the outage',
        );
        await plc.settled();
        const after = ctx.delivered.slice(start).map((m) => payloadOf(m).value);
        for (const value of produced)
          assert.equal(after.filter((v) => v === value).length, 1, `change ${value} delivered once`);
      }
    } finally {
      await source.stop();
    }
  });

  test('a 30 s network drop: down naming the endpoint and retrying, then the same session, nothing lost or doubled', async () => {
    const goodId = plc.nodeId(PRESS, 'GoodCount');
    const stateId = plc.nodeId(PRESS, 'State');
    plc.setState(PRESS, 'running');
    const config = compile({
      nodes: [
        counterNode(PRESS),
        { nodeId: stateId, type: STATE_TYPE, equipmentId: 'PRESS-07', samplingInterval: '50ms' },
      ],
    });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'plc-1');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      const [first] = await bump([PRESS]);
      await ctx.until(() => valuesOf(ctx, goodId).includes(first), 'a change before the outage');
      const opened = plc.sessionsOpened;
      const fromStatus = ctx.statuses.length;
      const droppedAt = Date.now();
      let over = false;
      let statusesAtEnd = 0;
      const outage = plc.dropNetwork(OUTAGE_MS).then(() => {
        over = true;
        statusesAtEnd = ctx.statuses.length;
      });
      await ctx.until(() => lastStatus(ctx) === 'down', 'status down');

      // Changes while the hub cannot see the PLC: the server keeps sampling them for the session.
      const during: number[] = [];
      for (let i = 0; i < 3; i++) {
        during.push(plc.addGood(PRESS));
        await plc.sampled(PRESS, 'GoodCount');
      }
      plc.setState(PRESS, 'down', 'Hydraulic fault');
      await plc.sampled(PRESS, 'State');

      // For the whole outage the PLC refuses connections, and the source keeps trying.
      let probes = 0;
      while (!over) {
        const accepted = await accepts(plc.endpointUrl);
        if (accepted && !over)
          assert.ok(
            Date.now() - droppedAt >= OUTAGE_MS,
            `the PLC accepted a connection ${Date.now() - droppedAt} ms into a ${OUTAGE_MS} ms outage`,
          );
        probes++;
        await Promise.race([outage, new Promise<void>((resolve) => setTimeout(resolve, 1_000))]);
      }
      await outage;
      const duringOutage = ctx.statuses.slice(fromStatus, statusesAtEnd);
      assert.ok(probes >= 20, `probed through the outage (${probes} probes)`);
      assert.ok(
        duringOutage.every((s) => s.type === 'down'),
        `down all through the outage: ${duringOutage.map((s) => s.type).join(', ')}`,
      );
      for (const status of duringOutage)
        assert.ok(
          status.type === 'down' && status.reason.includes(plc.endpointUrl),
          'the reason names the endpoint',
        );
      const waits = duringOutage.flatMap((s) =>
        s.type === 'down' && s.retryInMs !== undefined ? [s.retryInMs] : [],
      );
      assert.ok(waits.length >= 10, `kept retrying: ${waits.length} attempts announced`);
      assert.ok(
        waits.every((ms) => ms <= config.reconnect.maxDelayMs),
        `back-off bounded by ${config.reconnect.maxDelayMs} ms: ${waits.join(', ')}`,
      );

      await ctx.until(() => lastStatus(ctx) === 'up', 'status up after the outage');
      // 30 s is within the session timeout the source asks for (60 s): the session is reactivated.
      assert.equal(plc.sessionsOpened, opened, 'no new session was opened');
      assert.equal(plc.sessionCount, 1, 'one session on the server');
      assert.equal(plc.subscriptionCount, 1, 'one subscription on the server');
      assert.equal(plc.monitoredItems(goodId).length, 1, 'one monitored item for GoodCount');
      assert.equal(plc.monitoredItems(stateId).length, 1, 'one monitored item for State');

      const latest = during.at(-1);
      await ctx.until(() => valuesOf(ctx, goodId).includes(latest), 'the last count of the outage');
      await ctx.until(
        () => ctx.delivered.some((m) => m.events?.[0]?.data.state === 'down'),
        'the state change of the outage',
      );
      const start = ctx.delivered.length;
      const produced = [...(await bump([PRESS])), ...(await bump([PRESS])), ...(await bump([PRESS]))];
      await ctx.until(() => produced.every((v) => valuesOf(ctx, goodId).includes(v)), 'the changes after');
      await plc.settled();
      const counts = valuesOf(ctx, goodId);
      for (const value of [first, latest, ...produced])
        assert.equal(counts.filter((v) => v === value).length, 1, `count ${value} delivered once`);
      assert.ok(
        ctx.delivered.slice(start).every((m) => payloadOf(m).nodeId === goodId),
        'nothing of the outage comes again after recovery',
      );
      assert.equal(ctx.distinct().size, ctx.delivered.length, 'no message delivered twice');
      assert.equal(plc.sessionCount, 1);
    } finally {
      await source.stop();
    }
    await waitFor(() => plc.sessionCount === 0, 'the session closed by stop');
  });

  test('a node that does not exist: degraded naming it, a message for the DLQ, the others go on', async () => {
    const missing = 'ns=1;s=Press7.NoSuchTag';
    const goodId = plc.nodeId(PRESS, 'GoodCount');
    const config = compile({
      nodes: [counterNode(PRESS), { nodeId: missing, type: COUNTER_TYPE, equipmentId: 'PRESS-07' }],
    });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'plc-1');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'degraded', 'status degraded');
      const status = ctx.statuses.at(-1);
      assert.ok(status?.type === 'degraded' && status.reason.includes(missing), 'the reason names the node');
      assert.match(status.reason, /BadNodeIdUnknown/);
      await ctx.until(() => ctx.delivered.some((m) => m.error !== undefined), 'the error message');
      const failure = ctx.delivered.find((m) => m.error !== undefined);
      assert.match(failure?.error ?? '', /cannot monitor ns=1;s=Press7\.NoSuchTag: BadNodeIdUnknown/);
      assert.ok(ctx.acked.has(failure?.id ?? ''), 'the error message is acked like any other');
      const [value] = await bump([PRESS]);
      await ctx.until(() => valuesOf(ctx, goodId).includes(value), 'a change of the existing node');
      const event = ctx.delivered.find((m) => payloadOf(m).value === value)?.events?.[0];
      assert.equal(event?.type, COUNTER_TYPE);
      assert.deepEqual(
        { ...event?.data, at: undefined },
        {
          plant: 'P1',
          equipmentId: 'PRESS7',
          counter: 'GoodCount',
          value,
          at: undefined,
        },
      );
      assert.equal(lastStatus(ctx), 'degraded');
    } finally {
      await source.stop();
    }
  });

  test('1,000 fast changes of a counter arrive once each, in order', async () => {
    const scrapId = plc.nodeId(PRESS, 'ScrapCount');
    plc.set(PRESS, 'ScrapCount', 0);
    const config = compile({
      nodes: [
        {
          nodeId: scrapId,
          type: COUNTER_TYPE,
          equipmentId: 'PRESS-07',
          samplingInterval: '0ms',
          queueSize: 1000,
          discardOldest: false,
        },
      ],
    });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'plc-1');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      await ctx.until(() => valuesOf(ctx, scrapId).length === 1, 'the current value');
      for (let n = 1; n <= 1000; n++) plc.set(PRESS, 'ScrapCount', n);
      await ctx.until(() => ctx.acked.size >= 1001, '1,001 acked messages');
      const expected = [0, ...Array.from({ length: 1000 }, (_, i) => i + 1)];
      assert.deepEqual(valuesOf(ctx, scrapId), expected);
      assert.equal(ctx.distinct().size, 1001);
      assert.ok(
        [...ctx.acked.values()].every((n) => n === 1),
        'each acked once',
      );
      assert.ok(ctx.maxInFlightMessages <= 100, `batches of at most 100, saw ${ctx.maxInFlightMessages}`);
    } finally {
      await source.stop();
    }
  });
});

describe('opcua source with SignAndEncrypt and a user', () => {
  const secure = new SimulatedPlc({ users: [{ username: 'hub', password: 'pw-1' }] });
  before(() => secure.start());
  after(() => secure.close());

  const secureConfig = (password: string) =>
    compile({
      endpoint: secure.endpointUrl,
      securityMode: 'SignAndEncrypt',
      securityPolicy: 'Basic256Sha256',
      auth: { username: 'hub', password },
      pki: { acceptUnknownServerCertificate: true },
      nodes: [
        {
          nodeId: secure.nodeId('Press7', 'State'),
          type: STATE_TYPE,
          equipmentId: 'PRESS-07',
          samplingInterval: '50ms',
        },
      ],
    });

  test('maps the state over an encrypted channel; a wrong password is down with a hint', async () => {
    const ctx = new RecordingContext();
    const source = new OpcuaSource(secureConfig('pw-1'), 'plc-secure');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      secure.setState('Press7', 'setup');
      await ctx.until(
        () => ctx.delivered.some((m) => m.events?.[0]?.data.state === 'setup'),
        'the setup state',
      );
      const event = ctx.delivered.find((m) => m.events?.[0]?.data.state === 'setup')?.events?.[0];
      assert.equal(event?.type, STATE_TYPE);
      assert.equal(event?.data.equipmentId, 'PRESS-07');
    } finally {
      await source.stop();
    }

    const refused = new RecordingContext();
    const wrong = new OpcuaSource(secureConfig('nope'), 'plc-secure');
    await wrong.start(refused);
    try {
      await refused.until(
        () => refused.statuses.filter((s) => s.type === 'down').length >= 3,
        'three attempts',
      );
      assert.ok(secure.sessionCount <= 1, `a refused session is not left behind, saw ${secure.sessionCount}`);
      const status = refused.statuses.at(-1);
      assert.ok(status?.type === 'down' && /refused the user .*check auth/.test(status.reason), status?.type);
      assert.ok((status.retryInMs ?? 0) > 0, 'with the time of the next attempt');
    } finally {
      await wrong.stop();
    }
    await waitFor(() => secure.sessionCount === 0, 'no session left behind');
  });
});

/** Whether a TCP connection to the endpoint's port is accepted (a refused or timed-out one is not). */
function accepts(endpointUrl: string): Promise<boolean> {
  const { hostname, port } = new URL(endpointUrl.replace(/^opc\.tcp:/, 'http:'));
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1_000);
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}
