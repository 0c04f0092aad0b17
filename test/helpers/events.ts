import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../../src/model/envelope.js';

/** A valid canonical event for tests; override any attribute. */
export function makeEvent(overrides: Partial<CloudEvent> & Record<string, unknown> = {}): CloudEvent {
  const orderId = (overrides.subject as string | undefined) ?? `PO-${randomUUID().slice(0, 8)}`;
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/plants/P1/mes',
    type: 'production.operation.completed',
    time: '2026-03-01T08:15:00Z',
    subject: orderId,
    plant: 'P1',
    datacontenttype: 'application/json',
    data: {
      orderId,
      plant: (overrides.plant as string | undefined) ?? 'P1',
      operation: '0010',
      workCenter: 'WC-1',
      quantityGood: { value: 10, uom: 'EA' },
      completedAt: '2026-03-01T08:15:00Z',
    },
    ...overrides,
  } as CloudEvent;
}
