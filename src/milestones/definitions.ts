import { createHash } from 'node:crypto';
import type { ConfigProblem } from '../config/config-error.js';
import { CANONICAL_TYPES } from '../model/catalog.js';
import type { CloudEvent } from '../model/envelope.js';
import { parseDuration } from '../util/duration.js';

/** How a milestone ends: the first event of a type, or a delivery through a route. */
export type MilestoneEnd = { readonly type: string } | { readonly delivered: string };

/** A compiled milestone: an SLA from a start event to its end, per correlation. */
export interface MilestoneDefinition {
  readonly name: string;
  readonly start: string;
  readonly end: MilestoneEnd;
  /** `subject`, or a data path such as `data.holdId`. */
  readonly correlate: string;
  readonly withinMs: number;
  /** Only start events of these plants open it; `null`: every plant. */
  readonly plants: readonly string[] | null;
}

/** A built-in milestone left out because the route it ends on is not configured. */
export interface SkippedMilestone {
  readonly name: string;
  readonly route: string;
}

export interface CompiledMilestones {
  readonly definitions: readonly MilestoneDefinition[];
  /** Built-in milestones that are not tracked (each is logged once at start). */
  readonly skipped: readonly SkippedMilestone[];
}

export type AlertWhen = 'milestone.late' | 'milestone.met';

/** An alert, compiled into the implicit route `route` that carries its events to `sink`. */
export interface AlertDefinition {
  readonly when: AlertWhen;
  readonly sink: string;
  readonly route: string;
}

/** The hub's milestone events; their ids are derived from the milestone, so they are stored once. */
export const MILESTONE_EVENT_TYPES = {
  late: 'conveyor.milestone.late',
  cleared: 'conveyor.milestone.cleared',
  met: 'conveyor.milestone.met',
} as const;

/** The event types an alert's route carries: a late alert is raised, then cleared when met. */
export const ALERT_ROUTE_TYPES: Readonly<Record<AlertWhen, readonly string[]>> = {
  'milestone.late': [MILESTONE_EVENT_TYPES.late, MILESTONE_EVENT_TYPES.cleared],
  'milestone.met': [MILESTONE_EVENT_TYPES.met],
};

/** The raw form of a milestone, as conveyor.yaml writes it. */
export interface RawMilestone {
  readonly name: string;
  readonly start: string;
  readonly end: { readonly type?: string; readonly delivered?: string };
  readonly correlate: string;
  readonly within: string;
  readonly plants?: readonly string[];
}

/**
 * The built-in milestones of the reference scenario, used when conveyor.yaml has no `milestones`
 * key. Those ending on a delivery through `erp-postings` are skipped when no route has that name.
 */
export const DEFAULT_MILESTONES: readonly RawMilestone[] = [
  // The MES of a plant reports its first operation of the order: the order reached the shop floor.
  {
    name: 'order-started-in-mes',
    start: 'production.order.released',
    end: { type: 'production.operation.completed' },
    correlate: 'subject',
    within: '8h',
  },
  {
    name: 'order-posted-to-erp',
    start: 'production.order.completed',
    end: { delivered: 'erp-postings' },
    correlate: 'subject',
    within: '15m',
  },
  {
    name: 'hold-dispositioned',
    start: 'quality.hold.placed',
    end: { type: 'quality.disposition.decided' },
    correlate: 'data.holdId',
    within: '4h',
  },
  // The ERP's own statement that billing can start, not merely that it received the confirmation.
  {
    name: 'shipment-invoice-ready',
    start: 'logistics.shipment.confirmed',
    end: { type: 'logistics.shipment.invoice-ready' },
    correlate: 'data.shipmentId',
    within: '24h',
  },
  {
    name: 'asn-posted-to-erp',
    start: 'supplier.asn.received',
    end: { delivered: 'erp-postings' },
    correlate: 'data.asnId',
    within: '15m',
  },
];

function checkType(type: string, path: string, problems: ConfigProblem[]): void {
  if (CANONICAL_TYPES.has(type)) return;
  problems.push({
    path,
    message: `"${type}" is not an event type of the catalog; use one such as production.order.completed (GET /v1/catalog/schemas lists them)`,
  });
}

/**
 * Compiles `milestones` (or the built-in ones when the key is absent) and checks what the schema
 * cannot: unique names, catalog types, and routes that exist. Problems are named by key path.
 */
export function compileMilestones(
  raw: readonly RawMilestone[] | undefined,
  routeNames: ReadonlySet<string>,
  problems: ConfigProblem[],
): CompiledMilestones {
  const builtIn = raw === undefined;
  const definitions: MilestoneDefinition[] = [];
  const skipped: SkippedMilestone[] = [];
  const names = new Set<string>();
  (raw ?? DEFAULT_MILESTONES).forEach((milestone, i) => {
    const at = `milestones[${i}]`;
    if (builtIn && milestone.end.delivered !== undefined && !routeNames.has(milestone.end.delivered)) {
      skipped.push({ name: milestone.name, route: milestone.end.delivered });
      return;
    }
    if (names.has(milestone.name))
      problems.push({ path: `${at}.name`, message: `duplicate milestone name "${milestone.name}"` });
    names.add(milestone.name);
    checkType(milestone.start, `${at}.start`, problems);
    let end: MilestoneEnd;
    if (milestone.end.type !== undefined) {
      checkType(milestone.end.type, `${at}.end.type`, problems);
      end = { type: milestone.end.type };
    } else {
      const route = milestone.end.delivered as string;
      if (!routeNames.has(route)) {
        const known = [...routeNames];
        problems.push({
          path: `${at}.end.delivered`,
          message: `no route named "${route}"; declare it under routes:${known.length ? ` (known: ${known.join(', ')})` : ''}`,
        });
      }
      end = { delivered: route };
    }
    let withinMs = 0;
    try {
      withinMs = parseDuration(milestone.within);
    } catch (error) {
      problems.push({ path: `${at}.within`, message: (error as Error).message });
    }
    if (withinMs <= 0 && !problems.some((p) => p.path === `${at}.within`))
      problems.push({ path: `${at}.within`, message: 'must be longer than 0, such as 30s or 15m' });
    definitions.push({
      name: milestone.name,
      start: milestone.start,
      end,
      correlate: milestone.correlate,
      withinMs,
      plants: milestone.plants ? [...milestone.plants] : null,
    });
  });
  return { definitions, skipped };
}

/** The implicit route of each alert: `alert-<n>-<sink>`, n from 1 in the order of `alerts`. */
export function compileAlerts(
  raw: ReadonlyArray<{ readonly when: AlertWhen; readonly sink: string }>,
  connectors: Readonly<Record<string, unknown>>,
  routeNames: ReadonlySet<string>,
  problems: ConfigProblem[],
): AlertDefinition[] {
  return raw.map((alert, i) => {
    const route = `alert-${i + 1}-${alert.sink}`;
    if (!Object.hasOwn(connectors, alert.sink)) {
      const known = Object.keys(connectors);
      problems.push({
        path: `alerts[${i}].sink`,
        message: `no connector named "${alert.sink}"; declare it under connectors:${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      });
    }
    if (routeNames.has(route))
      problems.push({
        path: `alerts[${i}]`,
        message: `its route would be named "${route}", which a route under routes: already uses; rename that route`,
      });
    return { when: alert.when, sink: alert.sink, route };
  });
}

/** The correlation of an event by a milestone's rule: its subject, or the string/number at a data path. */
export function correlationOf(event: CloudEvent, correlate: string): string | null {
  if (correlate === 'subject')
    return typeof event.subject === 'string' && event.subject ? event.subject : null;
  let value: unknown = event.data;
  for (const key of correlate.split('.').slice(1)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The plant an event belongs to: its `plant` attribute, else `data.plant`. */
export function plantOf(event: CloudEvent): string | null {
  if (typeof event.plant === 'string') return event.plant;
  const data = event.data as { plant?: unknown } | undefined;
  return data && typeof data === 'object' && typeof data.plant === 'string' ? data.plant : null;
}

/** The milestone id: the same on every hub instance for the same name and correlation. */
export function milestoneId(name: string, correlation: string): string {
  return `ms-${createHash('sha256').update(`${name}\u0000${correlation}`).digest('hex').slice(0, 24)}`;
}
