import { createHash } from 'node:crypto';
import type { FieldError } from '../../errors/problem.js';
import { CANONICAL_TYPES } from '../../model/catalog.js';
import type { CloudEvent } from '../../model/envelope.js';
import { schemaId } from '../../model/schemas/index.js';
import type { SchemaRegistry } from '../../registry/registry.js';
import type { MappedEvent } from './types.js';

const SUBJECT_FIELDS = [
  'orderId',
  'holdId',
  'shipmentId',
  'asnId',
  'reservationId',
  'palletId',
  'equipmentId',
];

/** A stable, UUID-shaped event id for the i-th event of a source message. */
export function sourceEventId(connector: string, messageId: string, index: number): string {
  const hex = createHash('sha256').update(`${connector}\u0000${messageId}\u0000${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** What a JSONata `map` returned, as a list of mapped events; anything else is a mapping error. */
export function asMappedEvents(value: unknown): MappedEvent[] | string {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const [i, item] of list.entries()) {
    const e = item as Partial<MappedEvent> | null;
    if (!e || typeof e !== 'object' || typeof e.type !== 'string' || !e.data || typeof e.data !== 'object')
      return `the map produced ${list.length > 1 ? `item ${i} ` : ''}without {type, data}: ${JSON.stringify(item)?.slice(0, 200)}`;
  }
  return list as MappedEvent[];
}

/**
 * Turns mapped events into CloudEvents of this connector and checks each against the catalog:
 * the same rules `/v1/events` applies, so a connector can never store what the API would refuse.
 */
export function buildSourceEvents(
  mapped: readonly MappedEvent[],
  options: {
    connector: string;
    messageId: string;
    plant: string | null;
    now: number;
    registry: SchemaRegistry;
  },
): { events: CloudEvent[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const events = mapped.map((m, i) => {
    const data = m.data;
    const plant =
      m.plant ?? (typeof data.plant === 'string' ? data.plant : undefined) ?? options.plant ?? undefined;
    const subject =
      m.subject ?? SUBJECT_FIELDS.map((f) => data[f]).find((v): v is string => typeof v === 'string');
    const latest = options.registry.latestApproved(m.type);
    const event: CloudEvent = {
      specversion: '1.0',
      id: sourceEventId(options.connector, options.messageId, i),
      source: `/connectors/${options.connector}`,
      type: m.type,
      time: m.time ?? new Date(options.now).toISOString(),
      ...(subject !== undefined ? { subject } : {}),
      ...(plant !== undefined ? { plant } : {}),
      datacontenttype: 'application/json',
      ...(latest !== undefined ? { dataschema: schemaId(m.type, latest) } : {}),
      data,
    };
    const at = mapped.length > 1 ? `/${i}` : '';
    if (CANONICAL_TYPES.get(m.type)?.plantScoped && plant === undefined)
      errors.push({
        path: `${at}/plant`,
        message: `${m.type} needs a plant: set plant on the connector or in the data`,
      });
    errors.push(...options.registry.checkEvent(event, at).errors);
    return event;
  });
  return { events, errors };
}
