/**
 * A simulated PLC: a real OPC UA server on the loopback interface exposing a small machine model
 * under namespace 1, for the demo and for tests of the opcua connector. Each machine (a press by
 * default, `Press7`) has `<machine>.State` (String: running|idle|down|setup), `<machine>.GoodCount`
 * and `<machine>.ScrapCount` (UInt32) and `<machine>.DowntimeReason` (String), e.g.
 * `ns=1;s=Press7.GoodCount`. Values survive a restart, as a PLC's retained memory does.
 * Official companion nodesets (DI, Machinery, PackML, ...) can be loaded alongside it, so a
 * client sees the address space a real machine of that kind offers.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import {
  DataType,
  type DataValue,
  MessageSecurityMode,
  SecurityPolicy,
  type StatusCode,
  StatusCodes,
  setErrorLogger,
  setWarningLogger,
} from 'node-opcua-client';
import { nodesets as bundledNodesets } from 'node-opcua-nodesets';
import { OPCUAServer } from 'node-opcua-server';
import { routeStackLogs } from '../connectors/opcua/logs.js';
import type { Logger } from '../observability/logger.js';
import {
  BASE_MODEL_URI,
  checkLoaded,
  checkRequiredModels,
  type NodesetFile,
  readNodeset,
} from './plc-nodesets.js';

export type PlcState = 'running' | 'idle' | 'down' | 'setup';
export type PlcTag = 'State' | 'GoodCount' | 'ScrapCount' | 'DowntimeReason';

export const PLC_TAGS: readonly PlcTag[] = ['State', 'GoodCount', 'ScrapCount', 'DowntimeReason'];

const TAG_TYPES: Record<PlcTag, { dataType: DataType; initial: string | number }> = {
  State: { dataType: DataType.String, initial: 'idle' },
  GoodCount: { dataType: DataType.UInt32, initial: 0 },
  ScrapCount: { dataType: DataType.UInt32, initial: 0 },
  DowntimeReason: { dataType: DataType.String, initial: '' },
};

/** The states a cycling machine goes through, one step every `stateEvery` cycles. */
const STATE_CYCLE: readonly PlcState[] = ['running', 'idle', 'running', 'down', 'setup'];
const DOWNTIME_REASONS = ['Die change', 'Material shortage', 'Hydraulic fault'];

export interface SimulatedPlcOptions {
  /** 0 picks a free port on the first start; restarts keep it. @default 0 */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default ['Press7'] */
  readonly machines?: readonly string[];
  /**
   * Every variable starts without a value (status BadWaitingForInitialData) until first written,
   * as a gateway reports right after it booted. @default false: State idle, counters 0
   */
  readonly uninitialized?: boolean;
  /** When given, sessions need one of these; anonymous sessions are refused. */
  readonly users?: ReadonlyArray<{ readonly username: string; readonly password: string }>;
  /** Folder of the server certificate and the client certificates it saw. @default <tmp>/conveyor-sim-plc-pki */
  readonly pkiDir?: string;
  /** Where the OPC UA stack's own log lines go. @default nowhere */
  readonly logger?: Logger;
  /**
   * NodeSet2 files loaded into the server besides the machine model, e.g. the OPC Foundation's DI,
   * Machinery and Machinery examples. Every model a file requires must be given too; the base
   * namespace (ns=0) is the one given here when a file defines it, else the stack's own. Their
   * namespaces follow the machine model's (ns=1). A file that does not load whole fails start()
   * naming it. @default none
   */
  readonly nodesets?: readonly string[];
}

/** What the model needs of a server variable. */
interface Variable {
  setValueFromSource(value: { dataType: DataType; value?: unknown }, status: StatusCode, at: Date): void;
}

interface Stored {
  readonly value: string | number | null;
  readonly sourceTimestamp: Date;
}

const silent = () => undefined;

/**
 * A real OPC UA server (node-opcua) with a machine model. Offers None, and Sign and
 * SignAndEncrypt with Basic256Sha256; trusts any client certificate.
 */
export class SimulatedPlc {
  readonly machines: readonly string[];
  private readonly host: string;
  private readonly uninitialized: boolean;
  private readonly pkiDir: string;
  private port: number;
  private server: OPCUAServer | null = null;
  private starting: Promise<void> | null = null;
  private readonly variables = new Map<string, Variable>();
  private readonly stored = new Map<string, Stored>();
  private cycle: NodeJS.Timeout | null = null;
  private cycles = 0;
  private releaseLogs: (() => void) | null = null;
  private dropping: Promise<void> | null = null;
  private nodesetFiles: Promise<readonly NodesetFile[]> | null = null;

  constructor(private readonly options: SimulatedPlcOptions = {}) {
    this.machines = options.machines ?? ['Press7'];
    for (const m of this.machines)
      if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(m))
        throw new Error(`machine name "${m}" must be a plain identifier`);
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.uninitialized = options.uninitialized ?? false;
    this.pkiDir = options.pkiDir ?? join(tmpdir(), 'conveyor-sim-plc-pki');
    if (!this.uninitialized) {
      const at = new Date();
      for (const m of this.machines)
        for (const tag of PLC_TAGS)
          this.stored.set(nodeIdOf(m, tag), { value: TAG_TYPES[tag].initial, sourceTimestamp: at });
    }
  }

  /** The node id of a machine's tag, e.g. `ns=1;s=Press7.State`. */
  nodeId(machine: string, tag: PlcTag): string {
    this.check(machine);
    return nodeIdOf(machine, tag);
  }

  /** `opc.tcp://127.0.0.1:<port>`; the port is known once the first start resolved. */
  get endpointUrl(): string {
    return `opc.tcp://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.starting ??= this.boot().finally(() => {
      this.starting = null;
    });
    await this.starting;
  }

  private async boot(): Promise<void> {
    if (this.options.logger && !this.releaseLogs)
      this.releaseLogs = routeStackLogs({ setWarningLogger, setErrorLogger }, this.options.logger);
    else if (!this.releaseLogs)
      this.releaseLogs = routeStackLogs({ setWarningLogger, setErrorLogger }, quiet);
    const users = this.options.users;
    const companions = await this.readNodesets();
    const ownBase = companions.some((f) => f.models.includes(BASE_MODEL_URI));
    const server = new OPCUAServer({
      ...(companions.length > 0
        ? {
            nodesets: [...(ownBase ? [] : [bundledNodesets.standard]), ...companions.map((f) => f.path)],
          }
        : {}),
      port: this.port,
      hostname: this.host,
      serverCertificateManager: new OPCUACertificateManager({
        name: 'PKI',
        rootFolder: join(this.pkiDir, 'server'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      userCertificateManager: new OPCUACertificateManager({
        name: 'UserPKI',
        rootFolder: join(this.pkiDir, 'users'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
      allowAnonymous: users === undefined,
      ...(users
        ? {
            userManager: {
              isValidUser: (username: string, password: string) =>
                users.some((u) => u.username === username && u.password === password),
            },
          }
        : {}),
      // 0 lets a client that asks for every change (samplingInterval 0) get every change.
      serverCapabilities: { minSupportedSampleRate: 0 },
      buildInfo: { productName: 'Conveyor simulated PLC', manufacturerName: 'Conveyor' },
    });
    try {
      await server.initialize().catch((error: unknown) => {
        if (companions.length === 0) throw error;
        const files = companions.map((f) => f.path).join(', ');
        throw new Error(`the nodesets ${files} did not load: ${(error as Error).message}`);
      });
      if (companions.length > 0) {
        const addressSpace = server.engine.addressSpace;
        if (!addressSpace) throw new Error('the OPC UA server has no address space');
        checkLoaded(companions, addressSpace);
      }
      this.buildModel(server);
      await server.start();
    } catch (error) {
      await server.shutdown(0).catch(() => undefined);
      throw error;
    }
    const port = server.endpoints[0]?.port;
    if (typeof port === 'number' && port > 0) this.port = port;
    this.server = server;
  }

  /** The nodeset files, read and checked once: a missing required model fails before any loading. */
  private readNodesets(): Promise<readonly NodesetFile[]> {
    this.nodesetFiles ??= (async () => {
      const files = await Promise.all((this.options.nodesets ?? []).map((path) => readNodeset(path)));
      const ownBase = files.some((f) => f.models.includes(BASE_MODEL_URI));
      checkRequiredModels(files, ownBase ? [] : [BASE_MODEL_URI]);
      return files;
    })();
    // A failed read is tried again at the next start.
    this.nodesetFiles.catch(() => {
      this.nodesetFiles = null;
    });
    return this.nodesetFiles;
  }

  private buildModel(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('the OPC UA server has no address space');
    const namespace = addressSpace.getOwnNamespace();
    this.variables.clear();
    for (const machine of this.machines) {
      const folder = namespace.addObject({
        organizedBy: addressSpace.rootFolder.objects,
        nodeId: `s=${machine}`,
        browseName: machine,
      });
      for (const tag of PLC_TAGS) {
        const nodeId = nodeIdOf(machine, tag);
        const variable = namespace.addVariable({
          componentOf: folder,
          nodeId: `s=${machine}.${tag}`,
          browseName: tag,
          dataType: DataType[TAG_TYPES[tag].dataType],
          // 0: exception-based where a client asks for it; sampled at the asked interval otherwise.
          minimumSamplingInterval: 0,
        });
        const stored = this.stored.get(nodeId);
        if (stored && stored.value !== null)
          variable.setValueFromSource(
            { dataType: TAG_TYPES[tag].dataType, value: stored.value },
            StatusCodes.Good,
            stored.sourceTimestamp,
          );
        else
          variable.setValueFromSource(
            { dataType: DataType.Null },
            StatusCodes.BadWaitingForInitialData,
            new Date(),
          );
        this.variables.set(nodeId, variable);
      }
    }
  }

  /** Shuts the server down; clients see the connection drop. Values are kept for the next start. */
  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const server = this.server;
    this.server = null;
    if (server) await server.shutdown(0);
  }

  /** Stops and starts again on the same port: sessions and subscriptions are gone, values are not. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the cycle timer, shuts the server down and releases the log routing. */
  async close(): Promise<void> {
    this.stopCycle();
    await this.dropping?.catch(() => undefined);
    await this.stop();
    this.releaseLogs?.();
    this.releaseLogs = null;
  }

  /**
   * A network outage of `ms`: connections are cut and new ones refused, while sessions live on in
   * the server. Resolves once the server accepts connections again.
   */
  dropNetwork(ms: number): Promise<void> {
    const server = this.server;
    if (!server) return Promise.reject(new Error('the simulated PLC is not running'));
    if (this.dropping) return Promise.reject(new Error('the network is already down'));
    const endpoints = server.endpoints;
    const run = async () => {
      // Stop listening first; the listener is released once the cut connections have ended.
      const suspended = Promise.all(
        endpoints.map((e) => new Promise<void>((resolve) => e.suspendConnection(() => resolve()))),
      );
      for (const endpoint of endpoints) endpoint.abruptlyInterruptChannels();
      await suspended;
      await new Promise<void>((resolve) => setTimeout(resolve, ms));
      if (this.server !== server) return;
      await Promise.all(
        endpoints.map(
          (e) =>
            new Promise<void>((resolve, reject) =>
              e.restoreConnection((err) => (err ? reject(err) : resolve())),
            ),
        ),
      );
    };
    this.dropping = run().finally(() => {
      this.dropping = null;
    });
    return this.dropping;
  }

  /** Writes a tag with a source timestamp of now (or `at`). */
  set(machine: string, tag: PlcTag, value: string | number, at: Date = new Date()): void {
    const nodeId = this.nodeId(machine, tag);
    const { dataType } = TAG_TYPES[tag];
    if (dataType === DataType.String ? typeof value !== 'string' : !isUInt32(value))
      throw new TypeError(`${nodeId} takes ${DataType[dataType]}, not ${JSON.stringify(value)}`);
    this.stored.set(nodeId, { value, sourceTimestamp: at });
    const variable = this.variables.get(nodeId);
    if (this.server && variable) variable.setValueFromSource({ dataType, value }, StatusCodes.Good, at);
  }

  /**
   * Sets a variable of a loaded nodeset as the machine would (source timestamp now, or `at`), e.g.
   * a Machinery `CurrentState` to `{ dataType: DataType.LocalizedText, value: { text: 'Executing' } }`.
   * Unlike the machine model's tags it is not kept: a restart brings the nodeset's value back.
   */
  setNodeValue(nodeId: string, value: { dataType: DataType; value: unknown }, at: Date = new Date()): void {
    if (!this.server) throw new Error('the simulated PLC is not running');
    const node = this.server.engine.addressSpace?.findNode(nodeId) as Partial<Variable> | null | undefined;
    if (!node) throw new Error(`the PLC has no node ${nodeId}`);
    if (typeof node.setValueFromSource !== 'function') throw new Error(`${nodeId} is not a variable`);
    node.setValueFromSource(value, StatusCodes.Good, at);
  }

  get(machine: string, tag: PlcTag): string | number | null {
    return this.stored.get(this.nodeId(machine, tag))?.value ?? null;
  }

  setState(machine: string, state: PlcState, reason = ''): void {
    this.set(machine, 'State', state);
    this.set(machine, 'DowntimeReason', state === 'down' ? reason || 'Unknown' : '');
  }

  /** Adds to GoodCount (UInt32 wraps, as a PLC counter does); answers the new count. */
  addGood(machine: string, count = 1): number {
    const next = ((Number(this.get(machine, 'GoodCount') ?? 0) + count) % 2 ** 32) >>> 0;
    this.set(machine, 'GoodCount', next);
    return next;
  }

  addScrap(machine: string, count = 1): number {
    const next = ((Number(this.get(machine, 'ScrapCount') ?? 0) + count) % 2 ** 32) >>> 0;
    this.set(machine, 'ScrapCount', next);
    return next;
  }

  /**
   * Runs the machines: every `intervalMs` each running machine makes a good part (every
   * `scrapEvery`-th a scrap part instead), and every `stateEvery` cycles each machine moves to its
   * next state (running, idle, running, down, setup, ...). Deterministic; the timer is unref'd.
   */
  startCycle(options: { intervalMs?: number; stateEvery?: number; scrapEvery?: number } = {}): void {
    if (this.cycle) return;
    const intervalMs = Math.max(10, options.intervalMs ?? 1_000);
    const stateEvery = Math.max(1, options.stateEvery ?? 30);
    const scrapEvery = Math.max(2, options.scrapEvery ?? 20);
    this.cycle = setInterval(() => {
      this.cycles++;
      for (const [i, machine] of this.machines.entries()) {
        if (this.get(machine, 'State') === 'running') {
          if (this.cycles % scrapEvery === 0) this.addScrap(machine);
          else this.addGood(machine);
        }
        if (this.cycles % stateEvery === 0) {
          const step = (this.cycles / stateEvery + i) % STATE_CYCLE.length;
          const state = STATE_CYCLE[step] ?? 'running';
          this.setState(
            machine,
            state,
            DOWNTIME_REASONS[(this.cycles / stateEvery) % DOWNTIME_REASONS.length],
          );
        }
      }
    }, intervalMs);
    this.cycle.unref();
  }

  stopCycle(): void {
    if (this.cycle) clearInterval(this.cycle);
    this.cycle = null;
  }

  /** Sessions open in the server. */
  get sessionCount(): number {
    return this.server?.engine.currentSessionCount ?? 0;
  }

  /** Sessions this server run has opened so far (a reactivated session is not a new one). */
  get sessionsOpened(): number {
    return this.server?.engine.cumulatedSessionCount ?? 0;
  }

  /** Subscriptions in the server, those of closed sessions kept for a transfer included. */
  get subscriptionCount(): number {
    return this.server?.engine.currentSubscriptionCount ?? 0;
  }

  /** The monitored items of all sessions on `nodeId` (all of them when absent), with what each last sampled. */
  monitoredItems(nodeId?: string): Array<{ nodeId: string; sampled: DataValue | null }> {
    const items: Array<{ nodeId: string; sampled: DataValue | null }> = [];
    for (const session of this.server?.engine.getSessions() ?? []) {
      for (const subscription of session.publishEngine.subscriptions) {
        for (const handle of subscription.getMonitoredItems().serverHandles) {
          const item = subscription.getMonitoredItem(handle);
          const id = item?.node?.nodeId.toString();
          if (!item || id === undefined || (nodeId !== undefined && id !== nodeId)) continue;
          items.push({ nodeId: id, sampled: item.oldDataValue ?? null });
        }
      }
    }
    return items;
  }

  /**
   * Resolves once every monitored item on the tag has sampled its current value (at once when
   * none watches it), so a test can write the next value without folding it into this one.
   */
  async sampled(machine: string, tag: PlcTag, timeoutMs = 5_000): Promise<void> {
    const nodeId = this.nodeId(machine, tag);
    const want = this.get(machine, tag);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = this.monitoredItems(nodeId).filter((item) => item.sampled?.value?.value !== want);
      if (pending.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(
          `${nodeId}: ${pending.length} monitored item(s) did not sample ${want} within ${timeoutMs} ms`,
        );
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Resolves once every change sampled so far has been published and the client acknowledged the
   * newest message (at once when no subscription exists): it has had every chance to see them.
   */
  async settled(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = (this.server?.engine.getSessions() ?? []).flatMap((session) =>
        session.publishEngine.subscriptions
          .map((s) => ({
            id: s.subscriptionId,
            uncollected: s.hasUncollectedMonitoredItemNotifications,
            pending: s.hasPendingNotifications,
            // The newest message sent: an older one whose acknowledgement a connection loss swallowed
            // may stay in the retransmission queue although the client has it.
            unacknowledged: s.getAvailableSequenceNumbers().includes(s.futureSequenceNumber - 1),
          }))
          .filter((s) => s.uncollected || s.pending || s.unacknowledged),
      );
      if (busy.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(
          `the PLC's subscriptions did not settle within ${timeoutMs} ms: ${JSON.stringify(busy)}`,
        );
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  }

  private check(machine: string): void {
    if (!this.machines.includes(machine))
      throw new Error(`no machine ${machine}; have ${this.machines.join(', ')}`);
  }
}

function nodeIdOf(machine: string, tag: PlcTag): string {
  return `ns=1;s=${machine}.${tag}`;
}

function isUInt32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}

/** A logger that drops everything: the stack's console output is noise in a simulator. */
const quiet = {
  debug: silent,
  warn: silent,
} as unknown as Logger;
