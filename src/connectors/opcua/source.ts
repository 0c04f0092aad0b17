import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type {
  ClientMonitoredItemBase,
  ClientSession,
  ClientSubscription,
  DataValue,
  MonitoringParametersOptions,
  OPCUAClient,
  UserIdentityInfo,
} from 'node-opcua-client';
import { type Clock, systemClock } from '../../delivery/clock.js';
import { nowIso, reconnectDelay } from '../framework/common.js';
import type {
  ConnectorHealth,
  MappedEvent,
  SourceConnector,
  SourceContext,
  SourceFactory,
  SourceMessage,
} from '../framework/types.js';
import { routeStackLogs } from './logs.js';
import { nodeFailureMessage, type OpcuaSample, sampleToMessage, severity } from './mapping.js';
import { ResumeWatchdog } from './resume-watchdog.js';
import type { OpcuaNodeConfig, OpcuaSourceConfig } from './spec.js';

type Stack = typeof import('node-opcua-client');
type Pki = typeof import('node-opcua-certificate-manager');

/** Most messages handed to the hub in one batch. */
export const MAX_BATCH = 100;
/** Changes kept while the hub is behind; past this the oldest are dropped (and health says so). */
export const MAX_BUFFERED = 50_000;
/** How long the server keeps a session (and its subscription) across a connection loss. */
const SESSION_TIMEOUT_MS = 60_000;
/** How long stop() waits for a delivery in flight before releasing the session anyway. */
const STOP_GRACE_MS = 10_000;
/** Bound of each step of closing (delete subscription, close session, disconnect). */
const CLOSE_STEP_MS = 3_000;
/** Floor of the wait after the hub nacked, so a nack of 0 ms cannot become a tight loop. */
const MIN_RETRY_MS = 100;
/** Status code bits of a data change whose monitored-item queue overflowed (Overflow + InfoType DataValue). */
const OVERFLOW_BITS = 0x480;

let stackLoading: Promise<{ ua: Stack; pki: Pki }> | null = null;

/** The OPC UA stack loads on first start, so hubs and CLI commands without an opcua source skip its cost. */
function loadStack(): Promise<{ ua: Stack; pki: Pki }> {
  stackLoading ??= Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]).then(
    ([ua, pki]) => ({ ua, pki }),
  );
  return stackLoading;
}

export interface OpcuaSourceOptions {
  /** Back-off waits and the resume bound; tests may pass a ManualClock. */
  readonly clock?: Clock;
  /** Jitter of the back-off (0..1). */
  readonly random?: () => number;
  /** @default `<config.stateDir>/<name>.opcua.json` */
  readonly stateFile?: string;
}

/** One message not yet handed to the hub. */
interface Pending {
  readonly id: string;
  readonly origin: string;
  readonly payload: unknown;
  readonly raw: string;
  readonly events?: readonly MappedEvent[];
  readonly error?: string;
}

/** One attempt at a session: the client, its session and subscription, and how it ends. */
interface Connection {
  readonly client: OPCUAClient;
  readonly certificates: OPCUACertificateManager;
  session: ClientSession | null;
  subscription: ClientSubscription | null;
  /** Subscribed: from now on a repaired connection is a working one. */
  ready: boolean;
  /** Bounds the stack's repair after a connection loss; past it the connection is given up. */
  readonly watchdog: ResumeWatchdog;
  /** Resolves with the reason the connection is given up (or when it is closed). */
  readonly ended: Promise<string>;
  end(reason: string): void;
  closing: Promise<void> | null;
}

type Link =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'up' }
  | { readonly kind: 'down'; readonly reason: string; readonly retryInMs?: number };

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
}

/** `15s`, `1500ms`: a duration as a config would give it. */
function formatMs(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Subscribes to the configured variables of one OPC UA server. One session holds one
 * subscription with a monitored item per node; each data change becomes a message whose id is
 * node + source timestamp + value hash, so a change seen twice (the current values a transferred
 * or re-created subscription sends again) is one event, and one equal to the node's last change is
 * dropped at once. A node whose changes its rule cannot map degrades health, naming it, and each
 * such change goes to the source DLQ. Messages go to the hub in batches of at most MAX_BATCH,
 * each awaited before the next. Lost connections are repaired by the stack's
 * own reconnection, which reactivates the session or opens a new one and transfers or re-creates
 * the subscription with its items; anything it cannot repair starts a new session after a back-off.
 * A repair still unfinished `reconnect.resumeTimeout` after the server was first reachable again
 * (some servers hang up on every attempt to resume a session they lost in a restart) is given up
 * too: the client is dropped and a new session and subscription opened, one at a time.
 * The session asks for a timeout of SESSION_TIMEOUT_MS: a shorter outage gets the same session
 * back, with what the server sampled meanwhile; after a longer one the server has closed it.
 * A server keeps no past changes (a new subscription gets each node's current value), so what the
 * hub has not acknowledged at stop() goes to a state file and is offered first at the next start.
 */
export class OpcuaSource implements SourceConnector {
  private readonly clock: Clock;
  private readonly random: () => number;
  private controller: AbortController | null = null;
  private context: SourceContext | null = null;
  private task: Promise<void> | null = null;
  private connection: Connection | null = null;
  private releaseLogs: (() => void) | null = null;
  private readonly stateFile: string;
  private readonly queue: Pending[] = [];
  private pumping: Promise<void> | null = null;
  /** The batch the hub has now. */
  private inFlight: readonly Pending[] | null = null;
  /** Ids of the changes kept at the last stop and not yet acknowledged. */
  private readonly kept = new Set<string>();
  /** Reads and writes of the state file, one after another. */
  private fileWork: Promise<void> = Promise.resolve();
  private link: Link = { kind: 'connecting' };
  /** Nodes the server refused to monitor, with its status. */
  private readonly missing = new Map<string, string>();
  /** Nodes whose last change its rule cannot map (a counter rule on a text, ...), with why. */
  private readonly unmappable = new Map<string, string>();
  /** Id of the last change of each node, so the current values a transfer sends again are dropped. */
  private readonly lastChange = new Map<string, string>();
  /** Changes dropped because the hub was behind, since the buffer last ran empty. */
  private dropped = 0;
  private last: ConnectorHealth | null = null;

  constructor(
    private readonly config: OpcuaSourceConfig,
    readonly name: string,
    options: OpcuaSourceOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.stateFile = options.stateFile ?? join(config.stateDir, `${name}.opcua.json`);
  }

  async start(context: SourceContext): Promise<void> {
    if (this.task) throw new Error(`opcua source ${this.name} is already running`);
    const controller = new AbortController();
    this.controller = controller;
    this.context = context;
    const onHubStop = () => controller.abort();
    if (context.signal.aborted) controller.abort();
    else context.signal.addEventListener('abort', onHubStop, { once: true });
    this.queue.length = 0;
    this.kept.clear();
    this.missing.clear();
    this.unmappable.clear();
    this.lastChange.clear();
    this.dropped = 0;
    this.last = null;
    this.link = { kind: 'connecting' };
    this.report({ type: 'connecting', at: this.at() });
    this.task = this.run(context, controller.signal).finally(() =>
      context.signal.removeEventListener('abort', onHubStop),
    );
  }

  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    controller.abort();
    // A delivery in flight may finish (its acks count); a hub that never finishes it cannot hold
    // the session open forever.
    const pumping = this.pumping;
    const settled = pumping
      ? (await withTimeout(
          pumping.then(() => true),
          STOP_GRACE_MS,
        )) === true
      : true;
    const connection = this.connection;
    if (connection) await this.close(connection);
    await this.task;
    // The server keeps no past changes: what the hub has not acknowledged is kept for the next start.
    const unacknowledged = [...(settled ? [] : (this.inFlight ?? [])), ...this.queue];
    await this.keep(unacknowledged);
    this.task = null;
    this.controller = null;
    this.context = null;
    this.queue.length = 0;
    this.inFlight = null;
    this.releaseLogs?.();
    this.releaseLogs = null;
  }

  private at(): string {
    return nowIso(() => this.clock.now());
  }

  /** Reports a status once: repeated `down`s go out (their retryInMs changes), other repeats do not. */
  private report(status: ConnectorHealth): void {
    const context = this.context;
    if (!context) return;
    const last = this.last;
    const same =
      last !== null &&
      last.type === status.type &&
      status.type !== 'down' &&
      ('reason' in last ? last.reason : '') === ('reason' in status ? status.reason : '');
    this.last = status;
    if (!same) context.health(status);
  }

  private setLink(link: Link): void {
    if (this.controller?.signal.aborted) return;
    this.link = link;
    this.reportHealth();
  }

  /** Health from the connection, the nodes the server refused and the changes dropped. */
  private reportHealth(): void {
    if (this.controller?.signal.aborted) return;
    const link = this.link;
    if (link.kind === 'connecting') return;
    if (link.kind === 'down') {
      this.report({
        type: 'down',
        at: this.at(),
        reason: link.reason,
        ...(link.retryInMs !== undefined ? { retryInMs: link.retryInMs } : {}),
      });
      return;
    }
    const problems = [...this.missing].map(([nodeId, status]) => `cannot monitor ${nodeId}: ${status}`);
    problems.push(...this.unmappable.values());
    if (this.dropped > 0)
      problems.push(
        `the hub is behind: ${this.dropped} data changes were dropped (more than ${MAX_BUFFERED} waiting)`,
      );
    if (problems.length === 0) this.report({ type: 'up', at: this.at() });
    else this.report({ type: 'degraded', at: this.at(), reason: problems.join('; ') });
  }

  /** Connects, and after anything the stack could not repair, connects again after a back-off. */
  private async run(context: SourceContext, signal: AbortSignal): Promise<void> {
    for (const message of await this.loadKept(context)) this.enqueue(message);
    let stack: { ua: Stack; pki: Pki };
    try {
      stack = await loadStack();
    } catch (error) {
      this.setLink({ kind: 'down', reason: `cannot load the OPC UA stack: ${firstLine(error)}` });
      return;
    }
    this.releaseLogs = routeStackLogs(stack.ua, context.logger);
    let failures = 0;
    while (!signal.aborted) {
      let reason: string;
      try {
        reason = await this.session(stack, signal, () => {
          failures = 0;
        });
      } catch (error) {
        reason = this.describe(error);
      }
      if (signal.aborted) break;
      failures++;
      const wait = reconnectDelay(this.config.reconnect, failures, this.random);
      context.logger.warn({ connector: this.name, reason }, 'opcua session ended; starting a new one');
      this.setLink({ kind: 'down', reason, retryInMs: wait });
      await this.clock.sleep(wait, signal);
    }
  }

  /** What a failed connect or session means, with a hint where the fix is clear. */
  private describe(error: unknown): string {
    const text = firstLine(error);
    const where = this.config.endpoint;
    if (/BadUserAccessDenied|BadIdentityTokenInvalid|BadIdentityTokenRejected/.test(text))
      return `${where}: the server refused the user (${text}); check auth`;
    if (/ANONYMOUS user token/i.test(text))
      return `${where}: the server does not allow anonymous sessions; set auth`;
    if (/Certificate verification failed|BadCertificate/i.test(text))
      return `${where}: the server certificate is not trusted (${text}); put it in ${this.config.pkiDir}/trusted/certs or set pki.acceptUnknownServerCertificate`;
    if (/cannot find endpoint|no endpoint/i.test(text))
      return `${where}: the server offers no endpoint with ${this.config.securityMode}/${this.config.securityPolicy} (${text})`;
    return `${where}: ${text}`;
  }

  /**
   * One session from connect to its end: resolves with the reason it was given up, or once closed
   * by stop(). The stack repairs connection losses within it; `connected` marks a working session.
   */
  private async session(stack: { ua: Stack; pki: Pki }, signal: AbortSignal, connected: () => void) {
    const { ua, pki } = stack;
    const config = this.config;
    const certificates = new pki.OPCUACertificateManager({
      name: 'PKI',
      rootFolder: config.pkiDir,
      automaticallyAcceptUnknownCertificate: config.acceptUnknownServerCertificate,
    });
    const client = ua.OPCUAClient.create({
      applicationName: 'Conveyor',
      clientName: `conveyor:${this.name}`,
      endpointMustExist: false,
      securityMode: ua.MessageSecurityMode[config.securityMode],
      securityPolicy: ua.SecurityPolicy[config.securityPolicy],
      connectionStrategy: {
        initialDelay: config.reconnect.initialDelayMs,
        maxDelay: config.reconnect.maxDelayMs,
        maxRetry: -1,
      },
      keepSessionAlive: true,
      keepAliveInterval: config.keepAliveMs,
      requestedSessionTimeout: SESSION_TIMEOUT_MS,
      clientCertificateManager: certificates,
    });
    let end: (reason: string) => void = () => undefined;
    const ended = new Promise<string>((resolve) => {
      end = resolve;
    });
    const where = config.endpoint;
    const resumeBound = formatMs(config.reconnect.resumeTimeoutMs);
    const watchdog = new ResumeWatchdog(this.clock, config.reconnect.resumeTimeoutMs, () => {
      if (connection.closing) return;
      this.context?.logger.warn(
        { connector: this.name, endpoint: where, resumeTimeoutMs: config.reconnect.resumeTimeoutMs },
        'the opcua server did not resume the session in time; dropping the client for a new session',
      );
      end(`${where}: the server did not resume the session within ${resumeBound}; opening a new session`);
    });
    const connection: Connection = {
      client,
      certificates,
      session: null,
      subscription: null,
      ready: false,
      watchdog,
      ended,
      end,
      closing: null,
    };
    this.connection = connection;
    client.on('backoff', (count: number, delay: number) =>
      this.setLink({
        kind: 'down',
        reason: `${where}: not reachable (attempt ${count + 1})`,
        retryInMs: delay,
      }),
    );
    client.on('connection_lost', () =>
      this.setLink({ kind: 'down', reason: `${where}: connection lost; reconnecting` }),
    );
    // A new channel is open; the session and its subscription are not back yet.
    client.on('after_reconnection', () => {
      if (connection.closing) return;
      watchdog.channelReopened();
      this.setLink({ kind: 'down', reason: `${where}: reachable again; resuming the session` });
    });
    // Emitted once the stack has reactivated the session (or opened a new one) and transferred or
    // re-created the subscription.
    client.on('connection_reestablished', () => {
      watchdog.stop();
      if (connection.ready) this.setLink({ kind: 'up' });
    });
    client.on('close', (error?: Error | null) => {
      if (!connection.closing) end(`${where}: connection closed${error ? ` (${firstLine(error)})` : ''}`);
    });
    const onStop = () => void this.close(connection);
    signal.addEventListener('abort', onStop, { once: true });
    try {
      await client.connect(where);
      if (signal.aborted) return 'stopped';
      const identity: UserIdentityInfo = config.auth
        ? { type: ua.UserTokenType.UserName, userName: config.auth.username, password: config.auth.password }
        : { type: ua.UserTokenType.Anonymous };
      const session = await client.createSession(identity);
      connection.session = session;
      if (signal.aborted) return 'stopped';
      session.on('keepalive_failure', () =>
        this.context?.logger.debug({ connector: this.name }, 'opcua keep-alive failed; the stack reconnects'),
      );
      const browseNames = await this.readBrowseNames(ua, session);
      if (signal.aborted) return 'stopped';
      const keepAliveCount = Math.max(1, Math.ceil(config.keepAliveMs / config.publishingIntervalMs));
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: config.publishingIntervalMs,
        requestedMaxKeepAliveCount: keepAliveCount,
        requestedLifetimeCount: Math.max(
          3 * keepAliveCount,
          Math.ceil(SESSION_TIMEOUT_MS / config.publishingIntervalMs),
        ),
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 0,
      });
      connection.subscription = subscription;
      subscription.on('terminated', () => {
        if (!connection.closing) end(`${where}: the server ended the subscription`);
      });
      if (signal.aborted) return 'stopped';
      await this.monitor(ua, subscription, browseNames);
      if (signal.aborted) return 'stopped';
      connection.ready = true;
      connected();
      this.setLink({ kind: 'up' });
      return await ended;
    } finally {
      signal.removeEventListener('abort', onStop);
      await this.close(connection);
      if (this.connection === connection) this.connection = null;
    }
  }

  /** Browse names of the nodes: the default counter name, and part of what a `map` sees. */
  private async readBrowseNames(ua: Stack, session: ClientSession): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    try {
      const values = await session.read(
        this.config.nodes.map((n) => ({ nodeId: n.nodeId, attributeId: ua.AttributeIds.BrowseName })),
      );
      for (const [i, value] of values.entries()) {
        const name = (value.value?.value as { name?: unknown } | null)?.name;
        const node = this.config.nodes[i];
        if (node && typeof name === 'string' && value.statusCode.isGood()) names.set(node.nodeId, name);
      }
    } catch (error) {
      this.context?.logger.warn({ connector: this.name, err: error }, 'cannot read opcua browse names');
    }
    return names;
  }

  /**
   * One monitored item per node, created in one request per set of monitoring parameters. A node
   * the server refuses is reported (health, and a message for the source DLQ); the others go on.
   */
  private async monitor(
    ua: Stack,
    subscription: ClientSubscription,
    browseNames: ReadonlyMap<string, string>,
  ): Promise<void> {
    const groups = new Map<string, { parameters: MonitoringParametersOptions; nodes: OpcuaNodeConfig[] }>();
    for (const node of this.config.nodes) {
      const key = JSON.stringify([
        node.samplingIntervalMs,
        node.deadband,
        node.queueSize,
        node.discardOldest,
      ]);
      let group = groups.get(key);
      if (!group) {
        const filter =
          node.deadband === null
            ? null
            : new ua.DataChangeFilter({
                trigger: ua.DataChangeTrigger.StatusValue,
                deadbandType: ua.DeadbandType.Absolute,
                deadbandValue: node.deadband,
              });
        group = {
          parameters: {
            samplingInterval: node.samplingIntervalMs,
            queueSize: node.queueSize,
            discardOldest: node.discardOldest,
            filter,
          },
          nodes: [],
        };
        groups.set(key, group);
      }
      group.nodes.push(node);
    }
    for (const { parameters, nodes } of groups.values()) {
      const group = ua.ClientMonitoredItemGroup.create(
        subscription,
        nodes.map((n) => ({ nodeId: n.nodeId, attributeId: ua.AttributeIds.Value })),
        parameters,
        ua.TimestampsToReturn.Both,
      );
      // Listening before the items exist: the first data changes may follow their creation at once.
      group.on('changed', (_item: ClientMonitoredItemBase, value: DataValue, index: number) => {
        const node = nodes[index];
        if (node) this.onChange(ua, node, value, browseNames.get(node.nodeId) ?? null);
      });
      await new Promise<void>((resolve, reject) => {
        group.once('initialized', () => resolve());
        group.once('err', (message: string) => reject(new Error(message)));
      });
      for (const [i, item] of group.monitoredItems.entries()) {
        const node = nodes[i];
        if (!node || item.statusCode.isGood()) continue;
        const status = item.statusCode.toString();
        if (!this.missing.has(node.nodeId)) {
          const failure = nodeFailureMessage(node, status, this.config.plant);
          this.enqueue({ ...failure, origin: `${this.config.endpoint} ${node.nodeId}` });
        }
        this.missing.set(node.nodeId, status);
        this.context?.logger.warn(
          { connector: this.name, nodeId: node.nodeId, status },
          'cannot monitor node',
        );
      }
    }
  }

  private onChange(ua: Stack, node: OpcuaNodeConfig, value: DataValue, browseName: string | null): void {
    if (this.controller?.signal.aborted) return;
    try {
      const code = value.statusCode.value;
      const sample: OpcuaSample = {
        dataType: ua.DataType[value.value.dataType] ?? 'Null',
        arrayType: (ua.VariantArrayType[value.value.arrayType] ?? 'Scalar') as OpcuaSample['arrayType'],
        value: value.value.value,
        status: { code, name: value.statusCode.name },
        sourceTimestamp: value.sourceTimestamp ?? null,
        sourcePicoseconds: value.sourcePicoseconds ?? 0,
        serverTimestamp: value.serverTimestamp ?? null,
      };
      if ((code & OVERFLOW_BITS) === OVERFLOW_BITS && severity(code) !== 'bad')
        this.context?.logger.warn(
          { connector: this.name, nodeId: node.nodeId },
          'the server dropped changes of this node between publishes; raise its queueSize',
        );
      const outcome = sampleToMessage(sample, {
        node,
        browseName,
        plant: this.config.plant,
        receivedAt: this.clock.now(),
      });
      if (outcome.kind === 'skip') {
        this.context?.logger.debug({ connector: this.name, nodeId: node.nodeId }, outcome.reason);
        return;
      }
      // The stack transfers a subscription after a reconnect asking for the current values again:
      // the same change (same id) as the node's last one is not news.
      if (this.lastChange.get(node.nodeId) === outcome.id) {
        this.context?.logger.debug({ connector: this.name, nodeId: node.nodeId }, 'the same change again');
        return;
      }
      this.lastChange.set(node.nodeId, outcome.id);
      this.noteMapping(node.nodeId, outcome.error);
      const { kind: _kind, ...message } = outcome;
      this.enqueue({ ...message, origin: `${this.config.endpoint} ${node.nodeId}` });
    } catch (error) {
      this.context?.logger.error(
        { connector: this.name, nodeId: node.nodeId, err: error },
        'cannot read a change',
      );
    }
  }

  /** A node whose changes its rule cannot map degrades health until one of its changes maps again. */
  private noteMapping(nodeId: string, error: string | undefined): void {
    if (error === undefined) {
      if (this.unmappable.delete(nodeId)) this.reportHealth();
    } else if (this.unmappable.get(nodeId) !== error) {
      this.unmappable.set(nodeId, error);
      this.reportHealth();
    }
  }

  private enqueue(message: Pending): void {
    if (this.queue.length >= MAX_BUFFERED) {
      this.queue.shift();
      if (this.dropped++ === 0) this.reportHealth();
    }
    this.queue.push(message);
    this.kick();
  }

  /** Starts handing over, one turn later, so the changes of one publish go in one batch. */
  private kick(): void {
    const controller = this.controller;
    const context = this.context;
    if (this.pumping || !controller || !context || controller.signal.aborted) return;
    this.pumping = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.pump(context, controller.signal))
      .catch((error) => context.logger.error({ connector: this.name, err: error }, 'opcua hand-over failed'))
      .finally(() => {
        this.pumping = null;
        if (this.queue.length > 0) this.kick();
      });
  }

  private async pump(context: SourceContext, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight = batch;
      const again = await this.deliver(context, batch, signal);
      this.inFlight = null;
      if (again) {
        // Offered again first, so the hub still sees each node's changes in order.
        this.queue.unshift(...again.messages);
        await this.clock.sleep(again.waitMs, signal);
      }
      if (this.queue.length === 0 && this.dropped > 0) {
        this.dropped = 0;
        this.reportHealth();
      }
    }
  }

  /** Hands one batch to the hub; answers what it did not take and how long to wait before offering it again. */
  private async deliver(
    context: SourceContext,
    batch: readonly Pending[],
    signal: AbortSignal,
  ): Promise<{ messages: Pending[]; waitMs: number } | null> {
    const outcomes: Array<'acked' | number | undefined> = batch.map(() => undefined);
    const messages: SourceMessage[] = batch.map((pending, i) => ({
      ...pending,
      // Nothing to acknowledge at the server: a data change is gone once published.
      ack: () => {
        outcomes[i] = 'acked';
        // Once all kept changes are acknowledged the file goes; stop() writes it anew.
        if (this.kept.delete(pending.id) && this.kept.size === 0 && !signal.aborted) void this.keep([]);
      },
      nack: (retryInMs: number) => {
        if (outcomes[i] !== 'acked') outcomes[i] = retryInMs;
      },
    }));
    try {
      await context.deliver(messages);
    } catch (error) {
      context.logger.error({ connector: this.name, err: error }, 'the hub failed to take a batch');
    }
    const again = batch.filter((_, i) => outcomes[i] !== 'acked');
    if (again.length === 0) return null;
    const waits = outcomes.filter((o): o is number => typeof o === 'number');
    return { messages: again, waitMs: Math.max(MIN_RETRY_MS, ...waits) };
  }

  /**
   * Writes the changes the hub has not acknowledged to the state file (removes it when there are
   * none), so the next start offers them again: the server cannot.
   */
  private keep(messages: readonly Pending[]): Promise<void> {
    const file = this.stateFile;
    const logger = this.context?.logger;
    this.fileWork = this.fileWork
      .then(async () => {
        if (messages.length === 0) {
          await rm(file, { force: true });
          return;
        }
        await mkdir(dirname(file), { recursive: true });
        const temporary = `${file}.tmp`;
        await writeFile(temporary, JSON.stringify({ endpoint: this.config.endpoint, messages }));
        await rename(temporary, file);
      })
      .catch((error) =>
        logger?.error(
          { connector: this.name, err: error, file },
          'cannot keep the unacknowledged opcua changes',
        ),
      );
    return this.fileWork;
  }

  /** The changes kept at the last stop, of this endpoint and of nodes still configured. */
  private async loadKept(context: SourceContext): Promise<Pending[]> {
    await this.fileWork;
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        context.logger.warn({ connector: this.name, err: error }, 'cannot read the kept opcua changes');
      return [];
    }
    let saved: { endpoint?: unknown; messages?: unknown };
    try {
      saved = JSON.parse(text) as typeof saved;
    } catch (error) {
      context.logger.warn(
        { connector: this.name, err: error },
        'the kept opcua changes are not JSON; dropped',
      );
      return [];
    }
    const nodes = new Set(this.config.nodes.map((n) => n.nodeId));
    const messages =
      saved.endpoint === this.config.endpoint && Array.isArray(saved.messages)
        ? (saved.messages as Pending[]).filter(
            (m) =>
              typeof m?.id === 'string' &&
              typeof m.raw === 'string' &&
              nodes.has(String((m.payload as { nodeId?: unknown } | null)?.nodeId)),
          )
        : [];
    for (const m of messages) this.kept.add(m.id);
    if (messages.length > 0)
      context.logger.info(
        { connector: this.name, count: messages.length },
        'offering the opcua changes not acknowledged before the last stop',
      );
    else await this.keep([]);
    return messages;
  }

  /** Deletes the subscription, closes the session and disconnects; each step bounded, all at most once. */
  private close(connection: Connection): Promise<void> {
    connection.closing ??= (async () => {
      connection.watchdog.stop();
      connection.end('closed');
      const { client, session, subscription } = connection;
      const live = session !== null && !client.isReconnecting;
      if (live && subscription)
        await withTimeout(
          subscription.terminate().catch(() => undefined),
          CLOSE_STEP_MS,
        );
      if (live && session)
        await withTimeout(
          session.close(true).catch(() => undefined),
          CLOSE_STEP_MS,
        );
      await withTimeout(
        client.disconnect().catch(() => undefined),
        CLOSE_STEP_MS,
      );
      // A disconnect drops the client's hold on the certificate store (not when it never connected);
      // the store itself (its folder watchers) goes once no hold is left.
      const certificates = connection.certificates;
      for (let i = 0; i < 3 && certificates.referenceCounter > 0; i++)
        await certificates.dispose().catch(() => undefined);
      await withTimeout(
        certificates.dispose().catch(() => undefined),
        CLOSE_STEP_MS,
      );
    })();
    return connection.closing;
  }
}

/** The factory the connector registry calls: `registerSource('opcua', opcuaSourceSpec, createOpcuaSource)`. */
export const createOpcuaSource: SourceFactory<OpcuaSourceConfig> = (config, name) =>
  new OpcuaSource(config, name);
