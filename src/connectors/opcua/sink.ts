import jsonata from 'jsonata';
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type {
  ClientSession,
  OPCUAClient,
  StatusCode,
  UserIdentityInfo,
  VariantOptions,
} from 'node-opcua-client';
import type { Clock } from '../../delivery/clock.js';
import type { AttemptOutcome } from '../../delivery/outcome.js';
import type { DeliverySink } from '../../delivery/sink.js';
import type { StoredEvent } from '../../model/envelope.js';
import type { OpcuaOutConfig, OpcuaOutDataType } from './sink-spec.js';

export { opcuaOutSinkSpec } from './sink-spec.js';

type Stack = typeof import('node-opcua-client');
type Pki = typeof import('node-opcua-certificate-manager');

/** Bound of each step of closing (close session, disconnect). */
const CLOSE_STEP_MS = 3_000;
const SESSION_TIMEOUT_MS = 60_000;

/**
 * Statuses that say the server or the link failed, not the event: retried. Every other Bad status
 * (BadTypeMismatch, BadNodeIdUnknown, BadNotWritable, BadUserAccessDenied, bad method arguments...)
 * would fail again the same way, so the event goes to the DLQ.
 */
const TRANSIENT = new Set([
  'BadSessionClosed',
  'BadSessionIdInvalid',
  'BadSessionNotActivated',
  'BadSecureChannelClosed',
  'BadSecureChannelIdInvalid',
  'BadConnectionClosed',
  'BadCommunicationError',
  'BadNoCommunication',
  'BadServerNotConnected',
  'BadServerHalted',
  'BadShutdown',
  'BadTimeout',
  'BadRequestTimeout',
  'BadTooManyOperations',
  'BadTooManySessions',
  'BadResourceUnavailable',
  'BadOutOfMemory',
  'BadInternalError',
  'BadWaitingForInitialData',
  'BadDeviceFailure',
  'BadSensorFailure',
]);
/** Of the transient statuses, those after which the session cannot be trusted: a new one is opened. */
const SESSION_LOST = /BadSession|BadSecureChannel|BadConnectionClosed|BadServerNotConnected|BadShutdown/;

let stackLoading: Promise<{ ua: Stack; pki: Pki }> | null = null;

/** Loaded on the first delivery, so hubs without an opcua-out route skip its cost. */
function loadStack(): Promise<{ ua: Stack; pki: Pki }> {
  stackLoading ??= Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]).then(
    ([ua, pki]) => ({ ua, pki }),
  );
  return stackLoading;
}

/** One client and its session, from connect until dropped. */
interface Link {
  readonly client: OPCUAClient;
  readonly certificates: OPCUACertificateManager;
  session: ClientSession | null;
  readonly ready: Promise<ClientSession>;
  closing: Promise<void> | null;
}

/** A value the event did not give in the configured type: no retry can fix it. */
class ValueError extends Error {}

/** What one delivery's work came to, before timing. */
type Result =
  | { readonly ok: true }
  | { readonly ok: false; readonly statuses: string[]; readonly error: string };

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const statusText = (status: StatusCode) => `${status.name} (0x${status.value.toString(16).padStart(8, '0')})`;

/** Converts an expression's result to the configured type, or says why it cannot. */
export function toOpcuaValue(value: unknown, dataType: OpcuaOutDataType): boolean | number | string {
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  switch (dataType) {
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      break;
    case 'String':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      break;
    default: {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (dataType === 'Double' && Number.isFinite(n)) return n;
      if (dataType === 'Int32' && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) return n;
      if (dataType === 'UInt32' && Number.isInteger(n) && n >= 0 && n < 2 ** 32) return n;
    }
  }
  throw new ValueError(`${shown} is not a ${dataType}`);
}

/**
 * A delivery sink that writes OPC UA variables and/or calls a method per event. One session is
 * kept and shared by concurrent deliveries; it is opened on the first delivery and again after it
 * failed, so a server that is down costs retries, not a reconnect loop of its own.
 */
export class OpcuaOutSink implements DeliverySink {
  readonly endpoint: string;
  private readonly writes: ReadonlyArray<{
    nodeId: string;
    dataType: OpcuaOutDataType;
    expr: jsonata.Expression;
  }>;
  private readonly inputs: ReadonlyArray<{ dataType: OpcuaOutDataType; expr: jsonata.Expression }>;
  private link: Link | null = null;
  private readonly closings = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly config: OpcuaOutConfig,
    private readonly name: string,
  ) {
    this.endpoint = config.endpoint;
    this.writes = config.writes.map((w) => ({
      nodeId: w.nodeId,
      dataType: w.dataType,
      expr: jsonata(w.value),
    }));
    this.inputs = (config.method?.inputs ?? []).map((i) => ({
      dataType: i.dataType,
      expr: jsonata(i.value),
    }));
  }

  async send(
    event: StoredEvent,
    _transform: jsonata.Expression | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const ms = () => performance.now() - started;
    let values: { writes: Array<boolean | number | string>; inputs: Array<boolean | number | string> };
    try {
      values = {
        writes: await this.evaluate(this.writes, event, 'writes'),
        inputs: await this.evaluate(this.inputs, event, 'method.inputs'),
      };
    } catch (error) {
      return { kind: 'rejected', status: 0, error: firstLine(error), ms: ms() };
    }
    if (this.closed) return { kind: 'retry', error: 'the sink is closed', ms: ms(), retryAfterMs: null };
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<'timeout' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      onAbort = () => resolve('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    let current: Link | null = null;
    const work = (async (): Promise<Result> => {
      const stack = await loadStack();
      current = this.linkFor(stack);
      return this.apply(stack.ua, current, values);
    })();
    try {
      const result = await Promise.race([work, stopped]);
      if (result === 'timeout' || result === 'aborted') {
        // The session's state is unknown after a request that did not answer: the next one starts afresh.
        work.catch(() => undefined);
        if (current) void this.drop(current);
        return {
          kind: 'retry',
          error: result === 'timeout' ? `${this.endpoint}: timeout after ${timeoutMs} ms` : 'aborted',
          ms: ms(),
          retryAfterMs: null,
        };
      }
      if (result.ok) return { kind: 'delivered', status: 200, ms: ms() };
      const transient = result.statuses.some((s) => TRANSIENT.has(s));
      if (transient) {
        if (current && result.statuses.some((s) => SESSION_LOST.test(s))) void this.drop(current);
        return { kind: 'retry', error: result.error, ms: ms(), retryAfterMs: null };
      }
      return { kind: 'rejected', status: 0, error: result.error, ms: ms() };
    } catch (error) {
      // Connection refused or lost, a service fault: the link is suspect, reopened on the next try.
      if (current) void this.drop(current);
      return { kind: 'retry', error: `${this.endpoint}: ${firstLine(error)}`, ms: ms(), retryAfterMs: null };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private async evaluate(
    items: ReadonlyArray<{ dataType: OpcuaOutDataType; expr: jsonata.Expression }>,
    event: StoredEvent,
    at: string,
  ): Promise<Array<boolean | number | string>> {
    const values: Array<boolean | number | string> = [];
    for (const [i, item] of items.entries()) {
      let value: unknown;
      try {
        value = await item.expr.evaluate(event);
      } catch (error) {
        throw new ValueError(`${at}[${i}].value failed: ${firstLine(error)}`);
      }
      try {
        values.push(toOpcuaValue(value, item.dataType));
      } catch (error) {
        throw new ValueError(`${at}[${i}].value: ${(error as Error).message}`);
      }
    }
    return values;
  }

  private async apply(
    ua: Stack,
    link: Link,
    values: { writes: Array<boolean | number | string>; inputs: Array<boolean | number | string> },
  ): Promise<Result> {
    const session = await link.ready;
    const variant = (dataType: OpcuaOutDataType, value: boolean | number | string): VariantOptions => ({
      dataType: ua.DataType[dataType],
      value,
    });
    if (this.writes.length > 0) {
      const results = await session.write(
        this.writes.map((w, i) => ({
          nodeId: w.nodeId,
          attributeId: ua.AttributeIds.Value,
          value: { value: variant(w.dataType, values.writes[i] as boolean | number | string) },
        })),
      );
      const bad = results.flatMap((status, i) =>
        status.isGood() ? [] : [{ status, where: `write ${this.writes[i]?.nodeId}` }],
      );
      if (bad.length > 0)
        return {
          ok: false,
          statuses: bad.map((b) => b.status.name),
          error: bad.map((b) => `${b.where}: ${statusText(b.status)}`).join('; '),
        };
    }
    const method = this.config.method;
    if (method) {
      const result = await session.call({
        objectId: method.objectId,
        methodId: method.methodId,
        inputArguments: this.inputs.map((input, i) =>
          variant(input.dataType, values.inputs[i] as boolean | number | string),
        ),
      });
      if (!result.statusCode.isGood()) {
        const args = (result.inputArgumentResults ?? []).flatMap((status, i) =>
          status.isGood() ? [] : [`inputs[${i}] ${status.name}`],
        );
        return {
          ok: false,
          statuses: [result.statusCode.name],
          error: `call ${method.methodId}: ${statusText(result.statusCode)}${args.length > 0 ? ` (${args.join(', ')})` : ''}`,
        };
      }
    }
    return { ok: true };
  }

  /** The current link, or a new one: connect and session start now, shared by concurrent deliveries. */
  private linkFor({ ua, pki }: { ua: Stack; pki: Pki }): Link {
    if (this.link) return this.link;
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
      // The route's retry policy does the waiting; a refused connect fails the attempt at once.
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 100 },
      keepSessionAlive: true,
      requestedSessionTimeout: SESSION_TIMEOUT_MS,
      clientCertificateManager: certificates,
    });
    const identity: UserIdentityInfo = config.auth
      ? { type: ua.UserTokenType.UserName, userName: config.auth.username, password: config.auth.password }
      : { type: ua.UserTokenType.Anonymous };
    const opening: Omit<Link, 'ready'> = { client, certificates, session: null, closing: null };
    const link: Link = Object.assign(opening, { ready: this.open(opening, identity) });
    this.link = link;
    link.ready.catch(() => this.drop(link));
    // The stack would reconnect by itself; the next delivery opens a fresh link instead.
    client.on('connection_lost', () => void this.drop(link));
    client.on('close', () => void this.drop(link));
    return link;
  }

  private async open(link: Omit<Link, 'ready'>, identity: UserIdentityInfo): Promise<ClientSession> {
    await link.client.connect(this.config.endpoint);
    const session = await link.client.createSession(identity);
    link.session = session;
    if (link.closing) {
      // Dropped while opening: the session is not left to time out in the server.
      await session.close(true).catch(() => undefined);
      throw new Error('closed');
    }
    return session;
  }

  /** Forgets the link and closes it in the background; each step bounded, all at most once. */
  private drop(link: Link): Promise<void> {
    if (this.link === link) this.link = null;
    if (!link.closing) {
      link.closing = (async () => {
        const { client, certificates } = link;
        if (link.session)
          await withTimeout(
            link.session.close(true).catch(() => undefined),
            CLOSE_STEP_MS,
          );
        await withTimeout(
          client.disconnect().catch(() => undefined),
          CLOSE_STEP_MS,
        );
        for (let i = 0; i < 3 && certificates.referenceCounter > 0; i++)
          await certificates.dispose().catch(() => undefined);
        await withTimeout(
          certificates.dispose().catch(() => undefined),
          CLOSE_STEP_MS,
        );
      })();
      const closing = link.closing;
      this.closings.add(closing);
      void closing.finally(() => this.closings.delete(closing));
    }
    return link.closing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.link) void this.drop(this.link);
    await Promise.all([...this.closings]);
  }
}

export const createOpcuaOutSink = (config: OpcuaOutConfig, name: string, _clock: Clock): OpcuaOutSink =>
  new OpcuaOutSink(config, name);
