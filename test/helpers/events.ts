import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../../src/model/envelope.js';
import { jsonSchemaOf } from '../../src/model/schemas/index.js';

/** Valid data for a canonical type: its schema's example, with the plant set. */
export function exampleData(type: string, plant = 'P1'): Record<string, unknown> {
  const example = (jsonSchemaOf(type)?.examples as unknown[] | undefined)?.[0];
  if (example === undefined) throw new Error(`no example for ${type}`);
  const data = structuredClone(example) as Record<string, unknown>;
  if ('plant' in data) data.plant = plant;
  return data;
}

/** A valid canonical event for tests; override any attribute. */
export function makeEvent(overrides: Partial<CloudEvent> & Record<string, unknown> = {}): CloudEvent {
  const orderId = (overrides.subject as string | undefined) ?? `PO-${randomUUID().slice(0, 8)}`;
  const plant = (overrides.plant as string | undefined) ?? 'P1';
  const type = (overrides.type as string | undefined) ?? 'production.operation.completed';
  const data =
    type === 'production.operation.completed'
      ? {
          orderId,
          plant,
          operation: '0010',
          workCenter: 'WC-1',
          quantityGood: { value: 10, uom: 'EA' },
          completedAt: '2026-03-01T08:15:00Z',
        }
      : exampleData(type, plant);
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/plants/P1/mes',
    type,
    time: '2026-03-01T08:15:00Z',
    subject: orderId,
    plant,
    datacontenttype: 'application/json',
    data,
    ...overrides,
  } as CloudEvent;
}
