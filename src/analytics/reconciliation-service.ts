import jsonata from 'jsonata';
import type { Config } from '../config/index.js';
import { compileHttpConnector } from '../connectors/http/http-connector.js';
import type { DeliveryEngine } from '../delivery/engine.js';
import { type EventLog, typeMatcher } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';
import type { DeadLetterRecord, StateStore } from '../store/port.js';
import { DEFAULT_SCAN_LIMIT, eventTime, ScanLimitExceeded, scanLog } from './log-scan.js';
import { PostingsQuery } from './postings-query.js';
import { dayOf, parseDay } from './query-range.js';
import {
  applySystemAnswer,
  type DeliveryView,
  type DifferenceKind,
  matchesDifference,
  type ReconciledRoute,
  type ReconciliationItem,
  reconcileOrder,
} from './reconciliation.js';

/** How long before its day an event may have been appended (producer clocks run ahead). */
const EARLY_ARRIVAL_MS = 3_600_000;
/** How long after its day an event may reach the hub and still be reconciled with it (edge buffers). */
export const LATE_ARRIVAL_MS = 86_400_000;
/** A pending event older than this is a `retrying` difference even while its route is healthy. */
export const STALE_PENDING_MS = 300_000;
/** Most system-of-record calls one request makes. */
export const MAX_SYSTEM_CALLS = 50;
const SYSTEM_CONCURRENCY = 8;

export interface ReconciliationQuery {
  readonly days: readonly string[];
  /** `undefined`: every plant. */
  readonly plants?: readonly string[] | undefined;
  readonly order?: string | undefined;
  readonly route?: string | undefined;
  readonly difference?: 'any' | 'none' | DifferenceKind | undefined;
  /** The `next` of the previous page. */
  readonly after?: string | undefined;
  readonly limit: number;
  readonly scanLimit?: number;
}

/** An item with what the systems of record are compared against. */
export interface Reconciled {
  readonly item: ReconciliationItem;
  /** Per route, the ids of the events the hub delivered. */
  readonly deliveredIds: ReadonlyMap<string, string[]>;
  /** Every event id the plant reported for the order that day. */
  readonly reported: ReadonlySet<string>;
}

/** Opaque page cursor: the key of the last item of the page. */
export function encodeCursor(item: { day: string; plant: string; order: string }): string {
  return Buffer.from(JSON.stringify([item.day, item.plant, item.order])).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string, string] | null {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === 3 && key.every((k) => typeof k === 'string'))
      return key as [string, string, string];
  } catch {
    // not a cursor of ours
  }
  return null;
}

const compareKeys = (a: readonly string[], b: readonly string[]) =>
  (a[0] as string).localeCompare(b[0] as string) ||
  (a[1] as string).localeCompare(b[1] as string) ||
  (a[2] as string).localeCompare(b[2] as string);

/** The order an event belongs to: `data.orderId`, else its subject. */
function orderOf(event: StoredEvent): string | null {
  const orderId = (event.data as { orderId?: unknown } | null | undefined)?.orderId;
  if (typeof orderId === 'string' && orderId !== '') return orderId;
  return event.subject ?? null;
}

/**
 * Reconciles production events against the routes that carry them, their dead letters and,
 * where configured, the systems of record themselves. Used by the API and the periodic job.
 */
export class ReconciliationService {
  readonly routes: readonly ReconciledRoute[];
  private readonly systems: ReadonlyArray<{ route: string; query: PostingsQuery }>;

  constructor(
    private readonly deps: {
      readonly config: Config;
      readonly log: EventLog;
      readonly store: StateStore;
      readonly delivery: DeliveryEngine;
      readonly now?: () => number;
    },
  ) {
    this.routes = deps.config.routes.map((route) => ({
      name: route.name,
      sink: route.sink,
      matches: typeMatcher(route.types),
      filter: route.filter ? jsonata(route.filter) : null,
    }));
    this.systems = deps.config.reconciliation.systems.map((system) => {
      const raw = deps.config.connectors[system.connector] as Record<string, unknown>;
      // The config compiler has checked the connector; problems here would already have stopped start.
      const settings = compileHttpConnector(system.connector, raw, []);
      return { route: system.route, query: new PostingsQuery(settings, system.path) };
    });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Every order×day of the days, reconciled on the hub's side (no system-of-record calls). */
  async reconcile(
    days: readonly string[],
    options: { plants?: readonly string[] | undefined; order?: string | undefined; scanLimit?: number } = {},
  ): Promise<ReconciliationItem[]> {
    return (await this.reconcileWithIds(days, options)).map((r) => r.item);
  }

  /** As `reconcile`, with the delivered and reported ids the systems of record are compared against. */
  async reconcileWithIds(
    days: readonly string[],
    options: { plants?: readonly string[] | undefined; order?: string | undefined; scanLimit?: number } = {},
  ): Promise<Reconciled[]> {
    const ranges = days.map((d) => parseDay(d)).filter((r) => r !== null);
    if (ranges.length === 0) return [];
    const from = Math.min(...ranges.map((r) => r.from));
    const to = Math.max(...ranges.map((r) => r.to));
    const wanted = new Set(days);
    const groups = new Map<
      string,
      { key: { day: string; plant: string; order: string }; events: StoredEvent[] }
    >();
    const limit = options.scanLimit ?? DEFAULT_SCAN_LIMIT;
    const scanned = await scanLog(
      this.deps.log,
      {
        types: ['production.*'],
        plants: options.plants,
        appendedFrom: from - EARLY_ARRIVAL_MS,
        appendedTo: to + LATE_ARRIVAL_MS,
        limit,
      },
      (event) => {
        const time = eventTime(event);
        if (time === null || time < from || time >= to) return;
        const day = dayOf(time);
        if (!wanted.has(day)) return;
        const order = orderOf(event);
        if (order === null || (options.order !== undefined && order !== options.order)) return;
        const plant = String(event.plant ?? (event.data as { plant?: unknown } | null)?.plant ?? '');
        const id = JSON.stringify([day, plant, order]);
        let group = groups.get(id);
        if (!group) {
          group = { key: { day, plant, order }, events: [] };
          groups.set(id, group);
        }
        group.events.push(event);
      },
    );
    const view = await this.deliveryView(from, groups, options.plants, limit - scanned, limit);
    const reconciled: Reconciled[] = [];
    const sorted = [...groups.values()].sort((a, b) =>
      compareKeys([a.key.day, a.key.plant, a.key.order], [b.key.day, b.key.plant, b.key.order]),
    );
    for (const group of sorted) {
      const { deliveredIds, ...item } = await reconcileOrder(group.key, group.events, this.routes, view);
      reconciled.push({ item, deliveredIds, reported: new Set(group.events.map((e) => e.id)) });
    }
    return reconciled;
  }

  /** One page of reconciliation for the API: filtered, paged, and checked with the systems of record. */
  async query(query: ReconciliationQuery): Promise<{ items: ReconciliationItem[]; next: string | null }> {
    const all = await this.reconcileWithIds(query.days, {
      plants: query.plants,
      order: query.order,
      ...(query.scanLimit !== undefined ? { scanLimit: query.scanLimit } : {}),
    });
    const after = query.after ? decodeCursor(query.after) : null;
    const selected = all
      .map(({ item, ...rest }) => ({
        ...rest,
        item:
          query.route === undefined
            ? item
            : {
                ...item,
                systems: item.systems.filter((s) => s.route === query.route),
                differences: item.differences.filter((d) => d.route === query.route),
              },
      }))
      .filter(({ item }) => query.route === undefined || item.systems.length > 0)
      .filter(({ item }) => after === null || compareKeys([item.day, item.plant, item.order], after) > 0)
      .filter(({ item }) => matchesDifference(item, query.difference));
    const page = selected.slice(0, query.limit);
    const last = page[page.length - 1];
    const next = selected.length > query.limit && last ? encodeCursor(last.item) : null;
    await this.askSystems(page);
    // A system of record may have turned up a difference the filter excludes (or asks for).
    return {
      items: page.map((r) => r.item).filter((item) => matchesDifference(item, query.difference)),
      next,
    };
  }

  /** Asks the configured systems of record about the orders, at most MAX_SYSTEM_CALLS calls. */
  async askSystems(reconciled: readonly Reconciled[]): Promise<void> {
    const calls: Array<Reconciled & { route: string; query: PostingsQuery }> = [];
    for (const r of reconciled)
      for (const system of this.systems)
        if (r.item.systems.some((s) => s.route === system.route)) calls.push({ ...r, ...system });
    for (const call of calls.splice(MAX_SYSTEM_CALLS)) {
      applySystemAnswer(call.item, call.route, [], call.reported, {
        error: `not asked: at most ${MAX_SYSTEM_CALLS} system-of-record calls per request; narrow with order= or a smaller limit`,
      });
    }
    let nextCall = 0;
    const worker = async () => {
      for (;;) {
        const call = calls[nextCall++];
        if (!call) return;
        const answer = await call.query.ask(call.item.order, call.item.day);
        applySystemAnswer(
          call.item,
          call.route,
          call.deliveredIds.get(call.route) ?? [],
          call.reported,
          answer,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(SYSTEM_CONCURRENCY, calls.length) }, worker));
  }

  /**
   * Route positions (the durable consumers, which every hub instance shares, or further where this
   * instance delivers the route), failing routes, and the dead letters of the events.
   */
  private async deliveryView(
    since: number,
    groups: ReadonlyMap<string, { events: StoredEvent[] }>,
    plants: readonly string[] | undefined,
    budget: number,
    limit: number,
  ): Promise<DeliveryView> {
    const positions = new Map<string, number>();
    for (const consumer of await this.deps.log.consumers()) {
      if (consumer.name.startsWith('route:'))
        positions.set(consumer.name.slice('route:'.length), consumer.position);
    }
    const failing = new Set<string>();
    for (const status of this.deps.delivery.subscriptions()) {
      if (status.state !== 'standby')
        positions.set(status.name, Math.max(positions.get(status.name) ?? 0, status.position));
      if (status.circuit !== 'closed' || status.retryingKeys > 0) failing.add(status.name);
    }
    const ids = new Set<string>();
    for (const group of groups.values()) for (const event of group.events) ids.add(event.id);
    const deadLetters = new Map<string, DeadLetterRecord[]>();
    // One pass over the dead letters since the range began, rather than a lookup per event id.
    let after = 0;
    let read = 0;
    for (;;) {
      const page = await this.deps.store.deadLetters.list(
        { since: since - EARLY_ARRIVAL_MS, ...(plants !== undefined ? { plants } : {}) },
        after,
        500,
      );
      for (const entry of page) {
        if (!ids.has(entry.event.id)) continue;
        const list = deadLetters.get(entry.event.id) ?? [];
        list.push(entry);
        deadLetters.set(entry.event.id, list);
      }
      read += page.length;
      if (read > budget) throw new ScanLimitExceeded(limit);
      const last = page[page.length - 1];
      if (!last || page.length < 500) break;
      after = last.position;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { positions, failing, deadLetters, now: this.now(), staleMs: STALE_PENDING_MS };
  }

  async close(): Promise<void> {
    await Promise.all(this.systems.map((s) => s.query.close()));
  }
}
