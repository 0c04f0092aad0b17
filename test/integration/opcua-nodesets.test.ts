import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import {
  AttributeIds,
  type ClientSession,
  DataType,
  type LocalizedText,
  makeBrowsePath,
  OPCUAClient,
} from 'node-opcua-client';
import type { SourceMessage } from '../../src/connectors/framework/types.js';
import { OpcuaSource } from '../../src/connectors/opcua/source.js';
import { COUNTER_TYPE, type OpcuaSourceConfig, STATE_TYPE } from '../../src/connectors/opcua/spec.js';
import { SimulatedPlc } from '../../src/sim/plc.js';
import { RecordingContext } from '../contracts/connector-contract.js';
import { compileOpcuaSource } from '../helpers/opcua-source-config.js';

/** The official OPC Foundation NodeSet2 files, copied unchanged (see SOURCE.txt there). */
const NODESETS = new URL('../../../test/data/opcua-nodesets/', import.meta.url);
const nodeset = (path: string) => fileURLToPath(new URL(path, NODESETS));

const BASE = nodeset('Schema/Opc.Ua.NodeSet2.xml');
const DI = nodeset('DI/Opc.Ua.Di.NodeSet2.xml');
const MACHINERY = nodeset('Machinery/Opc.Ua.Machinery.NodeSet2.xml');
const MACHINERY_EXAMPLES = nodeset('Machinery/Opc.Ua.Machinery.Examples.NodeSet2.xml');
const ISA95_JOB_CONTROL = nodeset('ISA95-JOBCONTROL/opc.ua.isa95-jobcontrol.nodeset2.xml');
const MACHINERY_JOBS = nodeset('Machinery/Jobs/Opc.Ua.Machinery.Jobs.Nodeset2.xml');
const PACKML = nodeset('PackML/Opc.Ua.PackML.NodeSet2.xml');
const ISA95 = nodeset('ISA-95/Opc.ISA95.NodeSet2.xml');

/**
 * Each after the models its <RequiredModel>s name: DI needs the base; Machinery needs DI; the
 * Machinery examples need DI and Machinery; Machinery Jobs needs ISA-95 Job Control, not
 * Machinery; PackML, ISA-95 and ISA-95 Job Control need the base alone.
 */
const IN_DEPENDENCY_ORDER = [
  BASE,
  DI,
  MACHINERY,
  MACHINERY_EXAMPLES,
  ISA95_JOB_CONTROL,
  MACHINERY_JOBS,
  PACKML,
  ISA95,
];

const URI = {
  di: 'http://opcfoundation.org/UA/DI/',
  machinery: 'http://opcfoundation.org/UA/Machinery/',
  examples: 'http://opcfoundation.org/UA/Machinery_Example/',
  jobControl: 'http://opcfoundation.org/UA/ISA95-JOBCONTROL_V2/',
  jobs: 'http://opcfoundation.org/UA/Machinery/Jobs/',
  packml: 'http://opcfoundation.org/UA/PackML/',
  isa95: 'http://www.OPCFoundation.org/UA/2013/01/ISA95',
} as const;
type Model = keyof typeof URI;

/** A step of a browse path: a browse name in a companion model, or in the base namespace. */
type Step = readonly [Model | 'base', string];

const MACHINE: readonly Step[] = [
  ['base', 'Objects'],
  ['machinery', 'Machines'],
  ['examples', 'ExampleMachine01'],
];
const MANUFACTURER: readonly Step[] = [...MACHINE, ['di', 'Identification'], ['di', 'Manufacturer']];
const ITEM_STATE: readonly Step[] = [
  ...MACHINE,
  ['machinery', 'MachineryBuildingBlocks'],
  ['examples', 'MachineryItemState'],
  ['base', 'CurrentState'],
];

/** OPC 40001-1 MachineryItemState names and the canonical states they mean. */
const MACHINERY_STATES = { Executing: 'running', NotExecuting: 'idle', OutOfService: 'down' } as const;

/** One server with every companion nodeset and the small machine model, started once for the file. */
const plc = new SimulatedPlc({ machines: ['Press7'], nodesets: IN_DEPENDENCY_ORDER });
let dataDir = '';
let client: OPCUAClient | null = null;
let certificates: OPCUACertificateManager | null = null;
let session: ClientSession | null = null;
let namespaces: string[] = [];

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'conveyor-opcua-nodesets-'));
  await plc.start();
  certificates = new OPCUACertificateManager({ rootFolder: join(dataDir, 'client-pki') });
  client = OPCUAClient.create({
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
    clientCertificateManager: certificates,
  });
  await client.connect(plc.endpointUrl);
  session = await client.createSession();
  namespaces = await session.readNamespaceArray();
});

after(async () => {
  await session?.close().catch(() => undefined);
  await client?.disconnect();
  await certificates?.dispose();
  await plc.close();
  await rm(dataDir, { recursive: true, force: true });
});

function open(): ClientSession {
  if (!session) throw new Error('no session: the server did not start');
  return session;
}

/** The node id a browse path leads to, from the root; fails naming the path when it leads nowhere. */
async function resolvePath(steps: readonly Step[]): Promise<string> {
  const path = steps
    .map(([model, name]) => {
      if (model === 'base') return `/${name}`;
      const index = namespaces.indexOf(URI[model]);
      assert.ok(index > 0, `${URI[model]} is in the NamespaceArray`);
      return `/${index}:${name}`;
    })
    .join('');
  const result = await open().translateBrowsePath(makeBrowsePath('RootFolder', path));
  const target = result.targets?.[0]?.targetId;
  assert.ok(result.statusCode.isGood() && target, `${path} leads to a node: ${result.statusCode.toString()}`);
  return target.toString();
}

async function readValue(nodeId: string): Promise<unknown> {
  const value = await open().read({ nodeId, attributeId: AttributeIds.Value });
  assert.ok(value.statusCode.isGood(), `${nodeId} reads Good: ${value.statusCode.toString()}`);
  return value.value.value;
}

describe('the official OPC UA companion nodesets in the simulated PLC', () => {
  test('every companion loads in dependency order and a client browses it', async () => {
    for (const uri of Object.values(URI)) assert.ok(namespaces.includes(uri), `${uri} in the NamespaceArray`);
    // The machine model keeps namespace 1, the companions follow it.
    assert.equal(namespaces[0], 'http://opcfoundation.org/UA/');
    assert.deepEqual(
      namespaces.slice(2),
      [URI.di, URI.machinery, URI.examples, URI.jobControl, URI.jobs, URI.packml, URI.isa95],
      'the companions follow in the order given',
    );
    assert.equal(await readValue(plc.nodeId('Press7', 'State')), 'idle');

    // A concrete machine of the Machinery examples, found as a client finds it: from Objects/Machines.
    const manufacturer = (await readValue(await resolvePath(MANUFACTURER))) as LocalizedText;
    assert.equal(manufacturer.text, 'ENGEL AUSTRIA GMBH');
    const currentState = await resolvePath(ITEM_STATE);
    const state = await open().read({ nodeId: currentState, attributeId: AttributeIds.DataType });
    assert.equal(state.value.value.toString(), 'ns=0;i=21', 'CurrentState is a LocalizedText');

    // A well-known node of each other companion.
    const types: readonly Step[] = [
      ['base', 'Types'],
      ['base', 'ObjectTypes'],
      ['base', 'BaseObjectType'],
    ];
    const known: ReadonlyArray<readonly Step[]> = [
      [
        ['base', 'Objects'],
        ['di', 'DeviceSet'],
      ],
      [...types, ['packml', 'PackMLBaseObjectType']],
      [...types, ['jobs', 'JobManagementType']],
      [...types, ['isa95', 'ISA95ClassType'], ['isa95', 'EquipmentClassType']],
      [
        ...types,
        ['base', 'StateMachineType'],
        ['base', 'FiniteStateMachineType'],
        ['jobControl', 'ISA95JobOrderReceiverObjectType'],
      ],
    ];
    for (const steps of known) {
      const nodeId = await resolvePath(steps);
      const name = await open().read({ nodeId, attributeId: AttributeIds.BrowseName });
      assert.equal(name.value.value.name, steps.at(-1)?.[1]);
    }
  });

  test('the hub maps a Machinery CurrentState and a machine-model counter to canonical events, once each', async () => {
    const currentState = await resolvePath(ITEM_STATE);
    const goodCount = plc.nodeId('Press7', 'GoodCount');
    const config = compile({
      nodes: [
        {
          nodeId: currentState,
          type: STATE_TYPE,
          equipmentId: 'EXAMPLE-MACHINE-01',
          samplingInterval: '50ms',
          states: MACHINERY_STATES,
        },
        { nodeId: goodCount, type: COUNTER_TYPE, equipmentId: 'PRESS-07', samplingInterval: '50ms' },
      ],
    });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'machinery-1');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
      // The nodeset gives CurrentState no text: no signal yet.
      await ctx.until(() => statesOf(ctx).length === 1, 'the initial state');
      assert.deepEqual(statesOf(ctx), [{ state: 'unknown' }]);
      await ctx.until(() => countsOf(ctx).length === 1, 'the initial count');

      const written = ['Executing', 'OutOfService', 'NotExecuting', 'NotAvailable'];
      for (const [i, text] of written.entries()) {
        plc.setNodeValue(currentState, { dataType: DataType.LocalizedText, value: { text } });
        await ctx.until(() => statesOf(ctx).length === i + 2, `the state after ${text}`);
      }
      const good = [plc.addGood('Press7'), plc.addGood('Press7', 2)];
      await plc.sampled('Press7', 'GoodCount');
      await ctx.until(() => countsOf(ctx).length === 2, 'the count');
      await plc.settled();

      assert.deepEqual(statesOf(ctx), [
        { state: 'unknown' },
        { state: 'running' },
        { state: 'down' },
        { state: 'idle' },
        { state: 'unknown', reportedState: 'NotAvailable' },
      ]);
      const event = ctx.delivered.find((m) => m.events?.[0]?.data.state === 'running')?.events?.[0];
      assert.equal(event?.type, STATE_TYPE);
      assert.equal(event?.subject, 'EXAMPLE-MACHINE-01');
      assert.deepEqual(
        { ...event?.data, at: undefined },
        { plant: 'P1', equipmentId: 'EXAMPLE-MACHINE-01', state: 'running', at: undefined },
      );
      assert.deepEqual(countsOf(ctx), [0, good.at(-1)], 'the latest count once');
      assert.equal(ctx.distinct().size, ctx.delivered.length, 'each change delivered once');
      assert.equal(plc.monitoredItems(currentState).length, 1);
      assert.equal(lastStatus(ctx), 'up');
    } finally {
      await source.stop();
    }
  });

  test('a counter rule on a LocalizedText node: degraded naming it, a message for the DLQ, the others go on', async () => {
    const manufacturer = await resolvePath(MANUFACTURER);
    const currentState = await resolvePath(ITEM_STATE);
    const config = compile({
      nodes: [
        {
          nodeId: manufacturer,
          type: COUNTER_TYPE,
          equipmentId: 'EXAMPLE-MACHINE-01',
          samplingInterval: '50ms',
        },
        {
          nodeId: currentState,
          type: STATE_TYPE,
          equipmentId: 'EXAMPLE-MACHINE-01',
          samplingInterval: '50ms',
          states: MACHINERY_STATES,
        },
      ],
    });
    const ctx = new RecordingContext();
    const source = new OpcuaSource(config, 'machinery-2');
    await source.start(ctx);
    try {
      await ctx.until(() => lastStatus(ctx) === 'degraded', 'status degraded');
      const status = ctx.statuses.at(-1);
      assert.ok(status?.type === 'degraded', 'degraded');
      assert.equal(
        status.reason,
        `${manufacturer}: expected a number for ${COUNTER_TYPE}, got LocalizedText`,
        'the reason names the node and why',
      );
      await ctx.until(() => ctx.delivered.some((m) => m.error !== undefined), 'the error message');
      const failures = ctx.delivered.filter((m) => m.error !== undefined);
      assert.equal(failures.length, 1);
      assert.equal(payloadOf(failures[0] as SourceMessage).nodeId, manufacturer);
      assert.deepEqual(failures[0]?.events, [], 'no event from it');
      assert.ok(ctx.acked.has(failures[0]?.id ?? ''), 'acked, for the source DLQ');

      plc.setNodeValue(currentState, { dataType: DataType.LocalizedText, value: { text: 'Executing' } });
      await ctx.until(() => statesOf(ctx).some((s) => s.state === 'running'), 'the state of the other node');
      assert.equal(lastStatus(ctx), 'degraded', 'still degraded: the node is still wrong');
    } finally {
      await source.stop();
    }
  });
});

describe('a nodeset that cannot load fails start() naming the file and why', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-opcua-bad-nodesets-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Starts a PLC with `nodesets`, which must fail with exactly `message`; the PLC is closed either way. */
  async function refused(nodesets: readonly string[], message: string): Promise<void> {
    const broken = new SimulatedPlc({ nodesets });
    try {
      await assert.rejects(broken.start(), (error: Error) => {
        assert.equal(error.message, message);
        return true;
      });
      assert.equal(broken.running, false);
    } finally {
      await broken.close();
    }
  }

  test('a required model missing', () =>
    refused(
      [BASE, MACHINERY],
      `nodeset ${MACHINERY} requires the model ${URI.di} (version 1.04.0), which none of the nodesets given provides`,
    ));

  test('a file that is not a nodeset', async () => {
    const notes = join(dir, 'notes.xml');
    await writeFile(notes, '<notes>not a nodeset</notes>');
    await refused([DI, notes], `nodeset ${notes}: not a NodeSet2 file (no <UANodeSet>)`);
  });

  test('a file cut off, which the stack would load in part without a word', async () => {
    const whole = await readFile(MACHINERY, 'utf8');
    const cut = join(dir, 'Opc.Ua.Machinery.NodeSet2.xml');
    await writeFile(cut, whole.slice(0, Math.floor(whole.length / 2)));
    await refused([DI, cut], `nodeset ${cut}: cut off (it does not end with </UANodeSet>)`);
  });

  test('a file that cannot load: the files and the reason', async () => {
    // Well-formed, but its variable has a data type no model defines.
    const bad = join(dir, 'bad.NodeSet2.xml');
    await writeFile(
      bad,
      `<?xml version="1.0" encoding="utf-8"?>
<UANodeSet xmlns="http://opcfoundation.org/UA/2011/03/UANodeSet.xsd">
  <NamespaceUris><Uri>urn:conveyor:test:bad</Uri></NamespaceUris>
  <Models><Model ModelUri="urn:conveyor:test:bad"><RequiredModel ModelUri="http://opcfoundation.org/UA/"/></Model></Models>
  <UAVariable NodeId="ns=1;i=1" BrowseName="1:Speed" DataType="NoSuchType"><DisplayName>Speed</DisplayName></UAVariable>
</UANodeSet>
`,
    );
    const broken = new SimulatedPlc({ nodesets: [bad] });
    try {
      await assert.rejects(broken.start(), (error: Error) => {
        assert.ok(error.message.startsWith(`the nodesets ${bad} did not load: `), error.message);
        assert.match(error.message, /NoSuchType/, 'with the reason');
        return true;
      });
    } finally {
      await broken.close();
    }
  });
});

function compile(raw: Record<string, unknown>): OpcuaSourceConfig {
  return compileOpcuaSource({ endpoint: plc.endpointUrl, connector: 'machinery-1', stateDir: dataDir }, raw);
}

const lastStatus = (ctx: RecordingContext) => ctx.statuses.at(-1)?.type;
const payloadOf = (m: SourceMessage) => m.payload as { nodeId: string; value: unknown };

/** The state events delivered, without plant, equipment and time. */
function statesOf(ctx: RecordingContext): Array<{ state: unknown; reportedState?: unknown }> {
  return ctx.delivered
    .flatMap((m) => m.events ?? [])
    .filter((e) => e.type === STATE_TYPE)
    .map((e) => ({
      state: e.data.state,
      ...(e.data.reportedState !== undefined ? { reportedState: e.data.reportedState } : {}),
    }));
}

function countsOf(ctx: RecordingContext): unknown[] {
  return ctx.delivered
    .flatMap((m) => m.events ?? [])
    .filter((e) => e.type === COUNTER_TYPE)
    .map((e) => e.data.value);
}
