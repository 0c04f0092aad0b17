import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HubClient, HubClientClosedError, problemCode } from './hub-client.js';
import { FINISHED_GOODS, LOT_PERIOD_MS, lotFor, lotNumberAt, runPrefix } from './master-data.js';
import { Ticker } from './ticker.js';

/** How the simulated WMS behaves, so the hub's timeouts, circuit breaker and 503s show in the demo. */
export interface WmsOptions {
  /** Delay before each answer. @default 20 */
  readonly latencyMs?: number;
  /** Materials never in stock: their reservations are refused with 409 `insufficient-stock`. */
  readonly insufficientStock?: readonly string[];
  /**
   * Every `periodMs` the WMS is down for the last `downMs`: it answers 503 with Retry-After
   * (`unavailable`, the default) or holds requests unanswered (`stall`), beyond the hub's timeout.
   */
  readonly outage?: {
    readonly periodMs: number;
    readonly downMs: number;
    readonly mode?: 'unavailable' | 'stall';
  };
  /** How long a stalled request is held before it gets its 503. @default 60_000 */
  readonly stallMs?: number;
  /** The clock (epoch ms); tests drive the outage window with it. */
  readonly now?: () => number;
}

interface Quantity {
  value: number;
  uom: string;
}

interface Confirmation {
  shipmentId: string;
  plant: string;
  lines: unknown[];
  shippedAt?: string;
  confirmedAt: string;
}

/**
 * Simulated WMS, the system of record the hub asks for inventory reservations and shipment
 * confirmations: `POST /reservations` (201 with a new reservationId, or 409 `insufficient-stock`)
 * and `POST /shipments/{id}/confirm` (201 with confirmedAt; 200 with the first confirmation when a
 * shipment is confirmed again, as the hub may retry). Emits `answered` ({path, status}) after each
 * answer and `stalled` when it holds a request.
 */
export class SimulatedWms extends EventEmitter {
  requests = 0;
  reservations = 0;
  insufficientStock = 0;
  confirmations = 0;
  repeatedConfirmations = 0;
  /** Requests answered 503 in an outage. */
  unavailable = 0;
  /** Requests held unanswered in an outage. */
  stalled = 0;
  badRequests = 0;
  /** The base URL, for the hub's connector (`baseUrl`). */
  url = '';
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly confirmed = new Map<string, Confirmation>();
  private readonly now: () => number;
  private readonly started: number;
  private reservationNumber = 0;
  private readonly prefix: string;

  constructor(private readonly options: WmsOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.prefix = runPrefix(this.started);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.onRequest(req, res, Buffer.concat(chunks).toString('utf8')));
    });
  }

  /** Inside a scheduled outage window at `at`. */
  isDown(at = this.now()): boolean {
    const outage = this.options.outage;
    if (!outage) return false;
    return (at - this.started) % outage.periodMs >= outage.periodMs - outage.downMs;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Same as {@link listen}: the WMS has no periodic work of its own. */
  start(): Promise<string> {
    return this.listen();
  }

  /** Same as {@link close}. */
  stop(): Promise<void> {
    return this.close();
  }

  statusLine(): string {
    return (
      `WMS requests ${this.requests} · reservations ${this.reservations} (no stock ${this.insufficientStock}) · ` +
      `confirmations ${this.confirmations} · 503 ${this.unavailable} · stalled ${this.stalled}`
    );
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, text: string): void {
    this.requests++;
    const path = (req.url ?? '').split('?')[0] ?? '';
    const at = this.now();
    if (this.isDown(at)) {
      if (this.options.outage?.mode === 'stall') {
        this.stalled++;
        this.emit('stalled', { path });
        // Held past the hub's timeout; answered eventually so a patient client is not left hanging.
        this.later(this.options.stallMs ?? 60_000, () => this.unavailableAnswer(res, path, 1));
        return;
      }
      this.unavailableAnswer(res, path, this.secondsUntilUp(at));
      return;
    }
    let answer: { status: number; body: unknown };
    if (req.method !== 'POST') answer = { status: 405, body: { error: 'method-not-allowed' } };
    else {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const shipment = /^\/shipments\/([^/]+)\/confirm$/.exec(path);
      if (path === '/reservations') answer = this.reserve(body, at);
      else if (shipment) answer = this.confirm(decodeURIComponent(shipment[1]!), body, at);
      else answer = { status: 404, body: { error: 'not-found' } };
    }
    if (answer.status === 400) this.badRequests++;
    this.later(this.options.latencyMs ?? 20, () => this.send(res, path, answer.status, answer.body));
  }

  private reserve(body: unknown, at: number): { status: number; body: unknown } {
    const request = body as { plant?: unknown; material?: unknown; quantity?: unknown; orderId?: unknown };
    if (
      !isObject(body) ||
      !isText(request.plant) ||
      !isText(request.material) ||
      !isQuantity(request.quantity)
    ) {
      return invalid('a reservation needs plant, material and quantity {value, uom}');
    }
    if (this.options.insufficientStock?.includes(request.material)) {
      this.insufficientStock++;
      return {
        status: 409,
        body: { error: 'insufficient-stock', material: request.material, plant: request.plant },
      };
    }
    this.reservations++;
    return {
      status: 201,
      body: {
        reservationId: `RSV-${this.prefix}-${String(++this.reservationNumber).padStart(6, '0')}`,
        plant: request.plant,
        material: request.material,
        quantity: request.quantity,
        ...(isText(request.orderId) ? { orderId: request.orderId } : {}),
        storageLocation: `${request.plant}-WH-01`,
        reservedAt: new Date(at).toISOString(),
      },
    };
  }

  private confirm(shipmentId: string, body: unknown, at: number): { status: number; body: unknown } {
    const request = body as { plant?: unknown; lines?: unknown; shippedAt?: unknown };
    if (
      !isObject(body) ||
      !isText(request.plant) ||
      !Array.isArray(request.lines) ||
      request.lines.length === 0
    ) {
      return invalid('a shipment confirmation needs plant and lines[]');
    }
    const earlier = this.confirmed.get(shipmentId);
    if (earlier) {
      this.repeatedConfirmations++;
      return { status: 200, body: earlier };
    }
    const confirmation: Confirmation = {
      shipmentId,
      plant: request.plant,
      lines: request.lines,
      ...(isText(request.shippedAt) ? { shippedAt: request.shippedAt } : {}),
      confirmedAt: new Date(at).toISOString(),
    };
    this.confirmed.set(shipmentId, confirmation);
    this.confirmations++;
    return { status: 201, body: confirmation };
  }

  private secondsUntilUp(at: number): number {
    const outage = this.options.outage;
    if (!outage) return 1;
    const into = (at - this.started) % outage.periodMs;
    return Math.max(1, Math.ceil((outage.periodMs - into) / 1000));
  }

  private unavailableAnswer(res: ServerResponse, path: string, retryAfterSeconds: number): void {
    if (gone(res)) return;
    this.unavailable++;
    this.send(
      res,
      path,
      503,
      { error: 'warehouse system unavailable' },
      { 'retry-after': String(retryAfterSeconds) },
    );
  }

  private send(
    res: ServerResponse,
    path: string,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (gone(res) || res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    this.emit('answered', { path, status });
  }

  private later(ms: number, run: () => void): void {
    if (ms <= 0) {
      run();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The client hung up (the hub timed out) or the answer was sent. */
function gone(res: ServerResponse): boolean {
  return res.writableEnded || res.destroyed || res.socket === null || res.socket.destroyed;
}

function invalid(detail: string): { status: number; body: unknown } {
  return { status: 400, body: { error: 'invalid-request', detail } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isQuantity(value: unknown): value is Quantity {
  return (
    isObject(value) &&
    typeof value['value'] === 'number' &&
    Number.isFinite(value['value']) &&
    value['value'] >= 0 &&
    isText(value['uom'])
  );
}

// ---------------------------------------------------------------------------------------------

export interface WarehouseOptions {
  readonly plants: readonly string[];
  /** Materials shipped. @default FINISHED_GOODS */
  readonly materials?: readonly string[];
  /** One shipment confirmation every `intervalMs`. @default 3_000 */
  readonly intervalMs?: number;
  /** Lot period shared with the QMS (see master-data). @default LOT_PERIOD_MS */
  readonly lotPeriodMs?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** A released order as the hub delivers it (CloudEvents structured JSON). */
interface ReleasedOrderEvent {
  id: string;
  data: {
    orderId: string;
    plant: string;
    bom?: Array<{ material: string; quantity: Quantity }>;
  };
}

/**
 * The warehouse floor acting through the hub: it confirms shipments now and then (lines with the
 * lots of the current and previous lot periods, which the QMS sometimes holds, so some are refused
 * with 409) and reserves the BOM components of every released order the hub delivers to it
 * (`listen()` gives the receiver URL for a route of `production.order.released`). Owns its hub
 * client: close() closes it.
 */
export class SimulatedWarehouse {
  shipmentsConfirmed = 0;
  blockedByHold = 0;
  shipmentsFailed = 0;
  ordersReceived = 0;
  duplicateOrders = 0;
  reservationsMade = 0;
  /** Refused: no stock (the WMS's 409, which the hub passes on as 422). */
  reservationsRefused = 0;
  reservationsFailed = 0;
  /** The receiver URL, for the hub's connector (`url`). */
  url = '';
  private readonly ticker: Ticker;
  private readonly server: Server;
  private readonly seen = new Set<string>();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly prefix: string;
  private shipmentNumber = 0;

  constructor(
    private readonly hub: HubClient,
    private readonly options: WarehouseOptions,
  ) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.prefix = runPrefix(this.now());
    this.ticker = new Ticker(options.intervalMs ?? 3_000, () => this.confirmShipment());
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let event: ReleasedOrderEvent;
        try {
          event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReleasedOrderEvent;
          if (!event.id || !event.data?.orderId) throw new Error('not a released order');
        } catch {
          res.writeHead(400).end();
          return;
        }
        res.writeHead(204).end();
        this.ordersReceived++;
        // At-least-once delivery: a redelivered event must not reserve twice.
        if (this.seen.has(event.id)) {
          this.duplicateOrders++;
          return;
        }
        this.seen.add(event.id);
        void this.ticker.track(this.reserveFor(event.data));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
    return this.url;
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  /** Resolves once the work started by ticks and deliveries has finished. */
  idle(): Promise<void> {
    return this.ticker.drain();
  }

  statusLine(): string {
    return (
      `shipments confirmed ${this.shipmentsConfirmed} · blocked by hold ${this.blockedByHold} · ` +
      `reservations ${this.reservationsMade} (refused ${this.reservationsRefused})`
    );
  }

  /** Confirms one shipment through the hub. */
  async confirmShipment(): Promise<void> {
    const n = ++this.shipmentNumber;
    const { plants } = this.options;
    const plant = plants[n % plants.length] as string;
    const shipmentId = `SHP-${this.prefix}-${String(n).padStart(6, '0')}`;
    const now = this.now();
    const period = lotNumberAt(now, this.options.lotPeriodMs ?? LOT_PERIOD_MS);
    const materials = [...(this.options.materials ?? FINISHED_GOODS)];
    const lineCount = Math.min(materials.length, 1 + Math.floor(this.random() * 2));
    const lines = [];
    for (let i = 0; i < lineCount; i++) {
      const [material] = materials.splice(Math.floor(this.random() * materials.length), 1) as [string];
      // Mostly the lot just made, sometimes the one before: the QMS holds lots the same way.
      const lot = lotFor(plant, material, this.random() < 0.7 ? period : period - 1);
      lines.push({
        material,
        quantity: { value: 10 * (1 + Math.floor(this.random() * 10)), uom: 'EA' },
        lots: [lot],
      });
    }
    try {
      const response = await this.hub.command(
        'POST',
        `/v1/shipments/${encodeURIComponent(shipmentId)}/confirmation`,
        { plant, lines, shippedAt: new Date(now).toISOString() },
        { idempotencyKey: `ship-${shipmentId}` },
      );
      if (response.status === 200 || response.status === 201) this.shipmentsConfirmed++;
      else if (response.status === 409 && problemCode(response.body) === 'shipment-blocked-by-quality-hold') {
        this.blockedByHold++;
      } else this.shipmentsFailed++;
    } catch (error) {
      if (!(error instanceof HubClientClosedError)) this.shipmentsFailed++;
    }
  }

  /** Reserves every BOM component of a released order. */
  async reserveFor(order: ReleasedOrderEvent['data']): Promise<void> {
    for (const component of order.bom ?? []) {
      try {
        const response = await this.hub.command(
          'POST',
          '/v1/inventory/reservations',
          {
            plant: order.plant,
            material: component.material,
            quantity: component.quantity,
            orderId: order.orderId,
          },
          { idempotencyKey: `reserve-${order.orderId}-${component.material}` },
        );
        if (response.status === 201 || response.status === 200) this.reservationsMade++;
        // 409 from a WMS answering directly, 422 refused-by-system-of-record through the hub.
        else if (response.status === 409 || response.status === 422) this.reservationsRefused++;
        else this.reservationsFailed++;
      } catch (error) {
        if (error instanceof HubClientClosedError) return;
        this.reservationsFailed++;
      }
    }
  }

  async close(): Promise<void> {
    this.stop();
    await this.hub.close();
    await this.ticker.drain();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
