import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { DataType, StatusCodes, setErrorLogger, setWarningLogger, type Variant } from 'node-opcua-client';
import { OPCUAServer } from 'node-opcua-server';
import { routeStackLogs } from '../../src/connectors/opcua/logs.js';
import type { Hub } from '../../src/hub.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { createLogger } from '../../src/observability/logger.js';
import { makeEvent } from '../helpers/events.js';
import { auth, createTestHub, LogCapture } from '../helpers/hub.js';

/**
 * A small OPC UA server with writable variables (Line1.HoldReason String, Line1.Hold Boolean) and
 * a method Line1.PlaceHold(lot String, lots UInt32). It restarts on the same port with fresh
 * values, so what a client wrote after a restart is known to be new.
 */
class TestPlcServer {
  port = 0;
  server: OPCUAServer | null = null;
  readonly calls: Array<[string, number]> = [];
  private readonly variables = new Map<string, { readValue(): { value: Variant } }>();

  constructor(private readonly pkiDir: string) {}

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new OPCUAServer({
      port: this.port,
      hostname: '127.0.0.1',
      serverCertificateManager: new OPCUACertificateManager({
        name: 'PKI',
        rootFolder: join(this.pkiDir, 'server'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      allowAnonymous: true,
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    assert.ok(addressSpace);
    const namespace = addressSpace.getOwnNamespace();
    const line = namespace.addObject({
      organizedBy: addressSpace.rootFolder.objects,
      nodeId: 's=Line1',
      browseName: 'Line1',
    });
    const writable = (tag: string, dataType: DataType, value: unknown) =>
      this.variables.set(
        tag,
        namespace.addVariable({
          componentOf: line,
          nodeId: `s=Line1.${tag}`,
          browseName: tag,
          dataType: DataType[dataType],
          accessLevel: 'CurrentRead | CurrentWrite',
          userAccessLevel: 'CurrentRead | CurrentWrite',
          value: { dataType, value },
        }),
      );
    writable('HoldReason', DataType.String, '');
    writable('Hold', DataType.Boolean, false);
    const method = namespace.addMethod(line, {
      nodeId: 's=Line1.PlaceHold',
      browseName: 'PlaceHold',
      inputArguments: [
        { name: 'lot', dataType: DataType.String },
        { name: 'lots', dataType: DataType.UInt32 },
      ],
      outputArguments: [],
    });
    method.bindMethod(async (inputs: Variant[], _context: unknown) => {
      this.calls.push([inputs[0]?.value as string, inputs[1]?.value as number]);
      return { statusCode: StatusCodes.Good, outputArguments: [] };
    });
    await server.start();
    this.port = server.endpoints[0]?.port ?? this.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await server?.shutdown(0);
  }

  read(tag: string): unknown {
    return this.server ? this.variables.get(tag)?.readValue().value.value : undefined;
  }
}

let dir = '';
let plc: TestPlcServer;
let hub: Hub;
const releaseLogs = routeStackLogs(
  { setWarningLogger, setErrorLogger },
  createLogger('fatal', new LogCapture()),
);

async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function publish(event: CloudEvent): Promise<void> {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth(), 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });
  assert.equal(res.statusCode, 202, res.body);
}

const route = (name: string) => {
  const status = hub.delivery.subscriptions().find((s) => s.name === name);
  assert.ok(status, name);
  return status;
};

const hold = (reason: string) => {
  const event = makeEvent({ type: 'quality.hold.placed', subject: 'QH-1' });
  (event.data as { reason: string }).reason = reason;
  return event;
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conveyor-opcua-out-'));
  plc = new TestPlcServer(join(dir, 'server-pki'));
  await plc.start();
  const retry = { maxAttempts: 20, initialDelay: '500ms', maxDelay: '1s', maxAge: '1h' };
  hub = await createTestHub({
    connectors: {
      plc: {
        kind: 'opcua-out',
        endpoint: plc.endpointUrl,
        writes: [
          { nodeId: 'ns=1;s=Line1.HoldReason', dataType: 'String', value: 'data.reason' },
          { nodeId: 'ns=1;s=Line1.Hold', dataType: 'Boolean', value: 'true' },
        ],
        method: {
          objectId: 'ns=1;s=Line1',
          methodId: 'ns=1;s=Line1.PlaceHold',
          inputs: [
            { dataType: 'String', value: 'data.lots[0]' },
            { dataType: 'UInt32', value: '$count(data.lots)' },
          ],
        },
      },
      nowhere: {
        kind: 'opcua-out',
        endpoint: plc.endpointUrl,
        writes: [{ nodeId: 'ns=1;s=Line1.Missing', dataType: 'String', value: 'data.holdId' }],
      },
    },
    routes: [
      { name: 'holds', types: ['quality.hold.placed'], sink: 'plc', retry, timeout: '5s' },
      { name: 'lost', types: ['quality.hold.released'], sink: 'nowhere', retry, timeout: '5s' },
    ],
  });
  await hub.listen();
});

after(async () => {
  await hub?.close();
  await plc?.stop();
  releaseLogs();
  await rm(dir, { recursive: true, force: true });
});

test('a placed hold writes its reason and Hold=true in the PLC and calls PlaceHold with its lots', async () => {
  await publish(hold('Burr on bore'));
  await until(() => route('holds').delivered >= 1, 'the delivery');
  assert.equal(plc.read('HoldReason'), 'Burr on bore');
  assert.equal(plc.read('Hold'), true);
  assert.deepEqual(plc.calls, [['L24-0611-01', 2]]);
});

test('a write to a node the server does not know is dead-lettered with its status', async () => {
  await publish(makeEvent({ type: 'quality.hold.released', subject: 'QH-1' }));
  const dlq = async () =>
    (await hub.app.inject({ method: 'GET', url: '/v1/dlq?route=lost', headers: auth() })).json() as {
      items: Array<{ reason: string; attempts: Array<{ error?: string }> }>;
    };
  const deadline = Date.now() + 15_000;
  let items = (await dlq()).items;
  while (items.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    items = (await dlq()).items;
  }
  assert.equal(items.length, 1);
  assert.equal(items[0]?.reason, 'rejected');
  assert.equal(items[0]?.attempts.length, 1, 'not retried');
  assert.match(items[0]?.attempts[0]?.error ?? '', /ns=1;s=Line1\.Missing: BadNodeIdUnknown/);
});

test('while the server is down deliveries are retried; once it is back the value is written', async () => {
  await plc.stop();
  const failed = route('holds').failedAttempts;
  await publish(hold('Crack in flange'));
  await until(() => route('holds').failedAttempts > failed, 'a failed attempt');
  assert.equal(route('holds').delivered, 1);
  await plc.start();
  await until(() => route('holds').delivered >= 2, 'the delivery after the restart');
  assert.equal(plc.read('HoldReason'), 'Crack in flange');
  assert.equal(plc.read('Hold'), true);
  assert.ok(route('holds').lastError, 'the failure was recorded');
});
