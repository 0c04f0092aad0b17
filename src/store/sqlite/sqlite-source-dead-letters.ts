import type Database from 'better-sqlite3';
import type { SourceDeadLetter, SourceDeadLetterRepository } from '../port.js';
import type { StateWriter } from './state-writer.js';

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

/** Source dead letters; a burst of undecodable messages is committed together, off the event loop. */
export class SqliteSourceDeadLetters implements SourceDeadLetterRepository {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: StateWriter,
  ) {}

  add(entry: Omit<SourceDeadLetter, 'position'>): Promise<void> {
    return this.writer.write('sourceDeadLetter', entry);
  }

  async list(
    filter: { connector?: string; plants?: readonly string[] },
    after: number,
    limit: number,
  ): Promise<SourceDeadLetter[]> {
    const where = ['position > ?'];
    const params: unknown[] = [after];
    if (filter.connector !== undefined) {
      where.push('connector = ?');
      params.push(filter.connector);
    }
    if (filter.plants !== undefined) {
      where.push(`plant IN (${filter.plants.map(() => '?').join(',') || "''"})`);
      params.push(...filter.plants);
    }
    const rows = this.db
      .prepare(`SELECT * FROM source_dead_letters WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`)
      .all(...params, limit) as Row[];
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
