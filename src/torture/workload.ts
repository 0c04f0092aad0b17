import { createHash } from 'node:crypto';
import type { CloudEvent } from '../model/envelope.js';
import { jsonSchemaOf } from '../model/schemas/index.js';

/** A small seeded generator (mulberry32), so a run's traffic can be produced again from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The traffic mix: mostly production and inventory events, with the types the sparse routes select
 * (quality, order releases) rare, so long runs of non-matching events lie between their matches.
 */
export const TRAFFIC_MIX: ReadonlyArray<{ type: string; weight: number }> = [
  { type: 'production.operation.completed', weight: 40 },
  { type: 'production.material.consumed', weight: 15 },
  { type: 'inventory.pallet.moved', weight: 15 },
  { type: 'inventory.material.issued', weight: 10 },
  { type: 'maintenance.downtime.started', weight: 8 },
  { type: 'maintenance.downtime.ended', weight: 6 },
  { type: 'quality.hold.placed', weight: 2 },
  { type: 'quality.hold.released', weight: 1 },
  { type: 'production.order.released', weight: 3 },
];

const TOTAL_WEIGHT = TRAFFIC_MIX.reduce((sum, t) => sum + t.weight, 0);

/** JSON with object keys sorted, so the same content always gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What must arrive unchanged: type, keys, plant and data (the hub adds attributes such as `sequence`). */
export function digestOf(event: CloudEvent): string {
  const content = canonicalJson({
    type: event.type,
    subject: event.subject ?? null,
    partitionkey: event.partitionkey ?? null,
    plant: event.plant ?? null,
    data: event.data ?? null,
  });
  return createHash('sha1').update(content).digest('base64url');
}

/** The partition key the hub orders by. */
export function keyOf(event: CloudEvent): string {
  return event.partitionkey ?? event.subject ?? event.id;
}

const examples = new Map<string, Record<string, unknown>>();

function exampleOf(type: string): Record<string, unknown> {
  let example = examples.get(type);
  if (!example) {
    example = (jsonSchemaOf(type)?.examples as Array<Record<string, unknown>> | undefined)?.[0];
    if (!example) throw new Error(`the canonical schema of ${type} has no example`);
    examples.set(type, example);
  }
  return structuredClone(example);
}

/**
 * Valid canonical events for the torture producers: every event of the run has a unique id
 * (`<run>-<n>`), a key out of `keys` (some carry a `partitionkey` that overrides the subject),
 * plant P1 or P2, and its own serial in the data, so every event's digest differs.
 */
export class Workload {
  private readonly random: () => number;
  private serial = 0;

  constructor(
    private readonly runId: string,
    private readonly keys: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  private pickType(): string {
    let roll = this.random() * TOTAL_WEIGHT;
    for (const t of TRAFFIC_MIX) {
      roll -= t.weight;
      if (roll < 0) return t.type;
    }
    return TRAFFIC_MIX[0]!.type;
  }

  next(): CloudEvent {
    return this.make(
      this.pickType(),
      this.random() < 0.5 ? 'P1' : 'P2',
      `K${Math.floor(this.random() * this.keys)}`,
    );
  }

  /** An event of a chosen type, plant and key (for bursts shaped on purpose). */
  make(type: string, plant: string, key: string): CloudEvent {
    const n = ++this.serial;
    const data = { ...exampleOf(type), plant, tortureSerial: n };
    const event: CloudEvent = {
      specversion: '1.0',
      id: `${this.runId}-${n}`,
      source: `/plants/${plant}/torture`,
      type,
      time: '2026-03-01T08:15:00Z',
      subject: `${key}-subject`,
      plant,
      datacontenttype: 'application/json',
      data,
    };
    // A third of the events are ordered by an explicit partition key instead of their subject.
    if (this.random() < 0.33) event.partitionkey = key;
    else event.subject = key;
    return event;
  }
}
