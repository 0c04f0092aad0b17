import type Database from 'better-sqlite3';
import { BloomFilter } from './bloom-filter.js';
import {
  type DedupKey,
  dedupKey,
  dedupTable,
  listPartitions,
  partitionDdl,
  partitionOf,
  subjectTable,
} from './schema.js';

interface PartitionStatements {
  readonly insertDedup: Database.Statement;
  readonly findDedup: Database.Statement;
  readonly setDedup: Database.Statement;
  readonly deleteDedup: Database.Statement;
  readonly insertSubject: Database.Statement;
  readonly deleteSubject: Database.Statement;
}

/** An event whose index entries retention removes. */
export interface RetainedRow {
  readonly seq: number;
  readonly source: string;
  readonly id: string;
  readonly subject: string | null;
}

/**
 * The writer's view of the index partitions (idempotency hashes and subjects by sequence
 * range). Only the hot partition, the one the next sequence falls in, is written. Every
 * partition has an in-memory Bloom filter of its hashes; an older partition's table is read
 * only when its filter says the hash may be there, so a new event costs no reads of cold pages.
 * Filters only ever gain keys: after a rollback or a deletion they still hold every key that
 * is stored, which is all that correctness needs.
 */
export class IndexPartitions {
  private hot = -1;
  private hotStatements: PartitionStatements | null = null;
  private hotBloom: BloomFilter | null = null;
  private readonly blooms = new Map<number, BloomFilter>();
  /** Partitions below the hot one, newest first (the order lookups probe them in). */
  private older: Array<[partition: number, bloom: BloomFilter]> = [];
  private readonly statements = new Map<number, PartitionStatements>();

  constructor(
    private readonly db: Database.Database,
    readonly size: number,
  ) {}

  /** Builds the filters from the stored hashes and makes the partition of `nextSequence` hot. */
  load(nextSequence: number): void {
    this.blooms.clear();
    this.statements.clear();
    for (const partition of listPartitions(this.db, 'dedup'))
      this.blooms.set(partition, this.build(partition));
    this.hot = -1;
    this.makeHot(partitionOf(nextSequence, this.size));
  }

  /**
   * Re-aligns with the database after a rolled-back transaction: partitions it created are
   * gone, partitions it dropped are back, and the hot partition follows the recovered head.
   */
  reconcile(nextSequence: number): void {
    const present = new Set(listPartitions(this.db, 'dedup'));
    for (const partition of [...this.blooms.keys()]) {
      if (!present.has(partition)) this.blooms.delete(partition);
    }
    for (const partition of present) {
      if (!this.blooms.has(partition)) this.blooms.set(partition, this.build(partition));
    }
    this.statements.clear();
    this.hot = -1;
    this.makeHot(partitionOf(nextSequence, this.size));
  }

  /** Makes the partition of `sequence` the written one (creating it) when the sequence has moved past it. */
  roll(sequence: number): void {
    const partition = partitionOf(sequence, this.size);
    if (partition !== this.hot) this.makeHot(partition);
  }

  /**
   * Records `key` for the event at `sequence` in the hot partition unless a stored event
   * already holds it; returns that event's sequence (newest partition first) or `undefined`.
   * The caller checks that the holder is still stored and is the same event, then calls
   * `release` or `reassign` as the answer requires.
   */
  claim(key: DedupKey, sequence: number): { holder: number; inHot: boolean } | undefined {
    const hot = this.hotStatements as PartitionStatements;
    if (hot.insertDedup.run(key.h, sequence).changes === 0) {
      return { holder: (hot.findDedup.get(key.h) as { seq: number }).seq, inHot: true };
    }
    (this.hotBloom as BloomFilter).add(key.hi, key.lo);
    for (const [partition, bloom] of this.older) {
      if (!bloom.mayContain(key.hi, key.lo)) continue;
      const row = this.statementsFor(partition).findDedup.get(key.h) as { seq: number } | undefined;
      if (row) return { holder: row.seq, inHot: false };
    }
    return undefined;
  }

  /** Withdraws the hot entry that `claim` just made: the key belongs to an older event. */
  release(key: DedupKey, sequence: number): void {
    (this.hotStatements as PartitionStatements).deleteDedup.run(key.h, sequence);
  }

  /** Points the hot entry for `key` at a new event (its previous event no longer exists). */
  reassign(key: DedupKey, sequence: number): void {
    (this.hotStatements as PartitionStatements).setDedup.run(sequence, key.h);
  }

  addSubject(subject: string, sequence: number, code: number): void {
    (this.hotStatements as PartitionStatements).insertSubject.run(subject, sequence, code);
  }

  /**
   * Removes the index entries of events retention deleted. Entries in partitions that lie
   * wholly below `beforeSequence` are left for `dropEmpty`, which removes the partition at once;
   * until then a lookup that lands on one finds its event gone and treats the key as free.
   */
  forget(rows: readonly RetainedRow[], beforeSequence: number): void {
    for (const row of rows) {
      const partition = partitionOf(row.seq, this.size);
      if ((partition + 1) * this.size <= beforeSequence || !this.blooms.has(partition)) continue;
      const statements = this.statementsFor(partition);
      // By hash and sequence: after a hash collision the hash belongs to another event.
      statements.deleteDedup.run(dedupKey(row.source, row.id).h, row.seq);
      if (row.subject !== null) statements.deleteSubject.run(row.subject, row.seq);
    }
  }

  /** Drops every partition below the hot one whose whole range lies below `firstStored`. */
  dropEmpty(firstStored: number): number {
    let dropped = 0;
    for (const partition of [...this.blooms.keys()]) {
      if (partition >= this.hot || (partition + 1) * this.size > firstStored) continue;
      this.db.exec(
        `DROP TABLE IF EXISTS ${dedupTable(partition)}; DROP TABLE IF EXISTS ${subjectTable(partition)};`,
      );
      this.blooms.delete(partition);
      this.statements.delete(partition);
      dropped++;
    }
    if (dropped > 0) this.sortOlder();
    return dropped;
  }

  private makeHot(partition: number): void {
    this.db.exec(partitionDdl(partition));
    let bloom = this.blooms.get(partition);
    if (!bloom) {
      bloom = new BloomFilter(this.size);
      this.blooms.set(partition, bloom);
    }
    this.hot = partition;
    this.hotBloom = bloom;
    this.hotStatements = this.statementsFor(partition);
    this.sortOlder();
  }

  private sortOlder(): void {
    this.older = [...this.blooms].filter(([partition]) => partition < this.hot).sort((a, b) => b[0] - a[0]);
  }

  private build(partition: number): BloomFilter {
    const bloom = new BloomFilter(this.size);
    // One string of fixed-width hex hashes: several times faster than a row per hash.
    const hex = this.db
      .prepare(`SELECT group_concat(printf('%016x', h), '') FROM ${dedupTable(partition)}`)
      .pluck()
      .get() as string | null;
    const hashes = Buffer.from(hex ?? '', 'hex');
    for (let at = 0; at < hashes.length; at += 8)
      bloom.add(hashes.readUInt32BE(at), hashes.readUInt32BE(at + 4));
    return bloom;
  }

  private statementsFor(partition: number): PartitionStatements {
    let statements = this.statements.get(partition);
    if (!statements) {
      const dedup = dedupTable(partition);
      const subject = subjectTable(partition);
      statements = {
        insertDedup: this.db.prepare(`INSERT INTO ${dedup} (h, seq) VALUES (?, ?) ON CONFLICT DO NOTHING`),
        findDedup: this.db.prepare(`SELECT seq FROM ${dedup} WHERE h = ?`),
        setDedup: this.db.prepare(`UPDATE ${dedup} SET seq = ? WHERE h = ?`),
        deleteDedup: this.db.prepare(`DELETE FROM ${dedup} WHERE h = ? AND seq = ?`),
        insertSubject: this.db.prepare(`INSERT INTO ${subject} (subject, seq, code) VALUES (?, ?, ?)`),
        deleteSubject: this.db.prepare(`DELETE FROM ${subject} WHERE subject = ? AND seq = ?`),
      };
      this.statements.set(partition, statements);
    }
    return statements;
  }
}
