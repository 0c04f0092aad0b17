/**
 * The sink contract run against each delivery sink kind with its real peer: an HTTP server, a
 * folder, a mosquitto broker and an OPC UA server, all on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import mqtt from 'mqtt';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { DataType, StatusCodes, setErrorLogger, setWarningLogger, Variant } from 'node-opcua-client';
import { OPCUAServer } from 'node-opcua-server';
import { createFileOutSink, fileOutSinkSpec } from '../../src/connectors/file-out/sink.js';
import { compileHttpConnector } from '../../src/connectors/http/http-connector.js';
import { createMqttOutSink, mqttOutSinkSpec } from '../../src/connectors/mqtt/sink.js';
import { routeStackLogs } from '../../src/connectors/opcua/logs.js';
import { createOpcuaOutSink, opcuaOutSinkSpec } from '../../src/connectors/opcua/sink.js';
import { systemClock } from '../../src/delivery/clock.js';
import { HttpSink } from '../../src/delivery/http-sink.js';
import type { DeliverySink } from '../../src/delivery/sink.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../../src/util/free-port.js';
import { sinkContract } from '../contracts/sink-contract.js';
import { LogCapture } from '../helpers/hub.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';

type Problems = Array<{ path: string; message: string }>;

let work = '';
let releaseLogs: () => void = () => undefined;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'conveyor-sink-contract-'));
  releaseLogs = routeStackLogs({ setWarningLogger, setErrorLogger }, createLogger('fatal', new LogCapture()));
});
after(() => {
  releaseLogs();
  rmSync(work, { recursive: true, force: true });
});

/** Compiles a sink's raw config as the hub would, failing on any problem. */
function compiled<C>(
  compile: (raw: Record<string, unknown>, at: string, problems: Problems, baseDir: string) => C,
  raw: Record<string, unknown>,
  baseDir: string,
): C {
  const problems: Problems = [];
  const config = compile(raw, 'connectors.under-test', problems, baseDir);
  assert.deepEqual(problems, []);
  return config;
}

/**
 * An HTTP receiver recording CloudEvent ids (structured body or ce-id header). It restarts on
 * the same port, which ScriptedServer (always port 0) cannot do.
 */
class RecordingHttpPeer {
  readonly ids: string[] = [];
  port = 0;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const header = req.headers['ce-id'];
        const id =
          typeof header === 'string'
            ? header
            : (JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id;
        this.ids.push(id);
        res.writeHead(202).end();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    const address = this.server.address();
    if (typeof address === 'object' && address) this.port = address.port;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    // Kept-alive sockets would otherwise hold close() open and keep the peer reachable.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

sinkContract('http', async () => {
  const peer = new RecordingHttpPeer();
  await peer.start();
  const problems: Problems = [];
  const settings = compileHttpConnector(
    'under-test',
    { kind: 'http', url: `http://127.0.0.1:${peer.port}/hook` },
    problems,
  );
  assert.deepEqual(problems, []);
  const sink = new HttpSink(settings, systemClock);
  return {
    sink: () => sink,
    received: async () => [...peer.ids],
    stopPeer: () => peer.stop(),
    startPeer: () => peer.start(),
    async close() {
      await sink.close();
      await peer.stop();
    },
  };
});

sinkContract('file-out', async () => {
  const base = mkdtempSync(join(work, 'file-out-'));
  const dir = join(base, 'out');
  const config = compiled(fileOutSinkSpec.compile, { kind: 'file-out', dir: 'out' }, base);
  const sink = createFileOutSink(config, 'under-test', systemClock);
  return {
    sink: () => sink,
    async received() {
      // What the folder held before it went away counts too: it was delivered then.
      const lines = (folder: string) => {
        let files: string[];
        try {
          files = readdirSync(folder).sort();
        } catch {
          return [];
        }
        return files.flatMap((f) =>
          readFileSync(join(folder, f), 'utf8')
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => (JSON.parse(line) as { id: string }).id),
        );
      };
      return [...lines(`${dir}.gone`), ...lines(dir)];
    },
    async stopPeer() {
      // Root ignores permissions, so a regular file where the folder was is what makes it unwritable;
      // the folder is moved aside (an operator archiving it), not destroyed.
      renameSync(dir, `${dir}.gone`);
      writeFileSync(dir, '');
    },
    async startPeer() {
      rmSync(dir, { force: true });
    },
    async close() {
      await sink.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
});

sinkContract('mqtt-out', async () => {
  const broker = await MosquittoBroker.start();
  const ids: string[] = [];
  // A persistent session: what is published while it reconnects after a broker restart waits for it.
  const subscriber = await mqtt.connectAsync(broker.url, {
    clientId: `contract-sub-${randomUUID()}`,
    clean: false,
    reconnectPeriod: 100,
  });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_topic, payload) => {
    ids.push((JSON.parse(payload.toString('utf8')) as { id: string }).id);
  });
  await subscriber.subscribeAsync('contract/#', { qos: 1 });
  const config = compiled(
    mqttOutSinkSpec.compile,
    { kind: 'mqtt-out', url: broker.url, topic: 'contract/{type}' },
    work,
  );
  const sink = createMqttOutSink(config, `under-test-${randomUUID()}`, systemClock);
  // The sink loads the MQTT client and connects by itself; the contract starts once it has.
  const connected = () => (sink as unknown as { client: { connected: boolean } | null }).client?.connected;
  const deadline = Date.now() + 10_000;
  while (!connected() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    sink: () => sink,
    received: async () => [...ids],
    stopPeer: () => broker.stop(),
    startPeer: () => broker.resume(),
    async close() {
      await sink.close();
      await subscriber.endAsync(true);
      await broker.close();
    },
  };
});

/** A minimal OPC UA server with one writable String variable whose writes it records in order. */
class RecordingOpcuaPeer {
  readonly written: string[] = [];
  port = 0;
  private server: OPCUAServer | null = null;
  private value = '';

  constructor(private readonly pkiDir: string) {}

  async start(): Promise<void> {
    const server = new OPCUAServer({
      port: this.port,
      hostname: '127.0.0.1',
      serverCertificateManager: new OPCUACertificateManager({
        name: 'PKI',
        rootFolder: this.pkiDir,
        automaticallyAcceptUnknownCertificate: true,
      }),
      allowAnonymous: true,
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    assert.ok(addressSpace);
    const namespace = addressSpace.getOwnNamespace();
    namespace.addVariable({
      organizedBy: addressSpace.rootFolder.objects,
      nodeId: 's=Contract.LastId',
      browseName: 'LastId',
      dataType: 'String',
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: {
        get: () => new Variant({ dataType: DataType.String, value: this.value }),
        set: (variant: Variant) => {
          this.value = String(variant.value);
          this.written.push(this.value);
          return StatusCodes.Good;
        },
      },
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
}

sinkContract(
  'opcua-out',
  async () => {
    // One PKI for every server and client of the file: certificates are made once.
    const peer = new RecordingOpcuaPeer(join(work, 'opcua-server-pki'));
    peer.port = await freePort();
    await peer.start();
    const config = compiled(
      opcuaOutSinkSpec.compile,
      {
        kind: 'opcua-out',
        endpoint: `opc.tcp://127.0.0.1:${peer.port}`,
        writes: [{ nodeId: 'ns=1;s=Contract.LastId', dataType: 'String', value: 'id' }],
      },
      work,
    );
    const sink: DeliverySink = createOpcuaOutSink(config, 'under-test', systemClock);
    return {
      sink: () => sink,
      received: async () => [...peer.written],
      stopPeer: () => peer.stop(),
      startPeer: () => peer.start(),
      async close() {
        await sink.close();
        await peer.stop();
      },
    };
  },
  { usesTransform: false, connectTimeoutMs: 10_000 },
);
