import { headers, type KV, type KvEntry } from 'nats';
import type { JetStreamPublisher } from './publisher.js';

/** One stored copy's claim on its idempotency key. */
export interface Claim {
  readonly key: string;
  readonly sequence: number;
}

/**
 * Where the id index keeps "idempotency key -> sequence of its event". Entries are only ever
 * created, never changed: a claim on a key that has an entry leaves it as it is, so the first copy
 * claimed is the event for good, whichever process claims it, and every process reads the same answer.
 */
export interface IdClaims {
  readonly kind: 'kv' | 'postgres';
  /** Calls worth running at once; claims arriving meanwhile wait and go together in the next call. */
  readonly concurrency: number;
  /**
   * Creates each key's entry for its sequence unless the key has one; answers, claim by claim, the
   * sequence the key holds afterwards. Durable when it resolves. Within one call, the lowest
   * sequence of a key is claimed first. `likelyClaimed` says the entries usually exist already
   * (a backend that must choose between reading and creating first reads).
   */
  claim(claims: readonly Claim[], likelyClaimed: boolean): Promise<number[]>;
  /**
   * Makes every claim answered so far durable. A backend may answer claims before they are on
   * disk; the index records its mark (everything up to here is settled) only after this.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** JetStream's "wrong last sequence" error: a KV `create` of a key that exists. */
export function isAlreadyThere(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string };
  return e.api_error?.err_code === 10071 || /wrong last sequence/.test(e.message ?? '');
}

function sequenceIn(entry: KvEntry | null): number | null {
  if (entry?.operation !== 'PUT') return null;
  const seq = Number(entry.string());
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

/**
 * The index as a JetStream KV bucket: one replicated KV create per key, the bucket refusing a
 * create of a key that has an entry. Costs the cluster a write as heavy as the event's own publish.
 */
export class KvIdClaims implements IdClaims {
  readonly kind = 'kv';
  /** Every key is its own write, pipelined on the connection: nothing gains from waiting. */
  readonly concurrency = Number.POSITIVE_INFINITY;

  constructor(
    private readonly ids: KV,
    /** The bucket of `ids`: claims are published to its subjects directly. */
    private readonly bucket: string,
    private readonly publisher: JetStreamPublisher,
  ) {}

  claim(claims: readonly Claim[], likelyClaimed: boolean): Promise<number[]> {
    // Creates of one key in one call run one after the other, lowest sequence first.
    const byKey = new Map<string, Promise<number>>();
    const order = claims
      .map((_, i) => i)
      .sort((a, b) => (claims[a] as Claim).sequence - (claims[b] as Claim).sequence);
    const answers: Array<Promise<number>> = new Array(claims.length);
    for (const i of order) {
      const { key, sequence } = claims[i] as Claim;
      const before = byKey.get(key);
      const answer = before ?? this.claimOne(key, sequence, likelyClaimed);
      byKey.set(key, answer);
      answers[i] = answer;
    }
    return Promise.all(answers);
  }

  private async claimOne(key: string, sequence: number, lookFirst: boolean): Promise<number> {
    if (lookFirst) {
      const held = sequenceIn(await this.ids.get(key));
      if (held !== null) return held;
    }
    // A KV create as the bucket stores it: refused when the key has an entry already.
    const expect = headers();
    expect.set('Nats-Expected-Last-Subject-Sequence', '0');
    try {
      await this.publisher.publish(`$KV.${this.bucket}.${key}`, String(sequence), expect);
      return sequence;
    } catch (error) {
      if (!isAlreadyThere(error)) throw error;
    }
    const owner = sequenceIn(await this.ids.get(key));
    if (owner === null) throw new Error(`id index entry ${key} exists but holds no sequence`);
    return owner;
  }

  /** Every create was acknowledged by the bucket's replicas: durable already. */
  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}

interface PendingClaim {
  readonly claim: Claim;
  readonly likelyClaimed: boolean;
  readonly resolve: (owner: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Claims that arrive within one turn of the event loop go to the backend as one call; with
 * `maxInFlight` calls under way, later claims gather until one ends and then go together, so the
 * busier the log, the more claims each call (each commit) carries.
 */
export class ClaimBatcher {
  private pending: PendingClaim[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly claims: IdClaims,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
  ) {}

  /** Makes every claim answered so far durable (`IdClaims.sync`). */
  sync(): Promise<void> {
    return this.claims.sync();
  }

  claim(key: string, sequence: number, likelyClaimed: boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ claim: { key, sequence }, likelyClaimed, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      // Claims that expect an entry and claims that expect none go apart (a KV index reads first for the former).
      const likelyClaimed = (this.pending[0] as PendingClaim).likelyClaimed;
      const batch: PendingClaim[] = [];
      const rest: PendingClaim[] = [];
      for (const p of this.pending) {
        if (p.likelyClaimed === likelyClaimed && batch.length < this.maxBatch) batch.push(p);
        else rest.push(p);
      }
      this.pending = rest;
      this.send(batch, likelyClaimed);
    }
  }

  private send(batch: readonly PendingClaim[], likelyClaimed: boolean): void {
    this.inFlight++;
    this.claims
      .claim(
        batch.map((p) => p.claim),
        likelyClaimed,
      )
      .then(
        (owners) => {
          batch.forEach((p, i) => {
            p.resolve(owners[i] as number);
          });
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
  }
}
