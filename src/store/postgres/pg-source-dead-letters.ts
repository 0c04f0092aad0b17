import type { SourceDeadLetter, SourceDeadLetterRepository } from '../port.js';
import { Conditions } from './pg-conditions.js';
import type { Queryable } from './pg-database.js';

interface Row {
  position: number;
  connector: string;
  message_id: string;
  origin: string;
  plant: string | null;
  error: string;
  raw: Buffer;
  at: number;
}

/**
 * PostgreSQL text cannot hold NUL; a decode error may quote the broken input, so NULs in the
 * descriptive fields become U+FFFD rather than lose the entry. The raw bytes are kept exactly.
 */
const text = (value: string): string => value.replaceAll('\u0000', '\uFFFD');

export class PgSourceDeadLetters implements SourceDeadLetterRepository {
  constructor(private readonly db: Queryable) {}

  async add(entry: Omit<SourceDeadLetter, 'position'>): Promise<void> {
    await this.db.query(
      `INSERT INTO source_dead_letters (connector, message_id, origin, plant, error, raw, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        entry.connector,
        text(entry.messageId),
        text(entry.origin),
        entry.plant,
        text(entry.error),
        Buffer.from(entry.raw.buffer, entry.raw.byteOffset, entry.raw.byteLength),
        entry.at,
      ],
    );
  }

  async list(
    filter: { connector?: string; plants?: readonly string[] },
    after: number,
    limit: number,
  ): Promise<SourceDeadLetter[]> {
    const where = new Conditions().add('position > ?', after);
    if (filter.connector !== undefined) where.add('connector = ?', filter.connector);
    if (filter.plants !== undefined) where.add('plant = ANY(?::text[])', [...filter.plants]);
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM source_dead_letters WHERE ${where.sql()} ORDER BY position LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((r) => ({
      position: r.position,
      connector: r.connector,
      messageId: r.message_id,
      origin: r.origin,
      plant: r.plant,
      error: r.error,
      raw: new Uint8Array(r.raw),
      at: r.at,
    }));
  }
}
