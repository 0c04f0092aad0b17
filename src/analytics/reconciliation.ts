/**
 * What a plant reported for an order on a day against what each route's system acknowledged:
 * the classification of every (event, route) pair, and the differences worth a look.
 */
import type { StoredEvent } from '../model/envelope.js';
import type { DeadLetterRecord } from '../store/port.js';

/** The kinds of difference, as the `difference` filter names them. */
export const DIFFERENCE_KINDS = ['missing', 'dlq', 'retrying', 'rejected'] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** Most event ids one difference lists (its `count` has them all). */
export const MAX_DIFFERENCE_IDS = 20;

/** A route as reconciliation sees it. */
export interface ReconciledRoute {
  readonly name: string;
  readonly sink: string;
  matches(type: string): boolean;
  /** The route's filter; `null`: every matching event. */
  readonly filter: { evaluate(input: unknown): Promise<unknown> } | null;
}

/** What a system of record said it holds for the order. */
export type SystemOfRecordAnswer =
  | { readonly count: number; readonly missingInSystem: string[]; readonly unknownToHub: string[] }
  | { readonly error: string };

export interface RouteReconciliation {
  readonly route: string;
  readonly sink: string;
  /** Events the route should deliver: matching types and passing its filter. */
  readonly expected: number;
  readonly delivered: number;
  /** Not yet past the route's durable position, or being replayed from the DLQ. */
  readonly pending: number;
  /** Given up after max-attempts or max-age, still in the DLQ. */
  readonly dlq: number;
  /** Refused by the system (a non-retryable answer), still in the DLQ. */
  readonly rejected: number;
  /** Dead letters discarded: reported, but neither delivered nor pending. */
  readonly missing: number;
  readonly filteredOut: number;
  systemOfRecord?: SystemOfRecordAnswer;
}

export interface Difference {
  readonly route: string;
  readonly kind: DifferenceKind;
  readonly count: number;
  readonly eventIds: string[];
}

export interface ReconciliationItem {
  readonly day: string;
  readonly plant: string;
  readonly order: string;
  readonly reported: {
    readonly events: number;
    readonly byType: Record<string, number>;
    /** Quantities reported, summed per type, field and unit of measure. */
    readonly totals: Array<{ type: string; field: string; uom: string; value: number }>;
  };
  readonly systems: RouteReconciliation[];
  differences: Difference[];
}

export interface DeliveryView {
  /** Per route: every event up to this sequence is done (delivered, dead-lettered or filtered out). */
  readonly positions: ReadonlyMap<string, number>;
  /** Routes failing right now (circuit not closed, keys retrying). */
  readonly failing: ReadonlySet<string>;
  /** Dead letters by event id, oldest first. */
  readonly deadLetters: ReadonlyMap<string, readonly DeadLetterRecord[]>;
  readonly now: number;
  /** A pending event older than this (by its time) is a `retrying` difference even on a healthy route. */
  readonly staleMs: number;
}

type Outcome = 'delivered' | 'pending' | 'dlq' | 'rejected' | 'missing' | 'filteredOut';

/** Where one event stands on one route. */
export async function outcomeOf(
  event: StoredEvent,
  route: ReconciledRoute,
  view: DeliveryView,
): Promise<Outcome> {
  const letters = view.deadLetters.get(event.id)?.filter((d) => d.route === route.name) ?? [];
  const letter = letters[letters.length - 1];
  if (letter) {
    switch (letter.status) {
      case 'open':
        return letter.reason === 'rejected' ? 'rejected' : 'dlq';
      case 'replaying':
        return 'pending';
      case 'replayed':
        return 'delivered';
      case 'discarded':
        return 'missing';
    }
  }
  if (route.filter && !(await route.filter.evaluate(event))) return 'filteredOut';
  return (view.positions.get(route.name) ?? 0) >= event.sequence ? 'delivered' : 'pending';
}

const QUANTITY_FIELDS = ['quantityGood', 'quantityScrap', 'quantity'];

function totalsOf(events: readonly StoredEvent[]): ReconciliationItem['reported']['totals'] {
  const sums = new Map<string, { type: string; field: string; uom: string; value: number }>();
  for (const event of events) {
    const data = (event.data ?? {}) as Record<string, unknown>;
    for (const field of QUANTITY_FIELDS) {
      const q = data[field] as { value?: unknown; uom?: unknown } | undefined;
      if (typeof q?.value !== 'number' || !Number.isFinite(q.value)) continue;
      const uom = String(q.uom ?? '');
      const key = `${event.type}\u0000${field}\u0000${uom}`;
      const sum = sums.get(key) ?? { type: event.type, field, uom, value: 0 };
      sum.value += q.value;
      sums.set(key, sum);
    }
  }
  return [...sums.values()].sort(
    (a, b) => a.type.localeCompare(b.type) || a.field.localeCompare(b.field) || a.uom.localeCompare(b.uom),
  );
}

/** Reconciles one order's events of one day against every route that receives them. */
export async function reconcileOrder(
  key: { day: string; plant: string; order: string },
  events: readonly StoredEvent[],
  routes: readonly ReconciledRoute[],
  view: DeliveryView,
): Promise<ReconciliationItem & { deliveredIds: Map<string, string[]> }> {
  const byType: Record<string, number> = {};
  for (const event of events) byType[event.type] = (byType[event.type] ?? 0) + 1;
  const systems: RouteReconciliation[] = [];
  const differences: Difference[] = [];
  const deliveredIds = new Map<string, string[]>();
  for (const route of routes) {
    const mine = events.filter((e) => route.matches(e.type));
    if (mine.length === 0) continue;
    const ids: Record<Outcome | 'retrying', string[]> = {
      delivered: [],
      pending: [],
      dlq: [],
      rejected: [],
      missing: [],
      filteredOut: [],
      retrying: [],
    };
    for (const event of mine) {
      const outcome = await outcomeOf(event, route, view);
      ids[outcome].push(event.id);
      if (outcome === 'pending') {
        const time = event.time ? Date.parse(event.time) : Number.NaN;
        const stale = !Number.isNaN(time) && view.now - time > view.staleMs;
        if (stale || view.failing.has(route.name)) ids.retrying.push(event.id);
      }
    }
    systems.push({
      route: route.name,
      sink: route.sink,
      expected: mine.length - ids.filteredOut.length,
      delivered: ids.delivered.length,
      pending: ids.pending.length,
      dlq: ids.dlq.length,
      rejected: ids.rejected.length,
      missing: ids.missing.length,
      filteredOut: ids.filteredOut.length,
    });
    deliveredIds.set(route.name, ids.delivered);
    for (const kind of DIFFERENCE_KINDS) {
      const list = ids[kind];
      if (list.length > 0) differences.push(difference(route.name, kind, list));
    }
  }
  return {
    ...key,
    reported: { events: events.length, byType, totals: totalsOf(events) },
    systems,
    differences,
    deliveredIds,
  };
}

export function difference(
  route: string,
  kind: DifferenceKind,
  ids: readonly string[],
  count = ids.length,
): Difference {
  return { route, kind, count, eventIds: ids.slice(0, MAX_DIFFERENCE_IDS) };
}

/**
 * Folds a system of record's answer into the item: events the hub delivered that the system does
 * not hold become a `missing` difference of that route.
 */
export function applySystemAnswer(
  item: ReconciliationItem,
  route: string,
  delivered: readonly string[],
  reported: ReadonlySet<string>,
  answer: { ids: readonly string[] | null; count: number } | { error: string },
): void {
  const system = item.systems.find((s) => s.route === route);
  if (!system) return;
  if ('error' in answer) {
    system.systemOfRecord = { error: answer.error };
    return;
  }
  let missingInSystem: string[] = [];
  let unknownToHub: string[] = [];
  let missingCount = 0;
  if (answer.ids !== null) {
    const held = new Set(answer.ids);
    missingInSystem = delivered.filter((id) => !held.has(id));
    unknownToHub = [...held].filter((id) => !reported.has(id));
    missingCount = missingInSystem.length;
  } else {
    missingCount = Math.max(0, delivered.length - answer.count);
  }
  system.systemOfRecord = {
    count: answer.count,
    missingInSystem: missingInSystem.slice(0, MAX_DIFFERENCE_IDS),
    unknownToHub: unknownToHub.slice(0, MAX_DIFFERENCE_IDS),
  };
  if (missingCount > 0) {
    const existing = item.differences.findIndex((d) => d.route === route && d.kind === 'missing');
    const before = existing >= 0 ? item.differences[existing] : undefined;
    const merged = difference(
      route,
      'missing',
      [...(before?.eventIds ?? []), ...missingInSystem],
      (before?.count ?? 0) + missingCount,
    );
    if (existing >= 0) item.differences[existing] = merged;
    else item.differences.push(merged);
  }
}

/** Whether an item passes the `difference` filter. */
export function matchesDifference(
  item: ReconciliationItem,
  filter: 'any' | 'none' | DifferenceKind | undefined,
): boolean {
  if (filter === undefined) return true;
  if (filter === 'any') return item.differences.length > 0;
  if (filter === 'none') return item.differences.length === 0;
  return item.differences.some((d) => d.kind === filter);
}
