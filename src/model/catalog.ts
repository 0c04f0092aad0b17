/**
 * The canonical event types of version 1 (the catalog's built-in entries): owner domain, owning
 * team, delivery lane and whether events must name a plant. Schemas live beside this file.
 */
export type Domain =
  | 'production'
  | 'maintenance'
  | 'quality'
  | 'inventory'
  | 'logistics'
  | 'supplier'
  | 'telemetry'
  | 'conveyor';

export interface EventTypeInfo {
  readonly type: string;
  readonly domain: Domain;
  readonly owner: string;
  readonly lane: 'critical' | 'bulk';
  readonly plantScoped: boolean;
}

const OWNERS: Record<Domain, string> = {
  production: 'manufacturing-operations',
  maintenance: 'maintenance-engineering',
  quality: 'quality-assurance',
  inventory: 'warehouse-logistics',
  logistics: 'warehouse-logistics',
  supplier: 'procurement',
  telemetry: 'automation-engineering',
  // Events the hub itself publishes (milestone alerts).
  conveyor: 'integration-platform',
};

const TYPES: ReadonlyArray<[string, boolean]> = [
  ['production.order.released', true],
  ['production.operation.completed', true],
  ['production.order.completed', true],
  ['production.material.consumed', true],
  ['production.scrap.reported', true],
  ['maintenance.downtime.started', true],
  ['maintenance.downtime.ended', true],
  ['quality.hold.placed', true],
  ['quality.hold.released', true],
  ['quality.disposition.decided', true],
  ['inventory.reservation.created', true],
  ['inventory.material.issued', true],
  ['inventory.pallet.moved', true],
  ['logistics.shipment.confirmed', true],
  ['logistics.shipment.invoice-ready', true],
  ['supplier.onboarded', false],
  ['supplier.asn.received', true],
  ['supplier.replenishment.requested', true],
  ['telemetry.machine.state', true],
  ['telemetry.machine.counter', true],
  ['conveyor.milestone.late', false],
  ['conveyor.milestone.cleared', false],
  ['conveyor.milestone.met', false],
];

export const CANONICAL_TYPES: ReadonlyMap<string, EventTypeInfo> = new Map(
  TYPES.map(([type, plantScoped]) => {
    const domain = type.split('.')[0] as Domain;
    return [
      type,
      Object.freeze({
        type,
        domain,
        owner: OWNERS[domain],
        lane: domain === 'telemetry' ? 'bulk' : 'critical',
        plantScoped,
      }),
    ];
  }),
);

/** The domain of any type: its first dot-separated segment. */
export function domainOfType(type: string): string {
  const dot = type.indexOf('.');
  return dot === -1 ? type : type.slice(0, dot);
}

/** Telemetry goes in the bulk lane; everything else is critical unless configured otherwise. */
export function laneOfType(type: string): 'critical' | 'bulk' {
  return CANONICAL_TYPES.get(type)?.lane ?? (domainOfType(type) === 'telemetry' ? 'bulk' : 'critical');
}
