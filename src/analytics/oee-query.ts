import type { EventLog } from '../log/port.js';
import type { StoredEvent } from '../model/envelope.js';
import { scanLog } from './log-scan.js';
import {
  bucketsOf,
  type CounterSample,
  type CountIncrement,
  computeOee,
  counterIncrements,
  type DowntimeInterval,
  type MachineState,
  type OeeFigures,
  type StateSample,
} from './oee.js';
import type { AnalyticsSettings } from './settings.js';

/** How far before the window the log is read for the state and counter readings at its start. */
export const LOOKBACK_MS = 3_600_000;
/** How late (after the window) an event may reach the hub and still count. */
export const LATE_ARRIVAL_MS = 3_600_000;

const OEE_TYPES = [
  'telemetry.machine.state',
  'telemetry.machine.counter',
  'maintenance.downtime.started',
  'maintenance.downtime.ended',
  'production.operation.completed',
];

export interface AnalyticsQuery {
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number | null;
  /** `undefined`: every plant. */
  readonly plants: readonly string[] | undefined;
  readonly now: number;
  readonly scanLimit?: number;
}

/** The figures of a window, as the API answers them. */
export type OeeWindow = Omit<OeeFigures, 'downtimeReasons'> & { from: string; to: string };

export interface OeeItem extends OeeWindow {
  readonly plant: string;
  readonly equipmentId: string;
  /** Where the good and scrap counts come from. */
  readonly countedFrom: 'counters' | 'completions' | 'none';
  readonly downtimeReasons: OeeFigures['downtimeReasons'];
  readonly buckets?: OeeWindow[];
}

const STATES: ReadonlySet<string> = new Set(['running', 'idle', 'down', 'setup', 'unknown']);

interface Equipment {
  readonly plant: string;
  readonly equipmentId: string;
  readonly states: StateSample[];
  readonly good: CounterSample[];
  readonly scrap: CounterSample[];
  readonly completions: CountIncrement[];
  readonly starts: Array<{ at: number; planned: boolean; reasonCode: string }>;
  readonly ends: number[];
}

type Data = Record<string, unknown>;
const dataOf = (event: StoredEvent): Data =>
  event.data !== null && typeof event.data === 'object' ? (event.data as Data) : {};
const timeOf = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : Number.NaN);
const quantityOf = (value: unknown): number => {
  const n = (value as { value?: unknown } | undefined)?.value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0;
};
const iso = (ms: number) => new Date(ms).toISOString();

/** The window's end as far as it has happened: the future has no figures yet. */
const effectiveEnd = (query: AnalyticsQuery) => Math.max(query.from, Math.min(query.to, query.now));

/** OEE per equipment from machine state, counters, downtimes and completions in the log. */
export async function queryOee(
  log: EventLog,
  settings: AnalyticsSettings,
  query: AnalyticsQuery & { readonly equipment?: string | undefined },
): Promise<OeeItem[]> {
  const to = effectiveEnd(query);
  const good = new Set(settings.goodCounters);
  const scrap = new Set(settings.scrapCounters);
  const machines = new Map<string, Equipment>();
  const machine = (plant: string, equipmentId: string): Equipment => {
    const key = `${plant}\u0000${equipmentId}`;
    let found = machines.get(key);
    if (!found) {
      found = { plant, equipmentId, states: [], good: [], scrap: [], completions: [], starts: [], ends: [] };
      machines.set(key, found);
    }
    return found;
  };
  await scanLog(
    log,
    {
      types: OEE_TYPES,
      plants: query.plants,
      appendedFrom: query.from - LOOKBACK_MS,
      appendedTo: to + LATE_ARRIVAL_MS,
      ...(query.scanLimit !== undefined ? { limit: query.scanLimit } : {}),
    },
    (event) => {
      const data = dataOf(event);
      const plant = String(event.plant ?? data.plant ?? '');
      const equipmentId = data.equipmentId;
      if (typeof equipmentId !== 'string' || plant === '') return;
      if (query.equipment !== undefined && equipmentId !== query.equipment) return;
      switch (event.type) {
        case 'telemetry.machine.state': {
          const state = String(data.state);
          machine(plant, equipmentId).states.push({
            at: timeOf(data.at),
            state: (STATES.has(state) ? state : 'unknown') as MachineState,
          });
          break;
        }
        case 'telemetry.machine.counter': {
          const name = String(data.counter).toLowerCase();
          const sample = { at: timeOf(data.at), value: Number(data.value) };
          if (good.has(name)) machine(plant, equipmentId).good.push(sample);
          else if (scrap.has(name)) machine(plant, equipmentId).scrap.push(sample);
          break;
        }
        case 'maintenance.downtime.started':
          machine(plant, equipmentId).starts.push({
            at: timeOf(data.startedAt),
            planned: data.planned === true,
            reasonCode: String(data.reasonCode ?? ''),
          });
          break;
        case 'maintenance.downtime.ended':
          machine(plant, equipmentId).ends.push(timeOf(data.endedAt));
          break;
        case 'production.operation.completed':
          // Only completions that name the machine count for it (the field is optional).
          machine(plant, equipmentId).completions.push({
            at: timeOf(data.completedAt),
            good: quantityOf(data.quantityGood),
            scrap: quantityOf(data.quantityScrap),
          });
          break;
      }
    },
  );
  const items: OeeItem[] = [];
  for (const m of machines.values()) {
    const counted = m.good.length > 0 || m.scrap.length > 0;
    const increments: CountIncrement[] = counted
      ? [
          ...counterIncrements(m.good).map((i) => ({ at: i.at, good: i.delta, scrap: 0 })),
          ...counterIncrements(m.scrap).map((i) => ({ at: i.at, good: 0, scrap: i.delta })),
        ]
      : m.completions;
    const rate = Object.hasOwn(settings.idealRates, m.equipmentId)
      ? (settings.idealRates[m.equipmentId] as number)
      : null;
    const base = {
      states: m.states,
      increments,
      downtimes: pairDowntimes(m.starts, m.ends, to),
      idealRatePerMinute: rate,
    };
    const whole = computeOee({ ...base, from: query.from, to });
    const item: OeeItem = {
      plant: m.plant,
      equipmentId: m.equipmentId,
      from: iso(query.from),
      to: iso(to),
      ...whole,
      countedFrom: counted ? 'counters' : m.completions.length > 0 ? 'completions' : 'none',
      ...(query.bucketMs !== null
        ? {
            buckets: bucketsOf(query.from, query.to, query.bucketMs).map((bucket) => {
              const end = Math.max(bucket.from, Math.min(bucket.to, to));
              const { downtimeReasons: _reasons, ...figures } = computeOee({
                ...base,
                from: bucket.from,
                to: end,
              });
              return { from: iso(bucket.from), to: iso(bucket.to), ...figures };
            }),
          }
        : {}),
    };
    items.push(item);
  }
  return items.sort((a, b) => a.plant.localeCompare(b.plant) || a.equipmentId.localeCompare(b.equipmentId));
}

/**
 * Pairs each downtime start with the first end after it (and before the next start); one still
 * open lasts until `openUntil`.
 */
export function pairDowntimes(
  starts: ReadonlyArray<{ at: number; planned: boolean; reasonCode: string }>,
  ends: readonly number[],
  openUntil: number,
): DowntimeInterval[] {
  const sortedStarts = starts.filter((s) => Number.isFinite(s.at)).sort((a, b) => a.at - b.at);
  const sortedEnds = ends.filter(Number.isFinite).sort((a, b) => a - b);
  const intervals: DowntimeInterval[] = [];
  let e = 0;
  sortedStarts.forEach((start, i) => {
    const next = sortedStarts[i + 1]?.at ?? Number.POSITIVE_INFINITY;
    while (e < sortedEnds.length && (sortedEnds[e] as number) < start.at) e++;
    const end = sortedEnds[e];
    const to = end !== undefined && end <= next ? end : Math.min(next, openUntil);
    if (end !== undefined && end <= next) e++;
    intervals.push({
      from: start.at,
      to: Math.max(start.at, to),
      planned: start.planned,
      reasonCode: start.reasonCode,
    });
  });
  return intervals;
}

export interface ThroughputFigures {
  readonly from: string;
  readonly to: string;
  readonly operations: number;
  readonly operationsPerHour: number;
  /** Per unit of measure: quantities are only added up within one unit. */
  readonly quantities: Array<{ uom: string; good: number; scrap: number; goodPerHour: number }>;
}

export interface ThroughputItem extends ThroughputFigures {
  readonly plant: string;
  readonly workCenters: Array<{ workCenter: string; operations: number }>;
  readonly buckets?: ThroughputFigures[];
}

interface Completion {
  readonly at: number;
  readonly workCenter: string;
  readonly uom: string;
  readonly good: number;
  readonly scrap: number;
}

function throughputOf(completions: readonly Completion[], from: number, to: number): ThroughputFigures {
  const hours = Math.max(0, to - from) / 3_600_000;
  const perHour = (n: number) => (hours > 0 ? n / hours : 0);
  const byUom = new Map<string, { good: number; scrap: number }>();
  let operations = 0;
  for (const c of completions) {
    if (c.at < from || c.at >= to) continue;
    operations += 1;
    const q = byUom.get(c.uom) ?? { good: 0, scrap: 0 };
    q.good += c.good;
    q.scrap += c.scrap;
    byUom.set(c.uom, q);
  }
  return {
    from: iso(from),
    to: iso(to),
    operations,
    operationsPerHour: perHour(operations),
    quantities: [...byUom.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([uom, q]) => ({ uom, ...q, goodPerHour: perHour(q.good) })),
  };
}

/** Completed operations and quantities per plant, from `production.operation.completed`. */
export async function queryThroughput(log: EventLog, query: AnalyticsQuery): Promise<ThroughputItem[]> {
  const to = effectiveEnd(query);
  const plants = new Map<string, Completion[]>();
  await scanLog(
    log,
    {
      types: ['production.operation.completed'],
      plants: query.plants,
      appendedFrom: query.from - LOOKBACK_MS,
      appendedTo: to + LATE_ARRIVAL_MS,
      ...(query.scanLimit !== undefined ? { limit: query.scanLimit } : {}),
    },
    (event) => {
      const data = dataOf(event);
      const plant = String(event.plant ?? data.plant ?? '');
      const at = timeOf(data.completedAt);
      if (plant === '' || !Number.isFinite(at) || at < query.from || at >= to) return;
      const list = plants.get(plant) ?? [];
      list.push({
        at,
        workCenter: String(data.workCenter ?? ''),
        uom: String((data.quantityGood as { uom?: unknown } | undefined)?.uom ?? ''),
        good: quantityOf(data.quantityGood),
        scrap: quantityOf(data.quantityScrap),
      });
      plants.set(plant, list);
    },
  );
  return [...plants.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([plant, completions]) => {
      const workCenters = new Map<string, number>();
      for (const c of completions) workCenters.set(c.workCenter, (workCenters.get(c.workCenter) ?? 0) + 1);
      return {
        plant,
        ...throughputOf(completions, query.from, to),
        workCenters: [...workCenters.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([workCenter, operations]) => ({ workCenter, operations })),
        ...(query.bucketMs !== null
          ? {
              buckets: bucketsOf(query.from, query.to, query.bucketMs).map((b) =>
                throughputOf(completions, b.from, Math.max(b.from, Math.min(b.to, to))),
              ),
            }
          : {}),
      };
    });
}
